/* SLIP codec: encoding, decoding, and what happens to text and broken frames. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "espdoctor/slip.h"

/* Everything a decoder made of a byte stream, in order. */
struct events {
    uint8_t frames[8][ED_SLIP_MAX_FRAME];
    size_t frame_len[8];
    size_t nframes;
    char text[256];
    size_t ntext;
    const char *bad[8];
    size_t nbad;
};

static void feed_all(struct ed_slip_decoder *dec, const uint8_t *in, size_t n, struct events *ev)
{
    for (size_t i = 0; i < n; i++) {
        switch (ed_slip_feed(dec, in[i])) {
        case ED_SLIP_FRAME:
            cr_assert_lt(ev->nframes, 8);
            memcpy(ev->frames[ev->nframes], dec->frame, dec->len);
            ev->frame_len[ev->nframes++] = dec->len;
            break;
        case ED_SLIP_TEXT:
            cr_assert_lt(ev->ntext, sizeof ev->text - 1);
            ev->text[ev->ntext++] = (char)dec->text;
            break;
        case ED_SLIP_BAD:
            cr_assert_lt(ev->nbad, 8);
            ev->bad[ev->nbad++] = dec->bad;
            break;
        case ED_SLIP_NONE:
            break;
        }
    }
}

static struct events *decode(const uint8_t *in, size_t n)
{
    static struct ed_slip_decoder dec;
    struct events *ev = calloc(1, sizeof *ev);
    cr_assert_not_null(ev);
    ed_slip_reset(&dec);
    feed_all(&dec, in, n, ev);
    return ev;
}

Test(slip, encode_escapes_end_and_esc)
{
    const uint8_t in[] = { 0x01, 0xC0, 0x02, 0xDB, 0x03 };
    const uint8_t want[] = { 0xC0, 0x01, 0xDB, 0xDC, 0x02, 0xDB, 0xDD, 0x03, 0xC0 };
    uint8_t out[ED_SLIP_ENCODED_MAX(sizeof in)];
    size_t n = ed_slip_encode(in, sizeof in, out);
    cr_assert_eq(n, sizeof want);
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(slip, encode_worst_case_fits_the_bound)
{
    uint8_t in[64];
    memset(in, 0xC0, sizeof in);
    uint8_t out[ED_SLIP_ENCODED_MAX(sizeof in)];
    cr_assert_eq(ed_slip_encode(in, sizeof in, out), ED_SLIP_ENCODED_MAX(sizeof in));
}

Test(slip, round_trip_of_every_byte_value)
{
    uint8_t in[512];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + (i >> 8));
    static uint8_t enc[ED_SLIP_ENCODED_MAX(sizeof in)];
    size_t n = ed_slip_encode(in, sizeof in, enc);
    struct events *ev = decode(enc, n);
    cr_assert_eq(ev->nframes, 1);
    cr_assert_eq(ev->frame_len[0], sizeof in);
    cr_assert_arr_eq(ev->frames[0], in, sizeof in);
    cr_assert_eq(ev->ntext, 0);
    cr_assert_eq(ev->nbad, 0);
    free(ev);
}

Test(slip, round_trip_of_random_frames_back_to_back)
{
    srand(1234);
    static uint8_t stream[4 * ED_SLIP_ENCODED_MAX(300)];
    uint8_t frames[4][300];
    size_t lens[4], o = 0;
    for (int f = 0; f < 4; f++) {
        lens[f] = 1 + (size_t)rand() % 300;
        for (size_t i = 0; i < lens[f]; i++)
            /* Bias towards the two special bytes. */
            frames[f][i] = rand() % 4 == 0 ? (rand() % 2 ? 0xC0 : 0xDB) : (uint8_t)rand();
        o += ed_slip_encode(frames[f], lens[f], stream + o);
    }
    struct events *ev = decode(stream, o);
    cr_assert_eq(ev->nframes, 4);
    for (int f = 0; f < 4; f++) {
        cr_assert_eq(ev->frame_len[f], lens[f]);
        cr_assert_arr_eq(ev->frames[f], frames[f], lens[f]);
    }
    free(ev);
}

Test(slip, truncated_frame_yields_nothing)
{
    const uint8_t in[] = { 0xC0, 0x01, 0x02, 0x03 };
    struct events *ev = decode(in, sizeof in);
    cr_assert_eq(ev->nframes, 0);
    cr_assert_eq(ev->ntext, 0);
    cr_assert_eq(ev->nbad, 0);
    free(ev);
}

