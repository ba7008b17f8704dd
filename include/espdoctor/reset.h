/* Reset sequences as data. Each step sets DTR and RTS together ("true" = asserted), then
 * waits. On Espressif-style boards RTS alone pulls EN low (chip held in reset), DTR alone
 * pulls GPIO0 low (download strap) and equal lines release both. */
#ifndef ESPDOCTOR_RESET_H
#define ESPDOCTOR_RESET_H

#include <stdbool.h>
#include <stddef.h>

#include "espdoctor/transport.h"

enum ed_reset_seq {
    ED_SEQ_CLASSIC,   /* one line after the other, as a serial library does it */
    ED_SEQ_TIGHT,     /* both lines at once (TIOCMSET) */
    ED_SEQ_USB_JTAG,  /* the USB-Serial/JTAG peripheral's own sequence */
    ED_SEQ_HARD,      /* leave download mode: pulse EN, boot the firmware */
    ED_SEQ_COUNT
};

/* A wait of ED_RESET_WAIT_D is replaced by the caller's delay D (how long GPIO0 stays low
 * after EN is released: 50 ms usually, 550 ms for slow EN capacitors). */
#define ED_RESET_WAIT_D (~0u)

struct ed_reset_step {
    bool dtr, rts;
    unsigned wait_ms;
};

struct ed_reset_def {
    const char *name;                 /* "classic", "tight", "usb-jtag", "hard" */
    const struct ed_reset_step *steps;
    size_t count;
};

/* The definition of a sequence, NULL for an unknown id. */
const struct ed_reset_def *ed_reset_def(enum ed_reset_seq seq);
const char *ed_reset_name(enum ed_reset_seq seq);

/* Run a sequence through the transport with D = delay_ms. Stops at the first failed line
 * change and returns its status (ED_E_UNSUPPORTED when the transport has no modem lines). */
int ed_reset_run(struct ed_transport *t, enum ed_reset_seq seq, unsigned delay_ms);

#endif
