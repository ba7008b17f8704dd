/* espdoctor flash, erase and read through the real binaries: build/espsim runs the board,
 * build/mkimage makes the firmware, and the flash file espsim keeps is the ground truth. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "e2e_run.h"
#include "e2e_dir.h"
#include "e2e_sim.h"

#define FLASH_SIZE (4u << 20)
#define LIMIT_S 120

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("flash");
}

static int pattern_at(uint32_t addr)
{
    return (int)((addr * 31u) >> 7 & 0xFF) ^ 0x5A;
}

/* A flash file of 4 MiB with a pattern in every byte, so any write or erase shows. */
static const char *patterned_flash(const char *name)
{
    const char *path = scratch_path(name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (uint32_t i = 0; i < FLASH_SIZE; i++)
        fputc(pattern_at(i), f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static bool same_files(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *x = slurp(a, &na), *y = slurp(b, &nb);
    bool same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* build/espsim --chip CHIP --flash FLASH [--fast] -- build/espdoctor ARGS... */
static void run_sim(const char *chip, const char *flash, bool fast, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--chip";
    argv[n++] = chip;
    argv[n++] = "--flash";
    argv[n++] = flash;
    if (fast)
        argv[n++] = "--fast";
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);
}

static json_object *output_json(void)
{
    json_object *o = e2e_json_doc(r.out);
    cr_assert_not_null(o, "no JSON on stdout (exit %d)\nstdout:\n%s\nstderr:\n%s", r.status,
                       r.out, r.err);
    return o;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

static json_object *region0(json_object *o)
{
    json_object *regions = get(o, "regions");
    cr_assert_eq(json_object_array_length(regions), 1);
    return json_object_array_get_idx(regions, 0);
}

static bool flash_holds(const char *flash, const char *file, uint32_t addr)
{
    size_t nf, ni;
    uint8_t *f = slurp(flash, &nf), *img = slurp(file, &ni);
    bool ok = addr + ni <= nf && memcmp(f + addr, img, ni) == 0;
    free(f);
    free(img);
    return ok;
}

static const char *stub_dir(void)
{
    static char path[512];
    char cwd[256];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(path, sizeof path, "%s/tests/js/node_modules/esptool-js/lib/targets/stub_flasher",
             cwd);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing: run tests/js/setup.sh (the stub tests "
                 "need esptool-js)", path);
    return path;
}

#define SIZE_1_5M "1.5M"

/* ---- acceptance ---------------------------------------------------------------------- */

Test(flash, merged_esp32_without_address_lands_at_0x1000_verified_and_boots,
     .init = make_dir, .fini = scratch_remove)
{
    const char *img = sim_mkimage("mp.bin", (const char *[]){ "--chip", "esp32", "--kind", "merged",
                              "--size", SIZE_1_5M, "--micropython", "v1.24.0", NULL });
    const char *flash = scratch_path("flash.bin");
    run_sim("esp32", flash, true, (const char *[]){ "flash", "--json", "--no-stub", img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = output_json();
    cr_assert_str_eq(json_object_get_string(get(o, "result")), "ok");
    json_object *reg = region0(o);
    cr_assert_eq(json_object_get_int64(get(reg, "address")), 0x1000);
    cr_assert(json_object_get_boolean(get(reg, "verified")));
    cr_assert_eq(json_object_get_int64(get(reg, "written")) +
                     json_object_get_int64(get(reg, "skipped")),
                 json_object_get_int64(get(reg, "size")));
    cr_assert_gt(json_object_get_int64(get(reg, "compressed_size")), 0);
    json_object *fw = get(o, "firmware");
    cr_assert_str_eq(json_object_get_string(get(fw, "state")), "micropython");
    cr_assert_str_eq(json_object_get_string(get(fw, "micropython_version")), "v1.24.0");
    cr_assert(json_object_get_boolean(get(fw, "answered")));
    json_object_put(o);
    cr_assert(flash_holds(flash, img, 0x1000), "the image is not byte for byte at 0x1000");
}

Test(flash, esp32_image_on_esp8266_is_refused, .init = make_dir, .fini = scratch_remove)
{
    const char *img = sim_mkimage("esp32spiram-20190913-v1.11-312-g22099ab88.bin",
                              (const char *[]){ "--chip", "esp32", "--kind", "merged",
                                                "--size", SIZE_1_5M, "--micropython",
                                                "v1.11", NULL });
    const char *flash = patterned_flash("flash.bin");
    const char *before = patterned_flash("before.bin");
    run_sim("esp8266", flash, true, (const char *[]){ "flash", img, NULL });
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert(same_files(flash, before), "the flash changed");
    cr_assert_not_null(strstr(r.err, "esp32spiram-20190913-v1.11-312-g22099ab88.bin"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "for the ESP32"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "ESP8266"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "micropython.org/download/ESP8266_GENERIC"), "%s", r.err);
}

Test(flash, esp8266_image_on_esp32_is_refused, .init = make_dir, .fini = scratch_remove)
{
    const char *img = sim_mkimage("esp8266.bin", (const char *[]){ "--chip", "esp8266", "--kind",
                              "v1", "--micropython", "v1.24.0", NULL });
    const char *flash = patterned_flash("flash.bin");
    const char *before = patterned_flash("before.bin");
    run_sim("esp32", flash, true, (const char *[]){ "flash", "--json", img, NULL });
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert(same_files(flash, before), "the flash changed");
    json_object *o = output_json();
    cr_assert_str_eq(json_object_get_string(get(o, "result")), "refused");
    json_object *p = json_object_array_get_idx(get(o, "problems"), 0);
    cr_assert_str_eq(json_object_get_string(get(p, "id")), "image.wrong-chip");
    const char *msg = json_object_get_string(get(p, "message"));
    cr_assert_not_null(strstr(msg, "ESP8266"), "%s", msg);
    cr_assert_not_null(strstr(msg, "ESP32"), "%s", msg);
    cr_assert_not_null(strstr(json_object_get_string(get(p, "fix")), "ESP32_GENERIC"));
    json_object_put(o);
}

Test(flash, merged_esp32_at_0x0_is_refused, .init = make_dir, .fini = scratch_remove)
{
    const char *img = sim_mkimage("mp.bin", (const char *[]){ "--chip", "esp32", "--kind", "merged",
                              "--size", SIZE_1_5M, "--micropython", "v1.24.0", NULL });
    const char *flash = patterned_flash("flash.bin");
    const char *before = patterned_flash("before.bin");
    run_sim("esp32", flash, true, (const char *[]){ "flash", "0x0", img, NULL });
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert(same_files(flash, before), "the flash changed");
    cr_assert_not_null(strstr(r.err, "0x1000"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "Nothing was written"), "%s", r.err);
}

Test(flash, reflash_unchanged_skips_and_verifies_no_skip_writes_all, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = sim_mkimage("mp.bin", (const char *[]){ "--chip", "esp32", "--kind", "merged",
                              "--size", SIZE_1_5M, "--micropython", "v1.24.0", NULL });
    const char *flash = scratch_path("flash.bin");
    run_sim("esp32", flash, true, (const char *[]){ "flash", "--no-stub", img, NULL });
    cr_assert_eq(r.status, 0, "first write: exit %d\n%s", r.status, r.err);
    cr_assert_not_null(strstr(r.out, "MD5 verified"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "MicroPython v1.24.0 is answering"), "%s", r.out);

    run_sim("esp32", flash, true, (const char *[]){ "flash", "--json", "--no-stub", img, NULL });
    cr_assert_eq(r.status, 0, "second write: exit %d\n%s", r.status, r.err);
    json_object *o = output_json();
    json_object *reg = region0(o);
    cr_assert_eq(json_object_get_int64(get(reg, "written")), 0);
    cr_assert_eq(json_object_get_int64(get(reg, "skipped")),
                 json_object_get_int64(get(reg, "size")));
    cr_assert(json_object_get_boolean(get(reg, "verified")));
    json_object_put(o);

    run_sim("esp32", flash, true, (const char *[]){ "flash", "--json", "--no-stub", "--no-skip",
                                                     img, NULL });
    cr_assert_eq(r.status, 0, "--no-skip: exit %d\n%s", r.status, r.err);
    o = output_json();
    reg = region0(o);
    cr_assert_eq(json_object_get_int64(get(reg, "written")),
                 json_object_get_int64(get(reg, "size")));
    cr_assert_eq(json_object_get_int64(get(reg, "skipped")), 0);
    cr_assert(json_object_get_boolean(get(reg, "verified")));
    json_object_put(o);
    cr_assert(flash_holds(flash, img, 0x1000));
}

/* A re-flash of what the board holds is found by the ROM's MD5 before any stub is
 * uploaded (the stub's upload would buy nothing); another image and the stub does the
 * write as usual. */
Test(flash, reflash_unchanged_is_found_by_the_rom_without_the_stub, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind", "app",
                              "--size", "256K", NULL });
    const char *flash = scratch_path("flash.bin");
    const char *args[] = { "flash", "--json", "--stub", stub_dir(), "0x10000", img, NULL };
    run_sim("esp32", flash, true, args);
    cr_assert_eq(r.status, 0, "first write: exit %d\n%s", r.status, r.err);
    json_object *o = output_json();
    cr_assert_not_null(json_object_get_string(get(o, "stub")), "the first write had no stub");
    json_object_put(o);

    run_sim("esp32", flash, true, args);
    cr_assert_eq(r.status, 0, "second write: exit %d\n%s", r.status, r.err);
    o = output_json();
    cr_expect_null(json_object_get_string(get(o, "stub")), "a stub was uploaded:\n%s", r.out);
    cr_expect_eq(json_object_get_int64(get(o, "baud")), 115200);
    cr_expect_not_null(strstr(json_object_to_json_string(get(o, "notes")),
                              "no flasher stub was needed"), "%s", r.out);
    json_object *reg = region0(o);
    cr_expect_eq(json_object_get_int64(get(reg, "written")), 0);
    cr_expect_eq(json_object_get_int64(get(reg, "skipped")),
                 json_object_get_int64(get(reg, "size")));
    cr_expect(json_object_get_boolean(get(reg, "verified")));
    cr_expect_str_eq(json_object_get_string(get(o, "result")), "ok");
    json_object_put(o);

    /* Another build of the app: the stub writes what differs. */
    const char *other = sim_mkimage("other.bin", (const char *[]){ "--chip", "esp32", "--kind",
                                "app", "--size", "260K", NULL });
    args[5] = other;
    run_sim("esp32", flash, true, args);
    cr_assert_eq(r.status, 0, "third write: exit %d\n%s", r.status, r.err);
    o = output_json();
    cr_expect_not_null(json_object_get_string(get(o, "stub")), "the change went without stub");
    reg = region0(o);
    cr_expect_gt(json_object_get_int64(get(reg, "written")), 0);
    cr_expect(json_object_get_boolean(get(reg, "verified")));
    json_object_put(o);
    cr_assert(flash_holds(flash, other, 0x10000));
}

/* The first flash compresses while the board connects; the second flash of the same file
 * takes libdeflate's stream from the cache (no second compression); a damaged entry is not
 * sent: the flash compresses again and verifies. */
Test(flash, second_flash_takes_the_stream_from_the_cache_a_damaged_entry_is_not_sent,
     .init = make_dir, .fini = scratch_remove)
{
    const char *img = sim_mkimage("mp.bin", (const char *[]){ "--chip", "esp32", "--kind", "merged",
                              "--size", SIZE_1_5M, "--micropython", "v1.24.0", NULL });
    const char *cache = scratch_path("cache");
    cr_assert_eq(setenv("XDG_CACHE_HOME", cache, 1), 0);
    const char *flash = scratch_path("flash.bin");
    const char *args[] = { "flash", "--json", "--no-stub", "--no-skip", img, NULL };
    bool from_cache[3], while_connecting[3];
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2) {   /* damage the one entry: a byte of its stream */
            char cmd[600];
            snprintf(cmd, sizeof cmd, "f=$(ls '%s'/espdoctor/deflate/*-12.z) && printf 'X' | "
                     "dd of=\"$f\" bs=1 seek=5000 conv=notrunc 2>/dev/null", cache);
            cr_assert_eq(system(cmd), 0, "no cache entry to damage");
        }
        run_sim("esp32", flash, true, args);
        cr_assert_eq(r.status, 0, "pass %d: exit %d\n%s", pass, r.status, r.err);
        json_object *o = output_json();
        json_object *reg = region0(o);
        cr_assert(json_object_get_boolean(get(reg, "verified")));
        json_object *c = get(reg, "compressed");
        cr_assert_str_eq(json_object_get_string(get(c, "used")), "libdeflate");
        cr_assert_lt(json_object_get_int64(get(c, "libdeflate")),
                     json_object_get_int64(get(c, "zlib")));
        cr_assert_eq(json_object_get_int64(get(reg, "compressed_size")),
                     json_object_get_int64(get(c, "libdeflate")));
        from_cache[pass] = json_object_get_boolean(get(reg, "compressed_from_cache"));
        while_connecting[pass] =
            json_object_get_boolean(get(reg, "compressed_while_connecting"));
        json_object_put(o);
        cr_assert(flash_holds(flash, img, 0x1000), "pass %d: the image is not at 0x1000", pass);
    }
    unsetenv("XDG_CACHE_HOME");
    cr_assert_not(from_cache[0], "the first flash found a cache entry");
    cr_assert(while_connecting[0], "the first flash did not compress while connecting");
    cr_assert(from_cache[1], "the second flash of the same file compressed again");
    cr_assert_not(while_connecting[1]);
    cr_assert_not(from_cache[2], "a damaged cache entry was used");
    cr_assert(while_connecting[2], "the damaged entry was not made again");
}

Test(flash, esp8266_rom_is_unverified_and_the_stub_verifies, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = sim_mkimage("esp8266.bin", (const char *[]){ "--chip", "esp8266", "--kind",
                              "v1", "--micropython", "v1.24.0", NULL });
    const char *flash = scratch_path("flash.bin");
    run_sim("esp8266", flash, true, (const char *[]){ "flash", "--no-stub", img, NULL });
    cr_assert_eq(r.status, 0, "ROM: exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "unverified"), "%s", r.out);
    cr_assert(flash_holds(flash, img, 0x0));

    const char *flash2 = scratch_path("flash2.bin");
    run_sim("esp8266", flash2, true, (const char *[]){ "flash", "--json", "--stub", stub_dir(),
                                                        img, NULL });
    cr_assert_eq(r.status, 0, "stub: exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = output_json();
    cr_assert_not_null(json_object_get_string(get(o, "stub")));
    json_object *reg = region0(o);
    cr_assert(json_object_get_boolean(get(reg, "verified")));
    cr_assert_gt(json_object_get_int64(get(reg, "compressed_size")), 0);
    cr_assert_str_eq(json_object_get_string(get(get(o, "firmware"), "state")), "micropython");
    json_object_put(o);
    cr_assert(flash_holds(flash2, img, 0x0));
}

Test(flash, erase_region_and_read_round_trip, .init = make_dir, .fini = scratch_remove)
{
    const char *flash = patterned_flash("flash.bin");
    run_sim("esp32", flash, true, (const char *[]){ "erase", "--no-stub", "--region", "0x10000",
                                                     "0x2000", NULL });
    cr_assert_eq(r.status, 0, "ROM erase: exit %d\n%s\n%s", r.status, r.out, r.err);
    run_sim("esp32", flash, true, (const char *[]){ "erase", "--stub", stub_dir(), "--region",
                                                     "0x20000", "0x1000", NULL });
    cr_assert_eq(r.status, 0, "stub erase: exit %d\n%s\n%s", r.status, r.out, r.err);
    size_t n;
    uint8_t *f = slurp(flash, &n);
    for (uint32_t a = 0x10000; a < 0x12000; a++)
        cr_assert_eq(f[a], 0xFF, "0x%x not erased", a);
    for (uint32_t a = 0x20000; a < 0x21000; a++)
        cr_assert_eq(f[a], 0xFF, "0x%x not erased", a);
    static const uint32_t kept[] = { 0xFFFF, 0x12000, 0x1FFFF, 0x21000 };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        cr_assert_eq(f[kept[i]], pattern_at(kept[i]), "0x%x was erased too", kept[i]);

    const char *rom_out = scratch_path("rom-read.bin"), *stub_out = scratch_path("stub-read.bin");
    run_sim("esp32", flash, true, (const char *[]){ "read", "--no-stub", "0xF000", "0x4000",
                                                     rom_out, NULL });
    cr_assert_eq(r.status, 0, "ROM read: exit %d\n%s\n%s", r.status, r.out, r.err);
    run_sim("esp32", flash, true, (const char *[]){ "read", "--stub", stub_dir(), "0xF000",
                                                     "0x14000", stub_out, NULL });
    cr_assert_eq(r.status, 0, "stub read: exit %d\n%s\n%s", r.status, r.out, r.err);
    size_t n1, n2;
    uint8_t *a = slurp(rom_out, &n1), *b = slurp(stub_out, &n2);
    cr_assert_eq(n1, 0x4000);
    cr_assert_eq(n2, 0x14000);
    cr_assert_arr_eq(a, f + 0xF000, n1, "ROM read differs from the flash file");
    cr_assert_arr_eq(b, f + 0xF000, n2, "stub read differs from the flash file");
    free(a);
    free(b);
    free(f);
}

Test(flash, esp8266_rom_cannot_read_and_says_so, .init = make_dir, .fini = scratch_remove)
{
    const char *flash = scratch_path("flash.bin");
    const char *out = scratch_path("out.bin");
    run_sim("esp8266", flash, true, (const char *[]){ "read", "--no-stub", "0", "4096", out,
                                                       NULL });
    cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
    cr_assert_not_null(strstr(r.err, "ESP8266 ROM has no command to read flash"), "%s", r.err);
    cr_assert_neq(access(out, F_OK), 0, "a file was left behind");
}

/* ---- bad input ------------------------------------------------------------------------ */

static void expect_untouched(const char *const *args, int status, const char *needle)
{
    const char *flash = patterned_flash("flash.bin");
    const char *before = patterned_flash("before.bin");
    run_sim("esp32", flash, true, args);
    cr_assert_eq(r.status, status, "exit %d (want %d)\n%s\n%s", r.status, status, r.out, r.err);
    cr_assert(same_files(flash, before), "the flash changed");
    cr_assert_not_null(strstr(r.err, needle), "no \"%s\" in:\n%s", needle, r.err);
}

Test(flash, missing_file_is_an_input_error, .init = make_dir, .fini = scratch_remove)
{
    expect_untouched((const char *[]){ "flash", scratch_path("nope.bin"), NULL }, 6,
                     "Nothing was written");
}

Test(flash, directory_is_an_input_error, .init = make_dir, .fini = scratch_remove)
{
    expect_untouched((const char *[]){ "flash", scratch_dir, NULL }, 6, "directory");
}

Test(flash, empty_file_is_an_input_error, .init = make_dir, .fini = scratch_remove)
{
    const char *empty = scratch_path("empty.bin");
    FILE *f = fopen(empty, "wb");
    fclose(f);
    expect_untouched((const char *[]){ "flash", empty, NULL }, 6, "empty");
}

Test(flash, html_file_is_an_input_error, .init = make_dir, .fini = scratch_remove)
{
    const char *html = scratch_path("firmware.bin");
    FILE *f = fopen(html, "wb");
    fputs("<!DOCTYPE html>\n<html><head><title>Download</title></head><body>"
          "<a href=\"x.bin\">firmware</a></body></html>\n", f);
    fclose(f);
    expect_untouched((const char *[]){ "flash", html, NULL }, 6, "web page");
}

Test(flash, unaligned_address_is_refused, .init = make_dir, .fini = scratch_remove)
{
    const char *app = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind", "app",
                              "--size", "200K", NULL });
    expect_untouched((const char *[]){ "flash", "0x10800", app, NULL }, 3, "4 KB");
    expect_untouched((const char *[]){ "flash", "--force", "0x10800", app, NULL }, 3,
                     "--force cannot override");
}

Test(flash, address_past_the_flash_end_is_refused, .init = make_dir, .fini = scratch_remove)
{
    const char *app = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind", "app",
                              "--size", "200K", NULL });
    expect_untouched((const char *[]){ "flash", "0x3F0000", app, NULL }, 3, "past the end");
}

