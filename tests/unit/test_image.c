/* Image analysis: every kind mkimage builds round-trips through the parser; files that are
 * not firmware are named for what they are; damage and truncation are caught. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "test_image_util.h"

static const char *const esp32_family[] = { "esp32", "esp32s2", "esp32s3", "esp32c3",
                                            "esp32c6" };

static void assert_part_sound(const struct ed_image_part *part, const char *what)
{
    cr_assert(part->present, "%s missing", what);
    cr_assert(part->checksum_ok, "%s checksum: stored 0x%02x computed 0x%02x", what,
              part->checksum_stored, part->checksum_computed);
    cr_assert(part->sha_appended, "%s has no SHA-256", what);
    cr_assert(part->sha_ok, "%s SHA-256 mismatch", what);
    cr_assert_str_eq(ed_image_flash_mode_name(part->flash_mode), "dio");
    cr_assert_eq(ed_image_flash_size_bytes(part), 4u * 1024 * 1024);
}

Test(image, merged_round_trip_every_chip)
{
    for (size_t i = 0; i < sizeof esp32_family / sizeof esp32_family[0]; i++) {
        const struct ed_chip *chip = ed_chip_by_key(esp32_family[i]);
        char name[64];
        snprintf(name, sizeof name, "%s-merged.bin", chip->key);
        const char *path = ti_mkimage(name, "--chip %s --kind merged --size 600K", chip->key);
        struct ed_image_info info;
        ti_open(path, &info);
        cr_assert_eq(info.kind, ED_IMAGE_MERGED, "%s: kind %s", chip->key,
                     ed_image_kind_key(info.kind));
        cr_assert_eq(info.chip, chip, "%s: chip", chip->key);
        cr_assert(!info.corrupt, "%s: %s", chip->key, info.evidence);
        cr_assert(info.base_known);
        cr_assert_eq(info.flash_base, chip->bootloader_offset, "%s base 0x%x", chip->key,
                     info.flash_base);
        cr_assert_eq(info.partition_table_file_offset, 0x8000 - chip->bootloader_offset);
        assert_part_sound(&info.boot, "bootloader");
        assert_part_sound(&info.app, "app");
        cr_assert_eq(info.boot.segment_count, 3);
        cr_assert_eq(info.app.segment_count, 4);
        cr_assert(info.app.flash_mapped);
        cr_assert(!info.boot.flash_mapped);
        cr_assert_eq(info.app.file_offset, 0x10000 - chip->bootloader_offset);
        cr_assert_eq(info.boot.chip_id, chip->image_chip_id);
        cr_assert_eq(info.partition_count, 4);
        cr_assert(info.partition_md5_present && info.partition_md5_ok);
        cr_assert_eq(info.app_partition, 2);
        cr_assert_str_eq(info.partitions[2].name, "factory");
        cr_assert_eq(info.partitions[2].offset, 0x10000);
        cr_assert(!info.micropython);
        const char *freq = ed_image_flash_freq_name(&info.app);
        cr_assert_str_eq(freq, strcmp(chip->key, "esp32c6") == 0 ? "80m" : "40m");
    }
}

Test(image, bootloader_and_app_alone)
{
    for (size_t i = 0; i < sizeof esp32_family / sizeof esp32_family[0]; i++) {
        const struct ed_chip *chip = ed_chip_by_key(esp32_family[i]);
        struct ed_image_info info;
        ti_open(ti_mkimage("boot.bin", "--chip %s --kind bootloader", chip->key), &info);
        cr_assert_eq(info.kind, ED_IMAGE_BOOTLOADER, "%s: %s", chip->key,
                     ed_image_kind_key(info.kind));
        cr_assert_eq(info.chip, chip);
        cr_assert_eq(info.flash_base, chip->bootloader_offset);
        assert_part_sound(&info.boot, "bootloader");
        cr_assert(!info.app.present);

        ti_open(ti_mkimage("app.bin", "--chip %s --kind app --size 300K", chip->key), &info);
        cr_assert_eq(info.kind, ED_IMAGE_APP, "%s: %s", chip->key, ed_image_kind_key(info.kind));
        cr_assert_eq(info.chip, chip);
        cr_assert_eq(info.flash_base, 0x10000);
        assert_part_sound(&info.app, "app");
        cr_assert(info.app.app_desc);
        cr_assert_str_eq(info.app.project_name, "espdoctor-test");
    }
}

Test(image, esp8266_v1_is_recognised_by_structure)
{
    struct ed_image_info info;
    const char *path = ti_mkimage("esp8266.bin", "--chip esp8266 --kind v1 --micropython "
                                  "v1.24.0");
    ti_open(path, &info);
    cr_assert_eq(info.kind, ED_IMAGE_ESP8266_V1, "kind %s", ed_image_kind_key(info.kind));
    cr_assert_eq(info.chip, ed_chip_by_key("esp8266"));
    cr_assert_eq(info.chip_id, ED_CHIP_ID_NONE);
    cr_assert(!info.app.has_ext_header);
    cr_assert_eq(info.flash_base, 0x0);
    cr_assert_eq(info.app.segment_count, 3);
    cr_assert_eq(info.app.segments[0].load_addr, 0x40100000);
    cr_assert_str_eq(info.app.segments[0].region, "IRAM");
    cr_assert(info.app.checksum_ok);
    cr_assert(!info.app.sha_appended);
    /* ESP8266 size coding: 4 is 4 MB (on the ESP32 family 4 would be 16 MB). */
    cr_assert_eq(ed_image_flash_size_bytes(&info.app), 4u * 1024 * 1024);
    cr_assert_eq(info.trailing_offset, info.app.length);
    cr_assert_eq(info.trailing_offset + info.trailing_length, info.file_size);
    cr_assert(info.esp8266_md5_present && info.esp8266_md5_ok);
    cr_assert(info.micropython);
    cr_assert_str_eq(info.micropython_version, "v1.24.0");
    cr_assert(!info.corrupt, "%s", info.evidence);
}

