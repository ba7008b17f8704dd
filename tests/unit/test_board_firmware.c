/* The firmware a blank flash is given (sim_board_opts.firmware) and what each variant
 * prints after a hard reset; the non-ESP text device (chip "none"). */
#include "test_board_util.h"

#include <stdio.h>
#include <unistd.h>

static char log_text[65536];

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* What arrives in ms, as text: garbage at a wrong baud may hold NUL bytes. */
static void collect(struct rig *r, unsigned ms)
{
    size_t n = rig_collect(r, log_text, sizeof log_text, ms);
    for (size_t i = 0; i < n; i++)
        if (log_text[i] == '\0')
            log_text[i] = '?';
}

static struct rig boot(const char *chip, enum sim_firmware fw, uint32_t baud, unsigned ms)
{
    struct sim_board_opts o = rig_opts(chip);
    o.firmware = fw;
    struct rig r = rig_open(&o, baud);
    rig_hard_reset(&r);
    collect(&r, ms);
    return r;
}

Test(firmware, blank_is_the_default_and_writes_nothing)
{
    struct sim_board_opts o = rig_opts("esp32");
    cr_assert_eq(o.firmware, SIM_FW_BLANK);
    struct rig r = rig_open(&o, 115200);
    size_t size;
    const uint8_t *fl = sim_board_flash(r.board, &size);
    for (size_t i = 0; i < 0x20000; i++)
        cr_assert_eq(fl[i], 0xFF, "byte 0x%zx", i);
    rig_close(&r);
}

Test(firmware, esp32_layout_is_bootloader_partitions_app)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.firmware = SIM_FW_APP;
    struct rig r = rig_open(&o, 115200);
    size_t size;
    const uint8_t *fl = sim_board_flash(r.board, &size);
    cr_assert_eq(fl[0x1000], 0xE9);
    cr_assert_eq(fl[0x1000 + 23], 1, "SHA-256 appended");
    cr_assert(fl[0x8000] == 0xAA && fl[0x8001] == 0x50);
    cr_assert(fl[0x8060] == 0xEB && fl[0x8061] == 0xEB, "MD5 entry closes the table");
    cr_assert_eq(fl[0x10000], 0xE9);
    cr_assert_eq(fl[0x10000 + 12], 0, "ESP32 chip id");
    rig_close(&r);
}

Test(firmware, a_flash_that_holds_something_is_left_alone)
{
    char path[] = "/tmp/test_board_fwXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    static uint8_t pattern[4 * 1024 * 1024];
    memset(pattern, 0xFF, sizeof pattern);
    memcpy(pattern + 0x1000, "not an image", 12);
    cr_assert_eq(write(fd, pattern, sizeof pattern), (ssize_t)sizeof pattern);
    close(fd);
    struct sim_board_opts o = rig_opts("esp32");
    o.firmware = SIM_FW_MICROPYTHON;
    o.flash_path = path;
    struct rig r = rig_open(&o, 115200);
    size_t size;
    const uint8_t *fl = sim_board_flash(r.board, &size);
    cr_assert_arr_eq(fl, pattern, size);
    rig_close(&r);
    unlink(path);
}

Test(firmware, app_logs_then_says_hello_every_second)
{
    struct rig r = boot("esp32", SIM_FW_APP, 115200, 2600);
    cr_assert(strstr(log_text, "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"),
              "%s", log_text);
    cr_assert(strstr(log_text, "entry 0x"), "%s", log_text);
    cr_assert(strstr(log_text, "I (29) boot: ESP-IDF v5.2.2 2nd stage bootloader\r\n"), "%s",
              log_text);
    cr_assert(strstr(log_text, "I (64) cpu_start: Pro cpu start user code\r\n"), "%s", log_text);
    unsigned hello = count(log_text, "Hello from espsim app\r\n");
    cr_assert(hello >= 2 && hello <= 3, "%u hellos in 2.5 s: %s", hello, log_text);
    cr_assert_eq(count(log_text, "rst:"), 1, "no reset loop: %s", log_text);
    rig_close(&r);
}

Test(firmware, micropython_banner_and_repl)
{
    struct rig r = boot("esp32", SIM_FW_MICROPYTHON, 115200, 400);
    cr_assert(strstr(log_text, "MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module with "
                               "ESP32\r\nType \"help()\" for more information.\r\n>>> "),
              "%s", log_text);
    cr_assert_null(strstr(log_text, "I (29) boot:"), "MicroPython builds log nothing");
    cr_assert_eq(ed_tp_write(r.tp, (const uint8_t *)"\r", 1), ED_OK);
    collect(&r, 50);
    cr_assert_str_eq(log_text, "\r\n>>> ");
    rig_close(&r);
}

