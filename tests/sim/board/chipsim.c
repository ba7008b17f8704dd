/* What each chip's ROM prints and the few facts the client's chip table does not hold.
 * Banners as real boards print them (Espressif docs "Boot Mode Selection", forum logs).
 * The SYNC reply's value is whatever the ROM left in its value register: esptool traces
 * show 07 07 12 20 from ESP8266, ESP32-S3 and later ROMs and 07 20 55 55 from ESP32
 * ROMs (esptool issues #352, #808); clients only check that it is not 0. */
#include "board_internal.h"

#include <string.h>

static const struct sim_chip sim_chips[] = {
    {
        .key = "esp8266", .esp8266_style = true,
        .cause_panic = "rst cause:2", .sync_value = 0x20120707,
        .mpy_board = "ESP module with ESP8266",
        .rom_head = "\r\n ets Jan  8 2013,",
        .cause_poweron = "rst cause:1", .cause_wdt = "rst cause:4", .cause_sw = "rst cause:2",
        .boot_download = "boot mode:(1,7)", .boot_flash = "boot mode:(3,6)",
        .xtal_hz = 26000000,
        .default_mac = { 0x5C, 0xCF, 0x7F, 0x12, 0x34, 0x56 },
    },
    {
        .key = "esp32",
        .cause_panic = "rst:0xc (SW_CPU_RESET)",
        .cause_brownout = "rst:0xf (RTCWDT_BROWN_OUT_RESET)", .sync_value = 0x55552007,
        .mpy_board = "Generic ESP32 module with ESP32",
        .rom_head = "ets Jun  8 2016 00:22:57\r\n\r\n",
        .cause_poweron = "rst:0x1 (POWERON_RESET)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RESET)",
        .cause_sw = "rst:0xc (SW_CPU_RESET)",
        .boot_download = "boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))",
        .boot_flash = "boot:0x13 (SPI_FAST_FLASH_BOOT)",
        .xtal_hz = 40000000,
        .default_mac = { 0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56 },
    },
    {
        .key = "esp32s2",
        .cause_panic = "rst:0xc (RTC_SW_CPU_RST)", .cause_brownout = "rst:0xf (BROWN_OUT_RST)",
        .sync_value = 0x20120707, .mpy_board = "ESP32S2 module with ESP32S2",
        .rom_head = "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RST)",
        .cause_sw = "rst:0x3 (RTC_SW_SYS_RST)",
        .boot_download = "boot:0x0 (DOWNLOAD(USB/UART0/1))",
        .boot_flash = "boot:0x8 (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true, .xtal_hz = 40000000,
        .default_mac = { 0x7C, 0xDF, 0xA1, 0x12, 0x34, 0x56 },
        .security_info_len = 12,
    },
    {
        .key = "esp32s3",
        .cause_panic = "rst:0xc (RTC_SW_CPU_RST)", .cause_brownout = "rst:0xf (BROWN_OUT_RST)",
        .sync_value = 0x20120707, .mpy_board = "Generic ESP32S3 module with ESP32S3",
        .rom_head = "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RST)",
        .cause_sw = "rst:0x3 (RTC_SW_SYS_RST)",
        .boot_download = "boot:0x0 (DOWNLOAD(USB/UART0))",
        .boot_flash = "boot:0x8 (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true, .xtal_hz = 40000000,
        .default_mac = { 0xF4, 0x12, 0xFA, 0x12, 0x34, 0x56 },
        .security_info_len = 20,
    },
    {
        .key = "esp32c3",
        .cause_panic = "rst:0xc (RTC_SW_CPU_RST)", .cause_brownout = "rst:0xf (BROWN_OUT_RST)",
        .sync_value = 0x20120707, .riscv = true, .mpy_board = "ESP32C3 module with ESP32C3",
        .rom_head = "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RST)",
        .cause_sw = "rst:0x3 (RTC_SW_SYS_RST)",
        .boot_download = "boot:0x4 (DOWNLOAD(USB/UART0/1))",
        .boot_flash = "boot:0xc (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true, .xtal_hz = 40000000,
        .default_mac = { 0x58, 0xCF, 0x79, 0x12, 0x34, 0x56 },
        .security_info_len = 20,
    },
    {
        .key = "esp32c6",
        .cause_panic = "rst:0xc (SW_CPU)", .cause_brownout = "rst:0xf (LP_BOD_SYS)",
        .sync_value = 0x20120707, .riscv = true, .mpy_board = "ESP32C6 module with ESP32C6",
        .rom_head = "ESP-ROM:esp32c6-20220919\r\nBuild:Sep 19 2022\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (LP_WDT_SYS)",
        .cause_sw = "rst:0x3 (LP_SW_HPSYS)",
        .boot_download = "boot:0x4 (DOWNLOAD(USB/UART0/SDIO_FEI_FEO))",
        .boot_flash = "boot:0x6c (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true, .xtal_hz = 40000000,
        .default_mac = { 0x60, 0x55, 0xF9, 0x12, 0x34, 0x56 },
        .security_info_len = 20,
    },
};

const struct sim_chip *sim_chip_by_key(const char *key)
{
    for (size_t i = 0; i < sizeof sim_chips / sizeof sim_chips[0]; i++)
        if (strcmp(sim_chips[i].key, key) == 0)
            return &sim_chips[i];
    return NULL;
}
