/* Did the line check's reset reach the chip? The line, firmware and bootloader checks
 * against the virtual board on a virtual clock, with a host that is not scheduled for a
 * while at the worst moments (a loaded machine): a late reader or a slow EN must never
 * pass for a board whose EN is not wired, and a board whose EN is not wired must still get
 * its verdict after one attempt. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/doctor.h"
#include "espdoctor/error.h"
#include "espdoctor/loader.h"

/* Where the host loses the CPU. */
enum stall_at {
    STALL_NONE,
    STALL_AFTER_RESET,     /* the first read that times out after the line check's reset */
    STALL_BEFORE_PROBE,    /* the firmware probe's baud setting (the second one) */
};

/* A transport over simlink that, once, lets STALL_MS pass without doing anything. */
struct stalling {
    struct ed_transport tp;
    struct ed_transport *inner;
    enum stall_at at;
    bool rts_was_high;     /* the line check's reset has begun */
    bool reset_done;       /* ... and ended */
    unsigned bauds_set;
    bool stalled;
};

#define STALL_MS 800u

static struct stalling *stalling_of(struct ed_transport *t)
{
    return t->impl;
}

static void stall_once(struct stalling *s)
{
    if (!s->stalled) {
        s->stalled = true;
        simlink_advance_us(s->inner, STALL_MS * 1000ull);
    }
}

static int st_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                   unsigned timeout_ms)
{
    struct stalling *s = stalling_of(t);
    int rc = ed_tp_read(s->inner, buf, cap, got, timeout_ms);
    if (rc == ED_E_TIMEOUT && s->at == STALL_AFTER_RESET && s->reset_done)
        stall_once(s);
    return rc;
}

static int st_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    return ed_tp_write(stalling_of(t)->inner, buf, len);
}

static int st_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    struct stalling *s = stalling_of(t);
    if (rts)
        s->rts_was_high = true;
    else if (s->rts_was_high)
        s->reset_done = true;
    return ed_tp_set_lines(s->inner, dtr, rts);
}

static int st_set_baud(struct ed_transport *t, uint32_t baud)
{
    struct stalling *s = stalling_of(t);
    if (++s->bauds_set == 2 && s->at == STALL_BEFORE_PROBE)
        stall_once(s);
    int rc = ed_tp_set_baud(s->inner, baud);
    t->baud = s->inner->baud;
    return rc;
}

static int st_flush_input(struct ed_transport *t)
{
    return ed_tp_flush_input(stalling_of(t)->inner);
}

static void st_close(struct ed_transport *t)
{
    struct stalling *s = stalling_of(t);
    ed_tp_close(s->inner);
    free(s);
}

static uint64_t st_now_us(struct ed_transport *t)
{
    return ed_tp_now_us(stalling_of(t)->inner);
}

static void st_sleep_ms(struct ed_transport *t, unsigned ms)
{
    ed_tp_sleep_ms(stalling_of(t)->inner, ms);
}

static const struct ed_transport_ops stalling_ops = {
    .read = st_read, .write = st_write, .set_lines = st_set_lines, .set_baud = st_set_baud,
    .flush_input = st_flush_input, .close = st_close, .now_us = st_now_us,
    .sleep_ms = st_sleep_ms,
};

static struct sim_board *board;
static struct ed_doctor doctor;

/* A board (its firmware, EN capacitor en_delay_ms, EN wired or not) whose port the doctor
 * has open through a host that stalls at `at`; board_up: with MicroPython. */
static void board_with(enum sim_firmware firmware, unsigned en_delay_ms, bool wired,
                       enum stall_at at)
{
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.firmware = firmware;
    o.en_delay_ms = en_delay_ms;
    o.no_autoreset = !wired;
    char err[200];
    board = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(board, "sim_board_new: %s", err);
    struct stalling *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    s->inner = simlink_open(board, 115200);
    cr_assert_not_null(s->inner);
    s->at = at;
    s->tp.ops = &stalling_ops;
    s->tp.impl = s;
    s->tp.has_modem_lines = true;
    s->tp.baud = s->inner->baud;
    snprintf(s->tp.name, sizeof s->tp.name, "%s", "stalling simlink");

    memset(&doctor, 0, sizeof doctor);
    doctor.has_target = true;
    snprintf(doctor.port_path, sizeof doctor.port_path, "/dev/ttyUSB0");
    doctor.tp = &s->tp;
}

static void board_up(unsigned en_delay_ms, bool wired, enum stall_at at)
{
    board_with(SIM_FW_MICROPYTHON, en_delay_ms, wired, at);
}

static void board_down(void)
{
    ed_doctor_close_port(&doctor);
    ed_report_free(&doctor.report);
    sim_board_free(board);
}

static void run_checks(void)
{
    cr_assert(ed_check_line(&doctor), "the line check stopped");
    cr_assert(ed_check_firmware(&doctor), "the firmware check stopped");
    ed_check_bootloader(&doctor);
}