Test(flash, odd_number_of_arguments_is_a_usage_error, .init = make_dir, .fini = scratch_remove)
{
    expect_untouched((const char *[]){ "flash", "0x1000", "a.bin", "0x20000", NULL }, 2,
                     "ADDR FILE pairs");
}

/* ---- interruption --------------------------------------------------------------------- */

/* The first `len` bytes of the image are in the flash file (espsim maps it shared). */
static bool written_so_far(const char *flash, const char *img, uint32_t addr, size_t len)
{
    FILE *f = fopen(flash, "rb"), *g = fopen(img, "rb");
    bool same = f && g && fseek(f, (long)addr, SEEK_SET) == 0;
    for (size_t i = 0; same && i < len; i++)
        same = fgetc(f) == fgetc(g);
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    return same;
}

/* Run argv with stdout/stderr to files; once `len` bytes of img are at addr in the flash
 * file, SIGINT the process group's leader (espsim passes it on); returns the exit status. */
static int run_and_interrupt(const char *const *argv, const char *flash, const char *img,
                             uint32_t addr, size_t len, unsigned limit_s)
{
    const char *out = scratch_path("stdout.txt"), *err = scratch_path("stderr.txt");
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        freopen("/dev/null", "r", stdin);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    for (unsigned waited = 0; !written_so_far(flash, img, addr, len); waited++) {
        if (waited > limit_s * 10 || waitpid(pid, &st, WNOHANG) != 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(100000);
    }
    kill(pid, SIGINT);
    for (unsigned waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited++) {
        if (waited > limit_s * 10) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(100000);
    }
    size_t n;
    uint8_t *text = slurp(err, &n);
    snprintf(r.err, sizeof r.err, "%.*s", (int)n, (const char *)text);
    free(text);
    text = slurp(out, &n);
    snprintf(r.out, sizeof r.out, "%.*s", (int)n, (const char *)text);
    free(text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(flash, ctrl_c_stops_between_blocks_and_the_next_run_resumes, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = sim_mkimage("mp.bin", (const char *[]){ "--chip", "esp32", "--kind", "merged",
                              "--size", SIZE_1_5M, "--micropython", "v1.24.0", NULL });
    const char *flash = scratch_path("flash.bin");
    /* Through the timing model the ROM erases for seconds, then writes for tens of seconds:
     * interrupt once two 64 KiB chunks are in place. */
    const char *argv[] = { e2e_bin("espsim"), "--chip", "esp32", "--flash", flash, "--",
                           e2e_bin("espdoctor"), "flash", "--no-stub", "-b", "460800",
                           "--json", img, NULL };
    int status = run_and_interrupt(argv, flash, img, 0x1000, 0x20000, 60);
    cr_assert_eq(status, 130, "exit %d\n%s\n%s", status, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "interrupted (SIGINT) while writing: stopped at region 1 "
                              "of 1"), "%s", r.err);
    json_object *o = output_json();
    cr_assert_str_eq(json_object_get_string(get(o, "result")), "interrupted");
    json_object *e = get(o, "error");
    int64_t done = json_object_get_int64(get(e, "done"));
    int64_t size = json_object_get_int64(get(e, "size"));
    cr_assert_gt(done, 0, "nothing was written before the interrupt");
    cr_assert_lt(done, size);
    json_object_put(o);

    run_sim("esp32", flash, true, (const char *[]){ "flash", "--json", "--no-stub", img, NULL });
    cr_assert_eq(r.status, 0, "resume: exit %d\n%s", r.status, r.err);
    o = output_json();
    json_object *reg = region0(o);
    cr_assert_gt(json_object_get_int64(get(reg, "skipped")), 0, "the first part was rewritten");
    cr_assert_lt(json_object_get_int64(get(reg, "written")), size);
    cr_assert(json_object_get_boolean(get(reg, "verified")));
    json_object_put(o);
    cr_assert(flash_holds(flash, img, 0x1000));
}

/* ---- a board that will not answer ---------------------------------------------------- */

Test(flash, unreachable_board_gets_the_doctors_diagnosis, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = sim_mkimage("mp.bin", (const char *[]){ "--chip", "esp32", "--kind", "merged",
                                                          "--size", "64K", "--micropython",
                                                          "v1.24.0", NULL });
    const char *flash = patterned_flash("flash.bin");
    const char *before = patterned_flash("before.bin");
    const char *argv[] = { e2e_bin("espsim"), "--no-autoreset", "--firmware", "app",
                           "--flash", flash, "--", e2e_bin("espdoctor"), "flash", "--button-wait",
                           "0", img, NULL };
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 1, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "could not reach the ROM bootloader"), "%s", r.err);
    /* Not a bare error: the doctor's one finding that explains it, its evidence and its
     * fix, then the command for the rest of the diagnosis. One screen, not the report. */
    const char *headline = strstr(r.err, "Problem: ");
    cr_assert_not_null(headline, "no problem headline:\n%s", r.err);
    cr_assert_not_null(strstr(headline, "[reset.no-autoreset]"), "%s", r.err);
    cr_assert_not_null(strstr(headline, "boot:0x13"), "no evidence:\n%s", r.err);
    cr_assert_not_null(strstr(headline, "Fix: Hold the BOOT (IO0) button"), "%s", r.err);
    cr_assert_not_null(strstr(headline, "\n    espdoctor -p /dev/ttyUSB0\n"), "%s", r.err);
    cr_assert_null(strstr(r.err, "Presence"), "the whole report was printed:\n%s", r.err);
    size_t lines = 0;
    for (const char *c = r.err; *c; c++)
        lines += *c == '\n';
    cr_assert_leq(lines, 24, "%zu lines: not one screen\n%s", lines, r.err);
    cr_assert(same_files(flash, before), "the flash changed");
}
