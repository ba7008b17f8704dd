/* The loader, reset tables and command/response logic against a small scripted board that
 * lives in this file: a transport with a virtual clock, a line log with timestamps, an
 * auto-reset circuit and a ROM that answers the few commands these tests need. (The full
 * virtual board is exercised in test_loader_sim.c.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "espdoctor/erase.h"
#include "espdoctor/error.h"
#include "espdoctor/loader.h"
#include "espdoctor/proto.h"
#include "espdoctor/reset.h"

#define Q_MAX (1u << 16)
#define BYTE_US 87u          /* one byte at 115200 baud */
#define REPLY_US 1000u       /* the ROM's turnaround */
#define ROM_SYNC_REPLIES 8

struct line_change {
    bool dtr, rts;
    uint64_t at;
};

struct fake {
    struct ed_transport tp;
    uint64_t now;                       /* virtual clock, us */

    /* device -> host, each byte with the time it becomes readable */
    uint8_t q[Q_MAX];
    uint64_t q_at[Q_MAX];
    size_t q_len, q_pos;

    /* host -> device */
    struct ed_slip_decoder dec;
    unsigned op_count[256];
    uint8_t last_data[ED_PROTO_MAX_DATA];
    size_t last_len;
    uint32_t last_checksum;

    /* modem lines */
    struct line_change lines[256];
    size_t nlines;
    bool dtr, rts;
    int set_lines_rc;
    uint32_t bauds[8];
    size_t nbauds;

    /* the board */
    bool en_wired, io0_wired, boot_held;
    unsigned en_delay_ms;
    bool in_reset, boot_pending, download;
    uint64_t boot_at;

    /* the ROM / stub */
    bool stub;
    unsigned status_bytes;
    int security_chip_id;               /* < 0: GET_SECURITY_INFO unsupported */
    unsigned unsupported_repeats;       /* extra copies of an "unsupported" reply */
    uint32_t reg_addr[64], reg_val[64];
    size_t nregs;
    uint32_t spi_base, spi_cmd_off, spi_usr2_off, spi_w0_off;
    uint32_t jedec;
    uint8_t fail_op, fail_error;        /* answer this op with status 1 + this error */
    bool silent;                        /* never answer */
    /* extra frames and text sent before the reply to READ_REG */
    unsigned foreign_before_read;
};

static struct fake *fake_of(struct ed_transport *t)
{
    return t->impl;
}

/* ---- the board model ------------------------------------------------------------ */

static bool io0_low_at(const struct fake *f, uint64_t at)
{
    if (f->boot_held)
        return true;
    if (!f->io0_wired)
        return false;
    bool dtr = false, rts = false;
    for (size_t i = 0; i < f->nlines && f->lines[i].at <= at; i++) {
        dtr = f->lines[i].dtr;
        rts = f->lines[i].rts;
    }
    return dtr && !rts;
}

static void queue_bytes(struct fake *f, const uint8_t *b, size_t n, uint64_t at)
{
    uint64_t t = at;
    if (f->q_len > f->q_pos && f->q_at[f->q_len - 1] > t)
        t = f->q_at[f->q_len - 1];
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(f->q_len, Q_MAX);
        t += BYTE_US;
        f->q[f->q_len] = b[i];
        f->q_at[f->q_len++] = t;
    }
}

static void queue_text(struct fake *f, const char *s, uint64_t at)
{
    queue_bytes(f, (const uint8_t *)s, strlen(s), at);
}

static void queue_frame(struct fake *f, const uint8_t *frame, size_t n)
{
    uint8_t enc[ED_SLIP_ENCODED_MAX(512)];
    cr_assert_leq(n, 512);
    size_t m = ed_slip_encode(frame, n, enc);
    queue_bytes(f, enc, m, f->now + REPLY_US);
}

static void reply(struct fake *f, uint8_t op, uint32_t value, const uint8_t *data, size_t len,
                  uint8_t status, uint8_t error)
{
    uint8_t fr[512] = { 0x01, op };
    size_t body = len + f->status_bytes;
    ed_put_le16(fr + 2, (uint16_t)body);
    ed_put_le32(fr + 4, value);
    if (len)
        memcpy(fr + 8, data, len);
    memset(fr + 8 + len, 0, f->status_bytes);
    fr[8 + len] = status;
    fr[9 + len] = error;
    queue_frame(f, fr, 8 + body);
}

static void boot(struct fake *f)
{
    f->boot_pending = false;
    f->download = io0_low_at(f, f->boot_at);
    if (f->download)
        queue_text(f, "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "
                      "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n",
                   f->boot_at);
    else
        queue_text(f, "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 "
                      "(SPI_FAST_FLASH_BOOT)\r\nhello from the app\r\n", f->boot_at);
}

static void advance(struct fake *f, uint64_t to)
{
    if (f->boot_pending && f->boot_at <= to)
        boot(f);
    if (to > f->now)
        f->now = to;
}

static uint32_t reg_get(const struct fake *f, uint32_t addr)
{
    for (size_t i = 0; i < f->nregs; i++)
        if (f->reg_addr[i] == addr)
            return f->reg_val[i];
    return 0;
}

static void reg_set(struct fake *f, uint32_t addr, uint32_t value)
{
    for (size_t i = 0; i < f->nregs; i++)
        if (f->reg_addr[i] == addr) {
            f->reg_val[i] = value;
            return;
        }
    cr_assert_lt(f->nregs, 64);
    f->reg_addr[f->nregs] = addr;
    f->reg_val[f->nregs++] = value;
}

