/* Finding the monitored board again after its port vanished: a cable pulled and put
 * back, or a native-USB chip re-enumerating as it resets (maybe as another ttyACM while
 * the old name is still held). Through the port enumeration (ports.h), by the USB serial
 * number and the USB path (sysfs name, "1-2") it had, never by the node name alone. */
#ifndef ESPDOCTOR_MONITOR_FOLLOW_H
#define ESPDOCTOR_MONITOR_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "espdoctor/ports.h"
#include "espdoctor/transport.h"

#include "port_follow.h"

#define ED_MON_FOLLOW_MS 10000u     /* how long the board may stay away */
#define ED_MON_FOLLOW_POLL_MS 100u

struct ed_mon_follow {
    bool enumerated;            /* `was` came from the enumeration: look it up again */
    struct ed_port was;         /* the board as it was last seen */
    char path[256];             /* what to reopen when the port is not enumerated */
    struct ed_port_list before; /* the ports present when it vanished */
};

/* The board vanished: remember what was there besides it. */
void ed_mon_follow_begin(struct ed_mon_follow *f);

/* One look: ED_OK with *tp open at baud and f->was / f->path updated to where it came
 * back; ED_E_NOTFOUND when it is not back (yet); or the error of opening it (permission
 * not granted yet, busy). */
int ed_mon_follow_try(struct ed_mon_follow *f, uint32_t baud, struct ed_transport **tp);

void ed_mon_follow_end(struct ed_mon_follow *f);

#endif
