/* The ESP32 ROM's CHANGE_BAUDRATE lands off the asked rate by however far its crystal
 * estimate is off (board/clock.c): espdoctor must compensate (src/loader_rom_baud.c), or
 * a no-stub flash at 921600 loses the board. */
#include "e2e_sim.h"

#define APP_ADDR 0x10000u

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("rom_baud");
}

/* A no-stub flash at 921600 on an ESP32 whose ROM estimate is `drift` percent off: it
 * writes and verifies at 921600, and the board's trace shows why it could. */
static void flash_at_921600_with_drift(const char *drift)
{
    const char *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind",
                                  "app", "--size", "64K", NULL });
    const char *flash = scratch_path("board.flash");
    const char *trace = scratch_path("trace.txt");
    sim_run(&r, (const char *[]){ "--chip", "esp32", "--xtal-drift", drift, "--flash", flash,
                                  "--trace", trace, NULL },
            (const char *[]){ "flash", "--json", "--no-stub", "-b", "921600", img, NULL });
    cr_assert_eq(r.status, 0, "flash failed (exit %d):\n%s", r.status, r.err);
    json_object *o = sim_json(&r);
    cr_expect_str_eq(json_object_get_string(sim_get(o, "result")), "ok");
    json_object *region = json_object_array_get_idx(sim_get(o, "regions"), 0);
    cr_assert_not_null(region);
    cr_expect_eq(json_object_get_int(sim_get(region, "baud")), 921600,
                 "written at %d baud, not 921600", json_object_get_int(sim_get(region, "baud")));
    cr_expect(json_object_get_boolean(sim_get(region, "verified")));
    cr_expect(sim_flash_holds(flash, img, APP_ADDR), "the flash does not hold the image");
    /* The board ran its UART at the rate espdoctor wanted because espdoctor asked the ROM
     * for a scaled one: "... asked; the ROM's divider ... makes it 9215xx". */
    char *t = sim_slurp(trace, NULL);
    cr_assert_not_null(t);
    const char *line = strstr(t, "the ROM's divider from its");
    cr_assert_not_null(line, "the trace has no ROM baud change:\n%s", t);
    const char *makes = strstr(line, "makes it ");
    cr_assert_not_null(makes);
    long real = strtol(makes + 9, NULL, 10);
    cr_expect(real > 921600 * 0.995 && real < 921600 * 1.005,
              "the chip's UART ran at %ld, not near 921600", real);
    free(t);
    json_object_put(o);
}

/* -10 % is the documented extreme (SIM_XTAL_DRIFT_EXTREME, tests/sim/README.md): without
 * the compensation the UART runs at 1,024,000 baud, 11 % fast, and every byte is garbage. */
Test(rom_baud, esp32_at_the_documented_extreme_drift_flashes_at_921600, .init = make_dir,
     .fini = scratch_remove, .timeout = 180)
{
    flash_at_921600_with_drift("-10");
}

Test(rom_baud, esp32_at_the_high_extreme_flashes_at_921600, .init = make_dir,
     .fini = scratch_remove, .timeout = 180)
{
    flash_at_921600_with_drift("12.5");
}
