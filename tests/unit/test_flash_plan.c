/* The flash plan's own checks (files, raw data, alignment, overlaps), the chip revision
 * reader, the baud ladder and the progress bar's text. Image-against-chip checks are
 * image_check's (test_image_check) and run end to end in tests/e2e/test_flash.c. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "../../src/progress.h"   /* CLI-layer header: src/ is not on the test include path */

static char dir[64];
static struct ed_flash_plan plan;

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_flash_plan.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    ed_flash_plan_init(&plan);
}

static void remove_dir(void)
{
    ed_flash_plan_close(&plan);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A file of `size` bytes of raw data (no image header); returns its path. */
static const char *raw_file(const char *name, size_t size)
{
    static char paths[4][128];
    static unsigned next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)(i * 7 % 251) + 1, f);
    fclose(f);
    return p;
}

static bool has_issue(const struct ed_flash_item *it, const char *id, bool forceable)
{
    for (size_t k = 0; k < it->issue_count; k++)
        if (strcmp(it->issues[k].id, id) == 0 && it->issues[k].forceable == forceable)
            return true;
    return false;
}

Test(plan, unreadable_and_not_firmware_files, .init = make_dir, .fini = remove_dir)
{
    char err[1024], path[128];
    snprintf(path, sizeof path, "%s/missing.bin", dir);
    cr_assert_eq(ed_flash_plan_add(&plan, path, false, 0, err, sizeof err),
                 ED_FLASH_INPUT_UNREADABLE);
    cr_assert_eq(ed_flash_plan_add(&plan, dir, false, 0, err, sizeof err),
                 ED_FLASH_INPUT_UNREADABLE);
    cr_assert_not_null(strstr(err, "directory"), "%s", err);
    snprintf(path, sizeof path, "%s/page.bin", dir);
    FILE *f = fopen(path, "w");
    fputs("<!DOCTYPE html><html><title>MicroPython downloads</title></html>\n", f);
    fclose(f);
    cr_assert_eq(ed_flash_plan_add(&plan, path, false, 0, err, sizeof err),
                 ED_FLASH_INPUT_NOT_FIRMWARE);
    cr_assert_not_null(strstr(err, "web page"), "%s", err);
    cr_assert_eq(plan.count, 0, "nothing was added");
}

Test(plan, raw_data_needs_an_address_and_force, .init = make_dir, .fini = remove_dir)
{
    char err[1024];
    const char *fs = raw_file("fs.img", 8192);
    cr_assert_eq(ed_flash_plan_add(&plan, fs, false, 0, err, sizeof err), ED_FLASH_INPUT_RAW);
    cr_assert_eq(plan.count, 1);
    size_t hard = 0;
    cr_assert_eq(ed_flash_plan_check(&plan, NULL, 0, ED_IMAGE_REVISION_UNKNOWN, &hard), 1);
    cr_assert_eq(hard, 1);
    cr_assert(has_issue(&plan.items[0], "flash.no-address", false));

    ed_flash_plan_close(&plan);
    ed_flash_plan_init(&plan);
    cr_assert_eq(ed_flash_plan_add(&plan, fs, true, 0x200000, err, sizeof err),
                 ED_FLASH_INPUT_RAW);
    cr_assert_eq(ed_flash_plan_check(&plan, ed_chip_by_key("esp32"), 4u << 20,
                                     ED_IMAGE_REVISION_UNKNOWN, &hard), 1);
    cr_assert_eq(hard, 0, "--force may write raw data at a given address");
    cr_assert(has_issue(&plan.items[0], "image.unknown", true));
    cr_assert_eq(plan.items[0].addr, 0x200000);
}