static void rom_request(struct fake *f, uint8_t op, const uint8_t *d, size_t n)
{
    if (f->silent || !f->download)
        return;
    if (op == f->fail_op) {
        reply(f, op, 0, NULL, 0, 1, f->fail_error);
        return;
    }
    switch (op) {
    case ED_OP_SYNC:
        for (int i = 0; i < (f->stub ? 1 : ROM_SYNC_REPLIES); i++)
            reply(f, op, f->stub ? 0 : ED_PROTO_SYNC_ROM_VALUE, NULL, 0, 0, 0);
        return;
    case ED_OP_READ_REG:
        for (unsigned i = 0; i < f->foreign_before_read; i++) {
            static const uint8_t short_frame[] = { 0x01, 0x0A, 0x00 };
            static const uint8_t request_frame[] = { 0x00, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0 };
            queue_text(f, "garbage\r\n", f->now);
            queue_frame(f, short_frame, sizeof short_frame);
            queue_frame(f, request_frame, sizeof request_frame);
            reply(f, ED_OP_SYNC, ED_PROTO_SYNC_ROM_VALUE, NULL, 0, 0, 0);
        }
        reply(f, op, reg_get(f, ed_get_le32(d)), NULL, 0, 0, 0);
        return;
    case ED_OP_WRITE_REG: {
        uint32_t addr = ed_get_le32(d), val = ed_get_le32(d + 4);
        reg_set(f, addr, val);
        if (f->spi_base && addr == f->spi_base + f->spi_cmd_off && (val & (1u << 18))) {
            /* Run the user command: RDID answers the JEDEC id, then the bit clears. */
            if ((reg_get(f, f->spi_base + f->spi_usr2_off) & 0xFF) == 0x9F)
                reg_set(f, f->spi_base + f->spi_w0_off, f->jedec);
            reg_set(f, addr, 0);
        }
        reply(f, op, 0, NULL, 0, 0, 0);
        return;
    }
    case ED_OP_GET_SECURITY_INFO:
        if (f->security_chip_id < 0) {
            for (unsigned i = 0; i <= f->unsupported_repeats; i++)
                reply(f, op, 0, NULL, 0, 1, ED_ROM_ERR_UNSUPPORTED);
        } else {
            uint8_t info[20] = { 0 };
            ed_put_le32(info + 12, (uint32_t)f->security_chip_id);
            reply(f, op, 0, info, sizeof info, 0, 0);
        }
        return;
    case ED_OP_SPI_FLASH_MD5:
        if (f->stub) {
            const uint8_t raw[16] = { 0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                                      0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e };
            reply(f, op, 0, raw, 16, 0, 0);
        } else {
            reply(f, op, 0, (const uint8_t *)"d41d8cd98f00b204e9800998ecf8427e", 32, 0, 0);
        }
        return;
    case ED_OP_FLASH_DATA:
    case ED_OP_MEM_DATA:
    case ED_OP_FLASH_DEFL_DATA: {
        uint32_t sum = ed_proto_checksum(d + 16, n - 16);
        reply(f, op, 0, NULL, 0, sum == f->last_checksum ? 0 : 1, sum == f->last_checksum ? 0 : 7);
        return;
    }
    default:
        reply(f, op, 0, NULL, 0, 0, 0);
        return;
    }
}

/* ---- the transport ops ---------------------------------------------------------- */

static int fake_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                     unsigned timeout_ms)
{
    struct fake *f = fake_of(t);
    uint64_t limit = f->now + (uint64_t)timeout_ms * 1000u;
    advance(f, f->now);
    for (;;) {
        /* The next moment something becomes readable (a byte or a boot). */
        uint64_t next = f->q_pos < f->q_len ? f->q_at[f->q_pos] : UINT64_MAX;
        if (f->boot_pending && f->boot_at < next)
            next = f->boot_at;
        if (next > limit) {
            advance(f, limit);
            *got = 0;
            return ED_E_TIMEOUT;
        }
        advance(f, next);
        size_t n = 0;
        while (n < cap && f->q_pos < f->q_len && f->q_at[f->q_pos] <= f->now)
            buf[n++] = f->q[f->q_pos++];
        if (n) {
            *got = n;
            return ED_OK;
        }
    }
}

static int fake_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    struct fake *f = fake_of(t);
    advance(f, f->now + len * BYTE_US);
    for (size_t i = 0; i < len; i++) {
        if (ed_slip_feed(&f->dec, buf[i]) != ED_SLIP_FRAME)
            continue;
        cr_assert_geq(f->dec.len, 8);
        cr_assert_eq(f->dec.frame[0], 0x00);
        uint8_t op = f->dec.frame[1];
        size_t n = ed_get_le16(f->dec.frame + 2);
        cr_assert_eq(n, f->dec.len - 8, "size field of %s", ed_proto_op_name(op));
        f->op_count[op]++;
        f->last_len = n;
        f->last_checksum = ed_get_le32(f->dec.frame + 4);
        memcpy(f->last_data, f->dec.frame + 8, n);
        rom_request(f, op, f->last_data, n);
    }
    return ED_OK;
}

static int fake_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    struct fake *f = fake_of(t);
    advance(f, f->now);
    if (f->set_lines_rc != ED_OK)
        return f->set_lines_rc;
    cr_assert_lt(f->nlines, 256);
    f->lines[f->nlines++] = (struct line_change){ dtr, rts, f->now };
    f->dtr = dtr;
    f->rts = rts;
    bool en_low = f->en_wired && rts && !dtr;
    if (en_low) {
        f->in_reset = true;
        f->download = false;
        f->boot_pending = false;
    } else if (f->in_reset) {
        f->in_reset = false;
        f->boot_pending = true;
        f->boot_at = f->now + (uint64_t)f->en_delay_ms * 1000u;
    }
    return ED_OK;
}

static int fake_set_baud(struct ed_transport *t, uint32_t baud)
{
    struct fake *f = fake_of(t);
    cr_assert_lt(f->nbauds, 8);
    f->bauds[f->nbauds++] = baud;
    t->baud = baud;
    return ED_OK;
}

