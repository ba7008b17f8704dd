/* The virtual board's chip table: every fact the model needs about each chip, each with
 * where it comes from. Nothing here is shared with espdoctor (issue 10: a mistake copied
 * from the client's table would be mirrored, not checked).
 *
 * Sources, by the tag used in the comments:
 *   [proto]  esptool documentation, "Serial Protocol" (status bytes, commands per loader,
 *            the SYNC exchange, GET_SECURITY_INFO) and "Firmware Image Format" (chip ids,
 *            where the bootloader goes)
 *   [boot]   esptool documentation, "Boot Mode Selection", and boot logs of real boards
 *            (the banners: ROM build lines, rst:/boot: values and their names)
 *   [trm]    the chip's Technical Reference Manual: eFuse, UART, SPI and System chapters
 *   [idf]    ESP-IDF soc/<chip>/include/soc/reg_base.h (peripheral base addresses) and
 *            uart_reg.h (UART_CLKDIV_REG = UART base + 0x14), spi_mem_reg.h (SPI1 user
 *            command: CMD at +0x00, USER2 at +0x24 on ESP32 and +0x20 later, W0 at +0x80 on
 *            ESP32 and +0x58 later), efuse_reg.h (BLOCK1 MAC words at eFuse base + 0x44)
 *   [8266]   ESP8266 Technical Reference (UART at 0x60000000, SPI0 at 0x60000200, W0 at
 *            +0x40) and the OTP/MAC words at 0x3FF00050.. as the ESP8266 SDK reads them
 *   [dump]   esptool documentation, "espefuse dump" examples, and ESP-IDF "eFuse Manager"
 *            (idf.py efuse-dump): raw eFuse words read from real parts (efuse.c)
 *   [sync]   esptool issues #352 and #808 (the SYNC reply's value field per ROM)
 *   [tool]   esptool's targets/<chip>.py, which reads these words (crypt counters)
 * The detection magic at 0x40001000 is the value esptool's targets list for each chip
 * ([proto], "Chip detection"). */
#include "board_internal.h"

#include <string.h>

/* SPI1 (the flash's SPI controller) user-command registers [idf], [8266]. */
#define SPI_ESP8266 { .base = 0x60000200, .cmd = 0x00, .usr2 = 0x24, .w0 = 0x40 }
#define SPI_ESP32   { .base = 0x3FF42000, .cmd = 0x00, .usr2 = 0x24, .w0 = 0x80 }
#define SPI_ESP32S2 { .base = 0x3F402000, .cmd = 0x00, .usr2 = 0x20, .w0 = 0x58 }
#define SPI_AT(b)   { .base = (b), .cmd = 0x00, .usr2 = 0x20, .w0 = 0x58 }

/* What every ESP32-family ROM loader can do besides the basic commands [proto]. */
#define ROM_ESP32_FAMILY .rom_spi_attach = true, .rom_compressed = true, .rom_md5 = true, \
                         .rom_change_baud = true, .rom_read_flash_slow = true

