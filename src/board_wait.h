/* --wait SECONDS (and the doctor's wait on a terminal): with no port there yet, watch for
 * a board to be plugged in, and say what appeared: nothing on USB, a bridge's USB device
 * without a serial port (a driver problem), or a port. Part of the CLI layer: it prints
 * the countdown and takes Ctrl-C. */
#ifndef ESPDOCTOR_BOARD_WAIT_H
#define ESPDOCTOR_BOARD_WAIT_H

#include <stdbool.h>

#include "cli.h"

/* How long the doctor waits on a terminal when nothing is plugged in and no --wait is
 * given. */
#define ED_WAIT_DEFAULT_MS 30000u
/* A bridge's USB device has this long to bring its serial port: a driver loads and makes
 * the tty in well under a second, so one that has none by then has a driver problem. */
#define ED_WAIT_TTY_GRACE_MS 2000u

struct ed_board_wait {
    unsigned waited_ms;     /* how long it watched; 0: it did not (a port was there) */
    unsigned appeared_ms;   /* when a bridge's USB device appeared (0: there from the start
                               or never: see usb_seen) */
    bool usb_seen;          /* a bridge's USB device is there at the end */
    bool port_seen;         /* a port it can use is there at the end */
};

/* Watch for up to limit_ms until a port that cli->port names (without -p: any board's) is
 * there. A bridge's USB device that is there without a port ends the wait after
 * ED_WAIT_TTY_GRACE_MS; with only_when_empty, such a device there from the start means no
 * wait at all (the doctor's default wait is for "nothing plugged in"). A network port
 * (-p URL) is not waited for. Returns ED_EXIT_OK, or the exit status of the signal that
 * stopped it (130 for Ctrl-C), after saying so. */
int ed_wait_for_board(struct ed_cli *cli, unsigned limit_ms, bool only_when_empty,
                      struct ed_board_wait *w);

#endif
