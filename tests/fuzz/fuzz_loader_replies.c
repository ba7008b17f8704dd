/* Fuzz the loader's reply handling (src/loader*.c) with what a chip sends back: the
 * response parser as the tool uses it, behind SLIP, op matching, status bytes, SYNC's
 * repeats, the boot log between frames and each command's own payload checks.
 *
 * The input is the byte stream from the chip. A fake transport with a virtual clock plays
 * it back the way a chip talks: text (the boot log) flows at line rate (10 bits a byte at
 * the current baud) from the first read on; a frame only goes out once a request has
 * asked for it (SYNC for eight, MEM_END for its reply and the stub's "OHAI", READ_FLASH
 * for its reply and a packet, each acknowledgement for one more). A read returns what
 * has arrived, flushing drops it, waiting advances the clock: the same input meets the
 * same commands at the same moments on every run, and timeouts cost no real time. The
 * session runs through what `espdoctor info`, `read` and `flash` do. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espdoctor/error.h"
#include "espdoctor/loader.h"
#include "espdoctor/stub.h"
#include "espdoctor/transport.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define READ_SPAN_US 2000u   /* a read returns what arrives within 2 ms of its first byte */

/* The chip's side of the line. */
struct replay {
    const uint8_t *data;
    size_t size, pos;
    uint64_t now_us;
    uint64_t next_us;        /* when data[pos] arrives, once it may go */
    bool started;            /* text flows from the first read on */
    bool in_frame;           /* data[pos] is inside a frame already going out */
    unsigned credits;        /* frames the requests so far have asked for */
};

static struct replay *replay_of(struct ed_transport *t)
{
    return t->impl;
}

static uint64_t byte_us(const struct ed_transport *t)
{
    uint64_t us = 10000000u / (t->baud ? t->baud : 115200u);
    return us ? us : 1;
}

static void start(struct replay *r)
{
    if (!r->started) {
        r->started = true;
        r->next_us = r->now_us;
    }
}

/* Text always goes; a frame's first byte waits for a request that asks for it. */
static bool may_go(const struct replay *r)
{
    return r->pos < r->size &&
           (r->in_frame || r->data[r->pos] != 0xC0 || r->credits > 0);
}

/* Take data[pos] off the line, keeping track of frames. */
static uint8_t take(struct ed_transport *t)
{
    struct replay *r = replay_of(t);
    uint8_t byte = r->data[r->pos++];
    if (byte == 0xC0) {
        if (r->in_frame)
            r->credits--;
        r->in_frame = !r->in_frame;
    }
    r->next_us += byte_us(t);
    return byte;
}

static int fake_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                     unsigned timeout_ms)
{
    struct replay *r = replay_of(t);
    start(r);
    *got = 0;
    uint64_t deadline = r->now_us + (uint64_t)timeout_ms * 1000u;
    if (!may_go(r) || r->next_us > deadline) {
        r->now_us = deadline;
        return ED_E_TIMEOUT;
    }
    if (r->next_us > r->now_us)
        r->now_us = r->next_us;
    uint64_t until = r->now_us + READ_SPAN_US;
    while (may_go(r) && *got < cap && r->next_us <= until) {
        if (r->next_us > r->now_us)
            r->now_us = r->next_us;
        buf[(*got)++] = take(t);
    }
    return ED_OK;
}

/* How many frames a written request asks for. A request is END, 0x00, op...; anything
 * else that starts a frame is READ_FLASH's acknowledgement. */
static unsigned frames_asked(const uint8_t *buf, size_t len)
{
    if (len < 3 || buf[0] != 0xC0)
        return 0;
    if (buf[1] != 0x00)
        return 1;
    switch (buf[2]) {
    case ED_OP_SYNC: return 8;
    case ED_OP_MEM_END: return 2;
    case ED_OP_READ_FLASH: return 2;
    default: return 1;
    }
}

/* Sending takes the line's time; the answers it asks for go out after it. */
static int fake_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    struct replay *r = replay_of(t);
    start(r);
    r->now_us += len * byte_us(t);
    unsigned asked = frames_asked(buf, len);
    if (asked && !may_go(r) && r->next_us < r->now_us)
        r->next_us = r->now_us;
    r->credits += asked;
    return ED_OK;
}

