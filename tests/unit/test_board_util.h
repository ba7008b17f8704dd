/* Helpers for the virtual board's tests: a board behind a simlink, reset sequences, and
 * the serial protocol spoken with raw bytes (independent of the client's loader). */
#ifndef TEST_BOARD_UTIL_H
#define TEST_BOARD_UTIL_H

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/slip.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct rig {
    struct sim_board *board;
    struct ed_transport *tp;
};

static inline struct rig rig_open(const struct sim_board_opts *opts, uint32_t baud)
{
    char err[256] = "";
    struct rig r;
    r.board = sim_board_new(opts, err, sizeof err);
    cr_assert_not_null(r.board, "sim_board_new: %s", err);
    r.tp = simlink_open(r.board, baud);
    cr_assert_not_null(r.tp);
    return r;
}

static inline void rig_close(struct rig *r)
{
    ed_tp_close(r->tp);
    sim_board_free(r->board);
}

static inline struct sim_board_opts rig_opts(const char *chip)
{
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = chip;
    return o;
}

/* Everything that arrives within ms of virtual time (up to cap - 1 bytes, NUL added). */
static inline size_t rig_collect(struct rig *r, char *buf, size_t cap, unsigned ms)
{
    uint64_t end = ed_tp_now_us(r->tp) + (uint64_t)ms * 1000;
    size_t n = 0;
    while (n + 1 < cap) {
        uint64_t now = ed_tp_now_us(r->tp);
        if (now >= end)
            break;
        size_t got = 0;
        unsigned left = (unsigned)((end - now + 999) / 1000);
        ed_tp_read(r->tp, (uint8_t *)buf + n, cap - 1 - n, &got, left);
        n += got;
    }
    buf[n] = '\0';
    return n;
}

/* Classic reset: EN low 100 ms, then GPIO0 low for D ms across the release. */
static inline void rig_classic_reset(struct rig *r, unsigned d_ms)
{
    ed_tp_set_lines(r->tp, false, true);
    ed_tp_sleep_ms(r->tp, 100);
    ed_tp_set_lines(r->tp, true, false);
    ed_tp_sleep_ms(r->tp, d_ms);
    ed_tp_set_lines(r->tp, false, false);
}

