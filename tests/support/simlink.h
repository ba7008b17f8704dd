/* Test glue, not part of espsim: espdoctor's transport (ed_transport) over an in-process
 * virtual board with a virtual clock. The client's reads, writes, line changes and sleeps
 * move the board's time, so a whole flash session runs in milliseconds of real time and
 * always the same way. Only the unit tests link both this and espdoctor's library. */
#ifndef TEST_SIMLINK_H
#define TEST_SIMLINK_H

#include "board/board.h"
#include "espdoctor/transport.h"

/* Open the board's port at `baud` (the host side of the bridge); the clock starts where
 * the board's time is. NULL when out of memory. ed_tp_close frees the transport and
 * closes the port; the board stays (sim_board_free). */
struct ed_transport *simlink_open(struct sim_board *b, uint32_t baud);

/* The same, for a port that vanishes when the board's USB device leaves the bus (USB-OTG,
 * board/usbdev.c): from then on every call on it fails with ED_E_GONE, as on a tty whose
 * device went away. */
struct ed_transport *simlink_open_usb(struct sim_board *b, uint32_t baud);

/* The virtual clock, and moving it forward without doing anything. */
uint64_t simlink_now_us(const struct ed_transport *t);
void simlink_advance_us(struct ed_transport *t, uint64_t us);

#endif
