/* One direction of the UART line: bytes take 10 bit times each (start, 8 data, stop),
 * and a receiver at another speed decodes what it samples, bit by bit, as a real UART
 * does: that is where the garbage of a wrong baud rate comes from. */
#include "board_internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t wire_byte_ns(uint32_t baud)
{
    return baud ? 10000000000ull / baud : 0;
}

/* Line level at time t (ns) while bytes are sent back to back from time 0. */
static int line_level(const uint8_t *in, size_t n, double bit_ns, double t)
{
    if (t < 0)
        return 1;
    size_t bit = (size_t)(t / bit_ns);
    size_t byte = bit / 10;
    if (byte >= n)
        return 1;
    size_t pos = bit % 10;
    if (pos == 0)
        return 0;
    if (pos == 9)
        return 1;
    return (in[byte] >> (pos - 1)) & 1;
}

size_t uart_resample(const uint8_t *in, size_t n, uint32_t tx_baud, uint32_t rx_baud,
                     uint8_t *out)
{
    double tx_bit = 1e9 / tx_baud, rx_bit = 1e9 / rx_baud;
    size_t total_bits = n * 10, m = 0;
    size_t edge = 0;   /* index of the tx bit boundary where the search resumes */
    while (edge < total_bits) {
        /* The receiver waits for a falling edge: a tx start bit or a 1->0 data change. */
        double prev = edge ? (double)edge * tx_bit - tx_bit / 2 : -1.0;
        if (!(line_level(in, n, tx_bit, prev) == 1 &&
              line_level(in, n, tx_bit, (double)edge * tx_bit + tx_bit / 4) == 0)) {
            edge++;
            continue;
        }
        double start = (double)edge * tx_bit;
        if (line_level(in, n, tx_bit, start + rx_bit / 2) != 0) {
            edge++;   /* a glitch shorter than half a bit: not a start bit */
            continue;
        }
        uint8_t v = 0;
        for (int i = 0; i < 8; i++)
            v |= (uint8_t)(line_level(in, n, tx_bit, start + rx_bit * (i + 1.5)) << i);
        out[m++] = v;   /* a framing error still delivers the byte, as Linux does */
        double resume = start + rx_bit * 9.5;
        size_t next = (size_t)(resume / tx_bit) + 1;
        edge = next > edge ? next : edge + 1;
    }
    return m;
}

static bool wire_reserve(struct wire *w, size_t extra)
{
    if (w->head > 0 && w->head + w->len + extra > w->cap) {
        memmove(w->bytes, w->bytes + w->head, w->len);
        memmove(w->at_ns, w->at_ns + w->head, w->len * sizeof *w->at_ns);
        w->head = 0;
    }
    if (w->len + extra <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + extra)
        cap *= 2;
    uint8_t *bytes = realloc(w->bytes, cap);
    if (!bytes)
        return false;
    w->bytes = bytes;
    uint64_t *at = realloc(w->at_ns, cap * sizeof *at);
    if (!at)
        return false;
    w->at_ns = at;
    w->cap = cap;
    return true;
}

bool wire_send(struct wire *w, const uint8_t *data, size_t n, uint64_t start_ns,
               uint32_t tx_baud, uint32_t rx_baud, bool timed)
{
    if (n == 0)
        return true;
    const uint8_t *send = data;
    uint8_t *garbled = NULL;
    size_t m = n;
    if (tx_baud != rx_baud && tx_baud && rx_baud) {
        garbled = malloc(5 * n + 1);
        if (!garbled)
            return false;
        m = uart_resample(data, n, tx_baud, rx_baud, garbled);
        send = garbled;
    }
    uint64_t start = start_ns;
    uint64_t duration = 0;
    if (timed) {
        if (w->free_at_ns > start)
            start = w->free_at_ns;
        duration = n * wire_byte_ns(tx_baud);
        w->free_at_ns = start + duration;
    }
    bool ok = wire_reserve(w, m);
    if (ok) {
        for (size_t j = 0; j < m; j++) {
            size_t at = w->head + w->len++;
            w->bytes[at] = send[j];
            w->at_ns[at] = start + duration * (j + 1) / m;
        }
    }
    free(garbled);
    return ok;
}

void wire_packetize(struct wire *w, size_t from, size_t packet)
{
    for (size_t start = from; start < w->len; start += packet) {
        size_t end = w->len - start < packet ? w->len : start + packet;
        uint64_t whole = w->at_ns[w->head + end - 1];
        for (size_t i = start; i < end; i++)
            w->at_ns[w->head + i] = whole;
    }
}

uint64_t wire_front_ns(const struct wire *w)
{
    return w->len ? w->at_ns[w->head] : NO_TIME;
}

uint8_t wire_pop(struct wire *w)
{
    uint8_t v = w->bytes[w->head++];
    if (--w->len == 0)
        w->head = 0;
    return v;
}

void wire_clear(struct wire *w)
{
    w->head = w->len = 0;
}

void wire_free(struct wire *w)
{
    free(w->bytes);
    free(w->at_ns);
    memset(w, 0, sizeof *w);
}
