/* The board's crystal and the ESP32 ROM's estimate of it (board/clock.c), and the eFuse
 * words of real parts (board/efuse.c), as a client reads them with raw commands. The
 * decodings below are esptool's (targets/<chip>.py), written out here on purpose: the
 * board must satisfy the documented layout, not espdoctor's reading of it. */
#include "test_board_util.h"

#define RTCCALICFG1 0x3FF5F06Cu
#define EFUSE_BLK0 0x3FF5A000u

static struct rig connected(struct sim_board_opts *o)
{
    struct rig r = rig_open(o, 115200);
    rig_connect(&r);
    return r;
}

/* esptool's get_rom_cal_crystal_freq. */
static double rom_estimate_hz(struct rig *r)
{
    uint32_t cali = (rig_read_reg(r, RTCCALICFG1) >> 7) & 0x01FFFFFF;
    uint32_t ck8m = rig_read_reg(r, EFUSE_BLK0 + 16) & 0xFF;
    return (double)cali * 15625 * ck8m / 40;
}

static bool sync_answers(struct rig *r)
{
    struct rig_reply rep;
    for (int i = 0; i < 3; i++)
        if (rig_command(r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0, &rep, 100))
            return true;
    return false;
}

/* CHANGE_BAUDRATE(arg, 0) to the ROM, then the host follows to `host`. */
static void rom_change_baud(struct rig *r, uint32_t arg, uint32_t host)
{
    uint8_t p[8];
    put_le32(p, arg);
    put_le32(p + 4, 0);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x0F, p, 8, 0, &rep, 3000));
    cr_assert_eq(ed_tp_set_baud(r->tp, host), ED_OK);
    ed_tp_sleep_ms(r->tp, 50);
    ed_tp_flush_input(r->tp);
}

Test(board_clock, esp32_rom_estimate_is_the_crystal_plus_the_drift)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.xtal_drift = -0.10;
    struct rig r = connected(&o);
    double est = rom_estimate_hz(&r);
    /* 36 MHz, within the calibration noise (0.1 %) and the register's resolution. */
    cr_expect(est > 36e6 * 0.998 && est < 36e6 * 1.002, "estimate %.0f Hz", est);
    /* esptool's pick of the nominal crystal from it: above 33 MHz is 40 MHz. */
    cr_expect_gt(est, 33e6);
    rig_close(&r);
}

Test(board_clock, default_drift_is_small_and_reads_back)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = connected(&o);
    double est = rom_estimate_hz(&r);
    cr_expect(est > 40e6 * 1.008 && est < 40e6 * 1.012, "estimate %.0f Hz", est);
    rig_close(&r);
}

Test(board_clock, uncompensated_rom_baud_change_at_the_extreme_is_garbage)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.xtal_drift = -0.10;
    struct rig r = connected(&o);
    rom_change_baud(&r, 921600, 921600);
    cr_expect_gt(sim_board_chip_baud(r.board), 1000000, "the ROM ran its UART at %u",
                 sim_board_chip_baud(r.board));
    cr_expect_not(sync_answers(&r), "a SYNC went through a UART 11 %% off its rate");
    rig_close(&r);
}

Test(board_clock, compensated_rom_baud_change_lands_on_the_rate)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.xtal_drift = -0.10;
    struct rig r = connected(&o);
    double est = rom_estimate_hz(&r);
    rom_change_baud(&r, (uint32_t)(921600.0 * est / 40e6), 921600);
    uint32_t real = sim_board_chip_baud(r.board);
    cr_expect(real > 921600 * 0.999 && real < 921600 * 1.001, "the UART runs at %u", real);
    cr_expect(sync_answers(&r));
    rig_close(&r);
}

Test(board_clock, the_stub_programs_the_rate_it_is_asked)
{
    /* Only the ROM divides its estimate: a stub's CHANGE_BAUDRATE(new, old) is exact. The
     * ESP32-S3's ROM knows its crystal and is exact too. */
    struct sim_board_opts o = rig_opts("esp32s3");
    struct rig r = connected(&o);
    rom_change_baud(&r, 921600, 921600);
    cr_expect_eq(sim_board_chip_baud(r.board), 921600);
    cr_expect(sync_answers(&r));
    rig_close(&r);
}

Test(board_clock, calibration_noise_is_seeded)
{
    double first[2];
    for (int run = 0; run < 2; run++) {
        struct sim_board_opts o = rig_opts("esp32");
        o.faults.seed = 77;
        struct rig r = connected(&o);
        first[run] = rom_estimate_hz(&r);
        rig_close(&r);
    }
    cr_expect_eq(first[0], first[1], "the same seed gave %.0f and %.0f", first[0], first[1]);
}

/* The crystal as esptool reads it: baud x UART_CLKDIV / divider, in MHz. */
static double crystal_mhz(struct rig *r, uint32_t clkdiv_reg, unsigned divider)
{
    uint32_t div = rig_read_reg(r, clkdiv_reg) & 0xFFFFF;
    return 115200.0 * div / 1e6 / divider;
}

