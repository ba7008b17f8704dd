/* SLIP framing as the ESP serial protocol uses it: frames between 0xC0 bytes, with
 * 0xC0 -> DB DC and 0xDB -> DB DD inside. Bytes outside any frame are not noise: they
 * are the chip's console (boot log), so the decoder hands them back as text. */
#ifndef ESPDOCTOR_SLIP_H
#define ESPDOCTOR_SLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ED_SLIP_END 0xC0
#define ED_SLIP_ESC 0xDB
#define ED_SLIP_ESC_END 0xDC
#define ED_SLIP_ESC_ESC 0xDD

/* Largest decoded frame: a 16 KiB stub data block plus headers, with room to spare. */
#define ED_SLIP_MAX_FRAME (0x4000 + 64)

/* Bytes needed to encode n payload bytes in the worst case. */
#define ED_SLIP_ENCODED_MAX(n) (2 * (n) + 2)

/* Encode one frame (with both 0xC0 delimiters) into out; returns the encoded length. */
size_t ed_slip_encode(const uint8_t *in, size_t n, uint8_t *out);

enum ed_slip_event {
    ED_SLIP_NONE,     /* byte consumed, nothing complete yet */
    ED_SLIP_FRAME,    /* a frame is complete: dec->frame, dec->len */
    ED_SLIP_TEXT,     /* the byte was outside any frame: dec->text */
    ED_SLIP_BAD,      /* a frame was dropped (bad escape or too long); dec->bad says why */
};

struct ed_slip_decoder {
    uint8_t frame[ED_SLIP_MAX_FRAME];
    size_t len;
    bool in_frame;
    bool escaped;
    bool discarding;      /* dropping the rest of a bad frame until its closing 0xC0 */
    uint8_t text;         /* the byte of the last ED_SLIP_TEXT event */
    const char *bad;      /* reason for the last ED_SLIP_BAD event */
};

void ed_slip_reset(struct ed_slip_decoder *dec);
enum ed_slip_event ed_slip_feed(struct ed_slip_decoder *dec, uint8_t byte);

#endif
