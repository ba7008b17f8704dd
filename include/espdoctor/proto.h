/* The ESP serial bootloader protocol, one packet at a time: request encoding and
 * response decoding, with no I/O. loader.h drives it over a transport.
 *
 * Request:  u8 dir=0, u8 op, u16 data length, u32 checksum, data.
 * Response: u8 dir=1, u8 op echo, u16 size, u32 value, data, then status bytes:
 *           2 (status, error) on the ESP8266 ROM and on any stub, 4 (status, error,
 *           2 reserved) on ESP32-and-later ROMs. All fields little-endian. */
#ifndef ESPDOCTOR_PROTO_H
#define ESPDOCTOR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/slip.h"

enum ed_op {
    ED_OP_FLASH_BEGIN = 0x02,
    ED_OP_FLASH_DATA = 0x03,
    ED_OP_FLASH_END = 0x04,
    ED_OP_MEM_BEGIN = 0x05,
    ED_OP_MEM_END = 0x06,
    ED_OP_MEM_DATA = 0x07,
    ED_OP_SYNC = 0x08,
    ED_OP_WRITE_REG = 0x09,
    ED_OP_READ_REG = 0x0A,
    ED_OP_SPI_SET_PARAMS = 0x0B,
    ED_OP_SPI_ATTACH = 0x0D,
    ED_OP_READ_FLASH_SLOW = 0x0E,
    ED_OP_CHANGE_BAUDRATE = 0x0F,
    ED_OP_FLASH_DEFL_BEGIN = 0x10,
    ED_OP_FLASH_DEFL_DATA = 0x11,
    ED_OP_FLASH_DEFL_END = 0x12,
    ED_OP_SPI_FLASH_MD5 = 0x13,
    ED_OP_GET_SECURITY_INFO = 0x14,
    /* Stub only */
    ED_OP_ERASE_FLASH = 0xD0,
    ED_OP_ERASE_REGION = 0xD1,
    ED_OP_READ_FLASH = 0xD2,
    ED_OP_RUN_USER_CODE = 0xD3,
};

#define ED_PROTO_HEADER_LEN 8      /* dir, op, size, checksum/value */
#define ED_PROTO_BLOCK_HEADER_LEN 16 /* *_DATA sub-header: length, seq, 0, 0 */
#define ED_PROTO_CHECKSUM_SEED 0xEF
/* The largest request payload: a 16 KiB stub data block plus its sub-header. */
#define ED_PROTO_MAX_DATA (0x4000 + ED_PROTO_BLOCK_HEADER_LEN)
/* Worst-case SLIP-encoded size of any request. */
#define ED_PROTO_MAX_ENCODED ED_SLIP_ENCODED_MAX(ED_PROTO_HEADER_LEN + ED_PROTO_MAX_DATA)

/* The value a ROM puts in each of its SYNC replies (a stub answers with 0). */
#define ED_PROTO_SYNC_ROM_VALUE 0x20120707u

/* Error byte values worth naming in code (the full table is ed_proto_error_name). */
#define ED_ROM_ERR_UNSUPPORTED 0x05

static inline void ed_put_le16(uint8_t *p, uint16_t v)
{ p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void ed_put_le32(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static inline uint16_t ed_get_le16(const uint8_t *p)
{ return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ed_get_le32(const uint8_t *p)
{ return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* XOR of the bytes, seeded with 0xEF: the block checksum of the *_DATA commands. */
uint32_t ed_proto_checksum(const uint8_t *data, size_t len);

/* True for MEM_DATA, FLASH_DATA and FLASH_DEFL_DATA: their header carries the checksum of
 * the block (the data after the 16-byte sub-header). */
bool ed_proto_op_has_checksum(uint8_t op);

/* Build one request and SLIP-encode it into out (cap bytes). The checksum is computed here
 * for the ops that need one. Returns the encoded length, or 0 if data is longer than
 * ED_PROTO_MAX_DATA or out is too small. */
size_t ed_proto_encode_request(uint8_t op, const uint8_t *data, size_t len,
                               uint8_t *out, size_t cap);

/* A decoded response. data points into the frame it was decoded from. */
struct ed_response {
    uint8_t op;              /* the op the device echoed */
    uint16_t size;           /* the size field as sent */
    uint32_t value;          /* READ_REG result, SYNC magic */
    const uint8_t *data;     /* payload before the status bytes */
    size_t data_len;
    uint8_t status;          /* 0 = success */
    uint8_t error;           /* error code when status != 0 */
    uint8_t status_raw[4];   /* the status bytes exactly as received */
    unsigned status_len;     /* 2 or 4 */
};

/* Decode one (already SLIP-decoded) frame, with status_bytes = 2 or 4. ED_E_PROTOCOL if the
 * frame is shorter than header plus status bytes or is not a response (dir != 1);
 * ED_E_ARG for a status_bytes other than 2 or 4. A failure status is NOT an error here:
 * it is reported in out->status/out->error. */
int ed_proto_decode_response(const uint8_t *frame, size_t len, unsigned status_bytes,
                             struct ed_response *out);

/* "SYNC", "FLASH_DEFL_DATA", ...; NULL for an op we do not know (print it as hex). */
const char *ed_proto_op_name(uint8_t op);

/* What an error byte means ("checksum mismatch"); NULL for codes we do not know. ROM codes
 * 0x05..0x65 and the flasher stub's 0xC0..0xFF. */
const char *ed_proto_error_name(uint8_t error);

#endif
