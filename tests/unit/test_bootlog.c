/* Boot-log decoding: the ROM texts real chips print. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "espdoctor/bootlog.h"

static struct ed_bootlog parse(const char *text)
{
    struct ed_bootlog log;
    ed_bootlog_parse((const uint8_t *)text, strlen(text), &log);
    return log;
}

Test(bootlog, esp32_download_banner)
{
    struct ed_bootlog log = parse(
        "ets Jun  8 2016 00:22:57\r\n\r\n"
        "rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
        "waiting for download\r\n");
    cr_assert(log.download_mode);
    cr_assert_not(log.flash_boot);
    cr_assert_eq(log.boot_value, 0x3);
    cr_assert_eq(log.reset_cause, 1);
    cr_assert_str_eq(log.reset_name, "POWERON_RESET");
    cr_assert_eq(log.resets, 1);
    cr_assert(log.readable);
    cr_assert_not(log.esp8266);
}

Test(bootlog, esp32_normal_boot_means_gpio0_high)
{
    struct ed_bootlog log = parse("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
    cr_assert(log.flash_boot);
    cr_assert_not(log.download_mode);
    char text[128];
    ed_bootlog_describe(&log, text, sizeof text);
    cr_assert(strstr(text, "boot:0x13") != NULL, "%s", text);
    cr_assert(strstr(text, "GPIO0 was high") != NULL, "%s", text);
}

Test(bootlog, esp32_invalid_header_loop_is_counted)
{
    struct ed_bootlog log = parse(
        "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n"
        "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n"
        "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n");
    cr_assert(log.invalid_header);
    cr_assert_eq(log.resets, 3);
    cr_assert_eq(log.reset_cause, 0x10);
    cr_assert_str_eq(log.reset_name, "RTCWDT_RTC_RESET");
}

Test(bootlog, later_chips_trust_the_mode_name)
{
    /* A C3 flash-boots with boot:0xc, whose 0x10 bit is clear. */
    struct ed_bootlog fl = parse("rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n");
    cr_assert(fl.flash_boot);
    cr_assert_not(fl.download_mode);
    struct ed_bootlog dl = parse("rst:0x1 (POWERON),boot:0x4 (DOWNLOAD(USB/UART0/1))\r\n");
    cr_assert(dl.download_mode);
    cr_assert_not(dl.flash_boot);
}

Test(bootlog, esp8266_modes)
{
    struct ed_bootlog dl = parse("\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,7)\r\n\r\n");
    cr_assert(dl.esp8266);
    cr_assert(dl.download_mode);
    cr_assert_eq(dl.esp8266_boot_mode, 1);
    cr_assert_eq(dl.reset_cause, 2);
    struct ed_bootlog fl = parse(" ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nload 0x40100000, len 1396, room 16\r\n");
    cr_assert(fl.flash_boot);
    cr_assert_not(fl.download_mode);
}

Test(bootlog, brownout_guru_and_micropython)
{
    struct ed_bootlog log = parse(
        "Brownout detector was triggered\r\n\r\nets Jun  8 2016 00:22:57\r\n"
        "Guru Meditation Error: Core  0 panic'ed (LoadProhibited)\r\n"
        "MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module with ESP32\r\n>>> ");
    cr_assert(log.brownout);
    cr_assert(log.guru_meditation);
    cr_assert(log.micropython);
    cr_assert_str_eq(log.micropython_version, "v1.24.0");
    cr_assert(log.repl_prompt);
}

Test(bootlog, garbage_is_not_readable)
{
    uint8_t noise[64];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)(0x80 + (i * 37) % 120);
    struct ed_bootlog log;
    ed_bootlog_parse(noise, sizeof noise, &log);
    cr_assert(log.garbage);
    cr_assert_not(log.readable);
    cr_assert_eq(log.resets, 0);
    struct ed_bootlog none;
    ed_bootlog_parse(noise, 0, &none);
    cr_assert_not(none.garbage);
    char text[64];
    ed_bootlog_describe(&none, text, sizeof text);
    cr_assert_str_eq(text, "no output at all");
}

Test(bootlog, straps_and_tail)
{
    char straps[128];
    ed_bootlog_straps(0x13, straps, sizeof straps);
    cr_assert(strstr(straps, "GPIO0 high") != NULL, "%s", straps);
    cr_assert(strstr(straps, "GPIO2 low") != NULL, "%s", straps);
    const char *text = "a\r\nb\r\nc\r\nwaiting for download\r\n";
    char tail[64];
    ed_bootlog_tail((const uint8_t *)text, strlen(text), 2, tail, sizeof tail);
    cr_assert_str_eq(tail, "c\nwaiting for download");
}

