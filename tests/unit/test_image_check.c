/* Pre-write checks: the wrong chip, the wrong address, too big, the wrong revision, and
 * broken files are refused with a message that names the file, the board and the fix. */
#include <criterion/criterion.h>
#include <string.h>

#include "test_image_util.h"

#define MB (1024u * 1024u)

static const struct ed_chip *chip(const char *key)
{
    const struct ed_chip *c = ed_chip_by_key(key);
    cr_assert_not_null(c, "no chip %s", key);
    return c;
}

/* The problem with this id in v, or NULL. */
static const struct ed_image_problem *find(const struct ed_image_verdict *v, const char *id)
{
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->problems[i].rule->id, id) == 0)
            return &v->problems[i];
    return NULL;
}

static void check(const char *path, const char *board, uint32_t flash, uint32_t rev,
                  uint32_t addr, bool addr_given, struct ed_image_verdict *v, int expect_rc)
{
    struct ed_image_info info;
    ti_open(path, &info);
    int rc = ed_image_check_target(&info, board ? chip(board) : NULL, flash, rev, addr,
                                   addr_given, v);
    cr_assert_eq(rc, expect_rc, "rc %d, %zu problems, first: %s", rc, v->count,
                 v->count ? v->problems[0].message : "-");
}

/* The seed report: MicroPython for the ESP32 written to an ESP8266. */
Test(image_check, esp32_image_on_esp8266_is_refused)
{
    const char *path = ti_mkimage("esp32spiram-20190913-v1.11-312-g22099ab88.bin",
                                  "--chip esp32 --kind merged --micropython "
                                  "v1.11-312-g22099ab88");
    struct ed_image_verdict v;
    check(path, "esp8266", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, true, &v, ED_E_IMAGE);
    cr_assert(v.blocked);
    const struct ed_image_problem *p = find(&v, "image.wrong-chip");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "esp32spiram-20190913-v1.11-312-g22099ab88.bin"),
                       "%s", p->message);
    cr_assert_not_null(strstr(p->message, "for the ESP32,"), "%s", p->message);
    cr_assert_not_null(strstr(p->message, "the board is an ESP8266"), "%s", p->message);
    cr_assert_not_null(strstr(p->message, "MicroPython v1.11-312-g22099ab88"), "%s",
                       p->message);
    cr_assert_not_null(strstr(p->fix, "https://micropython.org/download/ESP8266_GENERIC/"),
                       "%s", p->fix);
    /* The command flashes an ESP8266 download, never this file. */
    cr_assert_str_eq(p->fix_command, "espdoctor flash ESP8266_GENERIC-*.bin");
    /* Offsets are moot for a file that does not belong on the chip at all. */
    cr_assert_null(find(&v, "image.wrong-offset"));
}

Test(image_check, esp8266_image_on_esp32_is_refused)
{
    const char *path = ti_mkimage("esp8266.bin", "--chip esp8266 --kind v1 --micropython "
                                  "v1.24.0");
    struct ed_image_verdict v;
    check(path, "esp32", 4 * MB, 300, 0, false, &v, ED_E_IMAGE);
    const struct ed_image_problem *p = find(&v, "image.wrong-chip");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "for the ESP8266"), "%s", p->message);
    cr_assert_not_null(strstr(p->message, "board is an ESP32"), "%s", p->message);
    cr_assert_not_null(strstr(p->fix, "ESP32_GENERIC/"), "%s", p->fix);
}

Test(image_check, s3_image_on_c3_is_refused)
{
    const char *path = ti_mkimage("s3.bin", "--chip esp32s3 --kind merged --size 400K");
    struct ed_image_verdict v;
    check(path, "esp32c3", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_E_IMAGE);
    const struct ed_image_problem *p = find(&v, "image.wrong-chip");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "ESP32-S3"), "%s", p->message);
    cr_assert_not_null(strstr(p->message, "ESP32-C3"), "%s", p->message);
    cr_assert_not_null(strstr(p->fix, "ESP32_GENERIC_C3"), "%s", p->fix);
}