Test(plan, unaligned_overlapping_and_past_the_end, .init = make_dir, .fini = remove_dir)
{
    char err[1024];
    const char *a = raw_file("a.bin", 0x2000), *b = raw_file("b.bin", 0x1000);
    const char *c = raw_file("c.bin", 0x3000);
    cr_assert_eq(ed_flash_plan_add(&plan, a, true, 0x10000, err, sizeof err), ED_FLASH_INPUT_RAW);
    cr_assert_eq(ed_flash_plan_add(&plan, b, true, 0x11000, err, sizeof err), ED_FLASH_INPUT_RAW);
    cr_assert_eq(ed_flash_plan_add(&plan, c, true, 0x3FF800, err, sizeof err),
                 ED_FLASH_INPUT_RAW);
    size_t hard = 0;
    ed_flash_plan_check(&plan, ed_chip_by_key("esp32"), 4u << 20, ED_IMAGE_REVISION_UNKNOWN,
                        &hard);
    cr_assert(has_issue(&plan.items[1], "flash.overlap", false));
    cr_assert(has_issue(&plan.items[2], "flash.unaligned", false));
    cr_assert(has_issue(&plan.items[2], "image.too-large", false));
    cr_assert_not(has_issue(&plan.items[0], "flash.unaligned", false));
    cr_assert_eq(hard, 3);
}

/* The ESP8266 ROM cannot erase one sector alone: such a file is refused unless a file
 * written after it covers the next sector; reaching into one written before is refused
 * as destroying it. Other loaders erase exactly, and nothing is refused. */
Test(plan, esp8266_rom_erase_reach, .init = make_dir, .fini = remove_dir)
{
    char err[1024];
    const char *init = raw_file("init.bin", 128), *param = raw_file("param.bin", 0x2000);
    const char *big = raw_file("big.bin", 0xA010);
    cr_assert_eq(ed_flash_plan_add(&plan, init, true, 0x3FC000, err, sizeof err),
                 ED_FLASH_INPUT_RAW);
    cr_assert_eq(ed_flash_plan_add(&plan, big, true, 0x0, err, sizeof err), ED_FLASH_INPUT_RAW);
    const struct ed_chip *chip = ed_chip_by_key("esp8266");
    size_t hard = 0;
    ed_flash_plan_check(&plan, chip, 4u << 20, ED_IMAGE_REVISION_UNKNOWN, &hard);
    cr_assert_eq(hard, 0, "the stub erases exactly");
    plan.esp8266_rom_erase = true;
    ed_flash_plan_check(&plan, chip, 4u << 20, ED_IMAGE_REVISION_UNKNOWN, &hard);
    cr_assert(has_issue(&plan.items[0], "flash.erase-spill", false));
    cr_assert_not(has_issue(&plan.items[1], "flash.erase-spill", false), "11 sectors are cut");
    cr_assert_eq(hard, 1);
    cr_assert_not_null(strstr(plan.items[0].issues[1].message, "0x3fd000-0x3fdfff"), "%s",
                       plan.items[0].issues[1].message);

    /* A later file covers the sector after it: fine. */
    cr_assert_eq(ed_flash_plan_add(&plan, param, true, 0x3FD000, err, sizeof err),
                 ED_FLASH_INPUT_RAW);
    ed_flash_plan_check(&plan, chip, 4u << 20, ED_IMAGE_REVISION_UNKNOWN, &hard);
    cr_assert_eq(hard, 0);
    /* One sector just before a file written earlier: that file's first sector would go. */
    const char *last = raw_file("last.bin", 0x100);
    cr_assert_eq(ed_flash_plan_add(&plan, last, true, 0x20000, err, sizeof err),
                 ED_FLASH_INPUT_RAW);
    plan.items[1].addr = 0x21000;
    ed_flash_plan_check(&plan, chip, 4u << 20, ED_IMAGE_REVISION_UNKNOWN, &hard);
    cr_assert_eq(hard, 1);
    cr_assert(has_issue(&plan.items[3], "flash.erase-overlap", false));
}