/* Erased flash reads 0xffffffff: a board with nothing on it, not a broken one. Any other
 * header value is something there that is not an image. */
Test(bootlog, erased_flash_is_told_apart_from_a_bad_header)
{
    struct ed_bootlog log = parse(
        "ets Jun  8 2016 00:22:57\r\n\r\n"
        "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
        "invalid header: 0xffffffff\r\n"
        "invalid header: 0xffffffff\r\n");
    cr_assert(log.invalid_header);
    cr_assert(log.erased_header);
    log = parse("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
                "invalid header: 0xffffffff\r\ninvalid header: 0x3f8e2a01\r\n");
    cr_assert(log.invalid_header);
    cr_assert_not(log.erased_header, "one header that is not erased");
    log = parse("invalid header: 0xfff");   /* cut off: cannot tell */
    cr_assert_not(log.erased_header);
    log = parse("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
    cr_assert_not(log.erased_header);
}

/* An ESP-IDF app names itself at start; MicroPython's ESP32 port is "micropython". */
Test(bootlog, the_app_project_name)
{
    struct ed_bootlog log = parse("I (64) cpu_start: Pro cpu start user code\r\n"
                                  "I (68) app_init: Project name:     espsim-app\r\n"
                                  "I (73) app_init: App version:      1.0\r\n");
    cr_assert_str_eq(log.app_project, "espsim-app");
    log = parse("I (68) app_init: Project name:     micropython\r\n");
    cr_assert_str_eq(log.app_project, "micropython");
    log = parse("ets Jun  8 2016 00:22:57\r\n");
    cr_assert_str_eq(log.app_project, "");
}

Test(bootlog, guru_meditation_core_reason_and_backtrace)
{
    struct ed_bootlog log = parse(
        "Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.\r\n"
        "\r\nCore  1 register dump:\r\nPC      : 0x400d2f2a  PS      : 0x00060330\r\n\r\n"
        "Backtrace: 0x400d2f27:0x3ffb2260 0x400d3a49:0x3ffb2280 0x40088e5d:0x3ffb22a0\r\n");
    cr_assert(log.guru_meditation);
    cr_assert_eq(log.guru_core, 1);
    cr_assert_str_eq(log.guru_reason, "LoadProhibited");
    cr_assert_eq(log.backtrace_count, 3);
    cr_assert_eq(log.backtrace[0], 0x400d2f27u);
    cr_assert_eq(log.backtrace[1], 0x400d3a49u);
    cr_assert_eq(log.backtrace[2], 0x40088e5du);
    /* RISC-V chips name the exception in words. */
    struct ed_bootlog rv = parse("Guru Meditation Error: Core  0 panic'ed (Load access fault). "
                                 "Exception was unhandled.\r\n");
    cr_assert_str_eq(rv.guru_reason, "Load access fault");
    cr_assert_eq(rv.guru_core, 0);
    cr_assert_eq(rv.backtrace_count, 0);
}

Test(bootlog, backtrace_stops_at_what_is_not_an_address_pair)
{
    struct ed_bootlog cut = parse("Backtrace: 0x40081234:0x3ffb0000 |<-CORRUPTED\r\n");
    cr_assert_eq(cut.backtrace_count, 1);
    cr_assert_eq(cut.backtrace[0], 0x40081234u);
    struct ed_bootlog none = parse("Backtrace: none here\r\n");
    cr_assert_eq(none.backtrace_count, 0);
    /* More pairs than are kept: the first ED_BOOTLOG_BACKTRACE_MAX. */
    char line[1024] = "Backtrace:";
    for (unsigned i = 0; i < ED_BOOTLOG_BACKTRACE_MAX + 4; i++) {
        char pair[32];
        snprintf(pair, sizeof pair, " 0x%08x:0x3ffb0000", 0x40080000u + i);
        strcat(line, pair);
    }
    struct ed_bootlog many = parse(line);
    cr_assert_eq(many.backtrace_count, ED_BOOTLOG_BACKTRACE_MAX);
    cr_assert_eq(many.backtrace[ED_BOOTLOG_BACKTRACE_MAX - 1],
                 0x40080000u + ED_BOOTLOG_BACKTRACE_MAX - 1);
    struct ed_bootlog no_guru = parse("rst:0x1 (POWERON_RESET),boot:0x13\r\n");
    cr_assert_eq(no_guru.guru_core, -1);
    cr_assert_str_eq(no_guru.guru_reason, "");
}

Test(bootlog, micropython_board_name)
{
    struct ed_bootlog log = parse("MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module "
                                  "with ESP32\r\nType \"help()\" for more information.\r\n");
    cr_assert_str_eq(log.micropython_version, "v1.24.0");
    cr_assert_str_eq(log.micropython_board, "Generic ESP32 module with ESP32");
    struct ed_bootlog bare = parse("MicroPython v1.19.1-dirty\r\n");
    cr_assert_str_eq(bare.micropython_version, "v1.19.1-dirty");
    cr_assert_str_eq(bare.micropython_board, "");
}

static const char *meaning(const char *text)
{
    struct ed_bootlog log = parse(text);
    return ed_bootlog_reset_meaning(&log);
}

static bool means(const char *text, const char *words)
{
    const char *m = meaning(text);
    cr_assert_not_null(m, "no meaning for %s", text);
    return strstr(m, words) != NULL;
}

Test(bootlog, reset_meanings_across_chips)
{
    cr_assert(means("rst:0x1 (POWERON_RESET),boot:0x13", "power-on"));
    cr_assert(means("rst:0xc (SW_CPU_RESET),boot:0x13", "software restart"));
    cr_assert(means("rst:0xc (RTC_SW_CPU_RST),boot:0x8", "software restart"));
    cr_assert(means("rst:0xc (SW_CPU),boot:0xc", "software restart"));
    cr_assert(means("rst:0xf (RTCWDT_BROWN_OUT_RESET),boot:0x13", "brown-out"));
    cr_assert(means("rst:0xf (BROWN_OUT_RST),boot:0x8", "brown-out"));
    cr_assert(means("rst:0xf (LP_BOD_SYS),boot:0xc", "brown-out"));
    cr_assert(means("rst:0x10 (RTCWDT_RTC_RESET),boot:0x13", "watchdog"));
    cr_assert(means("rst:0x7 (TG0WDT_SYS_RESET),boot:0x13", "watchdog"));
    cr_assert(means("rst:0x5 (DEEPSLEEP_RESET),boot:0x13", "deep sleep"));
    cr_assert_null(meaning("rst:0xa (INTRUSION_RESET),boot:0x13"));
    cr_assert_null(meaning("rst:0x1,boot:0x13"));
    cr_assert(means(" ets Jan  8 2013,rst cause:4, boot mode:(3,6)", "watchdog"));
    cr_assert(means(" ets Jan  8 2013,rst cause:1, boot mode:(3,6)", "power-on"));
    cr_assert_null(meaning(" ets Jan  8 2013,rst cause:9, boot mode:(3,6)"));
    cr_assert_null(meaning("nothing at all"));
}

Test(bootlog, a_reset_name_is_printable_text_on_its_line)
{
    struct ed_bootlog noisy = parse("rst:0x1 (POWER\xbb\xac\x87ON),boot:0x13\r\n");
    cr_assert_eq(noisy.reset_cause, 1);
    cr_assert_str_eq(noisy.reset_name, "", "line noise taken for a name");
    struct ed_bootlog split = parse("rst:0x1 (POWERON_RESET\r\n)boot:0x13\r\n");
    cr_assert_str_eq(split.reset_name, "", "a name across lines");
    struct ed_bootlog fine = parse("rst:0x1 (POWERON_RESET),boot:0x13\r\n");
    cr_assert_str_eq(fine.reset_name, "POWERON_RESET");
}

/* A user's log with GPIO12 high (esp-idf issue #1778 style): the ESP32's own ROM banner
 * says whose boot bits these are; a C3's banner is not the ESP32's. */
Test(bootlog, esp32_rom_banner_and_flash_read_err)
{
    struct ed_bootlog log = parse(
        "ets Jun  8 2016 00:22:57\r\n\r\n"
        "rst:0x10 (RTCWDT_RTC_RESET),boot:0x33 (SPI_FAST_FLASH_BOOT)\r\n"
        "flash read err, 1000\r\nets_main.c 371 \r\n");
    cr_assert(log.esp32_rom);
    cr_assert(log.flash_read_err);
    cr_assert_eq(log.boot_value, 0x33);
    cr_assert_eq(log.boot_mode_named, 2);
    struct ed_bootlog c3 = parse("ESP-ROM:esp32c3-api1-20210207\r\n"
                                 "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n");
    cr_assert_not(c3.esp32_rom);
}

/* ESP8266 with GPIO15 high: the first number's bit 4 is MTDO. */
Test(bootlog, esp8266_sdio_boot_mode)
{
    struct ed_bootlog log = parse(" ets Jan  8 2013,rst cause:2, boot mode:(7,7)\r\n"
                                  "waiting for host\r\n");
    cr_assert(log.esp8266);
    cr_assert_eq(log.esp8266_boot_mode, 7);
    cr_assert(log.esp8266_boot_mode & 4);
    cr_assert_not(log.download_mode);
    cr_assert_not(log.flash_boot);
}