Test(slip, text_before_and_between_frames_is_reported_as_text)
{
    const uint8_t in[] = { 'b', 'o', 'o', 't', 0xC0, 0x01, 0xC0, '\r', '\n', 'x',
                           0xC0, 0x02, 0x03, 0xC0, '!' };
    struct events *ev = decode(in, sizeof in);
    cr_assert_eq(ev->nframes, 2);
    cr_assert_eq(ev->frame_len[0], 1);
    cr_assert_eq(ev->frames[0][0], 0x01);
    cr_assert_eq(ev->frame_len[1], 2);
    cr_assert_eq(ev->ntext, 8);
    cr_assert_arr_eq(ev->text, "boot\r\nx!", 8);
    free(ev);
}

Test(slip, invalid_escape_drops_the_frame_then_recovers)
{
    const uint8_t in[] = { 0xC0, 0x01, 0xDB, 0x05, 0x02, 0xC0,  /* bad */
                           0xC0, 0x07, 0xC0 };                  /* good */
    struct events *ev = decode(in, sizeof in);
    cr_assert_eq(ev->nbad, 1);
    cr_assert_str_eq(ev->bad[0], "invalid escape sequence");
    cr_assert_eq(ev->nframes, 1);
    cr_assert_eq(ev->frames[0][0], 0x07);
    /* The rest of the dropped frame is not mistaken for console text. */
    cr_assert_eq(ev->ntext, 0);
    free(ev);
}

Test(slip, frame_ending_inside_an_escape_is_dropped)
{
    const uint8_t in[] = { 0xC0, 0x01, 0xDB, 0xC0 };
    struct events *ev = decode(in, sizeof in);
    cr_assert_eq(ev->nbad, 1);
    cr_assert_str_eq(ev->bad[0], "frame ends inside an escape");
    cr_assert_eq(ev->nframes, 0);
    free(ev);
}

Test(slip, overlong_frame_is_dropped_and_the_next_one_decodes)
{
    size_t n = ED_SLIP_MAX_FRAME + 10;
    uint8_t *in = malloc(n + 8);
    cr_assert_not_null(in);
    in[0] = 0xC0;
    memset(in + 1, 0x11, n - 2);
    in[n - 1] = 0xC0;
    const uint8_t next[] = { 0xC0, 0x22, 0x33, 0xC0 };
    memcpy(in + n, next, sizeof next);
    struct events *ev = decode(in, n + sizeof next);
    cr_assert_eq(ev->nbad, 1);
    cr_assert_str_eq(ev->bad[0], "frame too long");
    cr_assert_eq(ev->nframes, 1);
    cr_assert_eq(ev->frame_len[0], 2);
    cr_assert_eq(ev->frames[0][0], 0x22);
    free(ev);
    free(in);
}

Test(slip, largest_frame_fits)
{
    size_t n = ED_SLIP_MAX_FRAME;
    uint8_t *in = malloc(n);
    uint8_t *enc = malloc(ED_SLIP_ENCODED_MAX(n));
    cr_assert(in && enc);
    memset(in, 0x5A, n);
    size_t m = ed_slip_encode(in, n, enc);
    struct events *ev = decode(enc, m);
    cr_assert_eq(ev->nbad, 0);
    cr_assert_eq(ev->nframes, 1);
    cr_assert_eq(ev->frame_len[0], n);
    free(ev);
    free(in);
    free(enc);
}

Test(slip, repeated_end_bytes_resynchronise)
{
    const uint8_t in[] = { 0xC0, 0xC0, 0xC0, 0x01, 0x02, 0xC0, 0xC0, 0xC0, 0x03, 0xC0 };
    struct events *ev = decode(in, sizeof in);
    cr_assert_eq(ev->nframes, 2);
    cr_assert_eq(ev->frame_len[0], 2);
    cr_assert_eq(ev->frames[0][1], 0x02);
    cr_assert_eq(ev->frame_len[1], 1);
    cr_assert_eq(ev->frames[1][0], 0x03);
    cr_assert_eq(ev->ntext, 0);
    free(ev);
}

Test(slip, reset_forgets_a_partial_frame)
{
    struct ed_slip_decoder dec;
    struct events *ev = calloc(1, sizeof *ev);
    cr_assert_not_null(ev);
    ed_slip_reset(&dec);
    const uint8_t half[] = { 0xC0, 0x01, 0x02 };
    feed_all(&dec, half, sizeof half, ev);
    ed_slip_reset(&dec);
    const uint8_t rest[] = { 'o', 'k', 0xC0, 0x09, 0xC0 };
    feed_all(&dec, rest, sizeof rest, ev);
    cr_assert_eq(ev->ntext, 2);
    cr_assert_eq(ev->nframes, 1);
    cr_assert_eq(ev->frame_len[0], 1);
    cr_assert_eq(ev->frames[0][0], 0x09);
    free(ev);
}
