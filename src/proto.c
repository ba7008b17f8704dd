/* Request encoding and response decoding for the ESP serial bootloader (see proto.h). */
#include "espdoctor/proto.h"

#include "espdoctor/error.h"

uint32_t ed_proto_checksum(const uint8_t *data, size_t len)
{
    uint8_t sum = ED_PROTO_CHECKSUM_SEED;
    for (size_t i = 0; i < len; i++)
        sum ^= data[i];
    return sum;
}

bool ed_proto_op_has_checksum(uint8_t op)
{
    return op == ED_OP_MEM_DATA || op == ED_OP_FLASH_DATA || op == ED_OP_FLASH_DEFL_DATA;
}

size_t ed_proto_encode_request(uint8_t op, const uint8_t *data, size_t len,
                               uint8_t *out, size_t cap)
{
    if (len > ED_PROTO_MAX_DATA || cap < ED_SLIP_ENCODED_MAX(ED_PROTO_HEADER_LEN + len))
        return 0;

    uint32_t checksum = 0;
    if (ed_proto_op_has_checksum(op) && len >= ED_PROTO_BLOCK_HEADER_LEN)
        checksum = ed_proto_checksum(data + ED_PROTO_BLOCK_HEADER_LEN,
                                     len - ED_PROTO_BLOCK_HEADER_LEN);

    /* Escape header and data in one pass: the plain packet is built in pieces so no
     * second buffer of the full size is needed. */
    uint8_t header[ED_PROTO_HEADER_LEN];
    header[0] = 0x00;
    header[1] = op;
    ed_put_le16(header + 2, (uint16_t)len);
    ed_put_le32(header + 4, checksum);

    size_t o = 0;
    out[o++] = ED_SLIP_END;
    for (size_t i = 0; i < ED_PROTO_HEADER_LEN + len; i++) {
        uint8_t b = i < ED_PROTO_HEADER_LEN ? header[i] : data[i - ED_PROTO_HEADER_LEN];
        if (b == ED_SLIP_END) {
            out[o++] = ED_SLIP_ESC;
            out[o++] = ED_SLIP_ESC_END;
        } else if (b == ED_SLIP_ESC) {
            out[o++] = ED_SLIP_ESC;
            out[o++] = ED_SLIP_ESC_ESC;
        } else {
            out[o++] = b;
        }
    }
    out[o++] = ED_SLIP_END;
    return o;
}

int ed_proto_decode_response(const uint8_t *frame, size_t len, unsigned status_bytes,
                             struct ed_response *out)
{
    if (status_bytes != 2 && status_bytes != 4)
        return ED_E_ARG;
    if (len < ED_PROTO_HEADER_LEN + status_bytes || frame[0] != 0x01)
        return ED_E_PROTOCOL;

    out->op = frame[1];
    out->size = ed_get_le16(frame + 2);
    out->value = ed_get_le32(frame + 4);
    /* The frame's real length, not the size field, says where the status bytes are:
     * that is what a device that miscounts its size field still gets right. */
    size_t body = len - ED_PROTO_HEADER_LEN;
    out->data = frame + ED_PROTO_HEADER_LEN;
    out->data_len = body - status_bytes;
    const uint8_t *st = out->data + out->data_len;
    out->status_raw[0] = out->status_raw[1] = out->status_raw[2] = out->status_raw[3] = 0;
    for (unsigned i = 0; i < status_bytes; i++)
        out->status_raw[i] = st[i];
    out->status_len = status_bytes;
    out->status = st[0];
    out->error = st[1];
    return ED_OK;
}

const char *ed_proto_op_name(uint8_t op)
{
    switch (op) {
    case ED_OP_FLASH_BEGIN: return "FLASH_BEGIN";
    case ED_OP_FLASH_DATA: return "FLASH_DATA";
    case ED_OP_FLASH_END: return "FLASH_END";
    case ED_OP_MEM_BEGIN: return "MEM_BEGIN";
    case ED_OP_MEM_END: return "MEM_END";
    case ED_OP_MEM_DATA: return "MEM_DATA";
    case ED_OP_SYNC: return "SYNC";
    case ED_OP_WRITE_REG: return "WRITE_REG";
    case ED_OP_READ_REG: return "READ_REG";
    case ED_OP_SPI_SET_PARAMS: return "SPI_SET_PARAMS";
    case ED_OP_SPI_ATTACH: return "SPI_ATTACH";
    case ED_OP_READ_FLASH_SLOW: return "READ_FLASH_SLOW";
    case ED_OP_CHANGE_BAUDRATE: return "CHANGE_BAUDRATE";
    case ED_OP_FLASH_DEFL_BEGIN: return "FLASH_DEFL_BEGIN";
    case ED_OP_FLASH_DEFL_DATA: return "FLASH_DEFL_DATA";
    case ED_OP_FLASH_DEFL_END: return "FLASH_DEFL_END";
    case ED_OP_SPI_FLASH_MD5: return "SPI_FLASH_MD5";
    case ED_OP_GET_SECURITY_INFO: return "GET_SECURITY_INFO";
    case ED_OP_ERASE_FLASH: return "ERASE_FLASH";
    case ED_OP_ERASE_REGION: return "ERASE_REGION";
    case ED_OP_READ_FLASH: return "READ_FLASH";
    case ED_OP_RUN_USER_CODE: return "RUN_USER_CODE";
    }
    return NULL;
}

const char *ed_proto_error_name(uint8_t error)
{
    switch (error) {
    /* ROM loader */
    case 0x05: return "invalid message or unsupported command";
    case 0x06: return "failed to act on the message";
    case 0x07: return "invalid CRC/checksum in message";
    case 0x08: return "flash write error (read-back mismatch)";
    case 0x09: return "flash read error";
    case 0x0A: return "flash read length error";
    case 0x0B:
    case 0x0C:
    case 0x0D: return "deflate (decompression) error";
    case 0x0E: return "bad RAM size";
    case 0x0F: return "bad RAM address";
    case 0x64: return "invalid parameter";
    case 0x65: return "invalid format";
    /* esptool's flasher stub */
    case 0xC0: return "stub: bad data length";
    case 0xC1: return "stub: bad data checksum";
    case 0xC2: return "stub: bad block size";
    case 0xC3: return "stub: invalid command";
    case 0xC4: return "stub: SPI operation failed";
    case 0xC5: return "stub: SPI unlock failed";
    case 0xC6: return "stub: not in flash mode";
    case 0xC7: return "stub: inflate error";
    case 0xC8: return "stub: not enough data";
    case 0xC9: return "stub: too much data";
    case 0xFF: return "stub: command unknown to this stub";
    }
    return NULL;
}