static int fake_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    (void)t;
    (void)dtr;
    (void)rts;
    return ED_OK;
}

static int fake_set_baud(struct ed_transport *t, uint32_t baud)
{
    if (baud == 0)
        return ED_E_ARG;
    t->baud = baud;
    return ED_OK;
}

/* Drop what has arrived by now. */
static int fake_flush(struct ed_transport *t)
{
    struct replay *r = replay_of(t);
    start(r);
    while (may_go(r) && r->next_us <= r->now_us)
        take(t);
    return ED_OK;
}

static void fake_close(struct ed_transport *t)
{
    (void)t;
}

static uint64_t fake_now(struct ed_transport *t)
{
    return replay_of(t)->now_us;
}

static void fake_sleep(struct ed_transport *t, unsigned ms)
{
    replay_of(t)->now_us += (uint64_t)ms * 1000u;
}

static const struct ed_transport_ops replay_ops = {
    .read = fake_read, .write = fake_write, .set_lines = fake_set_lines,
    .set_baud = fake_set_baud, .flush_input = fake_flush, .close = fake_close,
    .now_us = fake_now, .sleep_ms = fake_sleep,
};

static int count_sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)data;
    *(size_t *)ctx += len;
    return ED_OK;
}

/* What `espdoctor info` asks once connected. */
static void identify(struct ed_loader *ld)
{
    char line[256];
    for (size_t i = 0; i < ld->attempt_count; i++)
        ed_loader_describe_attempt(&ld->attempts[i], line, sizeof line);
    ed_loader_attempts_all(ld, ED_BOOT_FLASH);
    ed_loader_detect_chip(ld);
    uint8_t mac[6];
    ed_loader_read_mac(ld, mac);
    unsigned mhz, raw;
    ed_loader_crystal_mhz(ld, &mhz, &raw);
    uint32_t jedec, size;
    ed_loader_flash_id(ld, &jedec, &size);
    uint8_t block[64];
    ed_loader_read_flash_slow(ld, 0x1000, block, sizeof block);
    uint8_t md5[16];
    ed_loader_flash_md5(ld, 0x10000, 0x1000, md5);
}

/* What `espdoctor flash` and `read` do: upload a stub, write a block, read one back. */
static void flash_and_read(struct ed_loader *ld)
{
    static const uint8_t code[64] = { 0x36, 0x41, 0x00 };
    ed_loader_mem_begin(ld, sizeof code, 1, ED_RAM_BLOCK, 0x40080000);
    ed_loader_mem_data(ld, code, sizeof code, 0);
    ed_loader_mem_end(ld, true, 0x40080000);
    ed_loader_wait_stub(ld, ED_STUB_OHAI_TIMEOUT_MS);
    ed_loader_change_baud(ld, 460800);
    ed_loader_spi_attach(ld);
    ed_loader_spi_set_params(ld, 4u << 20);
    uint8_t block[ED_FLASH_BLOCK_ROM];
    memset(block, 0xA5, sizeof block);
    ed_loader_flash_begin(ld, sizeof block, 0x10000);
    ed_loader_flash_data(ld, block, sizeof block, 0);
    ed_loader_flash_end(ld, false);
    ed_loader_erase_region(ld, 0x10000, 0x1000);
    size_t got = 0;
    ed_loader_read_flash(ld, 0x10000, 2 * ED_STUB_READ_PACKET, count_sink, &got, NULL);
    require(got <= 2 * ED_STUB_READ_PACKET);
    ed_loader_hard_reset(ld);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct replay r = { .data = data, .size = size };
    struct ed_transport t = { .ops = &replay_ops, .impl = &r, .has_modem_lines = true,
                              .baud = 115200 };
    struct ed_loader *ld = malloc(sizeof *ld);
    require(ld != NULL);
    ed_loader_init(ld, &t);
    struct ed_connect_opts opts = { .style = ED_RESET_AUTO_CIRCUIT, .attempts = 2 };
    if (ed_loader_connect(ld, &opts) == ED_OK) {
        identify(ld);
        flash_and_read(ld);
    }
    require(ld->bootlog_len <= ED_BOOTLOG_MAX && ld->bootlog[ld->bootlog_len] == '\0');
    require(ld->attempt_count <= ED_LOADER_MAX_ATTEMPTS);
    free(ld);
    return 0;
}
