/* Finding a board again when its USB port re-enumerates: a native-USB chip (USB-OTG ROM,
 * TinyUSB firmware) leaves the bus when it resets and comes back, maybe as another device
 * (the ROM's CDC instead of the app's) under another name (ttyACM1 while ttyACM0 is still
 * held). The board is the one on the same USB port (sysfs name, "1-2"), the same serial
 * number preferred; not the old node name. */
#ifndef ESPDOCTOR_PORT_FOLLOW_H
#define ESPDOCTOR_PORT_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

#include "espdoctor/ports.h"
#include "espdoctor/transport.h"

/* How long a re-enumeration may take before the board counts as gone. */
#define ED_FOLLOW_WAIT_MS 5000u

/* The port of `now` that is the board `was`, or NULL. In order of preference: the same
 * serial number on the same USB path; the same serial number elsewhere (plugged into
 * another socket); anything on the same USB path (a re-enumeration may change the
 * device, and a CH340 has no serial number). A port that was already there when the
 * board vanished (in `before`, on another USB path) is another board: never taken, even
 * with the same serial number (clones share theirs). */
const struct ed_port *ed_port_refind(const struct ed_port_list *now, const struct ed_port *was,
                                     const struct ed_port_list *before);

/* Close *tp, wait for the board that was `port` to come back, open it at baud. ED_OK with
 * *tp and *port updated and a one-line note of what came back where; ED_E_GONE if it did
 * not come back in time; or the error of opening it. */
int ed_port_follow(struct ed_port *port, uint32_t baud, struct ed_transport **tp, char *note,
                   size_t len);

#endif
