/* A board on its own USB-OTG (--bridge usb-otg): the USB device comes and goes with the
 * chip (board/usbdev.c). When the chip resets its device leaves the bus: the testbed
 * loses the USB device, its tty and its /dev/serial links, and every descriptor open on
 * the tty fails with EIO from then on. When the ROM (download mode) or an app's TinyUSB
 * CDC enumerates, they come back as that device, on the same hub port; the tty takes the
 * lowest free ttyACM number, so while a process still holds the old one open the new one
 * is another (ttyACM1 for a single board), as Linux's cdc-acm does. */
#ifndef ESPSIM_REENUM_H
#define ESPSIM_REENUM_H

#include <limits.h>
#include <stdbool.h>

#include <umockdev.h>

#include "pty.h"
#include "usbrec.h"

#define SIM_REENUM_NAMES 2   /* the tty's own number, and the one it takes while held */

/* One name the tty has had: umockdev cannot make the same node twice, so each name keeps
 * its pty for the whole session and gets it back when the device does. */
struct sim_reenum_tty {
    struct sim_pty *pty;                /* NULL: never used */
    char node[PATH_MAX];                /* the node's path in the testbed */
    char target[PATH_MAX];              /* the pty it links to */
    unsigned index;                     /* ttyACM<index> */
};

struct sim_reenum {
    UMockdevTestbed *tb;
    struct sim_host *host;
    const char *chip;                   /* "esp32s3": whose ROM device it is */
    struct sim_usb_setup setup;
    struct sim_usb_place place;         /* hub port; tty and tty_index as now shown */
    int node_mode;                      /* --node-mode etc., for each new tty */
    long node_uid, node_gid;
    enum sim_usb_device shown;          /* what the testbed shows now */
    const struct sim_bridge_model *model;
    struct sim_reenum_tty ttys[SIM_REENUM_NAMES];
    int live;                           /* the name on the bus (ttys[]), -1: none */
    guint timer;
};

/* stride: how far the other name is from the first (the number of ttyACM boards). */
bool sim_reenum_start(struct sim_reenum *r, UMockdevTestbed *tb, struct sim_host *host,
                      const char *chip, const struct sim_usb_setup *setup,
                      const struct sim_usb_place *place, unsigned stride, int node_mode,
                      long uid, long gid, GError **err);
void sim_reenum_stop(struct sim_reenum *r);

/* Whether some process has one of the board's ttys open. */
bool sim_reenum_in_use(const struct sim_reenum *r);
/* The tty on the bus now ("ttyACM0"), or NULL. */
const char *sim_reenum_tty(const struct sim_reenum *r);

#endif
