/* Fuzz the SLIP decoder and the response decoder with what a serial line may deliver.
 *
 * The input is fed byte by byte to the SLIP decoder, as the loader does. Every frame that
 * comes out is decoded as a response with 2 and with 4 status bytes, and re-encoded: the
 * encoding must decode to the same frame. The input is also sent as a request payload
 * (first byte: the op) through the request encoder and back. A broken property aborts,
 * which libFuzzer reports like a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espdoctor/error.h"
#include "espdoctor/proto.h"
#include "espdoctor/slip.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A response decode must stay inside the frame and account for every byte. */
static void check_response(const uint8_t *frame, size_t len, unsigned status_bytes)
{
    struct ed_response r;
    int rc = ed_proto_decode_response(frame, len, status_bytes, &r);
    if (rc != ED_OK) {
        require(rc == ED_E_PROTOCOL);
        return;
    }
    require(r.status_len == status_bytes);
    require(r.data == frame + ED_PROTO_HEADER_LEN);
    require(ED_PROTO_HEADER_LEN + r.data_len + status_bytes == len);
    (void)ed_proto_op_name(r.op);
    (void)ed_proto_error_name(r.error);
}

/* Encoding a frame and decoding it again gives back exactly that frame. */
static void check_round_trip(const uint8_t *frame, size_t len)
{
    uint8_t encoded[ED_SLIP_ENCODED_MAX(ED_SLIP_MAX_FRAME)];
    struct ed_slip_decoder dec;
    size_t n = ed_slip_encode(frame, len, encoded);
    require(n <= ED_SLIP_ENCODED_MAX(len));
    ed_slip_reset(&dec);
    size_t frames = 0;
    for (size_t i = 0; i < n; i++) {
        enum ed_slip_event ev = ed_slip_feed(&dec, encoded[i]);
        require(ev == ED_SLIP_NONE || ev == ED_SLIP_FRAME);
        if (ev == ED_SLIP_FRAME) {
            frames++;
            require(i == n - 1 && dec.len == len && memcmp(dec.frame, frame, len) == 0);
        }
    }
    require(frames == 1);
}

/* A request built from the input decodes to header + payload with the right checksum. */
static void check_request(const uint8_t *data, size_t size)
{
    uint8_t out[ED_PROTO_MAX_ENCODED];
    struct ed_slip_decoder dec;
    if (size == 0)
        return;
    uint8_t op = data[0];
    const uint8_t *payload = data + 1;
    size_t len = size - 1;
    size_t n = ed_proto_encode_request(op, payload, len, out, sizeof out);
    if (len > ED_PROTO_MAX_DATA) {
        require(n == 0);
        return;
    }
    require(n > 0);
    ed_slip_reset(&dec);
    enum ed_slip_event ev = ED_SLIP_NONE;
    for (size_t i = 0; i < n; i++)
        ev = ed_slip_feed(&dec, out[i]);
    require(ev == ED_SLIP_FRAME && dec.len == ED_PROTO_HEADER_LEN + len);
    require(dec.frame[0] == 0 && dec.frame[1] == op && ed_get_le16(dec.frame + 2) == len);
    require(memcmp(dec.frame + ED_PROTO_HEADER_LEN, payload, len) == 0);
    uint32_t sum = ed_get_le32(dec.frame + 4);
    if (ed_proto_op_has_checksum(op) && len >= ED_PROTO_BLOCK_HEADER_LEN)
        require(sum == ed_proto_checksum(payload + ED_PROTO_BLOCK_HEADER_LEN,
                                         len - ED_PROTO_BLOCK_HEADER_LEN));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ed_slip_decoder dec;
    ed_slip_reset(&dec);
    for (size_t i = 0; i < size; i++) {
        enum ed_slip_event ev = ed_slip_feed(&dec, data[i]);
        require(dec.len <= sizeof dec.frame);
        if (ev == ED_SLIP_FRAME) {
            require(dec.len > 0);
            check_response(dec.frame, dec.len, 2);
            check_response(dec.frame, dec.len, 4);
            check_round_trip(dec.frame, dec.len);
        } else if (ev == ED_SLIP_TEXT) {
            require(dec.text == data[i]);
        } else if (ev == ED_SLIP_BAD) {
            require(dec.bad != NULL && dec.len == 0);
        }
    }
    check_request(data, size);
    return 0;
}
