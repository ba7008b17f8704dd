/* SLIP framing for the ESP serial protocol (see slip.h). */
#include "espdoctor/slip.h"

size_t ed_slip_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    out[o++] = ED_SLIP_END;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == ED_SLIP_END) {
            out[o++] = ED_SLIP_ESC;
            out[o++] = ED_SLIP_ESC_END;
        } else if (in[i] == ED_SLIP_ESC) {
            out[o++] = ED_SLIP_ESC;
            out[o++] = ED_SLIP_ESC_ESC;
        } else {
            out[o++] = in[i];
        }
    }
    out[o++] = ED_SLIP_END;
    return o;
}

void ed_slip_reset(struct ed_slip_decoder *dec)
{
    dec->len = 0;
    dec->in_frame = false;
    dec->escaped = false;
    dec->discarding = false;
    dec->bad = NULL;
}

static enum ed_slip_event drop_frame(struct ed_slip_decoder *dec, const char *why)
{
    dec->len = 0;
    dec->escaped = false;
    dec->discarding = true;
    dec->bad = why;
    return ED_SLIP_BAD;
}

enum ed_slip_event ed_slip_feed(struct ed_slip_decoder *dec, uint8_t byte)
{
    if (byte == ED_SLIP_END) {
        if (dec->discarding) {
            /* The END that closes a dropped frame; the next END opens a new one. */
            dec->discarding = false;
            dec->in_frame = false;
            return ED_SLIP_NONE;
        }
        if (!dec->in_frame || dec->len == 0) {
            /* Opening END, or two ENDs in a row: treat as the start of a frame, which
             * lets the decoder resynchronise after line noise. */
            dec->in_frame = true;
            dec->len = 0;
            dec->escaped = false;
            return ED_SLIP_NONE;
        }
        if (dec->escaped)
            return drop_frame(dec, "frame ends inside an escape");
        dec->in_frame = false;
        return ED_SLIP_FRAME;
    }
    if (dec->discarding)
        return ED_SLIP_NONE;
    if (!dec->in_frame) {
        dec->text = byte;
        return ED_SLIP_TEXT;
    }
    if (dec->escaped) {
        dec->escaped = false;
        if (byte == ED_SLIP_ESC_END)
            byte = ED_SLIP_END;
        else if (byte == ED_SLIP_ESC_ESC)
            byte = ED_SLIP_ESC;
        else
            return drop_frame(dec, "invalid escape sequence");
    } else if (byte == ED_SLIP_ESC) {
        dec->escaped = true;
        return ED_SLIP_NONE;
    }
    if (dec->len >= sizeof dec->frame)
        return drop_frame(dec, "frame too long");
    dec->frame[dec->len++] = byte;
    return ED_SLIP_NONE;
}
