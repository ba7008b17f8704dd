/* esptool's habits, through the real binary against espsim: --chip refuses another chip
 * and changes nothing; --before and --after choose how the board is reset (espsim's
 * --trace shows every line change and every start of the chip). */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e_dir.h"
#include "e2e_run.h"
#include "e2e_sim.h"

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static struct e2e_result r;
static long long blocks_written, commands;

static void setup(void)
{
    scratch_make("habits");
}

static void teardown(void)
{
    scratch_remove();
}

TestSuite(habits, .init = setup, .fini = teardown);

/* espsim --fast --flash FLASH --stats STATS SIM... -- espdoctor ARGS... */
static void run(const char *const *sim, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--fast";
    argv[n++] = "--flash";
    argv[n++] = scratch_path("flash.bin");
    argv[n++] = "--stats";
    argv[n++] = scratch_path("stats.json");
    argv[n++] = "--trace";
    argv[n++] = scratch_path("trace.txt");
    for (size_t i = 0; sim[i]; i++)
        argv[n++] = sim[i];
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    unlink(scratch_path("stats.json"));
    unlink(scratch_path("trace.txt"));
    e2e_run(&r, argv, 60);
    json_object *o = json_object_from_file(scratch_path("stats.json")), *v;
    cr_assert_not_null(o, "espsim wrote no statistics (exit %d)\n%s", r.status, r.err);
    blocks_written = json_object_object_get_ex(o, "blocks_written", &v)
                         ? json_object_get_int64(v) : -1;
    commands = json_object_object_get_ex(o, "commands", &v) ? json_object_get_int64(v) : -1;
    json_object_put(o);
}

static json_object *error_of(json_object *doc, const char *key)
{
    json_object *e, *v;
    cr_assert(json_object_object_get_ex(doc, "error", &e) && e, "no error: %s", r.out);
    cr_assert(json_object_object_get_ex(e, key, &v) && v, "no error.%s: %s", key, r.out);
    return v;
}

Test(habits, chip_refuses_another_chip_and_writes_nothing)
{
    const char *fw = sim_mkimage("e8266.bin", LIST("--chip", "esp8266", "--kind", "v1",
                                               "--size", "64K"));
    run(LIST("--chip", "esp8266"), LIST("flash", "--chip", "esp32", "--json", fw));
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(blocks_written, 0);
    json_object *doc = e2e_json_doc(r.out);
    cr_assert_not_null(doc, "one JSON document: %s", r.out);
    cr_assert_str_eq(json_object_get_string(error_of(doc, "id")), "chip.mismatch");
    const char *message = json_object_get_string(error_of(doc, "message"));
    cr_assert(strstr(message, "ESP8266") && strstr(message, "ESP32"),
              "names the chip that answered and the one asked for: %s", message);
    json_object_put(doc);
    cr_assert(strstr(r.err, "is an ESP8266, not the ESP32") != NULL, "%s", r.err);
}

Test(habits, chip_refusal_covers_info_and_erase)
{
    run(LIST("--chip", "esp32"), LIST("info", "--chip", "esp32c3"));
    cr_assert_eq(r.status, 3, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "is an ESP32, not the ESP32-C3") != NULL, "%s", r.err);
    run(LIST("--chip", "esp32"), LIST("erase", "--chip", "esp8266"));
    cr_assert_eq(r.status, 3, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "is an ESP32, not the ESP8266") != NULL, "%s", r.err);
}

