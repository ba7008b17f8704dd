/* --stats FILE: what the session carried and what it cost, as one JSON object (the
 * fields are defined in tests/sim/README.md, "Statistics"). */
#ifndef ESPSIM_STATS_H
#define ESPSIM_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "host.h"

/* False with a reason in err if the file cannot be written. */
bool sim_stats_write(const char *path, const struct sim_host *h, char *err, size_t errlen);

#endif
