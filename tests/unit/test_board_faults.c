/* The virtual board's injected faults (struct sim_faults, board/faults.c, nor.c) and
 * espsim's fault options (board/fault_spec.c), on the virtual clock. */
#include "test_board_util.h"

#include "board/fault_spec.h"
#include "espdoctor/loader.h"

#include <md5.h>
#include <stdio.h>

#define COLLECT_MAX 65536

/* What a blank ESP32 prints in `ms` of virtual time after power-on ("invalid header"
 * lines, a watchdog reset, again): plenty of text for counting line faults. */
static size_t blank_output(const struct sim_faults *f, char *buf, unsigned ms)
{
    struct sim_board_opts o = rig_opts("esp32");
    if (f)
        o.faults = *f;
    struct rig r = rig_open(&o, 115200);
    size_t n = rig_collect(&r, buf, COLLECT_MAX, ms);
    rig_close(&r);
    return n;
}

static char clean[COLLECT_MAX], noisy[COLLECT_MAX], again[COLLECT_MAX];

Test(faults, corruption_changes_bytes_at_about_the_rate_and_is_seeded)
{
    size_t n = blank_output(NULL, clean, 3000);
    cr_assert_gt(n, 5000, "only %zu bytes of output", n);
    struct sim_faults f = { .seed = 7, .corrupt_rate = 0.01 };
    size_t m = blank_output(&f, noisy, 3000);
    cr_assert_eq(m, n, "corruption must not change the length");
    size_t changed = 0;
    for (size_t i = 0; i < n; i++)
        changed += clean[i] != noisy[i];
    /* Expect about 1 % of the bytes: allow a wide statistical margin. */
    cr_assert(changed > n / 300 && changed < n / 30, "%zu of %zu bytes changed", changed, n);

    cr_assert_eq(blank_output(&f, again, 3000), n);
    cr_assert_arr_eq(noisy, again, n, "the same seed must give the same faults");
    f.seed = 8;
    blank_output(&f, again, 3000);
    cr_assert(memcmp(noisy, again, n) != 0, "another seed gave the same faults");
}

Test(faults, drops_lose_bytes)
{
    size_t n = blank_output(NULL, clean, 3000);
    struct sim_faults f = { .seed = 1, .drop_rate = 0.02 };
    size_t m = blank_output(&f, noisy, 3000);
    cr_assert(m < n - n / 200 && m > n - n / 15, "%zu of %zu bytes arrived", m, n);
}

Test(faults, no_faults_is_the_clean_board)
{
    struct sim_faults f = { .seed = 99 };
    size_t n = blank_output(NULL, clean, 1000);
    cr_assert_eq(blank_output(&f, noisy, 1000), n);
    cr_assert_arr_eq(clean, noisy, n);
}

/* The time (virtual, ms) from a SYNC to its first reply; -1 if none within 10 s. */
static long sync_reply_ms(struct rig *r)
{
    struct rig_reply rep;
    uint64_t t0 = ed_tp_now_us(r->tp);
    if (!rig_command(r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0, &rep, 10000))
        return -1;
    return (long)((ed_tp_now_us(r->tp) - t0) / 1000);
}

Test(faults, a_stall_freezes_the_link_once)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.fast = true;
    o.faults.stall_ms = 2500;
    o.faults.stall_at = 200;   /* past the first SYNCs */
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    long first = sync_reply_ms(&r);
    cr_assert(first >= 0 && first < 100, "before the stall: %ld ms", first);
    /* This SYNC brings the count past 200: its reply waits for the link. */
    long stalled = -1;
    for (int i = 0; i < 8 && (stalled = sync_reply_ms(&r)) >= 0 && stalled < 100; i++)
        ed_tp_flush_input(r.tp);
    cr_assert_geq(stalled, 2400, "the stall lasted %ld ms", stalled);
    ed_tp_sleep_ms(r.tp, 50);
    ed_tp_flush_input(r.tp);
    long after = sync_reply_ms(&r);
    cr_assert(after >= 0 && after < 100, "after the stall: %ld ms (only one stall)", after);
    rig_close(&r);
}

