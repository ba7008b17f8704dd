/* The chip table. Facts from Espressif's esptool documentation and technical reference
 * manuals (see ../shared/notes/rom-protocol.md for the sources). */
#include "espdoctor/chips.h"
#include "espdoctor/shell.h"

#include <stdio.h>
#include <string.h>

/* SPI user-command register layouts. */
#define SPI_REGS_ESP8266 { .cmd = 0x00, .usr = 0x1C, .usr1 = 0x20, .usr2 = 0x24, .w0 = 0x40, \
                           .mosi_dlen = 0, .miso_dlen = 0 }
#define SPI_REGS_ESP32   { .cmd = 0x00, .usr = 0x1C, .usr1 = 0x20, .usr2 = 0x24, .w0 = 0x80, \
                           .mosi_dlen = 0x28, .miso_dlen = 0x2C }
#define SPI_REGS_ESP32S2 { .cmd = 0x00, .usr = 0x18, .usr1 = 0x1C, .usr2 = 0x20, .w0 = 0x58, \
                           .mosi_dlen = 0x24, .miso_dlen = 0x28 }
#define SPI_REGS_LATER   { .cmd = 0x00, .usr = 0x18, .usr1 = 0x1C, .usr2 = 0x20, .w0 = 0x58, \
                           .mosi_dlen = 0x24, .miso_dlen = 0x28 }

/* Header byte 3 codes, from esptool's "Firmware Image Format" page for each chip. */
#define SIZES_ESP8266 { "512KB", "256KB", "1MB", "2MB", "4MB", "2MB-c1", "4MB-c1", NULL, \
                        "8MB", "16MB" }
#define SIZES_ESP32   { "1MB", "2MB", "4MB", "8MB", "16MB" }
#define SIZES_ESP32S  { "1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB" }
#define FREQS_CLASSIC { [0x0] = "40m", [0x1] = "26m", [0x2] = "20m", [0xF] = "80m" }

