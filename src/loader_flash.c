/* The download primitives the flasher builds on: SPI set-up, baud change, flash writes
 * (plain and deflated), MD5, RAM download and slow reads. */
#include "espdoctor/loader.h"

#include <ctype.h>
#include <string.h>

#include "espdoctor/erase.h"
#include "espdoctor/error.h"

#define MIB (1024u * 1024u)
#define BAUD_SETTLE_MS 50u
#define MEM_END_ROM_TIMEOUT_MS 200u
#define READ_FLASH_SLOW_MAX 64u
#define MEM_DATA_TRIES 5u

unsigned ed_timeout_for_size(unsigned rate_ms_per_mb, uint32_t size)
{
    uint64_t ms = (uint64_t)rate_ms_per_mb * size / MIB;
    return ms < ED_TIMEOUT_DEFAULT_MS ? ED_TIMEOUT_DEFAULT_MS : (unsigned)ms;
}

uint32_t ed_loader_flash_block(const struct ed_loader *ld)
{
    return ld->stub ? ED_FLASH_BLOCK_STUB : ED_FLASH_BLOCK_ROM;
}

static bool rom_is(const struct ed_loader *ld, const char *key)
{
    return !ld->stub && ld->chip && strcmp(ld->chip->key, key) == 0;
}

int ed_loader_spi_attach(struct ed_loader *ld)
{
    int rc;
    if (rom_is(ld, "esp8266")) {
        /* The ESP8266 ROM has no SPI_ATTACH; an empty FLASH_BEGIN attaches the flash. */
        uint8_t d[16] = { 0 };
        ed_put_le32(d + 8, ED_FLASH_BLOCK_ROM);
        rc = ed_loader_command(ld, ED_OP_FLASH_BEGIN, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, NULL);
    } else {
        /* Pin config 0 = the default flash pins; the ROM wants a second (zero) word. */
        uint8_t d[8] = { 0 };
        rc = ed_loader_command(ld, ED_OP_SPI_ATTACH, d, ld->stub ? 4 : 8,
                               ED_TIMEOUT_DEFAULT_MS, NULL);
    }
    if (rc == ED_OK)
        ld->spi_attached = true;
    return rc;
}

int ed_loader_spi_set_params(struct ed_loader *ld, uint32_t flash_size)
{
    uint8_t d[24];
    ed_put_le32(d, 0);              /* flash id */
    ed_put_le32(d + 4, flash_size);
    ed_put_le32(d + 8, 0x10000);    /* block */
    ed_put_le32(d + 12, 0x1000);    /* sector */
    ed_put_le32(d + 16, 0x100);     /* page */
    ed_put_le32(d + 20, 0xFFFF);    /* status mask */
    return ed_loader_command(ld, ED_OP_SPI_SET_PARAMS, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, NULL);
}

int ed_loader_change_baud(struct ed_loader *ld, uint32_t new_baud)
{
    if (new_baud == 0)
        return ED_E_ARG;
    if (!ld->stub && ld->chip && !ld->chip->rom_change_baud)
        return ED_E_UNSUPPORTED;
    uint32_t arg;
    int rc = ed_loader_rom_baud_arg(ld, new_baud, &arg);
    if (rc != ED_OK)
        return rc;
    uint8_t d[8];
    ed_put_le32(d, arg);
    /* A stub wants the current speed to compute its new divider; a ROM wants 0. */
    ed_put_le32(d + 4, ld->stub ? ld->tp->baud : 0);
    rc = ed_loader_command(ld, ED_OP_CHANGE_BAUDRATE, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, NULL);
    if (rc != ED_OK)
        return rc;
    rc = ed_tp_set_baud(ld->tp, new_baud);
    if (rc != ED_OK)
        return rc;
    ed_tp_sleep_ms(ld->tp, BAUD_SETTLE_MS);
    return ed_loader_flush(ld);
}

static bool wants_encrypted_word(const struct ed_loader *ld)
{
    return ld->stub || (ld->chip && ld->chip->begin_has_encrypted_word);
}

static int begin(struct ed_loader *ld, uint8_t op, uint32_t erase_size, uint32_t blocks,
                 uint32_t block_size, uint32_t offset, unsigned timeout_ms)
{
    uint8_t d[20];
    ed_put_le32(d, erase_size);
    ed_put_le32(d + 4, blocks);
    ed_put_le32(d + 8, block_size);
    ed_put_le32(d + 12, offset);
    ed_put_le32(d + 16, 0);         /* not encrypted */
    size_t len = wants_encrypted_word(ld) ? 20 : 16;
    return ed_loader_command(ld, op, d, len, timeout_ms, NULL);
}