Test(faults, a_brownout_resets_the_chip_out_of_the_loader)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.fast = true;
    o.faults.brownout = true;
    o.faults.brownout_at = 300;
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    cr_assert(sim_board_in_download_mode(r.board));
    char log[4096];
    for (int i = 0; i < 10 && sim_board_in_download_mode(r.board); i++) {
        rig_send(&r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0);
        rig_collect(&r, log, sizeof log, 20);
    }
    cr_assert_not(sim_board_in_download_mode(r.board), "no brown-out");
    rig_collect(&r, log, sizeof log, 200);
    /* It came back up from flash (blank: "invalid header"), not in the loader. */
    cr_assert_not_null(strstr(log, "invalid header"), "%s", log);
    cr_assert_eq(sync_reply_ms(&r), -1, "the loader still answers");
    rig_close(&r);
}

Test(faults, a_bad_sector_does_not_program_and_says_nothing)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.fast = true;
    o.faults.bad_sectors[o.faults.bad_sector_count++] = 0x11000;
    struct rig r = rig_open(&o, 115200);
    struct ed_loader *ld = calloc(1, sizeof *ld);
    cr_assert_not_null(ld);
    ed_loader_init(ld, r.tp);
    struct ed_connect_opts co = { .style = ED_RESET_AUTO_CIRCUIT };
    cr_assert_eq(ed_loader_connect(ld, &co), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(ld), ED_OK);
    cr_assert_eq(ed_loader_spi_attach(ld), ED_OK);
    /* 8 KiB of 0x5A from 0x10000: the second sector is the bad one. */
    uint8_t block[ED_FLASH_BLOCK_ROM];
    memset(block, 0x5A, sizeof block);
    cr_assert_eq(ed_loader_flash_begin(ld, 0x2000, 0x10000), ED_OK);
    for (uint32_t seq = 0; seq < 8; seq++)
        cr_assert_eq(ed_loader_flash_data(ld, block, sizeof block, seq), ED_OK,
                     "block %u was refused", seq);
    size_t size;
    const uint8_t *mem = sim_board_flash(r.board, &size);
    cr_assert_eq(mem[0x10000], 0x5A);
    cr_assert_eq(mem[0x10FFF], 0x5A);
    cr_assert_eq(mem[0x11000], 0xFF, "the bad sector was programmed");
    cr_assert_eq(mem[0x11FFF], 0xFF);
    /* What MD5 verification sees: the flash differs from what was sent. */
    uint8_t md5[16], want[16];
    MD5_CTX ctx;
    MD5Init(&ctx);
    for (int i = 0; i < 8; i++)
        MD5Update(&ctx, block, sizeof block);
    MD5Final(want, &ctx);
    cr_assert_eq(ed_loader_flash_md5(ld, 0x10000, 0x2000, md5), ED_OK);
    cr_assert(memcmp(md5, want, 16) != 0);
    free(ld);
    rig_close(&r);
}

/* SYNC at 115200 against a chip whose UART is off by pct percent. */
static bool syncs_with_speed_error(double pct)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.fast = true;
    o.faults.speed_error = pct / 100;
    struct rig r = rig_open(&o, 115200);
    rig_classic_reset(&r, 50);
    char log[512];
    rig_collect(&r, log, sizeof log, 50);
    bool ok = false;
    for (int i = 0; i < 5 && !ok; i++)
        ok = sync_reply_ms(&r) >= 0;
    rig_close(&r);
    return ok;
}

Test(faults, a_uart_slightly_off_works_and_far_off_is_garbage)
{
    cr_assert(syncs_with_speed_error(2));
    cr_assert(syncs_with_speed_error(-2));
    cr_assert_not(syncs_with_speed_error(15));
    cr_assert_not(syncs_with_speed_error(-30));
}

Test(faults, power_off_silences_the_chip_and_power_on_boots_it_again)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    char log[COLLECT_MAX];
    rig_collect(&r, log, sizeof log, 100);
    sim_board_set_power(r.board, false, ed_tp_now_us(r.tp));
    cr_assert_eq(rig_collect(&r, log, sizeof log, 1000), 0, "an unpowered chip printed %s", log);
    sim_board_set_power(r.board, true, ed_tp_now_us(r.tp));
    rig_collect(&r, log, sizeof log, 100);
    cr_assert_not_null(strstr(log, "POWERON_RESET"), "%s", log);
    rig_close(&r);
}

/* ---- espsim's fault options -------------------------------------------------------- */

static bool parse(int id, const char *arg, struct sim_faults *f, char *err)
{
    return sim_fault_parse(id, arg, f, err, 512);
}