static const struct sim_chip sim_chips[] = {
    {
        .key = "esp8266", .name = "ESP8266", .image_chip_id = SIM_NO_CHIP_ID,
        .magic = 0xFFF0C101,
        .rom_status_bytes = 2,                       /* [proto] */
        /* In the ROM the UART clock is twice the crystal (52 MHz from 26 MHz), so a
         * client reads the crystal as baud x CLKDIV / 2 [proto], [8266]. */
        .xtal_hz = 26000000, .uart_clk_divider = 2,
        .xtal_alt_hz = 40000000,                     /* [boot]: 40 MHz modules log at 115200 */
        .uart_clkdiv_reg = 0x60000014,               /* [8266] */
        .mac_layout = SIM_MAC_ESP8266_OTP,
        .mac_lo = 0x3FF00050, .mac_hi = 0x3FF00054, .mac_oui = 0x3FF0005C, /* [8266] */
        .spi = SPI_ESP8266,
        .bootloader_offset = 0x0,                    /* [proto] image at 0 */
        .esp8266_style = true,
        .cause_panic = "rst cause:2", .sync_value = 0x20120707,  /* [sync] */
        .mpy_board = "ESP module with ESP8266",
        .rom_head = "\r\n ets Jan  8 2013,",                     /* [boot] */
        .cause_poweron = "rst cause:1", .cause_wdt = "rst cause:4", .cause_sw = "rst cause:2",
        .boot_download = "boot mode:(1,7)", .boot_flash = "boot mode:(3,6)",
        .default_mac = { 0x5C, 0xCF, 0x7F, 0x12, 0x34, 0x56 },  /* Espressif OUI 5C:CF:7F */
    },
    {
        .key = "esp32", .name = "ESP32", .image_chip_id = 0,     /* [proto] */
        .magic = 0x00F01D83,
        .rom_status_bytes = 4,
        .xtal_hz = 40000000, .uart_clk_divider = 1,
        .xtal_alt_hz = 26000000,                     /* [trm]: 26 MHz modules exist */
        .rom_estimates_xtal = true,                  /* clock.c */
        .uart_clkdiv_reg = 0x3FF40014,               /* [idf] UART0 at 0x3FF40000 */
        .mac_layout = SIM_MAC_EFUSE_PAIR,
        .mac_lo = 0x3FF5A004, .mac_hi = 0x3FF5A008,  /* [trm] eFuse BLK0 words 1, 2 */
        .crypt_cnt_reg = 0x3FF5A000, .crypt_cnt_shift = 20,  /* FLASH_CRYPT_CNT [tool] */
        .spi = SPI_ESP32,
        .bootloader_offset = 0x1000,                 /* [proto] */
        ROM_ESP32_FAMILY,
        .cause_panic = "rst:0xc (SW_CPU_RESET)",
        .cause_brownout = "rst:0xf (RTCWDT_BROWN_OUT_RESET)", .sync_value = 0x55552007,
        .mpy_board = "Generic ESP32 module with ESP32",
        .rom_head = "ets Jun  8 2016 00:22:57\r\n\r\n",
        .cause_poweron = "rst:0x1 (POWERON_RESET)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RESET)",
        .cause_sw = "rst:0xc (SW_CPU_RESET)",
        .boot_download = "boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))",
        .boot_flash = "boot:0x13 (SPI_FAST_FLASH_BOOT)",
        .default_mac = { 0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56 },
    },
    {
        .key = "esp32s2", .name = "ESP32-S2", .image_chip_id = 2,
        .usb_otg = true,                             /* [trm] USB-OTG; no USB-Serial/JTAG */
        .magic = 0x000007C6,
        .rom_status_bytes = 4,
        .xtal_hz = 40000000, .uart_clk_divider = 1,
        .uart_clkdiv_reg = 0x3F400014,               /* [idf] UART0 at 0x3F400000 */
        .mac_layout = SIM_MAC_EFUSE_PAIR,
        .mac_lo = 0x3F41A044, .mac_hi = 0x3F41A048,  /* [idf] eFuse at 0x3F41A000 */
        .crypt_cnt_reg = 0x3F41A034, .crypt_cnt_shift = 18,  /* SPI_BOOT_CRYPT_CNT [tool] */
        .spi = SPI_ESP32S2,
        .bootloader_offset = 0x1000,
        ROM_ESP32_FAMILY, .security_info_len = 12,   /* [proto]: no chip id on the S2 */
        .cause_panic = "rst:0xc (RTC_SW_CPU_RST)", .cause_brownout = "rst:0xf (BROWN_OUT_RST)",
        .sync_value = 0x20120707, .mpy_board = "ESP32S2 module with ESP32S2",
        .rom_head = "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RST)",
        .cause_sw = "rst:0x3 (RTC_SW_SYS_RST)",
        .boot_download = "boot:0x0 (DOWNLOAD(USB/UART0/1))",
        .boot_flash = "boot:0x8 (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true,
        .default_mac = { 0x7C, 0xDF, 0xA1, 0x12, 0x34, 0x56 },
    },
    {
        .key = "esp32s3", .name = "ESP32-S3", .image_chip_id = 9,
        .magic = 0x00000009,
        .rom_status_bytes = 4,
        .xtal_hz = 40000000, .uart_clk_divider = 1,
        .uart_clkdiv_reg = 0x60000014,               /* [idf] UART0 at 0x60000000 */
        .mac_layout = SIM_MAC_EFUSE_PAIR,
        .mac_lo = 0x60007044, .mac_hi = 0x60007048,  /* [idf] eFuse at 0x60007000 */
        .crypt_cnt_reg = 0x60007034, .crypt_cnt_shift = 18,
        .spi = SPI_AT(0x60002000),
        .bootloader_offset = 0x0,
        ROM_ESP32_FAMILY, .security_info_len = 20,
        .usb_serial_jtag = true, .usb_otg = true,    /* [trm] both USB controllers */
        .cause_usb_reset = "rst:0x15 (USB_UART_CHIP_RESET)",   /* [boot] */
        .cause_panic = "rst:0xc (RTC_SW_CPU_RST)", .cause_brownout = "rst:0xf (BROWN_OUT_RST)",
        .sync_value = 0x20120707, .mpy_board = "Generic ESP32S3 module with ESP32S3",
        .rom_head = "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RST)",
        .cause_sw = "rst:0x3 (RTC_SW_SYS_RST)",
        .boot_download = "boot:0x0 (DOWNLOAD(USB/UART0))",
        .boot_flash = "boot:0x8 (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true,
        .default_mac = { 0xF4, 0x12, 0xFA, 0x12, 0x34, 0x56 },
    },
    {
        .key = "esp32c3", .name = "ESP32-C3", .image_chip_id = 5,
        .magic = 0x6921506F,                         /* the first of esptool's four values */
        .rom_status_bytes = 4,
        .xtal_hz = 40000000, .uart_clk_divider = 1,
        .uart_clkdiv_reg = 0x60000014,
        .mac_layout = SIM_MAC_EFUSE_PAIR,
        .mac_lo = 0x60008844, .mac_hi = 0x60008848,  /* [idf] eFuse at 0x60008800 */
        .crypt_cnt_reg = 0x60008834, .crypt_cnt_shift = 18,
        .spi = SPI_AT(0x60002000),
        .bootloader_offset = 0x0,
        ROM_ESP32_FAMILY, .security_info_len = 20,
        .usb_serial_jtag = true,
        .cause_usb_reset = "rst:0x15 (USB_UART_CHIP_RESET)",   /* [boot] */
        .cause_panic = "rst:0xc (RTC_SW_CPU_RST)", .cause_brownout = "rst:0xf (BROWN_OUT_RST)",
        .sync_value = 0x20120707, .riscv = true, .mpy_board = "ESP32C3 module with ESP32C3",
        .rom_head = "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (RTCWDT_RTC_RST)",
        .cause_sw = "rst:0x3 (RTC_SW_SYS_RST)",
        .boot_download = "boot:0x4 (DOWNLOAD(USB/UART0/1))",
        .boot_flash = "boot:0xc (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true,
        .default_mac = { 0x58, 0xCF, 0x79, 0x12, 0x34, 0x56 },
    },
    {
        .key = "esp32c6", .name = "ESP32-C6", .image_chip_id = 13,
        .magic = 0x2CE0806F,
        .rom_status_bytes = 4,
        .xtal_hz = 40000000, .uart_clk_divider = 1,
        .uart_clkdiv_reg = 0x60000014,
        .mac_layout = SIM_MAC_EFUSE_PAIR,
        .mac_lo = 0x600B0844, .mac_hi = 0x600B0848,  /* [idf] eFuse at 0x600B0800 */
        .mac_hi_extra = 0xFFFE0000,                  /* MAC_EXT ff:fe (efuse.c) */
        .crypt_cnt_reg = 0x600B0834, .crypt_cnt_shift = 18,
        .spi = SPI_AT(0x60003000),
        .bootloader_offset = 0x0,
        ROM_ESP32_FAMILY, .security_info_len = 20,
        .usb_serial_jtag = true,
        .cause_usb_reset = "rst:0x15 (USB_UART_HPSYS)",        /* [boot] */
        .cause_panic = "rst:0xc (SW_CPU)", .cause_brownout = "rst:0xf (LP_BOD_SYS)",
        .sync_value = 0x20120707, .riscv = true, .mpy_board = "ESP32C6 module with ESP32C6",
        .rom_head = "ESP-ROM:esp32c6-20220919\r\nBuild:Sep 19 2022\r\n",
        .cause_poweron = "rst:0x1 (POWERON)", .cause_wdt = "rst:0x10 (LP_WDT_SYS)",
        .cause_sw = "rst:0x3 (LP_SW_HPSYS)",
        .boot_download = "boot:0x4 (DOWNLOAD(USB/UART0/SDIO_FEI_FEO))",
        .boot_flash = "boot:0x6c (SPI_FAST_FLASH_BOOT)",
        .hex_load_len = true,
        .default_mac = { 0x60, 0x55, 0xF9, 0x12, 0x34, 0x56 },
    },
};

