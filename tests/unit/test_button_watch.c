/* The button watch (src/button.c) against the virtual board's press (--press-boot-at), on
 * the virtual clock, and the buttons' names by bridge and chip. */
#include "test_board_util.h"

#include "espdoctor/bridges.h"
#include "espdoctor/button.h"
#include "espdoctor/loader.h"

#define ESP32_DOWNLOAD "boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n" \
                       "waiting for download\r\n"
#define ESP32_FLASH "boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"

static struct sim_board_opts press_opts(unsigned at_ms, unsigned hold_ms)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.no_autoreset = true;
    o.press_boot = true;
    o.press_boot_at_ms = at_ms;
    o.press_boot_hold_ms = hold_ms;
    return o;
}

Test(board_press, holding_boot_through_the_en_tap_enters_download_mode)
{
    struct sim_board_opts o = press_opts(300, 500);
    struct rig r = rig_open(&o, 115200);
    char log[4096];
    rig_collect(&r, log, sizeof log, 250);
    cr_assert_null(strstr(log, "waiting for download"), "before the press: %s", log);
    cr_assert_not(sim_board_in_download_mode(r.board));
    rig_collect(&r, log, sizeof log, 700);
    cr_assert(strstr(log, ESP32_DOWNLOAD), "log: %s", log);
    cr_assert(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(board_press, letting_go_of_boot_before_en_boots_from_flash)
{
    struct sim_board_opts o = press_opts(300, 100);   /* BOOT up at 400, EN up at 450 */
    struct rig r = rig_open(&o, 115200);
    char log[4096];
    rig_collect(&r, log, sizeof log, 1000);
    cr_assert(strstr(log, ESP32_FLASH), "log: %s", log);
    cr_assert_null(strstr(log, "waiting for download"), "log: %s", log);
    cr_assert_not(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

struct seen {
    unsigned asks, ticks, banners, reached, expired;
};

static void count_event(void *ctx, const struct ed_button_status *st)
{
    struct seen *s = ctx;
    switch (st->event) {
    case ED_BUTTON_ASK: s->asks++; break;
    case ED_BUTTON_TICK: s->ticks++; break;
    case ED_BUTTON_RETRY: break;
    case ED_BUTTON_BANNER: s->banners++; break;
    case ED_BUTTON_REACHED: s->reached++; break;
    case ED_BUTTON_EXPIRED: s->expired++; break;
    }
}

static int watch(struct rig *r, unsigned timeout_ms, struct seen *seen,
                 struct ed_button_watch *w)
{
    static struct ed_loader ld;
    ed_loader_init(&ld, r->tp);
    *w = (struct ed_button_watch){ .timeout_ms = timeout_ms, .on_event = count_event,
                                   .ctx = seen };
    ed_button_names_for(NULL, ED_BUTTON_CHIP_UNKNOWN, &w->names);
    return ed_button_watch_run(&ld, w);
}

Test(button_watch, syncs_the_moment_the_banner_appears)
{
    struct sim_board_opts o = press_opts(1500, 500);
    o.firmware = SIM_FW_APP;   /* a program that prints: the watch must not sync into it */
    struct rig r = rig_open(&o, 115200);
    struct seen seen = { 0 };
    struct ed_button_watch w;
    cr_assert_eq(watch(&r, 5000, &seen, &w), ED_OK);
    cr_assert(w.banner_seen);
    cr_assert_eq(seen.asks, 1);
    cr_assert_eq(seen.banners, 1);
    cr_assert_eq(seen.reached, 1);
    cr_assert_eq(seen.expired, 0);
    /* Answered within a slice or two of the chip's start at 1.652 s, not at the end. */
    cr_assert_lt(w.waited_ms, 2500, "waited %u ms", w.waited_ms);
    cr_assert_gt(w.waited_ms, 1500, "waited %u ms: before the press?", w.waited_ms);
    cr_assert(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(button_watch, without_a_press_it_ends_after_its_time)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.no_autoreset = true;
    o.firmware = SIM_FW_APP;
    struct rig r = rig_open(&o, 115200);
    struct seen seen = { 0 };
    struct ed_button_watch w;
    cr_assert_eq(watch(&r, 3000, &seen, &w), ED_E_TIMEOUT);
    cr_assert_not(w.banner_seen);
    cr_assert_eq(seen.expired, 1);
    cr_assert_eq(seen.reached, 0);
    cr_assert_geq(seen.ticks, 2, "a countdown: %u ticks", seen.ticks);
    cr_assert_geq(w.waited_ms, 3000);
    cr_assert_lt(w.waited_ms, 3500);
    rig_close(&r);
}

Test(button_names, by_bridge_and_chip)
{
    const struct ed_bridge *cp2102 = ed_bridge_lookup(0x10c4, 0xea60);
    const struct ed_bridge *ch340 = ed_bridge_lookup(0x1a86, 0x7523);
    const struct ed_bridge *ftdi = ed_bridge_lookup(0x0403, 0x6001);
    cr_assert(cp2102 && ch340 && ftdi);
    struct ed_button_names n;
    ed_button_names_for(ch340, ED_BUTTON_CHIP_ESP8266, &n);
    cr_assert_str_eq(n.boot, "FLASH");
    cr_assert_str_eq(n.reset, "RST");
    ed_button_names_for(cp2102, ED_BUTTON_CHIP_ESP8266, &n);
    cr_assert_str_eq(n.boot, "FLASH");
    ed_button_names_for(cp2102, ED_BUTTON_CHIP_ESP32, &n);
    cr_assert_str_eq(n.boot, "BOOT");
    cr_assert_str_eq(n.reset, "EN");
    ed_button_names_for(ch340, ED_BUTTON_CHIP_UNKNOWN, &n);
    cr_assert_str_eq(n.boot, "BOOT (FLASH on NodeMCU)");
    cr_assert_str_eq(n.reset, "EN (RST on NodeMCU)");
    ed_button_names_for(NULL, ED_BUTTON_CHIP_ESP8266, &n);   /* bridge unknown */
    cr_assert_str_eq(n.boot, "BOOT (FLASH on NodeMCU)");
    ed_button_names_for(ftdi, ED_BUTTON_CHIP_ESP8266, &n);   /* no NodeMCU has one */
    cr_assert_str_eq(n.boot, "BOOT");
    ed_button_names_for(ftdi, ED_BUTTON_CHIP_UNKNOWN, &n);
    cr_assert_str_eq(n.reset, "EN");
}
