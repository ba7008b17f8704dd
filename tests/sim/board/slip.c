/* The ROM's side of the SLIP framing (RFC 1055 as the esptool documentation, "Serial
 * Protocol", describes it): a frame is the bytes between two 0xC0; inside it 0xC0 travels
 * as DB DC and 0xDB as DB DD. Bytes outside a frame mean nothing to the loader. A frame
 * with a broken escape, or longer than the loader's buffer, is thrown away up to the 0xC0
 * that closes it. */
#include "board_internal.h"

void sim_slip_reset(struct sim_slip *s)
{
    s->state = SLIP_OUTSIDE;
    s->len = 0;
}

static void skip_rest(struct sim_slip *s)
{
    s->state = SLIP_SKIPPING;
    s->len = 0;
}

static void append(struct sim_slip *s, uint8_t byte)
{
    if (s->len == sizeof s->frame) {
        skip_rest(s);
        return;
    }
    s->frame[s->len++] = byte;
    s->state = SLIP_INSIDE;
}

bool sim_slip_rx(struct sim_slip *s, uint8_t byte)
{
    switch (s->state) {
    case SLIP_OUTSIDE:
        if (byte == SIM_SLIP_END) {
            s->state = SLIP_INSIDE;
            s->len = 0;
        }
        return false;
    case SLIP_SKIPPING:
        if (byte == SIM_SLIP_END)
            s->state = SLIP_OUTSIDE;
        return false;
    case SLIP_ESCAPED:
        if (byte == SIM_SLIP_ESC_END)
            append(s, SIM_SLIP_END);
        else if (byte == SIM_SLIP_ESC_ESC)
            append(s, SIM_SLIP_ESC);
        else
            skip_rest(s);   /* an END here is swallowed with the broken frame */
        return false;
    case SLIP_INSIDE:
        break;
    }
    if (byte == SIM_SLIP_END) {
        if (s->len == 0)
            return false;   /* back-to-back 0xC0: still the start of a frame */
        s->state = SLIP_OUTSIDE;
        return true;
    }
    if (byte == SIM_SLIP_ESC)
        s->state = SLIP_ESCAPED;
    else
        append(s, byte);
    return false;
}

size_t sim_slip_wire_len(const uint8_t *payload, size_t n)
{
    size_t len = n + 2;
    for (size_t i = 0; i < n; i++)
        len += payload[i] == SIM_SLIP_END || payload[i] == SIM_SLIP_ESC;
    return len;
}

size_t sim_slip_encode(const uint8_t *payload, size_t n, uint8_t *out)
{
    uint8_t *o = out;
    *o++ = SIM_SLIP_END;
    for (const uint8_t *p = payload; p < payload + n; p++) {
        if (*p == SIM_SLIP_END || *p == SIM_SLIP_ESC) {
            *o++ = SIM_SLIP_ESC;
            *o++ = *p == SIM_SLIP_END ? SIM_SLIP_ESC_END : SIM_SLIP_ESC_ESC;
        } else {
            *o++ = *p;
        }
    }
    *o++ = SIM_SLIP_END;
    return (size_t)(o - out);
}
