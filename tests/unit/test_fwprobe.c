/* The firmware probe: verdicts from console text, and a real probe of the virtual board
 * booting a hand-made ESP32 flash (bootloader, partition table, MicroPython app) or an
 * empty one. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/fwprobe.h"
#include "espdoctor/proto.h"

static struct ed_fwprobe r;

static void classify(const char *text)
{
    memset(&r, 0, sizeof r);
    r.text_len = strlen(text);
    memcpy(r.text, text, r.text_len);
    ed_fwprobe_classify(&r);
}

Test(fwprobe_text, micropython_banner_and_prompt)
{
    classify("entry 0x40080644\r\nMicroPython v1.22.1 on 2024-01-05; Generic ESP32 module "
             "with ESP32\r\nType \"help()\" for more information.\r\n>>> ");
    cr_assert_eq(r.state, ED_FW_MICROPYTHON);
    cr_assert_str_eq(r.version, "v1.22.1");
    cr_assert_str_eq(r.banner, "MicroPython v1.22.1 on 2024-01-05; Generic ESP32 module with "
                               "ESP32");
    char line[900];
    ed_fwprobe_describe(&r, line, sizeof line);
    cr_assert_str_eq(line, "MicroPython v1.22.1 is answering");
}

Test(fwprobe_text, banner_without_prompt_is_mute)
{
    classify("MicroPython v1.20.0 on 2023-04-26; ESP module with ESP8266\r\n");
    cr_assert_eq(r.state, ED_FW_MICROPYTHON_MUTE);
}

Test(fwprobe_text, invalid_header_loop_did_not_boot)
{
    classify("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x10 (RTCWDT_RTC_RESET),boot:0x13 "
             "(SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\ninvalid header: "
             "0xffffffff\r\ninvalid header: 0xffffffff\r\n");
    cr_assert_eq(r.state, ED_FW_BOOT_FAILED);
    char line[900];
    ed_fwprobe_describe(&r, line, sizeof line);
    cr_assert_not_null(strstr(line, "the board did not boot"), "%s", line);
    cr_assert_not_null(strstr(line, "invalid header: 0xffffffff"), "%s", line);
}

Test(fwprobe_text, download_mode_silence_and_a_quiet_app)
{
    classify("rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
             "waiting for download\r\n");
    cr_assert_eq(r.state, ED_FW_DOWNLOAD_MODE);
    classify("");
    cr_assert_eq(r.state, ED_FW_SILENT);
    classify("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nload:0x3fff0030,len:"
             "6400\r\nentry 0x40080644\r\nI (31) boot: ESP-IDF v5.1 2nd stage bootloader\r\n");
    cr_assert_eq(r.state, ED_FW_RUNNING);
    cr_assert_str_eq(ed_fw_state_key(r.state), "running");
}

/* ---- a booting board -------------------------------------------------------------------- */

#define FLASH_SIZE (4u << 20)

static struct sim_board *board;
static struct ed_transport *tp;
static char flash_path[64];

/* An ESP32 image header (chip id 0) with one segment of `len` bytes at `load`. */
static void put_image(uint8_t *at, uint32_t load, uint32_t len)
{
    at[0] = 0xE9;
    at[1] = 1;
    at[2] = 2;           /* DIO */
    at[3] = 0x20;        /* 4 MB, 40 MHz */
    ed_put_le32(at + 4, load);
    memset(at + 8, 0, 16);
    at[8] = 0xEE;        /* WP pin: none */
    ed_put_le32(at + 24, load);
    ed_put_le32(at + 28, len);
}

static void start(bool micropython)
{
    snprintf(flash_path, sizeof flash_path, "/tmp/test_fwprobe.XXXXXX");
    int fd = mkstemp(flash_path);
    uint8_t *flash = malloc(FLASH_SIZE);
    memset(flash, 0xFF, FLASH_SIZE);
    if (micropython) {
        put_image(flash + 0x1000, 0x40080400, 64);
        /* Partition table: one factory app at 0x10000. */
        uint8_t *pt = flash + 0x8000;
        pt[0] = 0xAA;
        pt[1] = 0x50;
        pt[2] = 0x00;
        pt[3] = 0x00;
        ed_put_le32(pt + 4, 0x10000);
        ed_put_le32(pt + 8, 0x100000);
        memcpy(pt + 12, "factory", 8);
        put_image(flash + 0x10000, 0x400D0020, 4096);
        static const char banner[] = "MicroPython v1.23.0 on 2024-06-02; Generic ESP32 module "
                                     "with ESP32";
        memcpy(flash + 0x10200, banner, sizeof banner);
    }
    cr_assert_eq(write(fd, flash, FLASH_SIZE), (ssize_t)FLASH_SIZE);
    close(fd);
    free(flash);
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = "esp32";
    o.flash_path = flash_path;
    char err[200];
    board = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(board, "%s", err);
    tp = simlink_open(board, 921600);
    cr_assert_not_null(tp);
}

static void with_micropython(void) { start(true); }
static void erased(void) { start(false); }

static void stop(void)
{
    ed_tp_close(tp);
    sim_board_free(board);
    unlink(flash_path);
}

