/* Between the protocol dispatcher (rom.c) and the flash and memory commands
 * (rom_flash.c). */
#ifndef ESPSIM_ROM_INTERNAL_H
#define ESPSIM_ROM_INTERNAL_H

#include "board_internal.h"

enum {
    OP_FLASH_BEGIN = 0x02, OP_FLASH_DATA = 0x03, OP_FLASH_END = 0x04,
    OP_MEM_BEGIN = 0x05, OP_MEM_END = 0x06, OP_MEM_DATA = 0x07,
    OP_SYNC = 0x08, OP_WRITE_REG = 0x09, OP_READ_REG = 0x0A,
    OP_SPI_SET_PARAMS = 0x0B, OP_SPI_ATTACH = 0x0D, OP_READ_FLASH_SLOW = 0x0E,
    OP_CHANGE_BAUDRATE = 0x0F,
    OP_FLASH_DEFL_BEGIN = 0x10, OP_FLASH_DEFL_DATA = 0x11, OP_FLASH_DEFL_END = 0x12,
    OP_SPI_FLASH_MD5 = 0x13, OP_GET_SECURITY_INFO = 0x14,
    OP_ERASE_FLASH = 0xD0, OP_ERASE_REGION = 0xD1, OP_READ_FLASH = 0xD2,
    OP_RUN_USER_CODE = 0xD3,
};

/* ROM error bytes, and the stub's. */
enum {
    ROM_BAD_MESSAGE = 0x05, ROM_FAILED = 0x06, ROM_BAD_CHECKSUM = 0x07,
    ROM_FLASH_WRITE = 0x08, ROM_FLASH_READ = 0x09, ROM_READ_LENGTH = 0x0A,
    ROM_DEFLATE = 0x0B, ROM_INVALID_PARAM = 0x64,
    STUB_BAD_LENGTH = 0xC0, STUB_BAD_CHECKSUM = 0xC1, STUB_BAD_BLOCKSIZE = 0xC2,
    STUB_SPI_FAILED = 0xC4, STUB_NOT_IN_FLASH_MODE = 0xC6, STUB_INFLATE = 0xC7,
    STUB_NOT_ENOUGH_DATA = 0xC8, STUB_TOO_MUCH_DATA = 0xC9, STUB_NOT_IMPLEMENTED = 0xFF,
    STUB_ERASE_UNALIGNED_ADDR = 0x32, STUB_ERASE_UNALIGNED_LEN = 0x33,
};

enum rom_after {
    AFTER_NONE,
    AFTER_START_STUB,    /* MEM_END jumped: the stub says "OHAI" */
    AFTER_CHANGE_BAUD,   /* switch the UART once the reply is out */
    AFTER_REBOOT,        /* software reset */
    AFTER_RUN_APP,       /* leave the loader for the app in flash */
    AFTER_READ_FLASH,    /* the stub starts streaming READ_FLASH data */
    AFTER_RUN_FOREIGN,   /* MEM_END jumped into code that is no known stub: it crashes */
};

struct rom_request {
    uint8_t op;
    const uint8_t *data;
    size_t len;
    uint32_t checksum;
};

struct rom_reply {
    uint32_t value;
    uint8_t data[64];
    size_t len;
    uint8_t status, error;
    uint64_t work_ns;
    struct stub_work sw; /* under the stub: what it does to the flash (stub_pipe.c) */
    unsigned copies;     /* 0: no reply at all */
    bool op_override;    /* reply with ROM_UNKNOWN_OP_REPLY instead of the echo */
    enum rom_after after;
    uint32_t after_arg;
};

/* The *_DATA payload checksum: 0xEF XOR every byte. */
uint8_t rom_data_checksum(const uint8_t *p, size_t n);

/* Fail with the ROM's error byte or, under the stub, the stub's. */
void rom_fail(const struct sim_board *b, struct rom_reply *rp, uint8_t rom_error,
              uint8_t stub_error);
uint32_t rom_u32(const uint8_t *p);

void cmd_flash_begin(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_flash_data(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_flash_end(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_mem_begin(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_mem_data(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_mem_end(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_md5(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_read_flash_slow(struct sim_board *b, const struct rom_request *rq,
                         struct rom_reply *rp);
void cmd_erase_flash(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_erase_region(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
void cmd_read_flash(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp);
/* Statistics for output the chip sends on its own (work_ns counted as flash work if
 * flash): see account_command in rom.c. */
void account_output(struct sim_board *b, size_t wire_bytes, uint64_t work_ns, bool flash);
/* The stub's READ_FLASH: send what the host's acknowledgements allow, then the MD5. */
void read_flash_pump(struct sim_board *b, uint64_t t_ns);

#endif
