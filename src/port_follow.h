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

/* Close *tp, wait for the board that was `port` to come back, open it at baud. ED_OK with
 * *tp and *port updated and a one-line note of what came back where; ED_E_GONE if it did
 * not come back in time; or the error of opening it. */
int ed_port_follow(struct ed_port *port, uint32_t baud, struct ed_transport **tp, char *note,
                   size_t len);

#endif
