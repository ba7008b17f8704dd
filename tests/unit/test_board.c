/* The virtual board: the auto-reset circuit, boot banners, UART speed and the REPL. */
#include "test_board_util.h"

#include <stdio.h>
#include <unistd.h>

#define ESP32_DOWNLOAD "rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/" \
                       "SDIO_REI_REO_V2))\r\nwaiting for download\r\n"
#define ESP32_FLASH "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"

Test(board, classic_reset_enters_download_mode_with_banner)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    cr_assert_not(sim_board_in_download_mode(r.board));
    rig_classic_reset(&r, 50);
    char log[1024];
    rig_collect(&r, log, sizeof log, 100);
    cr_assert(strstr(log, "ets Jun  8 2016 00:22:57\r\n\r\n" ESP32_DOWNLOAD), "log: %s", log);
    cr_assert(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(board, power_on_banner_is_gone_when_the_host_opens)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    char log[4096];
    rig_collect(&r, log, sizeof log, 50);
    cr_assert_null(strstr(log, "POWERON_RESET"), "stale output: %s", log);
    /* A blank ESP32 keeps printing, as the real one does. */
    cr_assert(strstr(log, "invalid header: 0xffffffff\r\n"), "log: %s", log);
    rig_close(&r);
}


Test(board, boot_held_enters_download_on_any_reset)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.boot_held = true;
    struct rig r = rig_open(&o, 115200);
    rig_hard_reset(&r);
    char log[1024];
    rig_collect(&r, log, sizeof log, 100);
    cr_assert(strstr(log, ESP32_DOWNLOAD), "log: %s", log);
    rig_close(&r);
}

Test(board, hard_reset_boots_from_flash)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    rig_hard_reset(&r);
    char log[2048];
    rig_collect(&r, log, sizeof log, 100);
    cr_assert(strstr(log, ESP32_FLASH), "log: %s", log);
    cr_assert_not(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(board, en_delay_needs_a_long_enough_gpio0_hold)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.en_delay_ms = 200;
    struct rig r = rig_open(&o, 115200);
    char log[2048];
    rig_classic_reset(&r, 50);
    rig_collect(&r, log, sizeof log, 400);
    cr_assert(strstr(log, ESP32_FLASH), "D=50 should miss download mode: %s", log);
    cr_assert_not(sim_board_in_download_mode(r.board));
    rig_classic_reset(&r, 550);
    rig_collect(&r, log, sizeof log, 100);
    cr_assert(sim_board_in_download_mode(r.board), "D=550: %s", log);
    rig_close(&r);
}

Test(board, lines_set_one_at_a_time_still_reach_download_mode)
{
    /* esptool sets DTR then RTS: (0,1) -> (1,1) -> (1,0) passes through "both released". */
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    ed_tp_set_lines(r.tp, false, true);
    ed_tp_sleep_ms(r.tp, 100);
    ed_tp_set_lines(r.tp, true, true);
    ed_tp_set_lines(r.tp, true, false);
    ed_tp_sleep_ms(r.tp, 50);
    ed_tp_set_lines(r.tp, false, false);
    char log[1024];
    rig_collect(&r, log, sizeof log, 50);
    cr_assert(sim_board_in_download_mode(r.board), "log: %s", log);
    rig_close(&r);
}

Test(board, esp8266_banner_at_74880)
{
    struct sim_board_opts o = rig_opts("esp8266");
    struct rig r = rig_open(&o, 74880);
    rig_classic_reset(&r, 50);
    char log[1024];
    rig_collect(&r, log, sizeof log, 100);
    cr_assert(strstr(log, "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,7)\r\n\r\n"),
              "log: %s", log);
    rig_hard_reset(&r);
    rig_collect(&r, log, sizeof log, 100);
    cr_assert(strstr(log, "rst cause:2, boot mode:(3,6)"), "log: %s", log);
    rig_close(&r);
}

Test(board, wrong_host_baud_sees_garbage)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 9600);
    rig_classic_reset(&r, 50);
    char log[1024];
    size_t n = rig_collect(&r, log, sizeof log, 300);
    cr_assert_gt(n, 0);
    cr_assert_null(strstr(log, "waiting"), "readable at the wrong baud: %s", log);
    /* 9600 samples 12x slower than 115200 sends: far fewer bytes than the banner has. */
    cr_assert_lt(n, strlen("ets Jun  8 2016 00:22:57\r\n\r\n" ESP32_DOWNLOAD) / 4);
    rig_close(&r);
}