Test(image_check, merged_esp32_at_zero_is_refused)
{
    const char *path = ti_mkimage("merged.bin", "--chip esp32 --kind merged --size 400K");
    struct ed_image_verdict v;
    check(path, "esp32", 4 * MB, 100, 0x0, true, &v, ED_E_IMAGE);
    cr_assert_eq(v.count, 1);
    const struct ed_image_problem *p = find(&v, "image.wrong-offset");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "0x1000"), "%s", p->message);
    cr_assert_not_null(strstr(p->message, "0x7000"), "%s", p->message);
    cr_assert_not_null(strstr(p->message, "aimed at 0x0"), "%s", p->message);
    cr_assert_not_null(strstr(p->fix, "0x1000"), "%s", p->fix);
    /* Same chip: the command writes this very file, where it belongs (no address). */
    cr_assert_not_null(strstr(p->fix_command, "espdoctor flash "), "%s", p->fix_command);
    cr_assert_not_null(strstr(p->fix_command, "merged.bin"), "%s", p->fix_command);
    cr_assert_null(strstr(p->fix_command, "0x"), "%s", p->fix_command);
    cr_assert_eq(v.addr, 0x0);
}

Test(image_check, merged_without_address_goes_to_its_base)
{
    struct ed_image_verdict v;
    check(ti_mkimage("m32.bin", "--chip esp32 --kind merged --size 400K"), "esp32", 4 * MB,
          100, 0, false, &v, ED_OK);
    cr_assert_eq(v.count, 0, "%s", v.count ? v.problems[0].message : "");
    cr_assert_eq(v.addr, 0x1000);

    check(ti_mkimage("ms3.bin", "--chip esp32s3 --kind merged --size 400K"), "esp32s3",
          8 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_OK);
    cr_assert_eq(v.addr, 0x0);

    /* The right address given explicitly is fine too. */
    check(ti_mkimage("m32b.bin", "--chip esp32 --kind merged --size 400K"), "esp32", 4 * MB,
          100, 0x1000, true, &v, ED_OK);
    cr_assert_eq(v.count, 0);
}

Test(image_check, merged_laid_out_for_another_bootloader_address)
{
    /* An ESP32 file built as if its bootloader lived at 0x0: no address makes it boot. */
    const char *path = ti_mkimage("odd.bin", "--chip esp32 --kind merged --size 400K "
                                  "--base 0");
    struct ed_image_verdict v;
    check(path, "esp32", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_E_IMAGE);
    const struct ed_image_problem *p = find(&v, "image.wrong-offset");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "no address"), "%s", p->message);
}

Test(image_check, bootloader_and_app_addresses)
{
    struct ed_image_verdict v;
    const char *boot = ti_mkimage("boot.bin", "--chip esp32 --kind bootloader");
    check(boot, "esp32", 4 * MB, 100, 0x0, true, &v, ED_E_IMAGE);
    cr_assert_not_null(find(&v, "image.wrong-offset"));
    check(boot, "esp32", 4 * MB, 100, 0x1000, true, &v, ED_OK);
    check(boot, "esp32", 4 * MB, 100, 0, false, &v, ED_OK);
    cr_assert_eq(v.addr, 0x1000);

    const char *app = ti_mkimage("app.bin", "--chip esp32c3 --kind app --size 300K");
    check(app, "esp32c3", 4 * MB, 4, 0x0, true, &v, ED_E_IMAGE);
    cr_assert_not_null(find(&v, "image.wrong-offset"));
    check(app, "esp32c3", 4 * MB, 4, 0x10800, true, &v, ED_E_IMAGE);   /* not 64 KiB aligned */
    check(app, "esp32c3", 4 * MB, 4, 0x110000, true, &v, ED_OK);        /* an OTA slot */
    check(app, "esp32c3", 4 * MB, 4, 0, false, &v, ED_OK);
    cr_assert_eq(v.addr, 0x10000);

    const char *esp8266 = ti_mkimage("e.bin", "--chip esp8266 --kind v1");
    check(esp8266, "esp8266", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0x1000, true, &v, ED_E_IMAGE);
    cr_assert_not_null(find(&v, "image.wrong-offset"));
    check(esp8266, "esp8266", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_OK);
    cr_assert_eq(v.addr, 0x0);
}

Test(image_check, too_large_for_the_flash)
{
    const char *path = ti_mkimage("big.bin", "--chip esp32 --kind merged --size 5M");
    struct ed_image_verdict v;
    check(path, "esp32", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_E_IMAGE);
    const struct ed_image_problem *p = find(&v, "image.too-large");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "4 MB"), "%s", p->message);
    /* The same file fits a 16 MB board. */
    check(path, "esp32", 16 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_OK);
}