Test(reset_heard, a_reader_late_after_the_reset_still_hears_the_rom)
{
    board_up(300, true, STALL_AFTER_RESET);
    run_checks();
    cr_expect(doctor.boot.resets > 0, "the line check missed the boot log it was sent");
    cr_expect_not(ed_report_has(&doctor.report, "boot.silent"));
    cr_expect_not(doctor.reset_unheard);
    cr_expect(doctor.bootloader_ok, "the slow-EN board was not reached");
    cr_expect(ed_report_has(&doctor.report, "reset.slow-en"));
    cr_expect_not(ed_report_has(&doctor.report, "reset.no-autoreset"));
    board_down();
}

/* The line check heard nothing (the chip starts 1 s after EN rises); the banner arrived
 * while the doctor was away, before the probe: it is evidence, not noise to discard. */
Test(reset_heard, a_banner_that_came_between_the_checks_counts)
{
    board_up(1000, true, STALL_BEFORE_PROBE);
    cr_assert(ed_check_line(&doctor));
    cr_assert_eq(doctor.boot.bytes, 0, "the chip was meant to be silent in the window");
    cr_assert(ed_report_has(&doctor.report, "boot.silent"));
    cr_assert(ed_check_firmware(&doctor));
    cr_expect_not(doctor.reset_unheard, "a ROM banner came after the reset");
    cr_expect_not(ed_report_has(&doctor.report, "boot.silent"), "it was late, not silent");
    ed_check_bootloader(&doctor);
    cr_expect_eq(doctor.ld->attempt_count, 4, "the whole ladder, not one attempt: %zu",
                 doctor.ld->attempt_count);
    board_down();
}

/* Even when the judgment before it went wrong: one attempt whose reset made the ROM speak
 * proves EN is wired, and the rest of the ladder is tried before any verdict. */
Test(reset_heard, a_reset_the_rom_answers_gets_the_whole_ladder)
{
    board_up(300, true, STALL_NONE);
    cr_assert(ed_check_line(&doctor));
    cr_assert(ed_check_firmware(&doctor));
    doctor.reset_unheard = true;
    ed_check_bootloader(&doctor);
    cr_expect(doctor.bootloader_ok, "stopped after one attempt: %zu",
              doctor.ld->attempt_count);
    cr_expect(ed_report_has(&doctor.report, "reset.slow-en"));
    board_down();
}

/* What all this must not cost: EN not wired, MicroPython at its prompt. The reset is
 * unheard, and one attempt is the evidence, also when the host stalls after the reset. */
Test(reset_heard, no_autoreset_is_judged_after_one_attempt)
{
    for (int at = STALL_NONE; at <= STALL_BEFORE_PROBE; at++) {
        board_up(0, false, (enum stall_at)at);
        run_checks();
        cr_expect(doctor.reset_unheard, "stall %d", at);
        cr_expect_eq(doctor.ld->attempt_count, 1, "stall %d: %zu attempts", at,
                     doctor.ld->attempt_count);
        cr_expect(ed_report_has(&doctor.report, "reset.no-autoreset"), "stall %d", at);
        cr_expect_not(doctor.bootloader_ok);
        board_down();
    }
}

/* EN not wired and the flash erased: the ROM loops on its own, and the line check's window
 * opens anywhere in the loop. It listens until the banner is in, so the blank flash is
 * named and nobody thinks the reset went unheard. */
Test(reset_heard, a_looping_blank_board_is_heard_to_its_banner)
{
    for (unsigned skew_ms = 0; skew_ms < 400; skew_ms += 50) {
        board_with(SIM_FW_BLANK, 0, false, STALL_NONE);
        struct stalling *s = doctor.tp->impl;
        simlink_advance_us(s->inner, skew_ms * 1000ull);   /* another phase of the loop */
        cr_assert(ed_check_line(&doctor));
        cr_expect(doctor.boot.resets >= 1, "skew %u ms: no banner heard", skew_ms);
        cr_expect(ed_report_has(&doctor.report, "firmware.blank"), "skew %u ms", skew_ms);
        cr_expect_not(doctor.reset_unheard, "skew %u ms", skew_ms);
        board_down();
    }
}

Test(reset_heard, a_finding_taken_back_leaves_the_others_in_order)
{
    struct ed_report r = { 0 };
    ed_finding_evidence(ed_report_add(&r, "device.found", "a"), "first");
    ed_report_add(&r, "boot.silent", "a");
    ed_finding_evidence(ed_report_add(&r, "bootloader.ok", "a"), "third");
    cr_assert(ed_report_drop(&r, "boot.silent"));
    cr_assert_not(ed_report_drop(&r, "boot.silent"), "there was only one");
    cr_assert_eq(r.count, 2);
    cr_assert_str_eq(r.items[0].diag->id, "device.found");
    cr_assert_str_eq(r.items[1].diag->id, "bootloader.ok");
    cr_assert_str_eq(r.items[1].evidence, "third");
    ed_report_free(&r);
}