static int fake_flush_input(struct ed_transport *t)
{
    struct fake *f = fake_of(t);
    while (f->q_pos < f->q_len && f->q_at[f->q_pos] <= f->now)
        f->q_pos++;
    return ED_OK;
}

static void fake_close(struct ed_transport *t)
{
    (void)t;
}

static uint64_t fake_now_us(struct ed_transport *t)
{
    return fake_of(t)->now;
}

static void fake_sleep_ms(struct ed_transport *t, unsigned ms)
{
    struct fake *f = fake_of(t);
    advance(f, f->now + (uint64_t)ms * 1000u);
}

static const struct ed_transport_ops fake_ops = {
    .read = fake_read, .write = fake_write, .set_lines = fake_set_lines,
    .set_baud = fake_set_baud, .flush_input = fake_flush_input, .close = fake_close,
    .now_us = fake_now_us, .sleep_ms = fake_sleep_ms,
};

static struct fake F;
static struct ed_loader L;

/* A healthy ESP32 dev board, chip running its firmware, auto-reset wired. */
static void setup_esp32(void)
{
    memset(&F, 0, sizeof F);
    F.tp.ops = &fake_ops;
    F.tp.impl = &F;
    F.tp.baud = 115200;
    F.tp.has_modem_lines = true;
    F.now = 1000000;
    ed_slip_reset(&F.dec);
    F.en_wired = F.io0_wired = true;
    F.status_bytes = 4;
    F.security_chip_id = -1;
    F.unsupported_repeats = 2;
    F.spi_base = 0x3FF42000;
    F.spi_cmd_off = 0x00;
    F.spi_usr2_off = 0x24;
    F.spi_w0_off = 0x80;
    F.jedec = 0x1640EF;
    reg_set(&F, 0x40001000, 0x00F01D83);
    ed_loader_init(&L, &F.tp);
}

/* Already in download mode (as if BOOT were held at power-up). */
static void setup_esp32_download(void)
{
    setup_esp32();
    F.download = true;
}

/* ---- reset tables --------------------------------------------------------------- */

static void assert_lines(const struct line_change *want, size_t n, uint64_t t0)
{
    cr_assert_eq(F.nlines, n, "%zu line changes, wanted %zu", F.nlines, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(F.lines[i].dtr, want[i].dtr, "step %zu DTR", i);
        cr_assert_eq(F.lines[i].rts, want[i].rts, "step %zu RTS", i);
        cr_assert_eq(F.lines[i].at - t0, want[i].at, "step %zu at %llu us", i,
                     (unsigned long long)(F.lines[i].at - t0));
    }
}

Test(reset, tight_sequence_timing, .init = setup_esp32)
{
    uint64_t t0 = F.now;
    cr_assert_eq(ed_reset_run(&F.tp, ED_SEQ_TIGHT, 50), ED_OK);
    const struct line_change want[] = {
        { 0, 0, 0 }, { 1, 1, 0 }, { 0, 1, 0 }, { 1, 0, 100000 }, { 0, 0, 150000 },
    };
    assert_lines(want, 5, t0);
}

Test(reset, classic_sequence_spells_out_intermediate_states, .init = setup_esp32)
{
    uint64_t t0 = F.now;
    cr_assert_eq(ed_reset_run(&F.tp, ED_SEQ_CLASSIC, 550), ED_OK);
    const struct line_change want[] = {
        { 0, 0, 0 }, { 0, 1, 0 }, { 1, 1, 100000 }, { 1, 0, 100000 }, { 0, 0, 650000 },
    };
    assert_lines(want, 5, t0);
}

Test(reset, usb_jtag_sequence_ignores_the_delay, .init = setup_esp32)
{
    uint64_t t0 = F.now;
    cr_assert_eq(ed_reset_run(&F.tp, ED_SEQ_USB_JTAG, 550), ED_OK);
    const struct line_change want[] = {
        { 0, 0, 0 }, { 1, 0, 100000 }, { 1, 1, 200000 }, { 0, 1, 200000 }, { 0, 0, 300000 },
    };
    assert_lines(want, 5, t0);
}

Test(reset, hard_reset_pulses_en_with_dtr_released, .init = setup_esp32)
{
    uint64_t t0 = F.now;
    cr_assert_eq(ed_reset_run(&F.tp, ED_SEQ_HARD, 0), ED_OK);
    const struct line_change want[] = { { 0, 1, 0 }, { 0, 0, 100000 } };
    assert_lines(want, 2, t0);
    for (size_t i = 0; i < F.nlines; i++)
        cr_assert_not(F.lines[i].dtr);
}

Test(reset, a_failed_line_change_stops_the_sequence, .init = setup_esp32)
{
    F.set_lines_rc = ED_E_GONE;
    uint64_t t0 = F.now;
    cr_assert_eq(ed_reset_run(&F.tp, ED_SEQ_CLASSIC, 50), ED_E_GONE);
    cr_assert_eq(F.now, t0, "no waiting after a failure");
    cr_assert_eq(ed_reset_run(&F.tp, ED_SEQ_COUNT, 50), ED_E_ARG);
}

Test(reset, table_names)
{
    cr_assert_str_eq(ed_reset_name(ED_SEQ_CLASSIC), "classic");
    cr_assert_str_eq(ed_reset_name(ED_SEQ_TIGHT), "tight");
    cr_assert_str_eq(ed_reset_name(ED_SEQ_USB_JTAG), "usb-jtag");
    cr_assert_str_eq(ed_reset_name(ED_SEQ_HARD), "hard");
    cr_assert_null(ed_reset_def(ED_SEQ_COUNT));
    /* Every sequence ends with both lines released: nothing is held afterwards. */
    for (int s = 0; s < ED_SEQ_COUNT; s++) {
        const struct ed_reset_def *d = ed_reset_def((enum ed_reset_seq)s);
        cr_assert_not(d->steps[d->count - 1].dtr);
        cr_assert_not(d->steps[d->count - 1].rts);
    }
}

