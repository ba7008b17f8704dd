/* The planted system root: the /proc, /etc, /lib/modules, /usr/lib/udev and /var/lock that
 * a scenario needs, in a directory the command gets as $ESPDOCTOR_SYSROOT. */
#ifndef ESPSIM_PLANT_H
#define ESPSIM_PLANT_H

#include <stdbool.h>

#include <glib.h>

#include "options.h"

/* Fake processes the scenarios plant (their PIDs are only names under <root>/proc). */
#define PLANT_BRLTTY_PID 4242
#define PLANT_MODEMMANAGER_PID 4343

struct sim_plant {
    char *dir;          /* the root; NULL: nothing planted (--real-proc) */
    bool temporary;     /* made by espsim: removed by sim_plant_remove */
};

/* Plant what o asks for (nothing with --real-proc). live_pid is a process that runs as
 * long as the command does: the holder of a live UUCP lock. */
bool sim_plant_build(struct sim_plant *p, const struct espsim_opts *o, int live_pid,
                     GError **err);
/* Remove a temporary root; a --sysroot one is kept. */
void sim_plant_remove(struct sim_plant *p);

#endif