/* A *_DATA block: length, sequence number, two zero words, then the data (padded with
 * `pad` up to pad_to bytes when pad_to > len). */
static int send_block(struct ed_loader *ld, uint8_t op, const uint8_t *data, size_t len,
                      uint32_t seq, size_t pad_to, unsigned timeout_ms)
{
    uint8_t payload[ED_PROTO_MAX_DATA];
    size_t total = pad_to > len ? pad_to : len;
    if (total > ED_PROTO_MAX_DATA - ED_PROTO_BLOCK_HEADER_LEN)
        return ED_E_ARG;
    ed_put_le32(payload, (uint32_t)total);
    ed_put_le32(payload + 4, seq);
    ed_put_le32(payload + 8, 0);
    ed_put_le32(payload + 12, 0);
    memcpy(payload + ED_PROTO_BLOCK_HEADER_LEN, data, len);
    memset(payload + ED_PROTO_BLOCK_HEADER_LEN + len, 0xFF, total - len);
    return ed_loader_command(ld, op, payload, ED_PROTO_BLOCK_HEADER_LEN + total, timeout_ms, NULL);
}

int ed_loader_flash_begin_erasing(struct ed_loader *ld, uint32_t size, uint32_t offset,
                                  uint32_t erase_size)
{
    uint32_t block = ed_loader_flash_block(ld);
    uint32_t blocks = (uint32_t)(((uint64_t)size + block - 1) / block);
    /* A ROM erases everything before it answers; a stub erases as it writes. */
    unsigned timeout = ld->stub ? ED_TIMEOUT_DEFAULT_MS
                                : ed_timeout_for_size(ED_RATE_ERASE_MS_PER_MB, size);
    return begin(ld, ED_OP_FLASH_BEGIN, erase_size, blocks, block, offset, timeout);
}

int ed_loader_flash_begin(struct ed_loader *ld, uint32_t size, uint32_t offset)
{
    struct ed_erase_part parts[ED_ERASE_MAX_PARTS];
    struct ed_erase_span spill;
    size_t n = ed_erase_split(ed_erase_rule_of(ld), offset, size, parts, &spill);
    /* One FLASH_BEGIN must erase exactly the region's sectors; what needs more than one
     * (the ESP8266 ROM's odd sector counts) is the flash engine's to cut. */
    if (n != 1 || spill.start != spill.end)
        return ED_E_REFUSED;
    return ed_loader_flash_begin_erasing(ld, size, offset, parts[0].erase_size);
}

int ed_loader_flash_data(struct ed_loader *ld, const uint8_t *data, size_t len, uint32_t seq)
{
    uint32_t block = ed_loader_flash_block(ld);
    if (len > block)
        return ED_E_ARG;
    return send_block(ld, ED_OP_FLASH_DATA, data, len, seq, block, ED_TIMEOUT_DEFAULT_MS);
}

static int end(struct ed_loader *ld, uint8_t op, bool reboot)
{
    uint8_t d[4];
    ed_put_le32(d, reboot ? 0 : 1);
    return ed_loader_command(ld, op, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, NULL);
}

int ed_loader_flash_end(struct ed_loader *ld, bool reboot)
{
    return end(ld, ED_OP_FLASH_END, reboot);
}

int ed_loader_flash_defl_begin(struct ed_loader *ld, uint32_t size, uint32_t compressed,
                               uint32_t offset)
{
    if (!ld->stub && ld->chip && !ld->chip->rom_compressed)
        return ED_E_UNSUPPORTED;
    uint32_t block = ed_loader_flash_block(ld);
    uint32_t blocks = (uint32_t)(((uint64_t)compressed + block - 1) / block);
    uint32_t write_size = size;
    unsigned timeout = ED_TIMEOUT_DEFAULT_MS;
    if (!ld->stub) {
        /* The ROM erases whole write blocks, up front. */
        write_size = (uint32_t)(((uint64_t)size + block - 1) / block * block);
        timeout = ed_timeout_for_size(ED_RATE_ERASE_MS_PER_MB, write_size);
    }
    return begin(ld, ED_OP_FLASH_DEFL_BEGIN, write_size, blocks, block, offset, timeout);
}

int ed_loader_flash_defl_data(struct ed_loader *ld, const uint8_t *data, size_t len,
                              uint32_t seq, uint32_t uncompressed_len)
{
    if (len > ed_loader_flash_block(ld))
        return ED_E_ARG;
    return send_block(ld, ED_OP_FLASH_DEFL_DATA, data, len, seq, 0,
                      ed_timeout_for_size(ED_RATE_DEFL_MS_PER_MB, uncompressed_len));
}