Test(habits, chip_that_matches_or_auto_goes_ahead)
{
    run(LIST("--chip", "esp32c3"), LIST("info", "--chip", "esp32c3", "--json"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    run(LIST("--chip", "esp32c3"), LIST("info", "--chip", "auto", "--json"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
}

Test(habits, chip_not_in_the_table_is_a_usage_error_listing_them)
{
    const char *argv[] = { e2e_bin("espdoctor"), "info", "--chip", "esp99", NULL };
    e2e_run(&r, argv, 10);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "esp8266") && strstr(r.err, "esp32c6"), "%s", r.err);
}

/* How often espsim's trace has a line containing what. */
static size_t trace_count(const char *what)
{
    FILE *f = fopen(scratch_path("trace.txt"), "r");
    cr_assert_not_null(f, "espsim wrote no trace");
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

Test(habits, before_no_reset_leaves_the_lines_alone)
{
    /* The BOOT button held: the board powers up waiting in its bootloader. */
    run(LIST("--boot-held"), LIST("info", "--before", "no-reset", "--after", "no-reset"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert_eq(trace_count("chip leaves reset"), 1u, "only the power-on start");
    cr_assert_eq(trace_count("EN low"), 0u, "EN was never pulled");
    cr_assert(strstr(r.out, "none: the board was already in download mode") != NULL, "%s",
              r.out);
}

Test(habits, before_no_reset_fails_on_a_board_running_its_firmware)
{
    run(LIST("--firmware", "app"), LIST("info", "--before", "no_reset"));
    cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
    cr_assert_eq(trace_count("EN low"), 0u, "no reset was tried, by the doctor neither");
    cr_assert(strstr(e2e_flat(r.err), "No reset was made (--before no-reset") != NULL, "%s",
              r.err);
}

Test(habits, after_hard_reset_boots_the_app_and_no_reset_does_not)
{
    run(LIST("--firmware", "app"), LIST("info", "--after", "hard-reset"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert_eq(trace_count("app starts"), 2u, "at power-on, and after the reset out");
    run(LIST("--firmware", "app"), LIST("info", "--after", "no-reset"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert_eq(trace_count("app starts"), 1u, "at power-on only: left in the bootloader");
    run(LIST("--firmware", "app"), LIST("erase", "--region", "0x9000", "0x1000", "--after",
                                        "no-reset"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert_eq(trace_count("app starts"), 1u, "erase left it in the bootloader too");
}

Test(habits, before_usb_reset_runs_the_usb_jtag_sequence)
{
    run(LIST("--bridge", "usb-jtag", "--chip", "esp32c3"),
        LIST("info", "--before", "usb-reset", "--json"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "\"sequence\": \"usb-jtag\"") != NULL, "%s", r.out);
    /* On a transistor circuit the same sequence is what was asked for, even if it fails. */
    run(LIST("--chip", "esp32"), LIST("info", "--before", "usb-reset", "--json"));
    cr_assert(strstr(r.out, "\"sequence\": \"usb-jtag\"") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "\"sequence\": \"tight\"") == NULL, "%s", r.out);
}

Test(habits, before_and_after_take_only_their_words)
{
    const char *before[] = { e2e_bin("espdoctor"), "info", "--before", "sometimes", NULL };
    e2e_run(&r, before, 10);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "default-reset, usb-reset, no-reset") != NULL, "%s", r.err);
    const char *after[] = { e2e_bin("espdoctor"), "flash", "--after", "no-reset",
                            "--monitor", "fw.bin", NULL };
    e2e_run(&r, after, 10);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
}

Test(habits, read_mac_prints_the_factory_mac_and_probes_no_flash)
{
    run(LIST("--mac", "24:0a:c4:aa:bb:0c"), LIST("read-mac"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert_str_eq(r.out, "24:0a:c4:aa:bb:0c\n");
    cr_assert_eq(trace_count("SPI_ATTACH"), 0u, "the flash was not attached");
    cr_assert_eq(trace_count("ROM WRITE_REG"), 0u, "no SPI command was sent to the flash");
    cr_assert_eq(trace_count("ROM MEM_"), 0u, "no stub was uploaded");
}

Test(habits, read_mac_json_on_an_esp8266)
{
    run(LIST("--chip", "esp8266", "--mac", "5c:cf:7f:01:02:03"), LIST("read-mac", "--json"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    json_object *doc = e2e_json_doc(r.out), *v;
    cr_assert_not_null(doc, "%s", r.out);
    cr_assert(json_object_object_get_ex(doc, "mac", &v) && v, "%s", r.out);
    cr_assert_str_eq(json_object_get_string(v), "5c:cf:7f:01:02:03");
    cr_assert(json_object_object_get_ex(doc, "chip", &v) && v, "%s", r.out);
    cr_assert_str_eq(json_object_get_string(v), "ESP8266");
    cr_assert(json_object_object_get_ex(doc, "error", &v) && v == NULL, "%s", r.out);
    json_object_put(doc);
}

/* The address each region of the last flash --json went to, by file name. */
static long long region_address(const char *file)
{
    json_object *doc = e2e_json_doc(r.out), *regions;
    cr_assert_not_null(doc, "%s", r.out);
    cr_assert(json_object_object_get_ex(doc, "regions", &regions), "%s", r.out);
    long long addr = -1;
    for (size_t i = 0; i < json_object_array_length(regions); i++) {
        json_object *g = json_object_array_get_idx(regions, i), *f, *a;
        const char *name = json_object_object_get_ex(g, "file", &f)
                               ? strrchr(json_object_get_string(f), '/') : NULL;
        if (name && strcmp(name + 1, file) == 0 &&
            json_object_object_get_ex(g, "address", &a))
            addr = json_object_get_int64(a);
    }
    json_object_put(doc);
    return addr;
}

Test(habits, several_files_without_addresses_go_where_their_images_say)
{
    const char *boot = sim_mkimage("boot.bin", LIST("--chip", "esp32", "--kind", "bootloader"));
    const char *parts = sim_mkimage("parts.bin", LIST("--chip", "esp32", "--kind", "partitions"));
    const char *app = sim_mkimage("app.bin", LIST("--chip", "esp32", "--kind", "app", "--size",
                                              "64K"));
    run(LIST("--chip", "esp32"), LIST("flash", "--no-stub", "--json", boot, parts, app));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(region_address("boot.bin"), 0x1000);
    cr_assert_eq(region_address("parts.bin"), 0x8000);
    cr_assert_eq(region_address("app.bin"), 0x10000);
}

Test(habits, files_alone_and_address_pairs_mix)
{
    const char *boot = sim_mkimage("boot3.bin", LIST("--chip", "esp32s3", "--kind", "bootloader"));
    const char *app = sim_mkimage("app3.bin", LIST("--chip", "esp32s3", "--kind", "app", "--size",
                                               "64K"));
    /* The ESP32-S3's bootloader goes at 0x0: the chip's offset, not the ESP32's. */
    run(LIST("--chip", "esp32s3"), LIST("flash", "--no-stub", "--json", boot, "0x20000", app));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(region_address("boot3.bin"), 0x0);
    cr_assert_eq(region_address("app3.bin"), 0x20000);
}

Test(habits, a_file_that_does_not_say_where_it_goes_is_a_usage_error_naming_it)
{
    const char *app = sim_mkimage("app.bin", LIST("--chip", "esp32", "--kind", "app", "--size",
                                              "64K"));
    FILE *f = fopen(scratch_path("data.bin"), "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 8192; i++)
        fputc(i * 7 + 3, f);
    fclose(f);
    run(LIST("--chip", "esp32"), LIST("flash", "--no-stub", app, scratch_path("data.bin")));
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(e2e_flat(r.err), "data.bin is not an image that says where it goes") !=
              NULL, "%s", r.err);
    cr_assert_eq(blocks_written, 0);
}

static void run_offline(const char *const *args)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, 30);
}

static void write_bytes(const char *path, size_t size, int seed)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)((i * 31 + (size_t)seed) % 251), f);
    fclose(f);
}

Test(habits, merge_puts_each_file_at_its_address_and_fills_gaps_with_ff)
{
    write_bytes(scratch_path("a.bin"), 100, 1);
    write_bytes(scratch_path("b.bin"), 50, 2);
    const char *out = scratch_path("merged.bin");
    /* Out of order on the line: the output still starts at the lowest address. */
    run_offline(LIST("merge", "-o", out, "0x1200", scratch_path("b.bin"), "0x1000",
                     scratch_path("a.bin")));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "flash 0x1000") != NULL, "says where it goes: %s", r.out);
    FILE *f = fopen(out, "rb");
    cr_assert_not_null(f);
    uint8_t got[0x300];
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    cr_assert_eq(n, 0x200 + 50u, "from 0x1000 to the end of b.bin");
    for (size_t i = 0; i < n; i++) {
        int want = i < 100 ? (int)((i * 31 + 1) % 251)
                   : i < 0x200 ? 0xFF : (int)(((i - 0x200) * 31 + 2) % 251);
        cr_assert_eq(got[i], want, "byte 0x%zx: 0x%02x, not 0x%02x", i, got[i], want);
    }
}

Test(habits, merge_refuses_overlaps_and_writes_nothing)
{
    write_bytes(scratch_path("a.bin"), 0x1001, 1);
    write_bytes(scratch_path("b.bin"), 16, 2);
    const char *out = scratch_path("merged.bin");
    run_offline(LIST("merge", "--json", "-o", out, "0x0", scratch_path("a.bin"), "0x1000",
                     scratch_path("b.bin")));
    cr_assert_eq(r.status, 3, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "overlap") != NULL, "%s", r.err);
    cr_assert(strstr(r.out, "\"error\"") != NULL, "a JSON error: %s", r.out);
    cr_assert_neq(access(out, F_OK), 0, "nothing was written");
}

Test(habits, merge_needs_an_output_and_pairs)
{
    write_bytes(scratch_path("a.bin"), 16, 1);
    run_offline(LIST("merge", "0x0", scratch_path("a.bin")));
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    run_offline(LIST("merge", "-o", scratch_path("m.bin"), "0x0"));
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    run_offline(LIST("merge", "-o", scratch_path("a.bin"), "0x0", scratch_path("a.bin")));
    cr_assert_eq(r.status, 2, "the output is an input: exit %d\n%s", r.status, r.err);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n + 1);
    cr_assert_not_null(data);
    cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return data;
}

Test(habits, flash_mode_freq_and_size_patch_the_booted_header_and_its_sha)
{
    const char *boot = sim_mkimage("boot.bin", LIST("--chip", "esp32", "--kind", "bootloader"));
    size_t len;
    uint8_t *before = slurp(boot, &len);
    run(LIST("--chip", "esp32"), LIST("flash", "--no-stub", "--flash-mode", "dout",
                                      "--flash-freq", "40m", "--flash-size", "2MB", boot));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    size_t flen;
    uint8_t *flash = slurp(scratch_path("flash.bin"), &flen);
    cr_assert_geq(flen, 0x1000 + len);
    cr_assert_eq(flash[0x1000 + 2], 3, "mode dout");
    cr_assert_eq(flash[0x1000 + 3], 0x10, "2MB (1 << 4), 40m (0)");
    /* The copy on the board verifies as an image: its SHA-256 was computed again. */
    FILE *f = fopen(scratch_path("back.bin"), "wb");
    cr_assert_not_null(f);
    fwrite(flash + 0x1000, 1, len, f);
    fclose(f);
    run_offline(LIST("image", "--json", scratch_path("back.bin")));
    cr_assert_eq(r.status, 0, "the written bootloader is intact: exit %d\n%s\n%s", r.status,
                 r.out, r.err);
    cr_assert(strstr(r.out, "\"sha256\": \"ok\"") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "\"corrupt\": false") != NULL, "%s", r.out);
    size_t again_len;
    uint8_t *again = slurp(boot, &again_len);
    cr_assert(again_len == len && memcmp(before, again, len) == 0, "the file is untouched");
    free(before);
    free(again);
    free(flash);
}

Test(habits, flash_header_values_the_chip_lacks_are_refused)
{
    const char *boot = sim_mkimage("boot.bin", LIST("--chip", "esp32", "--kind", "bootloader"));
    run(LIST("--chip", "esp32"), LIST("flash", "--no-stub", "--flash-size", "128MB", boot));
    cr_assert_eq(r.status, 3, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(e2e_flat(r.err), "128MB is not a size the ESP32's image header has") !=
              NULL, "%s", r.err);
    cr_assert_eq(blocks_written, 0);
    run_offline(LIST("flash", "--flash-mode", "fast", boot));
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
}