Test(board, esp8266_boot_log_is_garbage_at_115200)
{
    struct sim_board_opts o = rig_opts("esp8266");
    struct rig r = rig_open(&o, 115200);
    rig_classic_reset(&r, 50);
    char log[1024];
    size_t n = rig_collect(&r, log, sizeof log, 100);
    cr_assert_gt(n, 0);
    cr_assert_null(strstr(log, "boot mode"), "log: %s", log);
    rig_close(&r);
}

Test(board, blank_esp32_loops_on_invalid_header)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    rig_hard_reset(&r);
    char log[8192];
    rig_collect(&r, log, sizeof log, 600);
    cr_assert(strstr(log, ESP32_FLASH "invalid header: 0xffffffff\r\n"), "log: %s", log);
    cr_assert(strstr(log, "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"),
              "log: %s", log);
    rig_close(&r);
}

/* A minimal ESP32 flash: bootloader image at 0x1000, partition table, app at 0x10000
 * carrying MicroPython's banner. */
static const char BANNER[] = "MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module with ESP32";

static void put_image(uint8_t *at, int chip_id, uint32_t load, const void *seg, uint32_t len)
{
    at[0] = 0xE9;
    at[1] = 1;
    at[2] = 2;      /* DIO */
    at[3] = 0x20;   /* 4 MB, 40 MHz */
    put_le32(at + 4, load + 4);
    memset(at + 8, 0, 16);
    at[8] = 0xEE;
    at[12] = (uint8_t)chip_id;
    put_le32(at + 24, load);
    put_le32(at + 28, len);
    memcpy(at + 32, seg, len);
}

static void make_micropython_flash(const char *path, int chip_id)
{
    size_t size = 4 * 1024 * 1024;
    uint8_t *fl = malloc(size);
    cr_assert_not_null(fl);
    memset(fl, 0xFF, size);
    static const uint8_t boot_code[64] = { 1, 2, 3 };
    put_image(fl + 0x1000, chip_id, 0x40078000, boot_code, sizeof boot_code);
    uint8_t *pt = fl + 0x8000;
    pt[0] = 0xAA;
    pt[1] = 0x50;
    pt[2] = 0x00;
    pt[3] = 0x00;
    put_le32(pt + 4, 0x10000);
    put_le32(pt + 8, 0x100000);
    memcpy(pt + 12, "factory", 8);
    put_image(fl + 0x10000, chip_id, 0x3F400020, BANNER, sizeof BANNER);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(fl, 1, size, f), size);
    fclose(f);
    free(fl);
}

Test(board, micropython_image_boots_to_the_repl)
{
    char path[] = "/tmp/test_board_mpXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    make_micropython_flash(path, 0);
    struct sim_board_opts o = rig_opts("esp32");
    o.flash_path = path;
    struct rig r = rig_open(&o, 115200);
    rig_hard_reset(&r);
    char log[4096];
    rig_collect(&r, log, sizeof log, 500);
    cr_assert(strstr(log, "load:0x40078000,len:64\r\nentry 0x40078004\r\n"), "log: %s", log);
    cr_assert(strstr(log, BANNER), "log: %s", log);
    cr_assert(strstr(log, "Type \"help()\" for more information.\r\n>>> "), "log: %s", log);

    ed_tp_write(r.tp, (const uint8_t *)"\x03", 1);
    rig_collect(&r, log, sizeof log, 50);
    cr_assert_str_eq(log, "\r\n>>> ");
    ed_tp_write(r.tp, (const uint8_t *)"ab", 2);
    rig_collect(&r, log, sizeof log, 50);
    cr_assert_str_eq(log, "ab");
    ed_tp_write(r.tp, (const uint8_t *)"\x02", 1);
    rig_collect(&r, log, sizeof log, 50);
    cr_assert(strstr(log, BANNER), "log: %s", log);
    cr_assert(strstr(log, "Type \"help()\" for more information.\r\n>>> "), "log: %s", log);
    rig_close(&r);
    unlink(path);
}

Test(board, no_autoreset_ignores_the_lines)
{
    char path[] = "/tmp/test_board_mpXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    make_micropython_flash(path, 0);
    struct sim_board_opts o = rig_opts("esp32");
    o.flash_path = path;
    o.no_autoreset = true;
    struct rig r = rig_open(&o, 115200);
    char log[2048];
    rig_collect(&r, log, sizeof log, 300);
    cr_assert(strstr(log, ">>> "), "the power-on boot reaches the REPL: %s", log);
    rig_classic_reset(&r, 50);
    cr_assert_eq(rig_collect(&r, log, sizeof log, 300), 0, "output: %s", log);
    cr_assert_not(sim_board_in_download_mode(r.board));
    rig_close(&r);
    unlink(path);
}

