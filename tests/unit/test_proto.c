/* Packet layer: byte-exact requests, responses with 2 and 4 status bytes, names. */
#include <criterion/criterion.h>
#include <string.h>

#include "espdoctor/error.h"
#include "espdoctor/proto.h"

static uint8_t out[ED_PROTO_MAX_ENCODED];

Test(proto, sync_request_is_byte_exact)
{
    uint8_t data[36] = { 0x07, 0x07, 0x12, 0x20 };
    memset(data + 4, 0x55, 32);
    size_t n = ed_proto_encode_request(ED_OP_SYNC, data, sizeof data, out, sizeof out);
    uint8_t want[2 + 8 + 36] = { 0xC0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x07, 0x07, 0x12, 0x20 };
    memset(want + 13, 0x55, 32);
    want[45] = 0xC0;
    cr_assert_eq(n, sizeof want);
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(proto, read_reg_request_is_byte_exact)
{
    const uint8_t data[] = { 0x00, 0x10, 0x00, 0x40 };
    size_t n = ed_proto_encode_request(ED_OP_READ_REG, data, sizeof data, out, sizeof out);
    const uint8_t want[] = { 0xC0, 0x00, 0x0A, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
                             0x00, 0x10, 0x00, 0x40, 0xC0 };
    cr_assert_eq(n, sizeof want);
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(proto, checksum_is_xor_seeded_with_0xef)
{
    cr_assert_eq(ed_proto_checksum(NULL, 0), 0xEF);
    const uint8_t d[] = { 0xAA, 0x55, 0x0F };
    cr_assert_eq(ed_proto_checksum(d, sizeof d), 0xEF ^ 0xAA ^ 0x55 ^ 0x0F);
}

Test(proto, data_blocks_carry_the_checksum_of_the_data_only)
{
    /* Sub-header (len 3, seq 1) then 3 bytes; one of them needs escaping. */
    const uint8_t data[] = { 0x03, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                             0xAA, 0xC0, 0x0F };
    const uint8_t sum = 0xEF ^ 0xAA ^ 0xC0 ^ 0x0F;   /* 0x8A */
    const uint8_t ops[] = { ED_OP_FLASH_DATA, ED_OP_MEM_DATA, ED_OP_FLASH_DEFL_DATA };
    for (size_t i = 0; i < sizeof ops; i++) {
        size_t n = ed_proto_encode_request(ops[i], data, sizeof data, out, sizeof out);
        const uint8_t head[] = { 0xC0, 0x00, ops[i], 0x13, 0x00, sum, 0x00, 0x00, 0x00 };
        cr_assert_arr_eq(out, head, sizeof head);
        /* 0xC0 in the data became DB DC; total = 2 ends + 8 header + 19 data + 1 escape */
        cr_assert_eq(n, 2 + 8 + sizeof data + 1);
        const uint8_t tail[] = { 0xAA, 0xDB, 0xDC, 0x0F, 0xC0 };
        cr_assert_arr_eq(out + n - sizeof tail, tail, sizeof tail);
    }
}

Test(proto, other_ops_send_a_zero_checksum)
{
    uint8_t data[16];
    memset(data, 0x42, sizeof data);
    size_t n = ed_proto_encode_request(ED_OP_MEM_BEGIN, data, sizeof data, out, sizeof out);
    cr_assert_eq(n, 2 + 8 + 16);
    const uint8_t head[] = { 0xC0, 0x00, 0x05, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00 };
    cr_assert_arr_eq(out, head, sizeof head);
    cr_assert(ed_proto_op_has_checksum(ED_OP_FLASH_DATA));
    cr_assert_not(ed_proto_op_has_checksum(ED_OP_FLASH_BEGIN));
    cr_assert_not(ed_proto_op_has_checksum(ED_OP_SYNC));
}

Test(proto, header_bytes_that_need_escaping_are_escaped)
{
    /* A length of 0xC0 bytes puts 0xC0 in the header itself. */
    uint8_t data[0xC0];
    memset(data, 0x01, sizeof data);
    size_t n = ed_proto_encode_request(ED_OP_MEM_BEGIN, data, sizeof data, out, sizeof out);
    const uint8_t head[] = { 0xC0, 0x00, 0x05, 0xDB, 0xDC, 0x00 };
    cr_assert_arr_eq(out, head, sizeof head);
    cr_assert_eq(n, 2 + 8 + 1 + sizeof data);
}

Test(proto, refuses_oversized_data_and_small_buffers)
{
    static uint8_t big[ED_PROTO_MAX_DATA + 1];
    cr_assert_eq(ed_proto_encode_request(ED_OP_FLASH_DATA, big, sizeof big, out, sizeof out), 0);
    cr_assert_gt(ed_proto_encode_request(ED_OP_FLASH_DATA, big, ED_PROTO_MAX_DATA, out,
                                         sizeof out), 0);
    uint8_t small[12];
    const uint8_t d[4] = { 0 };
    cr_assert_eq(ed_proto_encode_request(ED_OP_READ_REG, d, sizeof d, small, sizeof small), 0);
}

Test(proto, decodes_a_two_status_byte_reply)
{
    const uint8_t f[] = { 0x01, 0x0A, 0x02, 0x00, 0x01, 0xC1, 0xF0, 0xFF, 0x00, 0x00 };
    struct ed_response r;
    cr_assert_eq(ed_proto_decode_response(f, sizeof f, 2, &r), ED_OK);
    cr_assert_eq(r.op, ED_OP_READ_REG);
    cr_assert_eq(r.size, 2);
    cr_assert_eq(r.value, 0xFFF0C101u);
    cr_assert_eq(r.data_len, 0);
    cr_assert_eq(r.status, 0);
    cr_assert_eq(r.status_len, 2);
}

Test(proto, decodes_a_four_status_byte_reply_with_data)
{
    uint8_t f[8 + 32 + 4] = { 0x01, 0x13, 36, 0x00, 0, 0, 0, 0 };
    memcpy(f + 8, "d41d8cd98f00b204e9800998ecf8427e", 32);
    struct ed_response r;
    cr_assert_eq(ed_proto_decode_response(f, sizeof f, 4, &r), ED_OK);
    cr_assert_eq(r.op, ED_OP_SPI_FLASH_MD5);
    cr_assert_eq(r.data_len, 32);
    cr_assert_arr_eq(r.data, "d41d8cd9", 8);
    cr_assert_eq(r.status_len, 4);
    cr_assert_eq(r.status, 0);
}

Test(proto, keeps_failure_status_and_raw_bytes)
{
    const uint8_t f[] = { 0x01, 0x14, 0x04, 0x00, 0, 0, 0, 0, 0x01, 0x05, 0xAB, 0xCD };
    struct ed_response r;
    cr_assert_eq(ed_proto_decode_response(f, sizeof f, 4, &r), ED_OK);
    cr_assert_eq(r.status, 1);
    cr_assert_eq(r.error, 0x05);
    const uint8_t raw[] = { 0x01, 0x05, 0xAB, 0xCD };
    cr_assert_arr_eq(r.status_raw, raw, 4);
    /* The same frame read as a 2-status reply: the last two bytes are the status. */
    cr_assert_eq(ed_proto_decode_response(f, sizeof f, 2, &r), ED_OK);
    cr_assert_eq(r.status, 0xAB);
    cr_assert_eq(r.data_len, 2);
}

Test(proto, rejects_short_and_non_response_frames)
{
    struct ed_response r;
    const uint8_t header_only[] = { 0x01, 0x08, 0x00, 0x00, 0, 0, 0, 0 };
    cr_assert_eq(ed_proto_decode_response(header_only, sizeof header_only, 2, &r), ED_E_PROTOCOL);
    const uint8_t one_status[] = { 0x01, 0x08, 0x00, 0x00, 0, 0, 0, 0, 0 };
    cr_assert_eq(ed_proto_decode_response(one_status, sizeof one_status, 2, &r), ED_E_PROTOCOL);
    const uint8_t two_status[] = { 0x01, 0x08, 0x02, 0x00, 0, 0, 0, 0, 0, 0 };
    cr_assert_eq(ed_proto_decode_response(two_status, sizeof two_status, 4, &r), ED_E_PROTOCOL);
    const uint8_t request[] = { 0x00, 0x08, 0x02, 0x00, 0, 0, 0, 0, 0, 0 };
    cr_assert_eq(ed_proto_decode_response(request, sizeof request, 2, &r), ED_E_PROTOCOL);
    cr_assert_eq(ed_proto_decode_response(two_status, sizeof two_status, 3, &r), ED_E_ARG);
    cr_assert_eq(ed_proto_decode_response(two_status, 0, 2, &r), ED_E_PROTOCOL);
}

Test(proto, names_ops_and_error_codes)
{
    cr_assert_str_eq(ed_proto_op_name(ED_OP_SYNC), "SYNC");
    cr_assert_str_eq(ed_proto_op_name(ED_OP_FLASH_DEFL_DATA), "FLASH_DEFL_DATA");
    cr_assert_str_eq(ed_proto_op_name(ED_OP_READ_FLASH), "READ_FLASH");
    cr_assert_null(ed_proto_op_name(0x42));
    cr_assert_not_null(strstr(ed_proto_error_name(0x05), "unsupported"));
    cr_assert_not_null(strstr(ed_proto_error_name(0x07), "checksum"));
    cr_assert_not_null(strstr(ed_proto_error_name(0x65), "format"));
    cr_assert_not_null(strstr(ed_proto_error_name(0xC1), "checksum"));
    cr_assert_not_null(strstr(ed_proto_error_name(0xC7), "inflate"));
    cr_assert_null(ed_proto_error_name(0x42));
    /* Every ROM and stub code the notes list has a name. */
    const uint8_t listed[] = { 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
                               0x64, 0x65, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8,
                               0xC9, 0xFF };
    for (size_t i = 0; i < sizeof listed; i++)
        cr_assert_not_null(ed_proto_error_name(listed[i]), "code 0x%02X", listed[i]);
}

Test(proto, little_endian_helpers)
{
    uint8_t b[4];
    ed_put_le32(b, 0x12345678);
    const uint8_t want[] = { 0x78, 0x56, 0x34, 0x12 };
    cr_assert_arr_eq(b, want, 4);
    cr_assert_eq(ed_get_le32(b), 0x12345678u);
    ed_put_le16(b, 0xBEEF);
    cr_assert_eq(ed_get_le16(b), 0xBEEF);
}