const struct sim_chip *sim_chip_by_key(const char *key)
{
    for (size_t i = 0; i < sizeof sim_chips / sizeof sim_chips[0]; i++)
        if (strcmp(sim_chips[i].key, key) == 0)
            return &sim_chips[i];
    return NULL;
}

bool sim_chip_info(const char *key, struct sim_chip_info *out)
{
    const struct sim_chip *c = sim_chip_by_key(key);
    if (!c)
        return false;
    *out = (struct sim_chip_info){
        .name = c->name, .usb_serial_jtag = c->usb_serial_jtag, .usb_otg = c->usb_otg,
        .rom_estimates_xtal = c->rom_estimates_xtal, .xtal_mhz = c->xtal_hz / 1000000,
        .security_info = c->security_info_len > 0,
        .xtal_alt_mhz = c->xtal_alt_hz / 1000000,
    };
    return true;
}

const char *sim_chip_keys(void)
{
    return "esp8266, esp32, esp32s2, esp32s3, esp32c3 and esp32c6";
}

uint32_t sim_chip_rom_log_baud(const struct sim_chip *c, uint32_t xtal_hz)
{
    /* The ESP8266 ROM sets its UART divider for 115200 as if the crystal were 40 MHz: with
     * the usual 26 MHz one the line runs at 115200 x 26 / 40 = 74880 ([boot]: "ESP8266
     * prints its boot log at 74880 baud"). The ESP32-family ROMs know their crystal. */
    if (c->esp8266_style)
        return (uint32_t)(115200ull * xtal_hz / 40000000u);
    return 115200;
}
