/* Fuzz the firmware probe's conversation with a board (ed_fwprobe_run, src/fwprobe.c):
 * listening to the console, poking the MicroPython REPL with Ctrl-C and Ctrl-B, and
 * deciding from what came back (the banner, the prompt, the boot log).
 *
 * The input is the first byte (the probe's options: reset, poke, how many Ctrl-C tries),
 * then the console: what the board prints after the probe starts listening, and, after
 * each 0x00 byte, what it prints in answer to the next key the probe sends. A fake
 * transport on a virtual clock plays it at 115200 baud (10 bits a byte); an answer only
 * starts once a key was sent, so the same input meets the same keys at the same moments
 * on every run and waiting costs no real time.
 *
 * Properties: the probe sends nothing but Ctrl-C and Ctrl-B, and nothing at all when not
 * asked to poke; it gives up within its time budget; an answer needs a ">>> " from the
 * board; the strings it fills are terminated within their arrays and its verdict is one
 * of its states. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espdoctor/error.h"
#include "espdoctor/fwprobe.h"
#include "espdoctor/transport.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEGMENT_END 0x00
#define READ_SPAN_US 2000u   /* a read returns what arrives within 2 ms of its first byte */

struct console {
    const uint8_t *data;
    size_t size, pos;
    uint64_t now_us;
    uint64_t next_us;        /* when data[pos] arrives */
    bool waiting;            /* at a segment end: the next part waits for a key */
    size_t keys_sent, other_bytes_sent;
    bool lines_moved;
};

static struct console *console_of(struct ed_transport *t)
{
    return t->impl;
}

static uint64_t byte_us(const struct ed_transport *t)
{
    return 10000000u / (t->baud ? t->baud : 115200u);
}

static bool may_go(const struct console *c)
{
    return c->pos < c->size && !c->waiting;
}

static uint8_t take(struct ed_transport *t)
{
    struct console *c = console_of(t);
    uint8_t byte = c->data[c->pos++];
    c->next_us += byte_us(t);
    if (c->pos < c->size && c->data[c->pos] == SEGMENT_END)
        c->waiting = true;
    return byte;
}

static int fake_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                     unsigned timeout_ms)
{
    struct console *c = console_of(t);
    *got = 0;
    uint64_t deadline = c->now_us + (uint64_t)timeout_ms * 1000u;
    if (!may_go(c) || c->next_us > deadline) {
        c->now_us = deadline;
        return ED_E_TIMEOUT;
    }
    if (c->next_us > c->now_us)
        c->now_us = c->next_us;
    uint64_t until = c->now_us + READ_SPAN_US;
    while (may_go(c) && *got < cap && c->next_us <= until) {
        if (c->next_us > c->now_us)
            c->now_us = c->next_us;
        buf[(*got)++] = take(t);
    }
    return ED_OK;
}

/* A key releases the next part of the console, which starts after it. */
static int fake_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    struct console *c = console_of(t);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == 0x02 || buf[i] == 0x03)
            c->keys_sent++;
        else
            c->other_bytes_sent++;
    }
    c->now_us += len * byte_us(t);
    if (c->waiting) {
        c->waiting = false;
        c->pos++;   /* past the segment end */
        if (c->pos < c->size && c->data[c->pos] == SEGMENT_END)
            c->waiting = true;
        if (c->next_us < c->now_us)
            c->next_us = c->now_us;
    }
    return ED_OK;
}

static int fake_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    (void)dtr;
    (void)rts;
    console_of(t)->lines_moved = true;
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
    struct console *c = console_of(t);
    while (may_go(c) && c->next_us <= c->now_us)
        take(t);
    return ED_OK;
}

static void fake_close(struct ed_transport *t)
{
    (void)t;
}

static uint64_t fake_now(struct ed_transport *t)
{
    return console_of(t)->now_us;
}

static void fake_sleep(struct ed_transport *t, unsigned ms)
{
    console_of(t)->now_us += (uint64_t)ms * 1000u;
}

static const struct ed_transport_ops console_ops = {
    .read = fake_read, .write = fake_write, .set_lines = fake_set_lines,
    .set_baud = fake_set_baud, .flush_input = fake_flush, .close = fake_close,
    .now_us = fake_now, .sleep_ms = fake_sleep,
};

static void check_result(const struct ed_fwprobe *r, const struct console *c)
{
    require(r->state >= ED_FW_MICROPYTHON && r->state <= ED_FW_SILENT);
    require(r->text_len <= sizeof r->text);
    require(memchr(r->version, '\0', sizeof r->version) != NULL);
    require(memchr(r->banner, '\0', sizeof r->banner) != NULL);
    require(memchr(r->evidence, '\0', sizeof r->evidence) != NULL);
    if (r->answered)
        require(memmem(c->data, c->size, ">>> ", 4) != NULL);
    if (r->state == ED_FW_SILENT)
        require(r->text_len == 0);
    char sentence[1024];
    ed_fwprobe_describe(r, sentence, sizeof sentence);
    require(strlen(sentence) < sizeof sentence);
    require(ed_fw_state_key(r->state) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct ed_fwprobe_opts opts = {
        .reset = data[0] & 1,
        .poke = data[0] & 2,
        .pokes = (data[0] >> 2) & 3,          /* 0: the default */
        .listen_ms = data[0] & 0x10 ? 300u : 0u,
    };
    struct console c = { .data = data + 1, .size = size - 1 };
    c.waiting = c.size > 0 && c.data[0] == SEGMENT_END;
    struct ed_transport tp = { .ops = &console_ops, .impl = &c, .has_modem_lines = true,
                               .baud = 115200 };
    struct ed_fwprobe *r = malloc(sizeof *r);
    require(r != NULL);
    int rc = ed_fwprobe_run(&tp, &opts, r);
    require(rc == ED_OK);
    check_result(r, &c);
    require(c.other_bytes_sent == 0);
    if (!opts.poke)
        require(c.keys_sent == 0);
    /* listen, then each poke (Ctrl-C tries and one Ctrl-B) waits at most its answer time;
     * the reset takes a few hundred ms more. Ten seconds is far above all of it. */
    unsigned tries = opts.pokes ? opts.pokes : 2;
    uint64_t budget_ms = (opts.listen_ms ? opts.listen_ms : ED_FWPROBE_LISTEN_MS) +
                         (tries + 1) * (ED_FWPROBE_ANSWER_MS + 10) + 2000;
    require(c.now_us <= budget_ms * 1000u);
    free(r);
    return 0;
}