Test(firmware, crash_panics_and_reboots_in_a_loop)
{
    struct rig r = boot("esp32", SIM_FW_CRASH, 115200, 1500);
    const char *guru = "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). "
                       "Exception was unhandled.\r\n";
    cr_assert_geq(count(log_text, guru), 2, "%s", log_text);
    cr_assert(strstr(log_text, "\r\nBacktrace: 0x400d2f27:0x3ffb2260 0x400d3a49:0x3ffb2280 "
                               "0x40088e5d:0x3ffb22a0\r\n"), "%s", log_text);
    cr_assert(strstr(log_text, "Rebooting...\r\n"), "%s", log_text);
    cr_assert(strstr(log_text, "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"), "%s",
              log_text);
    cr_assert_null(strstr(log_text, "Hello from espsim app"));
    rig_close(&r);
}

Test(firmware, crash_on_riscv_names_its_own_exception)
{
    struct rig r = boot("esp32c3", SIM_FW_CRASH, 115200, 800);
    cr_assert(strstr(log_text, "panic'ed (Load access fault)"), "%s", log_text);
    cr_assert(strstr(log_text, "rst:0xc (RTC_SW_CPU_RST)"), "%s", log_text);
    rig_close(&r);
}

Test(firmware, brownout_resets_at_every_start)
{
    struct rig r = boot("esp32", SIM_FW_BROWNOUT, 115200, 1500);
    cr_assert_geq(count(log_text, "\r\nBrownout detector was triggered\r\n"), 3, "%s", log_text);
    cr_assert(strstr(log_text, "rst:0xf (RTCWDT_BROWN_OUT_RESET),boot:0x13"), "%s", log_text);
    cr_assert_null(strstr(log_text, "Hello from espsim app"), "%s", log_text);
    rig_close(&r);
}

Test(firmware, esp8266_app_talks_at_115200_after_the_74880_rom_log)
{
    struct rig r = boot("esp8266", SIM_FW_APP, 74880, 60);
    cr_assert(strstr(log_text, "boot mode:(3,6)"), "%s", log_text);
    cr_assert(strstr(log_text, "load 0x40100000"), "%s", log_text);
    ed_tp_set_baud(r.tp, 115200);
    collect(&r, 1500);
    cr_assert(strstr(log_text, "ESP-IDF v3.4"), "%s", log_text);
    cr_assert(strstr(log_text, "Hello from espsim app\r\n"), "%s", log_text);
    rig_close(&r);
}

Test(firmware, esp8266_micropython_banner)
{
    struct rig r = boot("esp8266", SIM_FW_MICROPYTHON, 115200, 400);
    cr_assert(strstr(log_text, "MicroPython v1.24.0 on 2024-10-25; ESP module with ESP8266\r\n"),
              "%s", log_text);
    rig_close(&r);
}

Test(firmware, esp8266_crash_and_brownout)
{
    struct rig r = boot("esp8266", SIM_FW_CRASH, 115200, 800);
    cr_assert(strstr(log_text, "panic'ed (LoadProhibited)"), "%s", log_text);
    rig_close(&r);
    /* No detector message on the ESP8266: the app's output stops and the ROM starts
     * over (its log at 74880, garbage here), again and again. */
    r = boot("esp8266", SIM_FW_BROWNOUT, 115200, 1000);
    cr_assert_null(strstr(log_text, "Brownout detector"), "%s", log_text);
    cr_assert_geq(count(log_text, "I (29) boot: ESP-IDF v3.4"), 3, "%s", log_text);
    rig_close(&r);
}

/* ---- not an ESP --------------------------------------------------------------------- */

static bool nmea_checksum_ok(const char *line)
{
    const char *star = strchr(line, '*');
    if (line[0] != '$' || !star)
        return false;
    unsigned sum = 0;
    for (const char *p = line + 1; p < star; p++)
        sum ^= (unsigned char)*p;
    return strtoul(star + 1, NULL, 16) == sum;
}

Test(textdev, prints_nmea_every_100ms_at_9600)
{
    struct sim_board_opts o = rig_opts("none");
    struct rig r = rig_open(&o, 9600);
    collect(&r, 1050);
    unsigned lines = count(log_text, "$GPGGA,");
    cr_assert(lines >= 9 && lines <= 11, "%u lines: %s", lines, log_text);
    char *first = strstr(log_text, "$GPGGA,");
    cr_assert(nmea_checksum_ok(first), "%s", first);
    cr_assert_str_eq(sim_board_chip_name(r.board), "a serial device that is not an ESP");
    rig_close(&r);
}

Test(textdev, ignores_reset_lines_and_sync)
{
    struct sim_board_opts o = rig_opts("none");
    struct rig r = rig_open(&o, 9600);
    rig_classic_reset(&r, 50);
    struct rig_reply rep;
    cr_assert_not(rig_command(&r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0, &rep, 300));
    collect(&r, 300);
    cr_assert_geq(count(log_text, "$GPGGA,"), 2, "%s", log_text);
    cr_assert_null(strstr(log_text, "ets "), "%s", log_text);
    cr_assert_not(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(textdev, garbage_at_115200)
{
    struct sim_board_opts o = rig_opts("none");
    struct rig r = rig_open(&o, 115200);
    collect(&r, 500);
    cr_assert_null(strstr(log_text, "GPGGA"), "%s", log_text);
    rig_close(&r);
}