Test(image_check, header_flash_size_larger_than_board_is_a_warning)
{
    /* A 1 MB file declaring 4 MB of flash on a 2 MB board: fits, but say so. */
    const char *path = ti_mkimage("m.bin", "--chip esp32 --kind merged --size 1M");
    struct ed_image_verdict v;
    check(path, "esp32", 2 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_OK);
    cr_assert(!v.blocked);
    const struct ed_image_problem *p = find(&v, "image.flash-size");
    cr_assert_not_null(p);
    cr_assert(!p->rule->blocking);
}

Test(image_check, chip_revision_outside_the_range)
{
    const char *path = ti_mkimage("rev.bin", "--chip esp32 --kind merged --size 300K "
                                  "--min-rev 300 --max-rev 399");
    struct ed_image_verdict v;
    check(path, "esp32", 4 * MB, 100, 0, false, &v, ED_E_IMAGE);
    const struct ed_image_problem *p = find(&v, "image.revision");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "v3.0 to v3.99"), "%s", p->message);
    cr_assert_not_null(strstr(p->message, "v1.0"), "%s", p->message);
    check(path, "esp32", 4 * MB, 301, 0, false, &v, ED_OK);
    check(path, "esp32", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_OK);

    path = ti_mkimage("rev2.bin", "--chip esp32c3 --kind app --size 200K --max-rev 99");
    check(path, "esp32c3", 4 * MB, 104, 0, false, &v, ED_E_IMAGE);
    cr_assert_not_null(find(&v, "image.revision"));
}

Test(image_check, broken_files_are_refused)
{
    struct ed_image_verdict v;
    check(ti_mkimage("bad.bin", "--chip esp32 --kind merged --size 300K --corrupt"), "esp32",
          4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_E_IMAGE);
    const struct ed_image_problem *p = find(&v, "image.corrupt");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "checksum"), "%s", p->message);
    cr_assert_not_null(strstr(p->fix, "Download it again"), "%s", p->fix);

    const char *cut = ti_mkimage("cut.bin", "--chip esp32 --kind merged --size 300K");
    ti_truncate(cut, 0x20000);
    check(cut, "esp32", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_E_IMAGE);
    cr_assert_not_null(find(&v, "image.truncated"));

    check(ti_fixture("download-page.html"), "esp8266", 4 * MB, ED_IMAGE_REVISION_UNKNOWN, 0,
          false, &v, ED_E_IMAGE);
    p = find(&v, "image.not-firmware");
    cr_assert_not_null(p);
    cr_assert_not_null(strstr(p->message, "HTML"), "%s", p->message);
    cr_assert_not_null(strstr(p->fix, "download the .bin file itself"), "%s", p->fix);
    cr_assert_not_null(strstr(p->fix, "ESP8266_GENERIC"), "%s", p->fix);
}

Test(image_check, unknown_board_skips_chip_checks)
{
    struct ed_image_verdict v;
    check(ti_mkimage("m.bin", "--chip esp32s2 --kind merged --size 300K"), NULL, 0,
          ED_IMAGE_REVISION_UNKNOWN, 0, false, &v, ED_OK);
    cr_assert_eq(v.count, 0);
    cr_assert_eq(v.addr, 0x1000);
    /* The seed report's file aimed at 0x0 with no board known: where it belongs depends
     * on the chip that answers, so nothing is said about the address yet. */
    const char *seed = ti_mkimage("esp32spiram.bin", "--chip esp32 --kind merged");
    check(seed, NULL, 0, ED_IMAGE_REVISION_UNKNOWN, 0x0, true, &v, ED_OK);
    cr_assert_null(find(&v, "image.wrong-offset"));
}

Test(image_check, arguments_and_rule_table)
{
    struct ed_image_verdict v;
    struct ed_image_info info;
    memset(&info, 0, sizeof info);
    cr_assert_eq(ed_image_check_target(NULL, NULL, 0, 0, 0, false, &v), ED_E_ARG);
    cr_assert_eq(ed_image_check_target(&info, NULL, 0, 0, 0, false, NULL), ED_E_ARG);
    for (size_t i = 0; i < ED_IMAGE_P_COUNT; i++) {
        const struct ed_image_problem_rule *r = &ed_image_problem_rules[i];
        cr_assert_eq((size_t)r->code, i, "row %zu out of order", i);
        cr_assert_eq(strncmp(r->id, "image.", 6), 0, "%s", r->id);
        cr_assert_gt(strlen(r->summary), 10);
        cr_assert_gt(strlen(r->remedy), 10);
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(r->id, ed_image_problem_rules[k].id);
    }
}