/* Hard reset: RTS pulse, GPIO0 left alone. */
static inline void rig_hard_reset(struct rig *r)
{
    ed_tp_set_lines(r->tp, false, true);
    ed_tp_sleep_ms(r->tp, 100);
    ed_tp_set_lines(r->tp, false, false);
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t data_checksum(const uint8_t *p, size_t n)
{
    uint8_t x = 0xEF;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    return x;
}

static inline void rig_send(struct rig *r, uint8_t op, const uint8_t *data, size_t len,
                            uint32_t checksum)
{
    uint8_t *req = malloc(8 + len);
    uint8_t *enc = malloc(ED_SLIP_ENCODED_MAX(8 + len));
    cr_assert(req && enc);
    req[0] = 0;
    req[1] = op;
    req[2] = (uint8_t)len;
    req[3] = (uint8_t)(len >> 8);
    put_le32(req + 4, checksum);
    if (len)
        memcpy(req + 8, data, len);
    size_t n = ed_slip_encode(req, 8 + len, enc);
    cr_assert_eq(ed_tp_write(r->tp, enc, n), ED_OK);
    free(req);
    free(enc);
}

/* The next SLIP frame within timeout_ms; its length, or -1 on timeout. */
static inline long rig_frame(struct rig *r, struct ed_slip_decoder *dec, uint8_t *out,
                             size_t cap, unsigned timeout_ms)
{
    uint64_t end = ed_tp_now_us(r->tp) + (uint64_t)timeout_ms * 1000;
    for (;;) {
        uint64_t now = ed_tp_now_us(r->tp);
        if (now >= end)
            return -1;
        uint8_t byte;
        size_t got = 0;
        ed_tp_read(r->tp, &byte, 1, &got, (unsigned)((end - now + 999) / 1000));
        if (got == 0)
            continue;
        if (ed_slip_feed(dec, byte) == ED_SLIP_FRAME) {
            size_t n = dec->len < cap ? dec->len : cap;
            memcpy(out, dec->frame, n);
            return (long)n;
        }
    }
}

struct rig_reply {
    uint8_t op;
    uint32_t value;
    uint8_t data[0x4100];
    size_t len;            /* data length, status bytes included */
};

/* Send a request and wait for the reply frame that echoes its op. */
static inline bool rig_command(struct rig *r, uint8_t op, const uint8_t *data, size_t len,
                               uint32_t checksum, struct rig_reply *rep, unsigned timeout_ms)
{
    struct ed_slip_decoder *dec = malloc(sizeof *dec);
    uint8_t *frame = malloc(ED_SLIP_MAX_FRAME);
    cr_assert(dec && frame);
    ed_slip_reset(dec);
    rig_send(r, op, data, len, checksum);
    bool found = false;
    for (int i = 0; i < 32 && !found; i++) {
        long n = rig_frame(r, dec, frame, ED_SLIP_MAX_FRAME, timeout_ms);
        if (n < 0)
            break;
        if (n < 8 || frame[0] != 1)
            continue;
        /* An unsupported command is answered with status 1/0x05 and another op byte. */
        bool unsupported = (n >= 10 && frame[n - 2] == 1 && frame[n - 1] == 0x05) ||
                           (n >= 12 && frame[n - 4] == 1 && frame[n - 3] == 0x05);
        if (frame[1] != op && !unsupported)
            continue;
        rep->op = frame[1];
        rep->value = le32(frame + 4);
        rep->len = (size_t)n - 8 < sizeof rep->data ? (size_t)n - 8 : sizeof rep->data;
        memcpy(rep->data, frame + 8, rep->len);
        found = true;
    }
    free(dec);
    free(frame);
    return found;
}

static const uint8_t SYNC_DATA[36] = {
    0x07, 0x07, 0x12, 0x20,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    0x55, 0x55,
};

/* Reset into download mode and SYNC until the ROM answers (as esptool does). */
static inline void rig_connect(struct rig *r)
{
    rig_classic_reset(r, 50);
    char log[512];
    rig_collect(r, log, sizeof log, 50);
    struct rig_reply rep;
    for (int i = 0; i < 5; i++) {
        if (rig_command(r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0, &rep, 100)) {
            ed_tp_sleep_ms(r->tp, 20);
            ed_tp_flush_input(r->tp);
            return;
        }
    }
    cr_assert_fail("no SYNC reply");
}

static inline uint32_t rig_read_reg(struct rig *r, uint32_t addr)
{
    uint8_t p[4];
    put_le32(p, addr);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x0A, p, 4, 0, &rep, 3000), "READ_REG 0x%08X: no reply", addr);
    cr_assert_eq(rep.data[0], 0, "READ_REG 0x%08X failed", addr);   /* no data: status first */
    return rep.value;
}

/* Upload a stand-in for a stub (256 bytes that are no real stub) with MEM_BEGIN,
 * MEM_DATA and MEM_END, and jump to it: a board with any_stub runs it as the stub, one
 * without crashes (board/rom_mem.c). */
static inline void rig_upload_code(struct rig *r)
{
    static const uint8_t code[0x100] = { 0x11, 0x22, 0x33 };
    uint8_t p[16];
    put_le32(p, sizeof code);
    put_le32(p + 4, 1);
    put_le32(p + 8, 0x1800);
    put_le32(p + 12, 0x40080000);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x05, p, 16, 0, &rep, 1000));
    cr_assert_eq(rep.data[0], 0);
    uint8_t d[16 + sizeof code] = { 0 };
    put_le32(d, sizeof code);
    memcpy(d + 16, code, sizeof code);
    cr_assert(rig_command(r, 0x07, d, sizeof d, data_checksum(code, sizeof code), &rep, 1000));
    cr_assert_eq(rep.data[0], 0);
    put_le32(p, 0);
    put_le32(p + 4, 0x40080004);
    cr_assert(rig_command(r, 0x06, p, 8, 0, &rep, 1000), "MEM_END is answered");
    cr_assert_eq(rep.data[0], 0);
}

/* The status bytes of a reply (they close its data). */
static inline uint8_t rig_status(const struct rig_reply *rep, size_t status_len)
{
    return rep->data[rep->len - status_len];
}
static inline uint8_t rig_error(const struct rig_reply *rep, size_t status_len)
{
    return rep->data[rep->len - status_len + 1];
}

#endif