Test(board, esp32_bootloader_for_another_chip_does_not_boot)
{
    char path[] = "/tmp/test_board_mpXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    make_micropython_flash(path, 9);   /* an ESP32-S3 build */
    struct sim_board_opts o = rig_opts("esp32");
    o.flash_path = path;
    struct rig r = rig_open(&o, 115200);
    rig_hard_reset(&r);
    char log[4096];
    size_t n = rig_collect(&r, log, sizeof log, 500);
    /* The output holds binary garbage (NUL bytes too): search all of it. */
    cr_assert_null(memmem(log, n, ">>> ", 4), "log: %s", log);
    cr_assert(memmem(log, n, "RTCWDT_RTC_RESET", 16), "log: %s", log);
    rig_close(&r);
    unlink(path);
}

Test(board, esp32_image_on_esp8266_prints_garbage)
{
    char path[] = "/tmp/test_board_mpXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    make_micropython_flash(path, 0);
    /* Move the ESP32 bootloader to 0x0, as an esp32 .bin written at 0x0 would put it. */
    FILE *f = fopen(path, "r+b");
    uint8_t head[128];
    cr_assert_eq(fseek(f, 0x1000, SEEK_SET), 0);
    cr_assert_eq(fread(head, 1, sizeof head, f), sizeof head);
    cr_assert_eq(fseek(f, 0, SEEK_SET), 0);
    cr_assert_eq(fwrite(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    struct sim_board_opts o = rig_opts("esp8266");
    o.flash_path = path;
    struct rig r = rig_open(&o, 74880);
    rig_hard_reset(&r);
    char log[4096];
    size_t n = rig_collect(&r, log, sizeof log, 300);
    const char *after = strstr(log, "boot mode:(3,6)\r\n\r\n");
    cr_assert_not_null(after, "log: %s", log);
    after += strlen("boot mode:(3,6)\r\n\r\n");
    cr_assert(strstr(after, "load 0x000000ee"), "log: %s", log);
    bool binary = false;
    for (const char *p = after; p < log + n; p++)
        binary |= (unsigned char)*p < 0x20 && *p != '\r' && *p != '\n';
    cr_assert(binary, "expected garbage after the banner: %s", log);
    rig_close(&r);
    unlink(path);
}

Test(board, trace_records_lines_boot_and_commands)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *trace = open_memstream(&text, &text_len);
    cr_assert_not_null(trace);
    struct sim_board_opts o = rig_opts("esp32");
    o.trace = trace;
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    rig_read_reg(&r, 0x40001000);
    rig_close(&r);
    fclose(trace);
    cr_assert(strstr(text, "lines DTR=1 RTS=0 -> EN high, GPIO0 low"), "%s", text);
    cr_assert(strstr(text, "chip leaves reset: GPIO0 low -> download mode"), "%s", text);
    cr_assert(strstr(text, "ROM READ_REG (0x0A), 4 bytes: 0x40001000"), "%s", text);
    cr_assert(strstr(text, "reply READ_REG: value 0x00F01D83"), "%s", text);
    free(text);
}

Test(board, bytes_take_ten_bit_times)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.usb_latency_us = 0;
    struct rig r = rig_open(&o, 115200);
    ed_tp_set_lines(r.tp, false, true);
    ed_tp_sleep_ms(r.tp, 100);
    ed_tp_flush_input(r.tp);
    ed_tp_set_lines(r.tp, true, false);
    uint64_t released = ed_tp_now_us(r.tp);
    char log[1024] = "";
    size_t n = 0;
    while (!strstr(log, "waiting for download\r\n") && n < sizeof log - 1) {
        size_t got = 0;
        ed_tp_read(r.tp, (uint8_t *)log + n, 1, &got, 100);
        cr_assert_eq(got, 1);
        n += got;
        log[n] = '\0';
    }
    /* The chip starts 2 ms after EN is released, then n bytes at 86.8 us each. */
    uint64_t expect = released + 2000 + (uint64_t)n * 10 * 1000000 / 115200;
    uint64_t now = ed_tp_now_us(r.tp);
    cr_assert(now >= expect && now <= expect + 1100, "now %llu, expected about %llu",
              (unsigned long long)now, (unsigned long long)expect);
    rig_close(&r);
}

Test(board, fast_mode_takes_no_time)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.fast = true;
    struct rig r = rig_open(&o, 115200);
    rig_classic_reset(&r, 50);
    uint64_t t0 = ed_tp_now_us(r.tp);
    char log[1024];
    size_t got = 0;
    cr_assert_eq(ed_tp_read(r.tp, (uint8_t *)log, sizeof log - 1, &got, 100), ED_OK);
    cr_assert_eq(ed_tp_now_us(r.tp), t0);
    log[got] = '\0';
    cr_assert(strstr(log, "waiting for download"), "%s", log);
    rig_close(&r);
}
