/* The virtual-clock transport (see simlink.h). Reads wait on the board's own events: the
 * clock jumps to the next byte instead of sleeping. */
#include "simlink.h"

#include "espdoctor/error.h"

#include <stdlib.h>
#include <string.h>

/* A USB bridge hands received bytes to the host in bulk transfers: after the first byte,
 * what arrives within one USB frame comes with it. */
#define USB_FRAME_US 1000

struct simlink {
    struct ed_transport tp;
    struct sim_board *board;
    uint64_t now_us;
    bool follows_usb;   /* dies when the board's USB device leaves the bus */
    bool dead;
};

static bool gone(struct simlink *l)
{
    if (l->follows_usb && !l->dead &&
        sim_board_usb_device(l->board, l->now_us) == SIM_USB_ABSENT)
        l->dead = true;
    return l->dead;
}

static struct simlink *link_of(struct ed_transport *t)
{
    return t->impl;
}

/* Bytes that reach the host within the frame after the first one. */
static size_t gather(struct simlink *l, uint8_t *buf, size_t cap, size_t got)
{
    uint64_t frame_end = l->now_us + USB_FRAME_US;
    while (got < cap) {
        uint64_t next = sim_board_next_event_us(l->board, l->now_us);
        if (next == UINT64_MAX || next > frame_end)
            break;
        if (next > l->now_us)
            l->now_us = next;
        got += sim_board_host_read(l->board, buf + got, cap - got, l->now_us);
    }
    return got;
}

static int link_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                     unsigned timeout_ms)
{
    struct simlink *l = link_of(t);
    uint64_t deadline = l->now_us + (uint64_t)timeout_ms * 1000;
    *got = 0;
    if (cap == 0)
        return ED_OK;
    for (;;) {
        if (gone(l))
            return ED_E_GONE;
        size_t n = sim_board_host_read(l->board, buf, cap, l->now_us);
        if (n > 0) {
            *got = gather(l, buf, cap, n);
            return ED_OK;
        }
        uint64_t next = sim_board_next_event_us(l->board, l->now_us);
        if (next == UINT64_MAX || next > deadline) {
            l->now_us = deadline;
            n = sim_board_host_read(l->board, buf, cap, l->now_us);
            *got = n;
            return n ? ED_OK : ED_E_TIMEOUT;
        }
        /* An event at "now" that produced nothing for us: step past it. */
        l->now_us = next > l->now_us ? next : l->now_us + 1;
    }
}

static int link_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    struct simlink *l = link_of(t);
    if (gone(l))
        return ED_E_GONE;
    sim_board_host_write(l->board, buf, len, l->now_us);
    /* The write returns once the bytes are on the wire, at the UART's pace. */
    if (t->baud && sim_board_timing(l->board))
        l->now_us += (uint64_t)len * 10 * 1000000 / t->baud;
    return ED_OK;
}

static int link_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    struct simlink *l = link_of(t);
    if (gone(l))
        return ED_E_GONE;
    sim_board_set_lines(l->board, dtr, rts, l->now_us);
    return ED_OK;
}

static int link_set_baud(struct ed_transport *t, uint32_t baud)
{
    struct simlink *l = link_of(t);
    if (baud == 0)
        return ED_E_ARG;
    sim_board_set_host_baud(l->board, baud, l->now_us);
    t->baud = baud;
    return ED_OK;
}

static int link_flush_input(struct ed_transport *t)
{
    struct simlink *l = link_of(t);
    uint8_t sink[256];
    while (sim_board_host_read(l->board, sink, sizeof sink, l->now_us) > 0)
        ;
    return ED_OK;
}

static void link_close(struct ed_transport *t)
{
    struct simlink *l = link_of(t);
    if (!l->dead)
        sim_board_host_open(l->board, false, l->now_us);
    free(l);
}

static uint64_t link_now_us(struct ed_transport *t)
{
    return link_of(t)->now_us;
}

static void link_sleep_ms(struct ed_transport *t, unsigned ms)
{
    link_of(t)->now_us += (uint64_t)ms * 1000;
}

static const struct ed_transport_ops simlink_ops = {
    .read = link_read,
    .write = link_write,
    .set_lines = link_set_lines,
    .set_baud = link_set_baud,
    .flush_input = link_flush_input,
    .close = link_close,
    .now_us = link_now_us,
    .sleep_ms = link_sleep_ms,
};

struct ed_transport *simlink_open(struct sim_board *b, uint32_t baud)
{
    struct simlink *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->board = b;
    l->now_us = sim_board_now_us(b);
    l->tp.ops = &simlink_ops;
    l->tp.impl = l;
    l->tp.has_modem_lines = true;
    l->tp.baud = baud ? baud : 115200;
    snprintf(l->tp.name, sizeof l->tp.name, "simlink:%s", sim_board_chip_name(b));
    sim_board_set_host_baud(b, l->tp.baud, l->now_us);
    sim_board_host_open(b, true, l->now_us);
    return &l->tp;
}

struct ed_transport *simlink_open_usb(struct sim_board *b, uint32_t baud)
{
    struct ed_transport *t = simlink_open(b, baud);
    if (t)
        link_of(t)->follows_usb = true;
    return t;
}

uint64_t simlink_now_us(const struct ed_transport *t)
{
    return ((const struct simlink *)t->impl)->now_us;
}

void simlink_advance_us(struct ed_transport *t, uint64_t us)
{
    link_of(t)->now_us += us;
}
