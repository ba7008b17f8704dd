/* One espsim session: the boards, the testbed with their ptys, the RFC 2217 server, the
 * command run inside, and the main loop that drives them all (each board is its own set
 * of event sources on the one GLib main loop). */
#ifndef ESPSIM_RUN_H
#define ESPSIM_RUN_H

#include "boards.h"

/* Exit status: COMMAND's (128 + signal if it was killed), 0 after serving until a signal,
 * 1 if the session could not be set up (reason on stderr), 127 if COMMAND cannot run. */
int espsim_run(const struct espsim_board_set *set);

#endif
