/* Reset sequences as one table (see reset.h). Sources: esptool documentation, "Boot Mode
 * Selection" and "Entering the bootloader"; facts in notes/rom-protocol.md. */
#include "espdoctor/reset.h"

#include "espdoctor/error.h"

#define STEP(d, r, w) { .dtr = (d), .rts = (r), .wait_ms = (w) }
#define D ED_RESET_WAIT_D

/* Our set_lines is atomic, so the classic sequence (DTR then RTS, set separately) is
 * spelled out with its intermediate states: the brief (1,1) between "reset" and
 * "download" is what a two-call library really produces. */
static const struct ed_reset_step classic_steps[] = {
    STEP(0, 0, 0),    /* DTR released (RTS still released after open) */
    STEP(0, 1, 100),  /* RTS asserted: EN low, chip in reset */
    STEP(1, 1, 0),    /* DTR asserted first ... */
    STEP(1, 0, D),    /* ... then RTS released: EN high with GPIO0 low */
    STEP(0, 0, 0),    /* GPIO0 released */
};

static const struct ed_reset_step tight_steps[] = {
    STEP(0, 0, 0),
    STEP(1, 1, 0),
    STEP(0, 1, 100),  /* EN low */
    STEP(1, 0, D),    /* EN released, GPIO0 low while the chip samples its straps */
    STEP(0, 0, 0),
};

/* The USB-Serial/JTAG peripheral decodes the line pattern itself (no transistors). */
static const struct ed_reset_step usb_jtag_steps[] = {
    STEP(0, 0, 100),
    STEP(1, 0, 100),
    STEP(1, 1, 0),    /* RTS set while DTR is still asserted ... */
    STEP(0, 1, 100),  /* ... then DTR released */
    STEP(0, 0, 0),
};

/* Pulse EN with GPIO0 left high: the chip boots its firmware. */
static const struct ed_reset_step hard_steps[] = {
    STEP(0, 1, 100),
    STEP(0, 0, 0),
};

#define DEF(n, s) { .name = (n), .steps = (s), .count = sizeof(s) / sizeof((s)[0]) }

static const struct ed_reset_def reset_defs[ED_SEQ_COUNT] = {
    [ED_SEQ_CLASSIC] = DEF("classic", classic_steps),
    [ED_SEQ_TIGHT] = DEF("tight", tight_steps),
    [ED_SEQ_USB_JTAG] = DEF("usb-jtag", usb_jtag_steps),
    [ED_SEQ_HARD] = DEF("hard", hard_steps),
};

const struct ed_reset_def *ed_reset_def(enum ed_reset_seq seq)
{
    if ((unsigned)seq >= ED_SEQ_COUNT)
        return NULL;
    return &reset_defs[seq];
}

const char *ed_reset_name(enum ed_reset_seq seq)
{
    const struct ed_reset_def *def = ed_reset_def(seq);
    return def ? def->name : "unknown";
}

int ed_reset_run(struct ed_transport *t, enum ed_reset_seq seq, unsigned delay_ms)
{
    const struct ed_reset_def *def = ed_reset_def(seq);
    if (!def)
        return ED_E_ARG;
    for (size_t i = 0; i < def->count; i++) {
        const struct ed_reset_step *s = &def->steps[i];
        int rc = ed_tp_set_lines(t, s->dtr, s->rts);
        if (rc != ED_OK)
            return rc;
        unsigned wait = s->wait_ms == ED_RESET_WAIT_D ? delay_ms : s->wait_ms;
        if (wait)
            ed_tp_sleep_ms(t, wait);
    }
    return ED_OK;
}