/* ---- commands and SYNC ---------------------------------------------------------- */

Test(command, sync_drains_all_eight_rom_replies, .init = setup_esp32_download)
{
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    cr_assert_eq(L.sync_replies, 8);
    cr_assert_eq(L.sync_value, ED_PROTO_SYNC_ROM_VALUE);
    cr_assert_not(L.stub);
    cr_assert_eq(L.status_bytes, 4);
    /* The next command gets its own reply, not a stale SYNC. */
    uint32_t v = 0;
    cr_assert_eq(ed_loader_read_reg(&L, 0x40001000, &v), ED_OK);
    cr_assert_eq(v, 0x00F01D83);
    cr_assert_eq(L.frames_skipped, 0);
}

Test(command, sync_detects_a_stub, .init = setup_esp32_download)
{
    F.stub = true;
    F.status_bytes = 2;
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    cr_assert(L.stub);
    cr_assert_eq(L.sync_replies, 1);
    cr_assert_eq(L.status_bytes, 2);
}

Test(command, sync_learns_two_status_bytes_from_an_esp8266_rom, .init = setup_esp32_download)
{
    F.status_bytes = 2;
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    cr_assert_not(L.stub);
    cr_assert_eq(L.status_bytes, 2);
    cr_assert_eq(L.sync_replies, 8);
}

Test(command, sync_times_out_after_100_ms_of_virtual_time, .init = setup_esp32)
{
    uint64_t t0 = F.now;
    cr_assert_eq(ed_loader_sync(&L), ED_E_TIMEOUT);
    uint64_t took = F.now - t0;
    cr_assert_geq(took, 100000);
    cr_assert_lt(took, 110000, "took %llu us", (unsigned long long)took);
}

Test(command, skips_foreign_frames_and_keeps_text, .init = setup_esp32_download)
{
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    F.foreign_before_read = 1;
    uint32_t v = 0;
    cr_assert_eq(ed_loader_read_reg(&L, 0x40001000, &v), ED_OK);
    cr_assert_eq(v, 0x00F01D83);
    cr_assert_eq(L.frames_skipped, 3, "short frame, request frame, SYNC echo");
    cr_assert_not_null(strstr(L.bootlog, "garbage"));
}

Test(command, too_many_foreign_frames_is_a_protocol_error, .init = setup_esp32_download)
{
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    F.foreign_before_read = ED_LOADER_FOREIGN_FRAMES;
    uint32_t v;
    cr_assert_eq(ed_loader_read_reg(&L, 0x40001000, &v), ED_E_PROTOCOL);
}

Test(command, times_out_on_the_virtual_clock, .init = setup_esp32_download)
{
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    F.silent = true;
    uint64_t t0 = F.now;
    uint32_t v;
    cr_assert_eq(ed_loader_read_reg(&L, 0x40001000, &v), ED_E_TIMEOUT);
    uint64_t took = F.now - t0;
    cr_assert_geq(took, ED_TIMEOUT_DEFAULT_MS * 1000ull);
    cr_assert_lt(took, ED_TIMEOUT_DEFAULT_MS * 1000ull + 10000);
    cr_assert_eq(L.last_op, ED_OP_READ_REG);
}

Test(command, unsupported_reply_is_drained, .init = setup_esp32_download)
{
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    cr_assert_eq(ed_loader_command(&L, ED_OP_GET_SECURITY_INFO, NULL, 0, 1000, NULL),
                 ED_E_UNSUPPORTED);
    const uint8_t raw[4] = { 1, 5, 0, 0 };
    cr_assert_eq(L.last_status_len, 4);
    cr_assert_arr_eq(L.last_status, raw, 4);
    cr_assert_eq(L.last_error, 5);
    /* The repeats are gone: the next command is not confused by them. */
    unsigned long skipped = L.frames_skipped;
    uint32_t v;
    cr_assert_eq(ed_loader_read_reg(&L, 0x40001000, &v), ED_OK);
    cr_assert_eq(v, 0x00F01D83);
    cr_assert_eq(L.frames_skipped, skipped);
}

Test(command, failure_status_keeps_the_bytes, .init = setup_esp32_download)
{
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    F.fail_op = ED_OP_SPI_ATTACH;
    F.fail_error = 0x08;
    cr_assert_eq(ed_loader_spi_attach(&L), ED_E_ROM);
    cr_assert_eq(L.last_op, ED_OP_SPI_ATTACH);
    cr_assert_eq(L.last_error, 0x08);
    cr_assert_eq(L.last_status[0], 1);
    cr_assert_not(L.spi_attached);
}

/* ---- connect ------------------------------------------------------------------------ */

static const struct ed_connect_opts auto_opts = { .style = ED_RESET_AUTO_CIRCUIT };

Test(connect, healthy_board_syncs_on_the_first_attempt, .init = setup_esp32)
{
    cr_assert_eq(ed_loader_connect(&L, &auto_opts), ED_OK);
    cr_assert_eq(L.attempt_count, 1);
    const struct ed_connect_attempt *a = &L.attempts[0];
    cr_assert(a->reset_done);
    cr_assert_eq(a->seq, ED_SEQ_TIGHT);
    cr_assert_eq(a->delay_ms, 50);
    cr_assert_eq(a->result, ED_OK);
    cr_assert_eq(a->boot, ED_BOOT_DOWNLOAD);
    cr_assert_eq(a->boot_value, 0x3);
    cr_assert_not_null(strstr(a->banner, "boot:0x3"));
    cr_assert_not_null(strstr(L.bootlog, "waiting for download"));
}