Test(fault_options, good_values)
{
    struct sim_faults f = { 0 };
    char err[512];
    cr_assert(parse(SIM_OPT_SEED, "42", &f, err));
    cr_assert_eq(f.seed, 42);
    cr_assert(parse(SIM_OPT_LINE_ERRORS, "1e-4", &f, err));
    cr_assert_float_eq(f.drop_rate, 5e-5, 1e-12);
    cr_assert_float_eq(f.corrupt_rate, 5e-5, 1e-12);
    cr_assert(parse(SIM_OPT_DROP_RATE, "0.25", &f, err));
    cr_assert_float_eq(f.drop_rate, 0.25, 1e-12);
    cr_assert(parse(SIM_OPT_STALL, "2500@40000", &f, err));
    cr_assert_eq(f.stall_ms, 2500);
    cr_assert_eq(f.stall_at, 40000);
    cr_assert(parse(SIM_OPT_STALL, "300", &f, err));
    cr_assert_eq(f.stall_at, 1);
    cr_assert(parse(SIM_OPT_UNPLUG_AT, "30000:500", &f, err));
    cr_assert(f.unplug);
    cr_assert_eq(f.unplug_at, 30000);
    cr_assert_eq(f.replug_ms, 500);
    cr_assert(parse(SIM_OPT_UNPLUG_AT, "100", &f, err));
    cr_assert_eq(f.replug_ms, SIM_DEFAULT_REPLUG_MS);
    cr_assert(parse(SIM_OPT_BROWNOUT_AT, "0x1000", &f, err));
    cr_assert(f.brownout);
    cr_assert_eq(f.brownout_at, 0x1000);
    cr_assert(parse(SIM_OPT_BAD_SECTOR, "0x10123", &f, err));
    cr_assert_eq(f.bad_sector_count, 1);
    cr_assert_eq(f.bad_sectors[0], 0x10000);
    cr_assert(parse(SIM_OPT_WRONG_SPEED, "-3.5%", &f, err));
    cr_assert_float_eq(f.speed_error, -0.035, 1e-12);
}

Test(fault_options, bad_values_say_what_is_wanted)
{
    static const struct { int id; const char *arg; const char *says; } bad[] = {
        { SIM_OPT_SEED, "-1", "whole number" },
        { SIM_OPT_LINE_ERRORS, "2", "probability" },
        { SIM_OPT_LINE_ERRORS, "lots", "probability" },
        { SIM_OPT_CORRUPT_RATE, "", "probability" },
        { SIM_OPT_STALL, "0", "MS[@BYTE]" },
        { SIM_OPT_STALL, "100@", "MS[@BYTE]" },
        { SIM_OPT_STALL, "100x", "MS[@BYTE]" },
        { SIM_OPT_UNPLUG_AT, "x", "BYTE[:MS]" },
        { SIM_OPT_UNPLUG_AT, "10:", "BYTE[:MS]" },
        { SIM_OPT_BROWNOUT_AT, "soon", "byte count" },
        { SIM_OPT_BAD_SECTOR, "0x1g", "flash address" },
        { SIM_OPT_WRONG_SPEED, "0", "percent" },
        { SIM_OPT_WRONG_SPEED, "-60", "percent" },
        { SIM_OPT_WRONG_SPEED, "fast", "percent" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sim_faults f = { 0 };
        char err[512] = "";
        cr_assert_not(parse(bad[i].id, bad[i].arg, &f, err), "\"%s\" was taken", bad[i].arg);
        cr_assert_not_null(strstr(err, bad[i].says), "\"%s\": %s", bad[i].arg, err);
        cr_assert_not_null(strstr(err, bad[i].arg), "the message does not quote it: %s", err);
    }
}

Test(fault_options, at_most_four_bad_sectors)
{
    struct sim_faults f = { 0 };
    char err[512];
    for (int i = 0; i < SIM_MAX_BAD_SECTORS; i++)
        cr_assert(parse(SIM_OPT_BAD_SECTOR, "0x2000", &f, err));
    cr_assert_not(parse(SIM_OPT_BAD_SECTOR, "0x3000", &f, err));
    cr_assert_not_null(strstr(err, "at most 4"), "%s", err);
}

Test(fault_options, help_names_every_option)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    sim_fault_usage(f);
    fclose(f);
    static const char *const names[] = { "--seed", "--line-errors", "--drop-rate",
                                         "--corrupt-rate", "--stall", "--unplug-at",
                                         "--brownout-at", "--bad-sector", "--wrong-speed" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_not_null(strstr(text, names[i]), "%s is not in the help", names[i]);
    free(text);
}