int ed_loader_flash_defl_end(struct ed_loader *ld, bool reboot)
{
    return end(ld, ED_OP_FLASH_DEFL_END, reboot);
}

static int hex_value(int ch)
{
    if (isdigit(ch))
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int ed_loader_flash_md5(struct ed_loader *ld, uint32_t addr, uint32_t size, uint8_t md5[16])
{
    if (!ld->stub && ld->chip && !ld->chip->rom_md5)
        return ED_E_UNSUPPORTED;
    uint8_t d[16];
    struct ed_response r;
    ed_put_le32(d, addr);
    ed_put_le32(d + 4, size);
    ed_put_le32(d + 8, 0);
    ed_put_le32(d + 12, 0);
    int rc = ed_loader_command(ld, ED_OP_SPI_FLASH_MD5, d, sizeof d,
                               ed_timeout_for_size(ED_RATE_MD5_MS_PER_MB, size), &r);
    if (rc != ED_OK)
        return rc;
    if (r.data_len == 16) {
        memcpy(md5, r.data, 16);
        return ED_OK;
    }
    if (r.data_len == 32) {
        for (size_t i = 0; i < 16; i++) {
            int h = hex_value(r.data[2 * i]), l = hex_value(r.data[2 * i + 1]);
            if (h < 0 || l < 0)
                return ED_E_PROTOCOL;
            md5[i] = (uint8_t)(h << 4 | l);
        }
        return ED_OK;
    }
    return ED_E_PROTOCOL;
}

int ed_loader_mem_begin(struct ed_loader *ld, uint32_t size, uint32_t blocks,
                        uint32_t block_size, uint32_t addr)
{
    uint8_t d[16];
    ed_put_le32(d, size);
    ed_put_le32(d + 4, blocks);
    ed_put_le32(d + 8, block_size);
    ed_put_le32(d + 12, addr);
    return ed_loader_command(ld, ED_OP_MEM_BEGIN, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, NULL);
}

/* Error bytes meaning "the request arrived damaged and was not acted on": the ROM's
 * invalid message and checksum errors, the stub's bad length, checksum and block size. */
static const uint8_t damaged_request_errors[] = { 0x05, 0x07, 0xC0, 0xC1, 0xC2 };

bool ed_loader_refused_as_damaged(const struct ed_loader *ld, int rc)
{
    /* A request whose op byte was garbled comes back as "unsupported" (status 1, error
     * 0x05, another op): the loader did nothing with it either. */
    if (rc == ED_E_UNSUPPORTED)
        return true;
    if (rc != ED_E_ROM)
        return false;
    for (size_t i = 0; i < sizeof damaged_request_errors; i++)
        if (ld->last_error == damaged_request_errors[i])
            return true;
    return false;
}

int ed_loader_mem_data(struct ed_loader *ld, const uint8_t *data, size_t len, uint32_t seq)
{
    int rc = ED_OK;
    for (unsigned tries = 1; tries <= MEM_DATA_TRIES; tries++) {
        rc = send_block(ld, ED_OP_MEM_DATA, data, len, seq, 0, ED_TIMEOUT_DEFAULT_MS);
        if (rc == ED_OK || !ed_loader_refused_as_damaged(ld, rc))
            break;
        ed_loader_flush(ld);
    }
    return rc;
}

int ed_loader_mem_end(struct ed_loader *ld, bool jump, uint32_t entry)
{
    uint8_t d[8];
    ed_put_le32(d, jump ? 0 : 1);
    ed_put_le32(d + 4, entry);
    unsigned timeout = ld->stub ? ED_TIMEOUT_DEFAULT_MS : MEM_END_ROM_TIMEOUT_MS;
    int rc = ed_loader_command(ld, ED_OP_MEM_END, d, sizeof d, timeout, NULL);
    /* A ROM may start the code before its reply leaves the UART. */
    if (rc == ED_E_TIMEOUT && jump && !ld->stub)
        return ED_OK;
    return rc;
}

int ed_loader_read_flash_slow(struct ed_loader *ld, uint32_t offset, uint8_t *out, size_t len)
{
    if (len == 0 || len > READ_FLASH_SLOW_MAX)
        return ED_E_ARG;
    if (ld->stub || (ld->chip && !ld->chip->rom_read_flash_slow))
        return ED_E_UNSUPPORTED;
    uint8_t d[8];
    struct ed_response r;
    ed_put_le32(d, offset);
    ed_put_le32(d + 4, (uint32_t)len);
    int rc = ed_loader_command(ld, ED_OP_READ_FLASH_SLOW, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, &r);
    if (rc != ED_OK)
        return rc;
    if (r.data_len < len)
        return ED_E_PROTOCOL;
    memcpy(out, r.data, len);
    return ED_OK;
}