Test(connect, slow_en_capacitor_needs_the_long_delay, .init = setup_esp32)
{
    F.en_delay_ms = 300;
    cr_assert_eq(ed_loader_connect(&L, &auto_opts), ED_OK);
    cr_assert_eq(L.attempt_count, 3);
    cr_assert_eq(L.attempts[0].boot, ED_BOOT_FLASH);
    cr_assert_eq(L.attempts[0].boot_value, 0x13);
    cr_assert_eq(L.attempts[0].result, ED_E_TIMEOUT);
    cr_assert_eq(L.attempts[1].seq, ED_SEQ_CLASSIC);
    cr_assert_eq(L.attempts[1].boot, ED_BOOT_FLASH);
    cr_assert_eq(L.attempts[2].delay_ms, 550);
    cr_assert_eq(L.attempts[2].boot, ED_BOOT_DOWNLOAD);
}

Test(connect, gpio0_not_wired_shows_flash_boot_every_time, .init = setup_esp32)
{
    F.io0_wired = false;
    cr_assert_eq(ed_loader_connect(&L, &auto_opts), ED_E_TIMEOUT);
    cr_assert_eq(L.attempt_count, 4);
    cr_assert(ed_loader_attempts_all(&L, ED_BOOT_FLASH));
    cr_assert_not(ed_loader_attempts_all(&L, ED_BOOT_DOWNLOAD));
    char line[160];
    ed_loader_describe_attempt(&L.attempts[3], line, sizeof line);
    cr_assert_str_eq(line, "classic reset, D=550 ms: boot value 0x13 (flash boot), timed out");
}

Test(connect, no_autoreset_fails_with_every_attempt_recorded, .init = setup_esp32)
{
    F.en_wired = F.io0_wired = false;
    cr_assert_eq(ed_loader_connect(&L, &auto_opts), ED_E_TIMEOUT);
    cr_assert_eq(L.attempt_count, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(L.attempts[i].boot, ED_BOOT_UNSEEN);
        cr_assert_eq(L.attempts[i].log_bytes, 0);
        cr_assert_eq(L.attempts[i].result, ED_E_TIMEOUT);
    }
    cr_assert_not(ed_loader_attempts_all(&L, ED_BOOT_FLASH));
    char line[160];
    ed_loader_describe_attempt(&L.attempts[0], line, sizeof line);
    cr_assert_str_eq(line, "tight reset, D=50 ms: no boot log, timed out");
}

Test(connect, no_reset_mode_syncs_a_board_already_in_download_mode, .init = setup_esp32_download)
{
    F.en_wired = F.io0_wired = false;
    struct ed_connect_opts o = { .style = ED_RESET_AUTO_CIRCUIT, .no_reset = true };
    cr_assert_eq(ed_loader_connect(&L, &o), ED_OK);
    cr_assert_eq(L.attempt_count, 1);
    cr_assert_not(L.attempts[0].reset_done);
    cr_assert_eq(F.nlines, 0, "no line was touched");
}

Test(connect, usb_jtag_bridges_try_their_own_sequence_alone, .init = setup_esp32)
{
    /* esptool picks USBJTAGSerialReset by PID 0x1001 and tries no other sequence there. */
    struct ed_connect_opts o = { .style = ED_RESET_USB_JTAG };
    F.io0_wired = false;   /* the classic circuit would not work here */
    cr_assert_eq(ed_loader_connect(&L, &o), ED_E_TIMEOUT);
    cr_assert_eq(L.attempt_count, 3);
    for (size_t i = 0; i < L.attempt_count; i++)
        cr_assert_eq(L.attempts[i].seq, ED_SEQ_USB_JTAG, "attempt %zu", i);
}

Test(connect, a_transport_failure_ends_the_loop, .init = setup_esp32)
{
    F.set_lines_rc = ED_E_UNSUPPORTED;
    cr_assert_eq(ed_loader_connect(&L, &auto_opts), ED_E_UNSUPPORTED);
    cr_assert_eq(L.attempt_count, 1);
    cr_assert_eq(L.attempts[0].result, ED_E_UNSUPPORTED);
}

Test(connect, log_baud_switches_for_the_log_and_back_for_sync, .init = setup_esp32)
{
    struct ed_connect_opts o = { .style = ED_RESET_AUTO_CIRCUIT, .log_baud = 74880 };
    cr_assert_eq(ed_loader_connect(&L, &o), ED_OK);
    cr_assert_eq(F.nbauds, 2);
    cr_assert_eq(F.bauds[0], 74880);
    cr_assert_eq(F.bauds[1], 115200);
    cr_assert_eq(F.tp.baud, 115200);
}

/* ---- chip facts ----------------------------------------------------------------- */

static void connect_esp32(void)
{
    setup_esp32_download();
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
}

Test(chip, detects_esp32_by_magic_after_security_info_fails, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    cr_assert_str_eq(L.chip->key, "esp32");
    cr_assert_eq(L.magic, 0x00F01D83);
    cr_assert_eq(L.security_chip_id, UINT32_MAX);
    cr_assert_eq(L.status_bytes, 4);
    cr_assert_eq(F.op_count[ED_OP_GET_SECURITY_INFO], 1);
}

Test(chip, prefers_the_security_info_chip_id, .init = connect_esp32)
{
    F.security_chip_id = 9;
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    cr_assert_str_eq(L.chip->key, "esp32s3");
    cr_assert_eq(F.op_count[ED_OP_READ_REG], 0, "no magic read needed");
}

Test(chip, unknown_magic_is_unsupported_with_evidence, .init = connect_esp32)
{
    reg_set(&F, 0x40001000, 0x12345678);
    cr_assert_eq(ed_loader_detect_chip(&L), ED_E_UNSUPPORTED);
    cr_assert_null(L.chip);
    cr_assert_eq(L.magic, 0x12345678);
}