Test(image, esp8266_v2)
{
    struct ed_image_info info;
    ti_open(ti_mkimage("v2.bin", "--chip esp8266 --kind v2"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_ESP8266_V2, "kind %s", ed_image_kind_key(info.kind));
    cr_assert_eq(info.chip, ed_chip_by_key("esp8266"));
    cr_assert_eq(info.flash_base, 0x1000);
    cr_assert_eq(info.app.segment_count, 4);
    cr_assert_str_eq(info.app.segments[0].region, "IROM");
    cr_assert(info.app.checksum_ok);
    cr_assert(!info.corrupt, "%s", info.evidence);
}

Test(image, partition_table_alone)
{
    struct ed_image_info info;
    ti_open(ti_mkimage("pt.bin", "--chip esp32 --kind partitions"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_PARTITION_TABLE);
    cr_assert_eq(info.flash_base, 0x8000);
    cr_assert_eq(info.partition_count, 4);
    cr_assert_str_eq(info.partitions[0].name, "nvs");
    cr_assert_str_eq(info.partitions[3].name, "vfat");
    char buf[8];
    cr_assert_str_eq(ed_image_partition_subtype_name(info.partitions[3].type,
                                                     info.partitions[3].subtype, buf,
                                                     sizeof buf), "fat");
    cr_assert(info.partition_md5_ok);
    cr_assert(!info.chip);
}

Test(image, micropython_banner_and_version)
{
    struct ed_image_info info;
    const char *path = ti_mkimage("esp32spiram-20190913-v1.11-312-g22099ab88.bin",
                                  "--chip esp32 --kind merged --micropython "
                                  "v1.11-312-g22099ab88");
    ti_open(path, &info);
    cr_assert(info.micropython);
    cr_assert_str_eq(info.micropython_version, "v1.11-312-g22099ab88");
    cr_assert_str_eq(info.micropython_banner, "MicroPython v1.11-312-g22099ab88 on 2024-10-25");
    cr_assert_str_eq(info.app.project_name, "micropython");
}

Test(image, without_sha_is_still_valid)
{
    struct ed_image_info info;
    ti_open(ti_mkimage("nosha.bin", "--chip esp32c3 --kind merged --size 300K --no-sha"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_MERGED);
    cr_assert(!info.app.sha_appended);
    cr_assert(!info.boot.sha_appended);
    cr_assert(info.app.checksum_ok);
    cr_assert(!info.corrupt, "%s", info.evidence);
}

Test(image, corrupt_app_data_is_caught)
{
    struct ed_image_info info;
    ti_open(ti_mkimage("bad.bin", "--chip esp32 --kind merged --size 400K --corrupt"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_MERGED);
    cr_assert(info.corrupt);
    cr_assert(!info.app.checksum_ok);
    cr_assert(!info.app.sha_ok);
    cr_assert(info.boot.checksum_ok && info.boot.sha_ok);
    cr_assert_not_null(strstr(info.evidence, "app checksum"), "%s", info.evidence);
    cr_assert_not_null(strstr(info.evidence, "SHA-256"), "%s", info.evidence);
}

Test(image, corrupt_sha_alone_is_caught)
{
    struct ed_image_info info;
    const char *path = ti_mkimage("app.bin", "--chip esp32s3 --kind app --size 200K");
    ti_open(path, &info);
    cr_assert(!info.corrupt);
    ti_flip(path, (long)info.file_size - 1);   /* the last byte of the SHA-256 */
    ti_open(path, &info);
    cr_assert(info.corrupt);
    cr_assert(info.app.checksum_ok);
    cr_assert(!info.app.sha_ok);
}

Test(image, corrupt_esp8266_and_partition_table)
{
    struct ed_image_info info;
    ti_open(ti_mkimage("bad8266.bin", "--chip esp8266 --kind v1 --corrupt"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_ESP8266_V1);
    cr_assert(info.corrupt);
    cr_assert(!info.app.checksum_ok);
    cr_assert(info.esp8266_md5_present && !info.esp8266_md5_ok);

    ti_open(ti_mkimage("badpt.bin", "--chip esp32 --kind partitions --corrupt"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_PARTITION_TABLE);
    cr_assert(info.corrupt);
    cr_assert(info.partition_md5_present && !info.partition_md5_ok);
}

Test(image, truncated_files)
{
    struct ed_image_info info;
    const char *path = ti_mkimage("cut.bin", "--chip esp32 --kind merged --size 600K");
    ti_truncate(path, 0x60000);
    ti_open(path, &info);
    cr_assert_eq(info.kind, ED_IMAGE_TRUNCATED, "kind %s", ed_image_kind_key(info.kind));
    cr_assert_eq(info.chip, ed_chip_by_key("esp32"));
    cr_assert_not_null(strstr(info.evidence, "past the end"), "%s", info.evidence);
    cr_assert(!ed_image_kind_is_firmware(info.kind));

    ti_truncate(path, 0xA000);   /* the app partition is not in the file at all */
    ti_open(path, &info);
    cr_assert_eq(info.kind, ED_IMAGE_TRUNCATED);
    cr_assert_not_null(strstr(info.evidence, "factory"), "%s", info.evidence);

    ti_truncate(path, 12);
    ti_open(path, &info);
    cr_assert_eq(info.kind, ED_IMAGE_TRUNCATED);

    path = ti_mkimage("cut8266.bin", "--chip esp8266 --kind v1");
    ti_truncate(path, 0x4000);
    ti_open(path, &info);
    cr_assert_eq(info.kind, ED_IMAGE_TRUNCATED);
    cr_assert_eq(info.chip, ed_chip_by_key("esp8266"));
}

Test(image, html_page)
{
    struct ed_image_info info;
    ti_open(ti_fixture("download-page.html"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_HTML, "kind %s", ed_image_kind_key(info.kind));
    cr_assert_not_null(strstr(info.evidence, "<!DOCTYPE html>"), "%s", info.evidence);
    cr_assert_not_null(strstr(info.evidence, "Firmware downloads"), "%s", info.evidence);

    /* A byte order mark and blank lines before the markup change nothing. */
    static const char page[] = "\xEF\xBB\xBF\n\n  <html><body>404 Not Found</body></html>\n";
    ti_open(ti_write("bom.html", page, sizeof page - 1), &info);
    cr_assert_eq(info.kind, ED_IMAGE_HTML);
}

Test(image, other_non_firmware)
{
    struct ed_image_info info;
    ti_open(ti_write("empty.bin", "", 0), &info);
    cr_assert_eq(info.kind, ED_IMAGE_EMPTY);

    ti_open(ti_fixture("firmware-bundle.zip"), &info);
    cr_assert_eq(info.kind, ED_IMAGE_ZIP);

    const char *gz = ti_path("firmware.bin.gz");
    gzFile g = gzopen(gz, "wb9");
    cr_assert_not_null(g);
    cr_assert_gt(gzputs(g, "not firmware either\n"), 0);
    cr_assert_eq(gzclose(g), Z_OK);
    ti_open(gz, &info);
    cr_assert_eq(info.kind, ED_IMAGE_GZIP);

    ti_open("/proc/self/exe", &info);   /* this test program: a real ELF file */
    cr_assert_eq(info.kind, ED_IMAGE_ELF);

    static const char text[] = ":100000000C9434000C9446000C9446000C9446006A\n";
    ti_open(ti_write("fw.hex", text, sizeof text - 1), &info);
    cr_assert_eq(info.kind, ED_IMAGE_TEXT);

    static const uint8_t junk[] = { 0x00, 0x13, 0x37, 0xFE, 0x01, 0x02, 0x03, 0x04 };
    ti_open(ti_write("junk.bin", junk, sizeof junk), &info);
    cr_assert_eq(info.kind, ED_IMAGE_UNKNOWN);
    cr_assert_not_null(strstr(info.evidence, "00 13 37 fe"), "%s", info.evidence);

    /* The image magic followed by nonsense (no segments) is not an image either. */
    uint8_t fake[64];
    memset(fake, 0, sizeof fake);
    fake[0] = 0xE9;
    ti_open(ti_write("fake.bin", fake, sizeof fake), &info);
    cr_assert_eq(info.kind, ED_IMAGE_UNKNOWN);
}

Test(image, unreadable_paths)
{
    struct ed_image_info info;
    char err[256] = "";
    cr_assert_eq(ed_image_open("/nonexistent/firmware.bin", &info, err, sizeof err),
                 ED_E_NOTFOUND);
    cr_assert_not_null(strstr(err, "/nonexistent/firmware.bin"), "%s", err);
    cr_assert_eq(ed_image_open(ti_tmpdir(), &info, err, sizeof err), ED_E_IO);
    cr_assert_not_null(strstr(err, "directory"), "%s", err);
}

/* Real MicroPython ESP32 firmware compresses to roughly 60-65% with zlib level 9; the
 * synthetic images must too, or flashing benchmarks would mean nothing. */
Test(image, synthetic_content_compresses_like_firmware)
{
    const char *path = ti_mkimage("z.bin", "--chip esp32 --kind merged --size 1.5M");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static uint8_t data[2 * 1024 * 1024], packed[2 * 1024 * 1024 + 4096];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    cr_assert_gt(n, 1400 * 1024);
    uLongf packed_len = sizeof packed;
    cr_assert_eq(compress2(packed, &packed_len, data, n, 9), Z_OK);
    double ratio = (double)packed_len / (double)n;
    cr_assert(ratio > 0.55 && ratio < 0.70, "compression ratio %.3f", ratio);
}

Test(image, generator_is_deterministic)
{
    const char *a = ti_mkimage("a.bin", "--chip esp32s3 --kind merged --size 300K "
                               "--micropython v1.24.0");
    const char *b = ti_mkimage("b.bin", "--chip esp32s3 --kind merged --size 300K "
                               "--micropython v1.24.0");
    char cmd[2 * PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    cr_assert_eq(system(cmd), 0, "same arguments gave different files");
}

/* A 16 MiB image is analysed through a small buffer: peak memory grows by far less than
 * the file's size. */
Test(image, large_image_is_streamed, .timeout = 60)
{
    const char *path = ti_mkimage("big.bin", "--chip esp32 --kind merged --size 16M");
    struct rusage before, after;
    cr_assert_eq(getrusage(RUSAGE_SELF, &before), 0);
    struct ed_image_info info;
    ti_open(path, &info);
    cr_assert_eq(getrusage(RUSAGE_SELF, &after), 0);
    cr_assert_eq(info.kind, ED_IMAGE_MERGED);
    cr_assert(!info.corrupt, "%s", info.evidence);
    cr_assert_geq(info.file_size, 15u * 1024 * 1024);
    long grew_kib = after.ru_maxrss - before.ru_maxrss;
    cr_assert_lt(grew_kib, 4 * 1024, "peak RSS grew by %ld KiB", grew_kib);
}

/* Patch bytes of a file at off. */
static void patch(const char *path, long off, const uint8_t *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, off, SEEK_SET), 0);
    cr_assert_eq(fwrite(bytes, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* AA 50 inside an app's data is not a partition table: the app runs over that spot. */
Test(image, partition_magic_inside_an_app_is_data)
{
    const char *path = ti_mkimage("app.bin", "--chip esp32 --kind app --size 200K");
    static const uint8_t magic[] = { 0xAA, 0x50 };
    patch(path, 0x7000, magic, sizeof magic);
    patch(path, 0x8000, magic, sizeof magic);
    struct ed_image_info info;
    ti_open(path, &info);
    cr_assert_eq(info.kind, ED_IMAGE_APP, "kind %s", ed_image_kind_key(info.kind));
    cr_assert(!info.has_partition_table);
}

/* A chip id espdoctor has no table row for is still read and named. */
Test(image, chip_id_without_a_table_row)
{
    const char *path = ti_mkimage("c2.bin", "--chip esp32c3 --kind app --size 100K --no-sha");
    static const uint8_t c2[] = { 12, 0 };   /* ESP32-C2; no SHA-256 covers the header */
    patch(path, 12, c2, sizeof c2);
    struct ed_image_info info;
    ti_open(path, &info);
    cr_assert_eq(info.kind, ED_IMAGE_APP, "kind %s", ed_image_kind_key(info.kind));
    cr_assert_null(info.chip);
    cr_assert_eq(info.chip_id, 12);
    cr_assert_str_eq(ed_image_chip_id_name(info.chip_id), "ESP32-C2");
    cr_assert(!info.corrupt, "%s", info.evidence);
    struct ed_image_verdict v;
    cr_assert_eq(ed_image_check_target(&info, ed_chip_by_key("esp32c3"), 0,
                                       ED_IMAGE_REVISION_UNKNOWN, 0, false, &v), ED_E_IMAGE);
    cr_assert_eq(v.count, 1);
    cr_assert_str_eq(v.problems[0].rule->id, "image.wrong-chip");
    cr_assert_not_null(strstr(v.problems[0].message, "ESP32-C2"), "%s", v.problems[0].message);
}

Test(image, esp8266_v2_magic_without_an_image_behind_it)
{
    /* 0xEA header and a 16-byte "irom segment" followed by zeros, not a v1 header. */
    uint8_t fake[64];
    memset(fake, 0, sizeof fake);
    fake[0] = 0xEA;
    fake[1] = 4;
    fake[12] = 16;
    struct ed_image_info info;
    ti_open(ti_write("fake-v2.bin", fake, sizeof fake), &info);
    cr_assert_eq(info.kind, ED_IMAGE_UNKNOWN, "kind %s", ed_image_kind_key(info.kind));
    cr_assert_not_null(strstr(info.evidence, "v2"), "%s", info.evidence);
}