const struct ed_chip ed_chips[] = {
    {
        .key = "esp8266", .name = "ESP8266", .image_chip_id = ED_CHIP_ID_NONE,
        .magic = { 0xFFF0C101 }, .magic_count = 1,
        .rom_status_bytes = 2, .rom_log_baud = 74880,
        .mac_layout = ED_MAC_ESP8266_OTP,
        .mac_reg_lo = 0x3FF00050, .mac_reg_hi = 0x3FF00054, .mac_reg_oui = 0x3FF0005C,
        .uart_clkdiv_reg = 0x60000014, .xtal_divider = 2,
        .spi_base = 0x60000200, .spi = SPI_REGS_ESP8266,
        .bootloader_offset = 0x0, .app_offset = 0x0,
        .micropython_board = "ESP8266_GENERIC",
        .header_sizes = SIZES_ESP8266,
        .header_freqs = FREQS_CLASSIC,
    },
    {
        .key = "esp32", .name = "ESP32", .image_chip_id = 0,
        .magic = { 0x00F01D83 }, .magic_count = 1,
        .rom_status_bytes = 4, .rom_log_baud = 115200,
        .mac_layout = ED_MAC_EFUSE_PAIR,
        .mac_reg_lo = 0x3FF5A004, .mac_reg_hi = 0x3FF5A008,
        .uart_clkdiv_reg = 0x3FF40014, .xtal_divider = 1,
        .spi_base = 0x3FF42000, .spi = SPI_REGS_ESP32,
        .bootloader_offset = 0x1000, .app_offset = 0x10000,
        .rom_spi_attach = true, .rom_compressed = true, .rom_md5 = true,
        .rom_change_baud = true, .rom_read_flash_slow = true,
        /* esptool targets/esp32.py RTCCALICFG1; eFuse BLK0 word 4 = EFUSE_RD_CK8M_FREQ */
        .rom_xtal_cal_reg = 0x3FF5F06C, .rom_ck8m_efuse_reg = 0x3FF5A010,
        .micropython_board = "ESP32_GENERIC",
        .header_sizes = SIZES_ESP32,
        .header_freqs = FREQS_CLASSIC,
    },
    {
        .key = "esp32s2", .name = "ESP32-S2", .image_chip_id = 2,
        .magic = { 0x000007C6 }, .magic_count = 1,
        .rom_status_bytes = 4, .rom_log_baud = 115200,
        .mac_layout = ED_MAC_EFUSE_PAIR,
        .mac_reg_lo = 0x3F41A044, .mac_reg_hi = 0x3F41A048,
        .uart_clkdiv_reg = 0x3F400014, .xtal_divider = 1,
        .spi_base = 0x3F402000, .spi = SPI_REGS_ESP32S2,
        .bootloader_offset = 0x1000, .app_offset = 0x10000,
        .rom_spi_attach = true, .rom_compressed = true, .rom_md5 = true,
        .rom_change_baud = true, .rom_security_info = true, .rom_read_flash_slow = true,
        .begin_has_encrypted_word = true, .usb_pid_native = 0x0002,
        .micropython_board = "ESP32_GENERIC_S2",
        .header_sizes = SIZES_ESP32S,
        .header_freqs = FREQS_CLASSIC,
    },
    {
        .key = "esp32s3", .name = "ESP32-S3", .image_chip_id = 9,
        .magic = { 0x00000009 }, .magic_count = 1,
        .rom_status_bytes = 4, .rom_log_baud = 115200,
        .mac_layout = ED_MAC_EFUSE_PAIR,
        .mac_reg_lo = 0x60007044, .mac_reg_hi = 0x60007048,
        .uart_clkdiv_reg = 0x60000014, .xtal_divider = 1,
        .spi_base = 0x60002000, .spi = SPI_REGS_LATER,
        .bootloader_offset = 0x0, .app_offset = 0x10000,
        .rom_spi_attach = true, .rom_compressed = true, .rom_md5 = true,
        .rom_change_baud = true, .rom_security_info = true, .rom_read_flash_slow = true,
        .begin_has_encrypted_word = true, .usb_pid_native = 0x1001,
        .micropython_board = "ESP32_GENERIC_S3",
        .header_sizes = SIZES_ESP32S,
        .header_freqs = FREQS_CLASSIC,
    },
    {
        .key = "esp32c3", .name = "ESP32-C3", .image_chip_id = 5,
        .magic = { 0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F }, .magic_count = 4,
        .rom_status_bytes = 4, .rom_log_baud = 115200,
        .mac_layout = ED_MAC_EFUSE_PAIR,
        .mac_reg_lo = 0x60008844, .mac_reg_hi = 0x60008848,
        .uart_clkdiv_reg = 0x60000014, .xtal_divider = 1,
        .spi_base = 0x60002000, .spi = SPI_REGS_LATER,
        .bootloader_offset = 0x0, .app_offset = 0x10000,
        .rom_spi_attach = true, .rom_compressed = true, .rom_md5 = true,
        .rom_change_baud = true, .rom_security_info = true, .rom_read_flash_slow = true,
        .begin_has_encrypted_word = true, .usb_pid_native = 0x1001,
        .micropython_board = "ESP32_GENERIC_C3",
        .header_sizes = SIZES_ESP32,
        .header_freqs = FREQS_CLASSIC,
    },
    {
        .key = "esp32c6", .name = "ESP32-C6", .image_chip_id = 13,
        .magic = { 0x2CE0806F }, .magic_count = 1,
        .rom_status_bytes = 4, .rom_log_baud = 115200,
        .mac_layout = ED_MAC_EFUSE_PAIR,
        .mac_reg_lo = 0x600B0844, .mac_reg_hi = 0x600B0848,
        .uart_clkdiv_reg = 0x60000014, .xtal_divider = 1,
        .spi_base = 0x60003000, .spi = SPI_REGS_LATER,
        .bootloader_offset = 0x0, .app_offset = 0x10000,
        .rom_spi_attach = true, .rom_compressed = true, .rom_md5 = true,
        .rom_change_baud = true, .rom_security_info = true, .rom_read_flash_slow = true,
        .begin_has_encrypted_word = true, .usb_pid_native = 0x1001,
        .micropython_board = "ESP32_GENERIC_C6",
        .header_sizes = SIZES_ESP32,
        /* header_freqs: code 0 is 80 or 40 MHz by the MSPI clock source: none set */
    },
};

const size_t ed_chip_count = sizeof ed_chips / sizeof ed_chips[0];

const struct ed_chip *ed_chip_by_key(const char *key)
{
    for (size_t i = 0; i < ed_chip_count; i++)
        if (strcmp(ed_chips[i].key, key) == 0)
            return &ed_chips[i];
    return NULL;
}

const struct ed_chip *ed_chip_by_magic(uint32_t magic)
{
    for (size_t i = 0; i < ed_chip_count; i++)
        for (size_t m = 0; m < ed_chips[i].magic_count; m++)
            if (ed_chips[i].magic[m] == magic)
                return &ed_chips[i];
    return NULL;
}

const struct ed_chip *ed_chip_by_image_id(int chip_id)
{
    if (chip_id < 0)
        return NULL;   /* "no id" (ESP8266 images) names no chip by itself */
    for (size_t i = 0; i < ed_chip_count; i++)
        if (ed_chips[i].image_chip_id == chip_id)
            return &ed_chips[i];
    return NULL;
}

void ed_chip_download_hint(const struct ed_chip *chip, char *buf, size_t len)
{
    snprintf(buf, len, "https://micropython.org/download/%s/", chip->micropython_board);
}

void ed_chip_micropython_fix(const struct ed_chip *chip, const char *port, char *fix,
                             size_t fix_len, char *command, size_t command_len)
{
    char url[160], quoted[300];
    ed_chip_download_hint(chip, url, sizeof url);
    snprintf(fix, fix_len, "Download MicroPython for the %s from %s, then flash the file from "
             "the folder you saved it to (espdoctor checks that it fits the board before "
             "writing).", chip->name, url);
    snprintf(command, command_len, "espdoctor%s%s flash %s-*.bin", port ? " -p " : "",
             port ? ed_shell_quote(port, quoted, sizeof quoted) : "", chip->micropython_board);
}
