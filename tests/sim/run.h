/* One espsim session: the board, the testbed with its pty, the RFC 2217 server, the
 * command run inside, and the main loop that drives them. */
#ifndef ESPSIM_RUN_H
#define ESPSIM_RUN_H

#include "options.h"

/* Exit status: COMMAND's (128 + signal if it was killed), 0 after serving until a signal,
 * 1 if the session could not be set up (reason on stderr), 127 if COMMAND cannot run. */
int espsim_run(const struct espsim_opts *opts);

#endif
