/* The eFuse words clients read when they connect (chip description, revision, features,
 * crystal calibration, security state), with the values of real parts. The MAC words are
 * not here: they come from the board's MAC (regs.c).
 *
 * Which words: esptool-js 0.7.0 (lib/targets/<chip>.js: getChipDescription,
 * getChipRevision, getChipFeatures, readMac) and esptool (targets/<chip>.py) read these;
 * esp-web-flasher 5.1.5 reads only the four MAC words after the detection magic.
 * The values:
 *   ESP32    BLOCK0 as ESP-IDF's "eFuse Manager" guide prints it for a real part (idf.py
 *            efuse-dump): 00000000 <mac> <mac> 0000a200 00000333 00100000 00000004. Word 3
 *            0xa200: package 1 (D0WD), CHIP_VER_REV1, 240 MHz rated; word 4 0x333: CK8M 51
 *            (the RC clock's calibration, clock.c), ADC Vref; word 5: CHIP_VER_REV2; word 6:
 *            coding scheme none. APB_CTRL_DATE (0x3FF6607C) 0x96042000, the ECO3 value
 *            (ESP-IDF apb_ctrl_reg.h resets to 0x16042000; bit 31 marks ECO3): together an
 *            ESP32-D0WD-V3 (revision v3.0).
 *   ESP32-S2 BLOCK1/BLOCK2 words that decode to what esptool printed for a real
 *            ESP32-S2FNR2 (revision v1.0) with "Embedded Flash 4MB, Embedded PSRAM 2MB, ADC
 *            and temperature sensor calibration in BLK2 of efuse V2": flash version 2 and
 *            PSRAM version 1 in word 3 bits 21-24 and 28-31, major 1 in bits 18-19; BLK2
 *            version 2 in BLOCK2 word 4 bits 4-6 (esptool targets/esp32s2.py layout).
 *   ESP32-S3 BLOCK1 words 2-5 and BLOCK2 of the ESP32-S3 in esptool's "espefuse dump"
 *            example: 00000000 030c0000 2c707800 9800cc58 / b8c93acb bcc32b88 ... 50a53ace:
 *            ESP32-S3 (QFN56), wafer v0.3, no embedded flash or PSRAM.
 *   ESP32-C3 BLOCK1 words 2-5 of the ESP32-C3 in the same documentation: all 0 (v0.0).
 *   ESP32-C6 BLOCK1 words 2-5 of the ESP32-C6 in the same documentation: 00000000 01040000
 *            00000000 00000000: ESP32-C6, revision v0.1. MAC_EXT (BLOCK1 word 1 bits
 *            16-31) is in the chip table: ff:fe, as esptool's esp32c6.py read_mac shows it.
 *   ESP8266  OTP word 2 (0x3FF00058) 0: not an ESP8285 (esptool-js getChipDescription).
 * Flash encryption (--flash-encrypted) sets the lowest bit of the chip's crypt counter
 * (odd = on) in the word esptool reads it from (chip table: crypt_cnt_reg). */
#include "board_internal.h"

#include <string.h>

struct efuse_value {
    uint32_t addr, value;
};

static const struct efuse_value esp32_words[] = {
    { 0x3FF5A000, 0x00000000 }, { 0x3FF5A00C, 0x0000A200 }, { 0x3FF5A010, 0x00000333 },
    { 0x3FF5A014, 0x00100000 }, { 0x3FF5A018, 0x00000004 }, { 0x3FF6607C, 0x96042000 },
};

static const struct efuse_value esp32s2_words[] = {
    { 0x3F41A04C, 0x00000000 }, { 0x3F41A050, 0x10440000 }, { 0x3F41A054, 0x00000000 },
    { 0x3F41A058, 0x00000000 }, { 0x3F41A06C, 0x00000020 }, { 0x3F41A034, 0x00000000 },
};

static const struct efuse_value esp32s3_words[] = {
    { 0x6000704C, 0x00000000 }, { 0x60007050, 0x030C0000 }, { 0x60007054, 0x2C707800 },
    { 0x60007058, 0x9800CC58 }, { 0x6000705C, 0xB8C93ACB }, { 0x60007060, 0xBCC32B88 },
    { 0x60007064, 0x6000F45E }, { 0x60007068, 0x4BBE25AC }, { 0x6000706C, 0x8D8B16D1 },
    { 0x60007070, 0x924940B4 }, { 0x60007074, 0xB2C4CEE1 }, { 0x60007078, 0x50A53ACE },
    { 0x60007034, 0x00000000 },
};

static const struct efuse_value esp32c3_words[] = {
    { 0x6000884C, 0x00000000 }, { 0x60008850, 0x00000000 }, { 0x60008854, 0x00000000 },
    { 0x60008858, 0x00000000 }, { 0x60008834, 0x00000000 },
};

static const struct efuse_value esp32c6_words[] = {
    { 0x600B084C, 0x00000000 }, { 0x600B0850, 0x01040000 }, { 0x600B0854, 0x00000000 },
    { 0x600B0858, 0x00000000 }, { 0x600B0834, 0x00000000 },
};

static const struct efuse_value esp8266_words[] = {
    { 0x3FF00058, 0x00000000 },
};

#define WORDS(key, a) { key, a, sizeof a / sizeof a[0] }

static const struct {
    const char *chip;
    const struct efuse_value *words;
    size_t count;
} tables[] = {
    WORDS("esp32", esp32_words),     WORDS("esp32s2", esp32s2_words),
    WORDS("esp32s3", esp32s3_words), WORDS("esp32c3", esp32c3_words),
    WORDS("esp32c6", esp32c6_words), WORDS("esp8266", esp8266_words),
};

bool efuse_word(const struct sim_board *b, uint32_t addr, uint32_t *value)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        if (strcmp(tables[t].chip, b->sim->key) != 0)
            continue;
        for (size_t i = 0; i < tables[t].count; i++) {
            if (tables[t].words[i].addr != addr)
                continue;
            *value = tables[t].words[i].value;
            if (b->opts.flash_encrypted && addr == b->sim->crypt_cnt_reg)
                *value |= 1u << b->sim->crypt_cnt_shift;
            return true;
        }
    }
    return false;
}