Test(board_clock, esp32_with_a_26_mhz_crystal)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.xtal_mhz = 26;
    struct rig r = connected(&o);
    double mhz = crystal_mhz(&r, 0x3FF40014, 1);
    cr_expect(mhz > 25.5 && mhz < 26.5, "crystal %.2f MHz", mhz);
    double est = rom_estimate_hz(&r);
    cr_expect(est < 33e6 && est > 25e6, "estimate %.0f Hz: esptool would not pick 26 MHz", est);
    rig_close(&r);
}

Test(board_clock, esp8266_logs_at_74880_with_26_mhz_and_115200_with_40)
{
    static const struct { unsigned xtal; uint32_t log_baud; } cases[] = {
        { 26, 74880 }, { 40, 115200 },
    };
    for (size_t i = 0; i < 2; i++) {
        struct sim_board_opts o = rig_opts("esp8266");
        o.xtal_mhz = cases[i].xtal;
        struct rig r = rig_open(&o, cases[i].log_baud);
        rig_classic_reset(&r, 50);
        char log[512];
        rig_collect(&r, log, sizeof log, 200);
        cr_expect(strstr(log, "boot mode:(1,"), "%u MHz at %u: %s", cases[i].xtal,
                  cases[i].log_baud, log);
        ed_tp_set_baud(r.tp, 115200);
        struct rig_reply rep;
        bool synced = false;
        for (int k = 0; k < 5 && !synced; k++)
            synced = rig_command(&r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0, &rep, 100);
        cr_assert(synced);
        double mhz = crystal_mhz(&r, 0x60000014, 2);
        cr_expect(mhz > cases[i].xtal - 0.5 && mhz < cases[i].xtal + 0.5, "crystal %.2f", mhz);
        rig_close(&r);
    }
}

/* ---- eFuse words ------------------------------------------------------------------------ */

Test(board_efuse, esp32_is_a_d0wd_v3_revision_3)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = connected(&o);
    uint32_t w3 = rig_read_reg(&r, EFUSE_BLK0 + 12), w5 = rig_read_reg(&r, EFUSE_BLK0 + 20);
    uint32_t apb = rig_read_reg(&r, 0x3FF6607C);
    unsigned pkg = ((w3 >> 9) & 7) + (((w3 >> 2) & 1) << 3);
    unsigned combined = ((apb >> 31) & 1) << 2 | ((w5 >> 20) & 1) << 1 | ((w3 >> 15) & 1);
    cr_expect_eq(pkg, 1, "package %u: not a D0WD", pkg);
    cr_expect_eq(combined, 7, "revision bits %u: not v3", combined);
    cr_expect_eq((w5 >> 24) & 3, 0, "minor revision");
    cr_expect_eq(w3 & 1, 0, "single core");
    cr_expect_eq(rig_read_reg(&r, EFUSE_BLK0 + 24) & 3, 0, "coding scheme");
    rig_close(&r);
}

Test(board_efuse, esp32s2_is_an_fnr2_with_flash_and_psram)
{
    struct sim_board_opts o = rig_opts("esp32s2");
    struct rig r = connected(&o);
    uint32_t w3 = rig_read_reg(&r, 0x3F41A044 + 12);
    uint32_t flash_cap = (w3 >> 21) & 0xF, psram_cap = (w3 >> 28) & 0xF;
    cr_expect_eq(flash_cap + 100 * psram_cap, 102, "ESP32-S2FNR2 is 2 + 100 x 1");
    cr_expect_eq((w3 >> 18) & 3, 1, "major revision 1");
    cr_expect_eq((rig_read_reg(&r, 0x3F41A05C + 16) >> 4) & 7, 2, "BLK2 calibration V2");
    rig_close(&r);
}

Test(board_efuse, esp32c6_mac_ext_is_ff_fe_and_the_mac_is_intact)
{
    struct sim_board_opts o = rig_opts("esp32c6");
    struct rig r = connected(&o);
    uint32_t lo = rig_read_reg(&r, 0x600B0844), hi = rig_read_reg(&r, 0x600B0848);
    cr_expect_eq(hi >> 16, 0xFFFE, "MAC_EXT 0x%04X", hi >> 16);
    uint8_t mac[6];
    sim_board_mac(r.board, mac);
    cr_expect_eq(hi & 0xFFFF, (uint32_t)mac[0] << 8 | mac[1]);
    cr_expect_eq(lo, (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | mac[4] << 8 | mac[5]);
    cr_expect_eq((rig_read_reg(&r, 0x600B0844 + 12) >> 18) & 7, 1, "revision v0.1");
    rig_close(&r);
}

Test(board_efuse, flash_encryption_sets_the_crypt_counter)
{
    static const struct { const char *chip; uint32_t reg; unsigned shift; } cases[] = {
        { "esp32", 0x3FF5A000, 20 }, { "esp32c3", 0x60008834, 18 },
    };
    for (size_t i = 0; i < 2; i++) {
        for (int on = 0; on < 2; on++) {
            struct sim_board_opts o = rig_opts(cases[i].chip);
            o.flash_encrypted = on;
            struct rig r = connected(&o);
            uint32_t v = rig_read_reg(&r, cases[i].reg);
            cr_expect_eq((v >> cases[i].shift) & 1, (uint32_t)on, "%s, encrypted %d: 0x%08X",
                         cases[i].chip, on, v);
            rig_close(&r);
        }
    }
}
