/* The connect loop follows a port that re-enumerates (loader_connect.c, opts.follow),
 * against the board's USB-OTG model (board/usbdev.c) on the virtual clock: an ESP32-S3
 * app's TinyUSB port vanishes at the reset and the ROM's comes back; espdoctor syncs
 * there without resetting again, says so in the attempt, and gives up after a bounded
 * number of follows. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/loader.h"

#define WAIT_US 5000000ull
#define STEP_US 10000ull

struct follower {
    struct sim_board *board;
    unsigned calls;
    bool hand_back_dead;   /* return a port that is already gone */
};

static int follow(void *ctx, struct ed_transport **tp, char *note, size_t len)
{
    struct follower *f = ctx;
    f->calls++;
    uint64_t now = simlink_now_us(*tp);
    ed_tp_close(*tp);
    *tp = NULL;
    uint64_t until = now + WAIT_US;
    while (!f->hand_back_dead && now < until &&
           sim_board_usb_device(f->board, now) == SIM_USB_ABSENT)
        now += STEP_US;
    if (!f->hand_back_dead && sim_board_usb_device(f->board, now) == SIM_USB_ABSENT)
        return ED_E_GONE;
    *tp = simlink_open_usb(f->board, 115200);
    snprintf(note, len, "found again after %llu ms", (unsigned long long)(now / 1000));
    return *tp ? ED_OK : ED_E_IO;
}

static struct sim_board *s3_on_otg(void)
{
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = "esp32s3";
    o.link = SIM_LINK_USB_OTG;
    o.firmware = SIM_FW_APP;
    char err[256];
    struct sim_board *b = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(b, "%s", err);
    /* The app's TinyUSB port is on the bus. */
    cr_assert_eq(sim_board_usb_device(b, (SIM_USB_ENUM_MS_DEFAULT + 100) * 1000ull),
                 SIM_USB_APP);
    return b;
}

Test(connect_follow, the_rom_port_is_found_again_and_synced_without_a_reset)
{
    struct sim_board *b = s3_on_otg();
    struct follower f = { .board = b };
    struct ed_loader *ld = calloc(1, sizeof *ld);
    cr_assert_not_null(ld);
    ed_loader_init(ld, simlink_open_usb(b, 115200));
    struct ed_connect_opts o = { .style = ED_RESET_AUTO_CIRCUIT, .follow = follow,
                                 .follow_ctx = &f };
    cr_assert_eq(ed_loader_connect(ld, &o), ED_OK);
    cr_expect_eq(f.calls, 1);
    cr_assert_eq(ld->attempt_count, 2);
    cr_expect_eq(ld->attempts[0].result, ED_E_GONE);
    cr_expect(ld->attempts[0].followed[0], "the attempt does not say the port came back");
    cr_expect_not(ld->attempts[1].reset_done, "it reset the chip again after following it");
    cr_expect_eq(ld->attempts[1].result, ED_OK);
    cr_expect(sim_board_in_download_mode(b));
    char line[512];
    ed_loader_describe_attempt(&ld->attempts[0], line, sizeof line);
    cr_expect(strstr(line, "; the port re-enumerated: found again"), "%s", line);
    ed_tp_close(ld->tp);
    free(ld);
    sim_board_free(b);
}

Test(connect_follow, following_is_bounded)
{
    struct sim_board *b = s3_on_otg();
    struct follower f = { .board = b, .hand_back_dead = true };
    struct ed_loader *ld = calloc(1, sizeof *ld);
    cr_assert_not_null(ld);
    ed_loader_init(ld, simlink_open_usb(b, 115200));
    /* Reset it so that its port is gone, and hand back ports that stay gone. */
    ed_tp_set_lines(ld->tp, true, true);
    ed_tp_set_lines(ld->tp, false, true);
    struct ed_connect_opts o = { .style = ED_RESET_AUTO_CIRCUIT, .follow = follow,
                                 .follow_ctx = &f };
    cr_expect_eq(ed_loader_connect(ld, &o), ED_E_GONE);
    cr_expect_eq(f.calls, ED_CONNECT_FOLLOWS);
    ed_tp_close(ld->tp);
    free(ld);
    sim_board_free(b);
}

Test(connect_follow, without_a_follower_a_vanished_port_ends_the_connect)
{
    struct sim_board *b = s3_on_otg();
    struct ed_loader *ld = calloc(1, sizeof *ld);
    cr_assert_not_null(ld);
    ed_loader_init(ld, simlink_open_usb(b, 115200));
    struct ed_connect_opts o = { .style = ED_RESET_AUTO_CIRCUIT };
    cr_expect_eq(ed_loader_connect(ld, &o), ED_E_GONE);
    cr_expect_eq(ld->attempt_count, 1);
    ed_tp_close(ld->tp);
    free(ld);
    sim_board_free(b);
}