Test(plan, at_most_sixteen_files, .init = make_dir, .fini = remove_dir)
{
    char err[1024];
    const char *f = raw_file("f.bin", 4096);
    for (unsigned i = 0; i < ED_FLASH_MAX_REGIONS; i++)
        cr_assert_eq(ed_flash_plan_add(&plan, f, true, 0x10000 * (i + 1), err, sizeof err),
                     ED_FLASH_INPUT_RAW);
    cr_assert_eq(ed_flash_plan_add(&plan, f, true, 0x200000, err, sizeof err),
                 ED_FLASH_INPUT_TOO_MANY);
}

/* ---- the board's revision and the baud ladder ------------------------------------------- */

static struct sim_board *board;
static struct ed_transport *tp;
static struct ed_loader ld;

static void connect_to(const char *chip)
{
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = chip;
    char err[200];
    board = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(board, "%s", err);
    tp = simlink_open(board, 115200);
    ed_loader_init(&ld, tp);
    const struct ed_connect_opts c = { .style = ED_RESET_AUTO_CIRCUIT };
    cr_assert_eq(ed_loader_connect(&ld, &c), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&ld), ED_OK);
}

static void disconnect(void)
{
    ed_tp_close(tp);
    sim_board_free(board);
}

Test(board, esp32_revision_from_efuse)
{
    connect_to("esp32");
    uint32_t rev = 12345;
    /* The virtual chip has a real ESP32-D0WD-V3's eFuse words and APB date: v3.0. */
    cr_assert_eq(ed_flash_chip_revision(&ld, &rev), ED_OK);
    cr_assert_eq(rev, 300);
    disconnect();
    connect_to("esp32c3");
    cr_assert_eq(ed_flash_chip_revision(&ld, &rev), ED_E_UNSUPPORTED);
    disconnect();
}

Test(board, rom_baud_switch_is_confirmed)
{
    connect_to("esp32");
    uint32_t reached = 0;
    cr_assert_eq(ed_flash_set_baud(&ld, 460800, &reached), ED_OK);
    cr_assert_eq(reached, 460800);
    cr_assert_eq(tp->baud, 460800);
    /* The ROM sets its divider from its own crystal estimate (board/clock.c), which the
     * client read back and compensated: the UART lands within the estimate's rounding. */
    uint32_t chip = sim_board_chip_baud(board);
    cr_assert(chip > 460800 * 0.998 && chip < 460800 * 1.002, "chip UART at %u", chip);
    disconnect();
    connect_to("esp8266");
    cr_assert_eq(ed_flash_set_baud(&ld, 921600, &reached), ED_E_UNSUPPORTED);
    cr_assert_eq(reached, 115200);
    disconnect();
}

/* ---- the progress bar's text ---------------------------------------------------------- */

Test(progress, shows_bytes_rate_and_time_left)
{
    char line[256];
    ed_progress_format(line, sizeof line, "mp.bin", 512 * 1024, 2 * 1024 * 1024, 4.0);
    cr_assert_str_eq(line, "mp.bin  [######..................]  25%  512 KiB/2.0 MiB  "
                           "128 KiB/s  0:12 left");
    ed_progress_format(line, sizeof line, "x", 0, 100, 0.0);
    cr_assert_str_eq(line, "x  [........................]   0%  0 B/100 B");
    ed_progress_format(line, sizeof line, "x", 200, 100, 1.0);
    cr_assert_not_null(strstr(line, "100%"), "%s", line);
}

Test(progress, is_silent_when_off)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct ed_progress p;
    ed_progress_start(&p, f, false, "x", 100);
    ed_progress_update(&p, 50);
    ed_progress_end(&p);
    fflush(f);
    cr_assert_eq(len, 0);
    ed_progress_start(&p, f, true, "x", 100);
    ed_progress_update(&p, 100);
    ed_progress_end(&p);
    fflush(f);
    cr_assert_not_null(strstr(buf, "100%"), "%s", buf);
    fclose(f);
    free(buf);
}