Test(fwprobe_sim, micropython_answers_after_a_reset, .init = with_micropython, .fini = stop)
{
    struct ed_fwprobe_opts o = { .reset = true, .poke = true };
    cr_assert_eq(ed_fwprobe_run(tp, &o, &r), ED_OK);
    cr_assert_eq(tp->baud, ED_FWPROBE_BAUD);
    cr_assert_eq(r.state, ED_FW_MICROPYTHON, "state %s: %s", ed_fw_state_key(r.state),
                 r.evidence);
    cr_assert(r.answered);
    cr_assert_str_eq(r.version, "v1.23.0");
    cr_assert_not_null(memmem(r.text, r.text_len, "boot:0x13", 9), "the boot log is kept");
}

Test(fwprobe_sim, erased_flash_does_not_boot, .init = erased, .fini = stop)
{
    struct ed_fwprobe_opts o = { .reset = true, .poke = true };
    cr_assert_eq(ed_fwprobe_run(tp, &o, &r), ED_OK);
    cr_assert_eq(r.state, ED_FW_BOOT_FAILED, "state %s: %s", ed_fw_state_key(r.state),
                 r.evidence);
    cr_assert_not(r.answered);
    cr_assert(r.log.invalid_header);
}

Test(fwprobe_sim, without_a_reset_a_running_repl_still_answers, .init = with_micropython,
     .fini = stop)
{
    /* Let the board boot on its own first (power-on), then probe without resetting. */
    simlink_advance_us(tp, 2000000);
    ed_tp_flush_input(tp);
    struct ed_fwprobe_opts o = { .reset = false, .poke = true };
    cr_assert_eq(ed_fwprobe_run(tp, &o, &r), ED_OK);
    cr_assert_eq(r.state, ED_FW_MICROPYTHON, "state %s: %s", ed_fw_state_key(r.state),
                 r.evidence);
    cr_assert(r.answered);
    cr_assert_str_eq(r.version, "v1.23.0", "Ctrl-B brought the banner back");
}

/* ---- a board whose answer pauses (a loaded machine) ------------------------------------ */

/* A transport over `tp` that, after a Ctrl-B went out, hands over the first line of the
 * answer and the rest only PAUSE_MS later, as a busy host or board does. */
#define PAUSE_MS 300u

static struct pausing {
    struct ed_transport tp;
    bool armed, pausing;
    uint8_t held[1024];
    size_t held_len;
} pz;

static int pz_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                   unsigned timeout_ms)
{
    (void)t;
    *got = 0;
    if (pz.pausing) {
        simlink_advance_us(tp, (uint64_t)(timeout_ms < PAUSE_MS ? timeout_ms : PAUSE_MS) * 1000);
        if (timeout_ms < PAUSE_MS)
            return ED_E_TIMEOUT;
        pz.pausing = false;
    }
    if (pz.held_len) {
        size_t n = pz.held_len < cap ? pz.held_len : cap;
        memcpy(buf, pz.held, n);
        memmove(pz.held, pz.held + n, pz.held_len - n);
        pz.held_len -= n;
        *got = n;
        return ED_OK;
    }
    int rc = ed_tp_read(tp, buf, cap, got, timeout_ms);
    const uint8_t *nl = rc == ED_OK && pz.armed ? memchr(buf, '\n', *got) : NULL;
    if (nl && (size_t)(nl + 1 - buf) < *got && *got - (size_t)(nl + 1 - buf) <= sizeof pz.held) {
        size_t first = (size_t)(nl + 1 - buf);
        pz.held_len = *got - first;
        memcpy(pz.held, buf + first, pz.held_len);
        *got = first;
        pz.armed = false;
        pz.pausing = true;
    }
    return rc;
}

static int pz_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    (void)t;
    if (memchr(buf, 0x02, len))
        pz.armed = true;
    return ed_tp_write(tp, buf, len);
}

static int pz_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    (void)t;
    return ed_tp_set_lines(tp, dtr, rts);
}

static int pz_set_baud(struct ed_transport *t, uint32_t baud)
{
    int rc = ed_tp_set_baud(tp, baud);
    t->baud = tp->baud;
    return rc;
}

static int pz_flush_input(struct ed_transport *t)
{
    (void)t;
    pz.held_len = 0;
    return ed_tp_flush_input(tp);
}

static void pz_close(struct ed_transport *t)
{
    (void)t;
}

static uint64_t pz_now_us(struct ed_transport *t)
{
    (void)t;
    return ed_tp_now_us(tp);
}

static void pz_sleep_ms(struct ed_transport *t, unsigned ms)
{
    (void)t;
    ed_tp_sleep_ms(tp, ms);
}

static const struct ed_transport_ops pausing_ops = {
    .read = pz_read, .write = pz_write, .set_lines = pz_set_lines, .set_baud = pz_set_baud,
    .flush_input = pz_flush_input, .close = pz_close, .now_us = pz_now_us,
    .sleep_ms = pz_sleep_ms,
};

Test(fwprobe_sim, a_pause_in_the_banner_after_ctrl_b_is_waited_out, .init = with_micropython,
     .fini = stop)
{
    simlink_advance_us(tp, 2000000);   /* booted on its own; its banner is gone */
    ed_tp_flush_input(tp);
    memset(&pz, 0, sizeof pz);
    pz.tp.ops = &pausing_ops;
    pz.tp.has_modem_lines = true;
    pz.tp.baud = tp->baud;
    struct ed_fwprobe_opts o = { .reset = false, .poke = true };
    cr_assert_eq(ed_fwprobe_run(&pz.tp, &o, &r), ED_OK);
    cr_assert(r.answered);
    cr_assert_str_eq(r.version, "v1.23.0", "the banner after the pause was not waited for");
    cr_assert_not_null(strstr(r.banner, "MicroPython v1.23.0"), "%s", r.banner);
}
