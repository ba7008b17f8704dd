/* --plug-at MS|never: the board is not plugged in when the command starts, and its cable
 * goes in MS ms later (never: not at all). The board's records and tty are built before
 * the command starts, as for a board plugged in, and then taken out of the testbed; at MS
 * they come back as reenum.c brings a USB-OTG device back: the tty's node first (its pty,
 * with its ioctl handler, already serving), then the USB records that make it a port, so
 * that no program can find the port before it works. The board has no power while out. */
#ifndef ESPSIM_PLUG_H
#define ESPSIM_PLUG_H

#include <limits.h>
#include <stdbool.h>

#include <umockdev.h>

#include "pty.h"
#include "usbrec.h"

struct sim_plug {
    UMockdevTestbed *tb;
    struct sim_host *host;
    struct sim_pty *pty;                  /* the board's tty; NULL: it has none */
    const struct sim_bridge_model *model;
    struct sim_usb_setup setup;
    const struct sim_usb_place *place;
    char node[PATH_MAX];                  /* the tty's node in the testbed */
    char target[PATH_MAX];                /* the pty it links to */
    guint timer;
};

/* Take the board (added to tb, with pty as its tty or NULL) out; at_ms < 0: for good. */
bool sim_plug_start(struct sim_plug *pl, UMockdevTestbed *tb, struct sim_host *host,
                    struct sim_pty *pty, const struct sim_bridge_model *m,
                    const struct sim_usb_setup *setup, const struct sim_usb_place *place,
                    long at_ms, GError **err);
void sim_plug_stop(struct sim_plug *pl);

#endif
