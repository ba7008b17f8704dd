/* Fuzz the Telnet / RFC 2217 codecs (src/telnet.c) with what a server may send.
 *
 * The input is decoded twice: in one call per event, and one byte per call. Both must give
 * the same data and the same events (telnet.h: "sequences may be split anywhere"). Option
 * events go through the negotiation, whose answers must be well formed and settle: a
 * repeated message changes nothing. The escaper and the COM-PORT-OPTION builder must
 * decode back to what they were given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telnet.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one decode pass produced: data bytes and a digest of the events. */
struct pass {
    uint8_t *data;
    size_t data_len;
    uint64_t events;      /* running hash of every event and its fields */
    size_t event_count;
};

static void record_event(struct pass *p, const struct ed_telnet_decoder *d,
                         enum ed_telnet_event ev)
{
    uint64_t h = p->events * 1099511628211u + (uint64_t)ev;
    if (ev == ED_TN_EV_OPTION)
        h = h * 31u + (uint64_t)(d->verb << 8 | d->option);
    else if (ev == ED_TN_EV_COMMAND)
        h = h * 31u + d->command;
    else if (ev == ED_TN_EV_SUBNEG) {
        require(d->sb_len <= sizeof d->sb);
        for (size_t i = 0; i < d->sb_len; i++)
            h = h * 31u + d->sb[i];
        h = h * 31u + d->sb_truncated;
    }
    p->events = h;
    p->event_count++;
}

/* The negotiation's answer to an option event: IAC + a verb + the same option. */
static void negotiate(struct ed_telnet_opts *opts, const struct ed_telnet_decoder *d)
{
    uint8_t reply[3];
    size_t n = ed_telnet_answer(opts, d->verb, d->option, reply);
    require(n == 0 || n == 3);
    if (n == 3) {
        require(reply[0] == ED_TN_IAC && reply[2] == d->option);
        require(reply[1] >= ED_TN_WILL && reply[1] <= ED_TN_DONT);
    }
    /* The same message again changes nothing: no answer, or the same refusal (an option
     * we do not support is refused as often as it is asked for). */
    uint8_t again[3];
    size_t m = ed_telnet_answer(opts, d->verb, d->option, again);
    require(m == 0 || (m == n && memcmp(again, reply, 3) == 0 &&
                       (reply[1] == ED_TN_DONT || reply[1] == ED_TN_WONT)));
}

static void decode_pass(const uint8_t *in, size_t size, size_t step, struct pass *p,
                        struct ed_telnet_opts *opts)
{
    struct ed_telnet_decoder d;
    ed_telnet_decoder_init(&d);
    size_t pos = 0;
    while (pos < size) {
        size_t n = size - pos < step ? size - pos : step;
        enum ed_telnet_event ev;
        size_t before = p->data_len;
        size_t used = ed_telnet_decode(&d, in + pos, n, p->data, &p->data_len, &ev);
        require(used > 0 && used <= n);
        require(p->data_len - before <= used);
        if (ev != ED_TN_EV_NONE)
            record_event(p, &d, ev);
        if (ev == ED_TN_EV_OPTION && opts)
            negotiate(opts, &d);
        pos += used;
    }
}

/* Data escaped for the wire decodes back to itself, with no events. */
static void check_escape(const uint8_t *in, size_t size)
{
    uint8_t *wire = malloc(2 * size + 1), *back = malloc(size + 1);
    require(wire && back);
    size_t n = ed_telnet_escape(in, size, wire);
    require(n >= size && n <= 2 * size);
    struct pass p = { .data = back };
    decode_pass(wire, n, n ? n : 1, &p, NULL);
    require(p.event_count == 0 && p.data_len == size && memcmp(back, in, size) == 0);
    free(wire);
    free(back);
}

/* A COM-PORT-OPTION message with the first bytes as command and value decodes to one
 * subnegotiation holding exactly them. */
static void check_command(const uint8_t *in, size_t size)
{
    if (size == 0)
        return;
    uint8_t msg[64];
    size_t value_len = size - 1 < 16 ? size - 1 : 16;
    size_t n = ed_rfc2217_command(in[0], in + 1, value_len, msg, sizeof msg);
    require(n > 0);
    struct ed_telnet_decoder d;
    ed_telnet_decoder_init(&d);
    uint8_t out[64];
    size_t out_len = 0;
    enum ed_telnet_event ev;
    size_t used = ed_telnet_decode(&d, msg, n, out, &out_len, &ev);
    require(used == n && ev == ED_TN_EV_SUBNEG && out_len == 0);
    require(d.sb_len == value_len + 2 && d.sb[0] == ED_TN_OPT_COM_PORT && d.sb[1] == in[0]);
    require(memcmp(d.sb + 2, in + 1, value_len) == 0);
    uint8_t small[ED_RFC2217_MSG_MAX];
    require(ed_rfc2217_command(in[0], in + 1, value_len, small, 5) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *whole = malloc(size + 1), *bytewise = malloc(size + 1);
    struct ed_telnet_opts *opts = calloc(1, sizeof *opts);
    require(whole && bytewise && opts);
    struct pass a = { .data = whole }, b = { .data = bytewise };
    decode_pass(data, size, size ? size : 1, &a, opts);
    decode_pass(data, size, 1, &b, NULL);
    require(a.data_len == b.data_len && memcmp(whole, bytewise, a.data_len) == 0);
    require(a.event_count == b.event_count && a.events == b.events);
    check_escape(data, size);
    check_command(data, size);
    free(whole);
    free(bytewise);
    free(opts);
    return 0;
}