Test(chip, detects_esp8266_with_two_status_bytes)
{
    setup_esp32_download();
    F.status_bytes = 2;
    reg_set(&F, 0x40001000, 0xFFF0C101);
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    cr_assert_str_eq(L.chip->key, "esp8266");
    cr_assert_eq(L.status_bytes, 2);
}

Test(chip, esp32_mac_from_efuse_words, .init = connect_esp32)
{
    reg_set(&F, 0x3FF5A004, 0xAABBCCDD);
    reg_set(&F, 0x3FF5A008, 0x00001122);
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    uint8_t mac[6];
    cr_assert_eq(ed_loader_read_mac(&L, mac), ED_OK);
    const uint8_t want[6] = { 0x11, 0x22, 0xAA, 0xBB, 0xCC, 0xDD };
    cr_assert_arr_eq(mac, want, 6);
}

static void connect_esp8266(void)
{
    setup_esp32_download();
    F.status_bytes = 2;
    reg_set(&F, 0x40001000, 0xFFF0C101);
    cr_assert_eq(ed_loader_sync(&L), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
}

Test(chip, esp8266_mac_with_default_ouis, .init = connect_esp8266)
{
    reg_set(&F, 0x3FF00050, 0x12345678);
    reg_set(&F, 0x3FF00054, 0x0000ABCD);
    uint8_t mac[6];
    cr_assert_eq(ed_loader_read_mac(&L, mac), ED_OK);
    const uint8_t want0[6] = { 0x18, 0xFE, 0x34, 0xAB, 0xCD, 0x12 };
    cr_assert_arr_eq(mac, want0, 6);
    reg_set(&F, 0x3FF00054, 0x0001ABCD);
    cr_assert_eq(ed_loader_read_mac(&L, mac), ED_OK);
    const uint8_t want1[6] = { 0xAC, 0xD0, 0x74, 0xAB, 0xCD, 0x12 };
    cr_assert_arr_eq(mac, want1, 6);
    reg_set(&F, 0x3FF00054, 0x0002ABCD);
    cr_assert_eq(ed_loader_read_mac(&L, mac), ED_E_PROTOCOL);
}

Test(chip, esp8266_mac_with_programmed_oui, .init = connect_esp8266)
{
    reg_set(&F, 0x3FF00050, 0x9A000000);
    reg_set(&F, 0x3FF00054, 0x00057788);
    reg_set(&F, 0x3FF0005C, 0x005CCF7F);
    uint8_t mac[6];
    cr_assert_eq(ed_loader_read_mac(&L, mac), ED_OK);
    const uint8_t want[6] = { 0x5C, 0xCF, 0x7F, 0x77, 0x88, 0x9A };
    cr_assert_arr_eq(mac, want, 6);
}

Test(chip, crystal_from_the_uart_divider, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    reg_set(&F, 0x3FF40014, 347);           /* 40 MHz / 115200 */
    unsigned mhz, raw;
    cr_assert_eq(ed_loader_crystal_mhz(&L, &mhz, &raw), ED_OK);
    cr_assert_eq(mhz, 40);
    cr_assert_eq(raw, 400);
    reg_set(&F, 0x3FF40014, 0x70000000 | 226); /* 26 MHz; high bits are not the divider */
    cr_assert_eq(ed_loader_crystal_mhz(&L, &mhz, &raw), ED_OK);
    cr_assert_eq(mhz, 26);
}

Test(chip, esp8266_crystal_divides_by_two, .init = connect_esp8266)
{
    reg_set(&F, 0x60000014, 451);           /* 52 MHz APB from a 26 MHz crystal */
    unsigned mhz, raw;
    cr_assert_eq(ed_loader_crystal_mhz(&L, &mhz, &raw), ED_OK);
    cr_assert_eq(mhz, 26);
    cr_assert_eq(raw, 260);
}

Test(chip, flash_id_through_the_spi_user_command, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    uint32_t id, size;
    cr_assert_eq(ed_loader_flash_id(&L, &id, &size), ED_OK);
    cr_assert_eq(id, 0x1640EF);
    cr_assert_eq(size, 4u * 1024 * 1024);
    cr_assert_eq(F.op_count[ED_OP_SPI_ATTACH], 1, "ESP32 ROM attaches SPI first");
    cr_assert(L.spi_attached);
    /* MISO length 23 bits, command 0x9F with an 8-bit command phase. */
    cr_assert_eq(reg_get(&F, 0x3FF42000 + 0x2C), 23);
    /* The user registers were restored afterwards. */
    cr_assert_eq(reg_get(&F, 0x3FF42000 + 0x24), 0);
    cr_assert_eq(reg_get(&F, 0x3FF42000 + 0x1C), 0);
    /* A second read does not attach again. */
    cr_assert_eq(ed_loader_flash_id(&L, &id, &size), ED_OK);
    cr_assert_eq(F.op_count[ED_OP_SPI_ATTACH], 1);
}

Test(chip, silent_flash_is_reported, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    F.jedec = 0xFFFFFF;
    uint32_t id, size;
    cr_assert_eq(ed_loader_flash_id(&L, &id, &size), ED_E_NOTFOUND);
    cr_assert_eq(id, 0xFFFFFF);
    F.jedec = 0;
    cr_assert_eq(ed_loader_flash_id(&L, &id, &size), ED_E_NOTFOUND);
}

Test(chip, esp8266_attaches_with_an_empty_flash_begin, .init = connect_esp8266)
{
    F.spi_base = 0x60000200;
    F.spi_usr2_off = 0x24;
    F.spi_w0_off = 0x40;
    F.jedec = 0x1440C8;
    uint32_t id, size;
    cr_assert_eq(ed_loader_flash_id(&L, &id, &size), ED_OK);
    cr_assert_eq(id, 0x1440C8);
    cr_assert_eq(size, 1024u * 1024);
    cr_assert_eq(F.op_count[ED_OP_SPI_ATTACH], 0);
    cr_assert_eq(F.op_count[ED_OP_FLASH_BEGIN], 1);
    /* ESP8266 has no length registers: both lengths live in USR1. */
    cr_assert_eq(reg_get(&F, 0x60000200 + 0x20), 0, "USR1 restored");
}

/* ---- flash primitives ----------------------------------------------------------- */

Test(flash, size_scaled_timeouts)
{
    cr_assert_eq(ed_timeout_for_size(ED_RATE_ERASE_MS_PER_MB, 4096), ED_TIMEOUT_DEFAULT_MS);
    cr_assert_eq(ed_timeout_for_size(ED_RATE_ERASE_MS_PER_MB, 1024 * 1024), 40000);
    cr_assert_eq(ed_timeout_for_size(ED_RATE_MD5_MS_PER_MB, 4 * 1024 * 1024), 32000);
}

/* The ESP8266 ROM's rule as documented (esptool issue 33): asked for n sectors from
 * sector s it erases head + n, head = min(n, 16 - s % 16). Written out again here so
 * that the model in src/flash_erase.c is checked against the statement, not itself. */
static uint64_t documented_esp8266_erase_end(uint32_t offset, uint32_t size)
{
    uint32_t n = (size + 0xFFF) / 0x1000, s = offset / 0x1000;
    uint32_t head = 16 - s % 16;
    if (head > n)
        head = n;
    return (uint64_t)(s + head + n) * 0x1000;
}

Test(flash, esp8266_rom_erase_rule_is_modelled)
{
    for (uint32_t s = 0; s < 40; s++)
        for (uint32_t size = 0; size < 0x30000; size += 0x7FF) {
            struct ed_erase_span e = ed_erase_effect(ED_ERASE_ESP8266_ROM, s * 0x1000, size);
            cr_assert_eq(e.start, s * 0x1000);
            cr_assert_eq(e.end, documented_esp8266_erase_end(s * 0x1000, size),
                         "0x%x at sector %u", size, s);
        }
    /* The case: asked 0x6000 at 0 (the old workaround for 11 sectors) erases 12. */
    cr_assert_eq(ed_erase_effect(ED_ERASE_ESP8266_ROM, 0, 0x6000).end, 0xC000);
    /* Every other loader: the sectors asked for. */
    struct ed_erase_span e = ed_erase_effect(ED_ERASE_SECTORS, 0x3000, 0x1801);
    cr_assert_eq(e.start, 0x3000);
    cr_assert_eq(e.end, 0x5000);
}

/* Every write the ESP8266 ROM can be asked for: each part's erase covers its data, stays
 * in the write's own sectors and never reaches back into an earlier part; only a single
 * sector spills (into the next one). */
Test(flash, esp8266_rom_writes_are_cut_to_erase_exactly)
{
    for (uint32_t s = 0; s < 48; s++)
        for (uint32_t n = 1; n <= 70; n++)
            for (uint32_t tail = 0; tail < 0x1000; tail += 0xF80) {
                uint32_t addr = s * 0x1000, len = n * 0x1000 - tail;
                struct ed_erase_part p[ED_ERASE_MAX_PARTS];
                struct ed_erase_span spill;
                size_t k = ed_erase_split(ED_ERASE_ESP8266_ROM, addr, len, p, &spill);
                struct ed_erase_span own = ed_erase_own(addr, len);
                cr_assert(k >= 1 && k <= ED_ERASE_MAX_PARTS);
                uint32_t at = addr;
                for (size_t i = 0; i < k; i++) {
                    cr_assert_eq(p[i].offset, at, "parts are in order and contiguous");
                    at += p[i].len;
                    struct ed_erase_span e = ed_erase_effect(ED_ERASE_ESP8266_ROM,
                                                             p[i].offset, p[i].erase_size);
                    cr_assert_eq(e.start, p[i].erases.start);
                    cr_assert_eq(e.end, p[i].erases.end);
                    cr_assert(ed_erase_span_within(ed_erase_own(p[i].offset, p[i].len), e),
                              "part %zu of %u sectors at %u: its data is not erased", i, n, s);
                    cr_assert_eq(e.start, ed_erase_own(p[i].offset, p[i].len).start);
                    if (n > 1)
                        cr_assert(ed_erase_span_within(e, own), "%u sectors at sector %u: "
                                  "part %zu erases to 0x%llx", n, s, i,
                                  (unsigned long long)e.end);
                }
                cr_assert_eq(at, addr + len);
                if (n > 1) {
                    cr_assert_eq(spill.start, spill.end, "%u sectors at %u spill", n, s);
                } else {
                    cr_assert_eq(spill.start, own.end);
                    cr_assert_eq(spill.end, own.end + 0x1000);
                }
            }
}

Test(flash, one_begin_that_cannot_erase_exactly_is_refused, .init = connect_esp8266)
{
    /* 11 sectors from 0: no single size makes the ROM erase exactly 11. */
    cr_assert_eq(ed_loader_flash_begin(&L, 0xA010, 0), ED_E_REFUSED);
    cr_assert_eq(ed_loader_flash_begin(&L, 0x80, 0x3FC000), ED_E_REFUSED);
    /* 10 sectors from 0: ask for 5. */
    cr_assert_eq(ed_loader_flash_begin(&L, 0xA000, 0), ED_OK);
    cr_assert_eq(ed_get_le32(F.last_data), 0x5000);
}

Test(flash, begin_carries_the_encrypted_word_where_needed, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    cr_assert_eq(ed_loader_flash_begin(&L, 0x2100, 0x1000), ED_OK);
    cr_assert_eq(F.last_len, 16, "the ESP32 ROM takes 4 words");
    cr_assert_eq(ed_get_le32(F.last_data), 0x2100);
    cr_assert_eq(ed_get_le32(F.last_data + 4), 9, "0x2100 in 0x400 blocks");
    cr_assert_eq(ed_get_le32(F.last_data + 8), 0x400);
    cr_assert_eq(ed_get_le32(F.last_data + 12), 0x1000);
    L.chip = ed_chip_by_key("esp32s3");
    cr_assert_eq(ed_loader_flash_begin(&L, 0x2100, 0x1000), ED_OK);
    cr_assert_eq(F.last_len, 20);
    cr_assert_eq(ed_get_le32(F.last_data + 16), 0);
}

Test(flash, esp8266_begin_uses_the_erase_rule, .init = connect_esp8266)
{
    /* 64 sectors from a block boundary: head 16, so ask for 48. */
    cr_assert_eq(ed_loader_flash_begin(&L, 0x40000, 0), ED_OK);
    cr_assert_eq(F.last_len, 16);
    cr_assert_eq(ed_get_le32(F.last_data), 0x30000);
}

Test(flash, data_block_is_padded_and_checksummed, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    const uint8_t d[5] = { 1, 2, 3, 0xC0, 0xDB };
    cr_assert_eq(ed_loader_flash_data(&L, d, sizeof d, 7), ED_OK);
    cr_assert_eq(F.last_len, 16 + 0x400);
    cr_assert_eq(ed_get_le32(F.last_data), 0x400);
    cr_assert_eq(ed_get_le32(F.last_data + 4), 7);
    cr_assert_arr_eq(F.last_data + 16, d, sizeof d);
    cr_assert_eq(F.last_data[16 + 5], 0xFF);
    cr_assert_eq(F.last_data[16 + 0x3FF], 0xFF);
    uint8_t big[0x401] = { 0 };
    cr_assert_eq(ed_loader_flash_data(&L, big, sizeof big, 8), ED_E_ARG);
}

Test(flash, deflated_blocks_are_not_padded, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    cr_assert_eq(ed_loader_flash_defl_begin(&L, 0x1801, 0x300, 0x10000), ED_OK);
    cr_assert_eq(ed_get_le32(F.last_data), 0x1C00, "ROM: rounded up to write blocks");
    cr_assert_eq(ed_get_le32(F.last_data + 4), 1);
    const uint8_t d[3] = { 0x78, 0xDA, 0x01 };
    cr_assert_eq(ed_loader_flash_defl_data(&L, d, sizeof d, 0, 0x1801), ED_OK);
    cr_assert_eq(F.last_len, 16 + 3);
    cr_assert_eq(ed_loader_flash_defl_end(&L, false), ED_OK);
    cr_assert_eq(ed_get_le32(F.last_data), 1, "stay in the loader");
}

Test(flash, md5_from_rom_hex_and_stub_raw, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    const uint8_t want[16] = { 0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                               0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e };
    uint8_t md5[16];
    cr_assert_eq(ed_loader_flash_md5(&L, 0, 0x1000, md5), ED_OK);
    cr_assert_arr_eq(md5, want, 16);
    F.stub = true;
    F.status_bytes = 2;
    L.stub = true;
    L.status_bytes = 2;
    memset(md5, 0, sizeof md5);
    cr_assert_eq(ed_loader_flash_md5(&L, 0, 0x1000, md5), ED_OK);
    cr_assert_arr_eq(md5, want, 16);
}

Test(flash, change_baud_on_a_rom_sends_zero_as_old_baud, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    cr_assert_eq(ed_loader_change_baud(&L, 921600), ED_OK);
    cr_assert_eq(ed_get_le32(F.last_data), 921600);
    cr_assert_eq(ed_get_le32(F.last_data + 4), 0);
    cr_assert_eq(F.tp.baud, 921600);
    cr_assert_eq(F.nbauds, 1);
}

Test(flash, esp8266_rom_cannot_change_baud, .init = connect_esp8266)
{
    cr_assert_eq(ed_loader_change_baud(&L, 921600), ED_E_UNSUPPORTED);
    cr_assert_eq(F.op_count[ED_OP_CHANGE_BAUDRATE], 0);
    cr_assert_eq(F.nbauds, 0);
}

Test(flash, mem_download_and_stub_greeting, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    cr_assert_eq(ed_loader_mem_begin(&L, 4, 1, ED_RAM_BLOCK, 0x40080000), ED_OK);
    const uint8_t code[4] = { 0xDE, 0xAD, 0xBE, 0xEF };
    cr_assert_eq(ed_loader_mem_data(&L, code, sizeof code, 0), ED_OK);
    cr_assert_eq(F.last_len, 20);
    cr_assert_eq(ed_loader_mem_end(&L, true, 0x40080000), ED_OK);
    cr_assert_eq(ed_get_le32(F.last_data), 0, "flag 0 = jump");
    /* The stub says hello in its own frame. */
    queue_frame(&F, (const uint8_t *)"OHAI", 4);
    cr_assert_eq(ed_loader_wait_stub(&L, 1000), ED_OK);
    cr_assert(L.stub);
    cr_assert_eq(L.status_bytes, 2);
    cr_assert_eq(ed_loader_flash_block(&L), ED_FLASH_BLOCK_STUB);
}

Test(flash, rom_mem_end_without_reply_is_fine_when_jumping, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    F.silent = true;
    cr_assert_eq(ed_loader_mem_end(&L, true, 0x40080000), ED_OK);
    cr_assert_eq(ed_loader_mem_end(&L, false, 0), ED_E_TIMEOUT);
}

Test(flash, read_flash_slow_limits, .init = connect_esp32)
{
    cr_assert_eq(ed_loader_detect_chip(&L), ED_OK);
    uint8_t buf[65];
    cr_assert_eq(ed_loader_read_flash_slow(&L, 0, buf, 65), ED_E_ARG);
    L.chip = ed_chip_by_key("esp8266");
    cr_assert_eq(ed_loader_read_flash_slow(&L, 0, buf, 64), ED_E_UNSUPPORTED);
}
