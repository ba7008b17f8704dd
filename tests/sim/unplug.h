/* --unplug-at BYTE[:MS]: the USB cable is pulled once the host has sent BYTE bytes. The
 * tty node disappears from the testbed (opens fail with ENOENT), every descriptor open on
 * it fails with EIO from then on, and the board loses power; MS milliseconds later the
 * cable goes back in: the node returns under the same name and the board powers on. */
#ifndef ESPSIM_UNPLUG_H
#define ESPSIM_UNPLUG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <umockdev.h>

#include "pty.h"

struct sim_unplug {
    struct sim_pty *pty;
    uint64_t at;             /* host bytes after which the cable is pulled */
    unsigned replug_ms;      /* 0: it stays out */
    bool pulled;             /* the cable came out (it does once per session)... */
    bool out;                /* ...and is out now: the host's bytes go nowhere */
    guint replug_timer;
    char node[PATH_MAX];     /* the node's path inside the testbed */
    char target[PATH_MAX];   /* the pty it points at */
};

/* Arm the fault on a started pty (f->unplug must be set). */
bool sim_unplug_start(struct sim_unplug *u, struct sim_pty *p, UMockdevTestbed *tb,
                      const struct sim_faults *f, GError **err);
void sim_unplug_stop(struct sim_unplug *u);

#endif
