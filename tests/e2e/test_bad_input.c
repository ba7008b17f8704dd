/* Bad input, everywhere: options, addresses, files and ports that are wrong, for every
 * board command, through the real binaries. Each case checks the message, the exit code
 * (src/cli.h) and that the board kept its flash: espdoctor runs inside build/espsim with a
 * flash file prepared beforehand, compared byte for byte afterwards, and espsim's --stats
 * show no block written (and, where the mistake is visible before any board is needed, not
 * a byte sent to the board at all). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "e2e_run.h"
#include "e2e_dir.h"
#include "e2e_user.h"
#include "e2e_sim.h"

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define FLASH_SIZE (4u << 20)
#define LIMIT_S 60
#define ARGV_MAX 64

enum { EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_REFUSED, EXIT_NODEV, EXIT_PORT, EXIT_INPUT,
       EXIT_PROBLEM };

static struct e2e_result r;

/* What espsim counted for the last run. */
static struct {
    long long host_bytes_out, commands, blocks_written;
} stats;

/* The flash as it was before the last run. */
static uint8_t *before;
static size_t before_len;

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* 4 MiB with a pattern in every byte, so any erase or write shows. */
static void patterned_flash(void)
{
    uint8_t *buf = malloc(FLASH_SIZE);
    cr_assert_not_null(buf);
    for (uint32_t i = 0; i < FLASH_SIZE; i++)
        buf[i] = (uint8_t)(((i * 31u) >> 7 & 0xFF) ^ 0x5A);
    write_file(scratch_path("flash.bin"), buf, FLASH_SIZE);
    free(buf);
}

static void setup(void)
{
    scratch_make("bad");
    /* nobody must reach the files it is refused, or it fails for the wrong reason */
    cr_assert_eq(chmod(scratch_dir, 0755), 0);
    patterned_flash();
}

static void teardown(void)
{
    free(before);
    before = NULL;
    scratch_remove();
}

TestSuite(bad_input, .init = setup, .fini = teardown);

static long long stat_of(json_object *o, const char *key)
{
    json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in espsim's statistics", key);
    return json_object_get_int64(v);
}

/* build/espsim --flash FLASH --stats STATS SIM... -- AS... ESPDOCTOR ARGS..., ESPDOCTOR
 * being build/espdoctor or, for another user, a copy it can reach. */
static void run_program(const char *const *sim, const char *const *as, const char *espdoctor,
                        const char *const *args)
{
    size_t len;
    free(before);
    before = slurp(scratch_path("flash.bin"), &len);
    before_len = len;
    unlink(scratch_path("stats.json"));

    const char *argv[ARGV_MAX];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--flash";
    argv[n++] = scratch_path("flash.bin");
    argv[n++] = "--stats";
    argv[n++] = scratch_path("stats.json");
    for (size_t i = 0; sim && sim[i]; i++)
        argv[n++] = sim[i];
    argv[n++] = "--";
    for (size_t i = 0; as && as[i]; i++)
        argv[n++] = as[i];
    argv[n++] = espdoctor;
    for (size_t i = 0; args[i]; i++) {
        cr_assert_lt(n, ARGV_MAX - 1);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);

    json_object *o = json_object_from_file(scratch_path("stats.json"));
    cr_assert_not_null(o, "espsim wrote no statistics (exit %d)\n%s", r.status, r.err);
    stats.host_bytes_out = stat_of(o, "host_bytes_out");
    stats.commands = stat_of(o, "commands");
    stats.blocks_written = stat_of(o, "blocks_written");
    json_object_put(o);
}

static void run(const char *const *sim, const char *const *as, const char *const *args)
{
    run_program(sim, as, e2e_bin("espdoctor"), args);
}

/* The exit status, and a piece of the message on stderr. */
static void expect(int status, const char *needle)
{
    cr_assert_eq(r.status, status, "exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.status,
                 status, r.out, r.err);
    cr_assert_not_null(strstr(e2e_flat(r.err), needle), "no \"%s\" in stderr:\n%s", needle,
                       r.err);
}

/* The flash holds what it held before, byte for byte, and no block was accepted. */
static void expect_untouched(void)
{
    size_t len;
    uint8_t *now = slurp(scratch_path("flash.bin"), &len);
    bool same = len == before_len && memcmp(now, before, len) == 0;
    free(now);
    cr_assert(same, "the flash changed\n%s", r.err);
    cr_assert_eq(stats.blocks_written, 0, "%lld blocks were written", stats.blocks_written);
}

/* The mistake was caught before the port was touched: no byte went to the board. */
static void expect_board_not_contacted(void)
{
    expect_untouched();
    cr_assert_eq(stats.host_bytes_out, 0, "%lld bytes went to the board",
                 stats.host_bytes_out);
}

static void expect_usage(const char *const *args, const char *needle)
{
    run(NULL, NULL, args);
    expect(EXIT_USAGE, needle);
    expect_board_not_contacted();
}

static const char *app_image(void)
{
    return sim_mkimage("app.bin", LIST("--chip", "esp32", "--kind", "app", "--size", "200K"));
}

static const char *merged_image(void)
{
    return sim_mkimage("merged.bin", LIST("--chip", "esp32", "--kind", "merged", "--size", "1.5M",
                                      "--micropython", "v1.24.0"));
}

static const char *text_file(const char *name, const char *text)
{
    const char *path = scratch_path(name);
    write_file(path, text, strlen(text));
    return path;
}

static json_object *stdout_json(void)
{
    json_object *o = e2e_json_doc(r.out);
    cr_assert_not_null(o, "no JSON on stdout (exit %d)\nstdout:\n%s\nstderr:\n%s", r.status,
                       r.out, r.err);
    return o;
}

static const char *json_str(json_object *o, const char *key)
{
    json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v ? json_object_get_string(v) : NULL;
}

static json_object *json_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

/* ---- options ---------------------------------------------------------------------------- */

Test(bad_input, unknown_option_on_every_command)
{
    const char *const *cases[] = {
        LIST("flash", "--bogus", "fw.bin"), LIST("erase", "--bogus"),
        LIST("read", "--bogus", "0", "0x1000", "out.bin"), LIST("info", "--bogus"),
        LIST("image", "--bogus", "fw.bin"), LIST("doctor", "--bogus"), LIST("--bogus"),
        LIST("flash", "-Z", "fw.bin"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_usage(cases[i], "unknown option '");
    cr_assert_not_null(strstr(e2e_flat(r.err), "'-Z'"), "%s", r.err);
}

Test(bad_input, option_of_another_command)
{
    const char *const *cases[] = {
        LIST("info", "--erase-all"), LIST("image", "--force", "fw.bin"),
        LIST("read", "--region", "0x1000", "0", "0x1000", "out.bin"),
        LIST("doctor", "--no-skip"), LIST("erase", "--force"),
        LIST("flash", "--region", "0x1000", "fw.bin"), LIST("info", "--flash", "fw.bin"),
        LIST("image", "-p", "/dev/ttyUSB0", "fw.bin"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_usage(cases[i], "does not apply to '");
}

Test(bad_input, option_without_its_value)
{
    expect_usage(LIST("flash", "fw.bin", "-p"), "option '-p' needs a value");
    expect_usage(LIST("info", "-b"), "option '-b' needs a value");
    expect_usage(LIST("erase", "--region"), "needs a value");
    expect_usage(LIST("info", "-p", ""), "--port needs a port name");
    expect_usage(LIST("info", "--port="), "--port needs a port name");
}

Test(bad_input, baud_out_of_range_or_not_a_number)
{
    static const char *const bauds[] = { "0", "299", "abc", "99999999", "-115200", "115200x",
                                         "1e6", "" };
    const char *const *commands[] = {
        LIST("flash", "fw.bin"), LIST("monitor"), LIST("erase"), LIST("read", "0", "4K", "o.bin"),
        LIST("doctor"),
    };
    for (size_t b = 0; b < sizeof bauds / sizeof bauds[0]; b++) {
        size_t c = b % (sizeof commands / sizeof commands[0]);
        const char *args[12];
        size_t n = 0;
        for (size_t i = 0; commands[c][i]; i++)
            args[n++] = commands[c][i];
        args[n++] = "-b";
        args[n++] = bauds[b];
        args[n] = NULL;
        expect_usage(args, "--baud takes a line speed between 300 and 12000000");
    }
}

/* -b where it would change nothing is refused, not silently ignored. */
Test(bad_input, baud_where_no_speed_is_raised)
{
    expect_usage(LIST("info", "-b", "921600"), "option '--baud' does not apply to 'info'");
    expect_usage(LIST("read-mac", "--baud", "921600"),
                 "option '--baud' does not apply to 'read-mac'");
    expect_usage(LIST("doctor", "-b", "921600"), "the doctor uses it only with --flash FILE");
    expect_usage(LIST("-b", "460800"), "the doctor uses it only with --flash FILE");
}

Test(bad_input, contradictory_options)
{
    const char *app = app_image();
    expect_usage(LIST("flash", "--stub", scratch_dir, "--no-stub", app),
                 "--no-stub contradict each other");
    expect_usage(LIST("erase", "--no-stub", "--stub", scratch_dir), "--no-stub contradict each other");
    expect_usage(LIST("read", "--stub", scratch_dir, "--no-stub", "0", "4K", scratch_path("out.bin")),
                 "--no-stub contradict each other");
    expect_usage(LIST("info", "-q", "-v"), "--quiet and --verbose contradict each other");
    expect_usage(LIST("flash", "-v", "--quiet", app), "--quiet and --verbose contradict");
    cr_assert_neq(access(scratch_path("out.bin"), F_OK), 0, "read left a file behind");
}

Test(bad_input, positional_arguments_that_do_not_fit)
{
    expect_usage(LIST("info", "extra"), "'info' takes no arguments");
    expect_usage(LIST("doctor", "extra"), "'doctor' takes no arguments");
    expect_usage(LIST("image"), "usage: espdoctor image FILE");
    expect_usage(LIST("image", "a.bin", "b.bin"), "usage: espdoctor image FILE");
    expect_usage(LIST("flash"), "'flash' needs a firmware file");
    expect_usage(LIST("flash", "0x1000", "a.bin", "0x20000"), "ADDR FILE pairs");
    expect_usage(LIST("read", "0", "0x1000"), "'read' takes ADDR SIZE FILE");
    expect_usage(LIST("read", "0", "0x1000", "a", "b"), "'read' takes ADDR SIZE FILE");
    expect_usage(LIST("frobnicate"), "unknown command 'frobnicate'");
}

/* ---- erase --region and read ranges ------------------------------------------------------ */

Test(bad_input, erase_region_that_is_not_a_region)
{
    expect_usage(LIST("erase", "--region", "0x10000"), "--region takes an address and a size");
    expect_usage(LIST("erase", "--region", "0x10000", "0x1000", "0x2000"),
                 "--region takes an address and a size");
    expect_usage(LIST("erase", "0x10000"), "'erase' erases the whole flash, or a region");
    expect_usage(LIST("erase", "--region", "0x10000", "0"), "the size above 0");
    expect_usage(LIST("erase", "--region", "ten", "0x1000"), "must be numbers");
    expect_usage(LIST("erase", "--region", "-4096", "0x1000"), "must be numbers");
    expect_usage(LIST("erase", "--region", "0x10800", "0x1000"),
                 "flash is erased in 4 KB sectors");
    cr_assert_not_null(strstr(e2e_flat(r.err), "--region 0x10000 0x1000"), "no aligned example: %s",
                       r.err);
    expect_usage(LIST("erase", "--region", "0x10000", "0x800"),
                 "flash is erased in 4 KB sectors");
}

Test(bad_input, read_range_that_is_not_a_range)
{
    const char *out = scratch_path("out.bin");
    expect_usage(LIST("read", "0", "0", out), "the size above 0");
    expect_usage(LIST("read", "0xZZ", "0x1000", out), "must be numbers");
    expect_usage(LIST("read", "0", "4G", out), "must be numbers");
    cr_assert_neq(access(out, F_OK), 0, "read left a file behind");
}

Test(bad_input, past_the_end_of_the_flash_is_refused_for_erase_and_read)
{
    const char *out = scratch_path("out.bin");
    run(LIST("--fast"), NULL, LIST("read", "0x3FF000", "0x2000", out));
    expect(EXIT_REFUSED, "past the end of the board's 4 MB flash");
    expect_untouched();
    cr_assert_neq(access(out, F_OK), 0, "read left a file behind");

    run(LIST("--fast"), NULL, LIST("erase", "--region", "0x3FF000", "0x2000"));
    expect(EXIT_REFUSED, "past the end of the board's 4 MB flash. Nothing was erased.");
    expect_untouched();

    run(LIST("--fast"), NULL, LIST("erase", "--json", "--region", "0xFFFFF000", "0x2000"));
    cr_assert_eq(r.status, EXIT_REFUSED, "exit %d\n%s", r.status, r.err);
    expect_untouched();
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(o, "result"), "refused");
    cr_assert_not_null(strstr(json_str(json_get(o, "error"), "message"), "past the end"));
    json_object_put(o);
}

/* ---- flash addresses --------------------------------------------------------------------- */

Test(bad_input, odd_address_syntax)
{
    const char *app = app_image();
    /* "010000" is C octal for 0x1000: whoever typed it meant 0x10000 (or 10000) */
    static const char *const addrs[] = { "0xZZ", "4G", "0x100000000", "010000", "1e4",
                                         "0x", " 0x10000", "+65536", "64KiB" };
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        expect_usage(LIST("flash", addrs[i], app), "is not a flash address");
        cr_assert_not_null(strstr(e2e_flat(r.err), addrs[i]), "%s", r.err);
    }
    expect_usage(LIST("flash", "-0x1000", app), "unknown option '-0'");
}

Test(bad_input, unaligned_address_is_refused_and_force_does_not_help)
{
    const char *app = app_image();
    run(NULL, NULL, LIST("flash", "0x10001", app));
    expect(EXIT_REFUSED, "0x10001 is not a multiple of 4 KB");
    cr_assert_not_null(strstr(e2e_flat(r.err), "Nothing was written"), "%s", r.err);
    expect_untouched();

    run(NULL, NULL, LIST("flash", "--force", "--json", "0x1001", app));
    cr_assert_eq(r.status, EXIT_REFUSED, "exit %d\n%s", r.status, r.err);
    expect_untouched();
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(o, "result"), "refused");
    json_object *problems = json_get(o, "problems");
    bool found = false;
    for (size_t i = 0; i < json_object_array_length(problems); i++) {
        json_object *p = json_object_array_get_idx(problems, i);
        if (strcmp(json_str(p, "id"), "flash.unaligned") != 0)
            continue;
        found = true;
        cr_assert(json_object_get_boolean(json_get(p, "blocking")));
        cr_assert_not(json_object_get_boolean(json_get(p, "forced")), "--force overrode it");
        cr_assert_not_null(strstr(json_str(p, "fix"), "0x1000"), "%s", json_str(p, "fix"));
    }
    cr_assert(found, "no flash.unaligned in %s", json_object_to_json_string(problems));
    json_object_put(o);
}

Test(bad_input, past_the_flash_end_is_refused_even_with_force)
{
    const char *merged = merged_image();
    /* Without --force both objections, judged with the ESP32 that answered: the image's
     * own address, and the end of the flash. */
    run(NULL, NULL, LIST("flash", "0x3FF000", merged));
    expect(EXIT_REFUSED, "meant for flash address 0x1000");
    cr_assert_not_null(strstr(e2e_flat(r.err), "past the end of the board's 4 MB flash"), "%s", r.err);
    expect_untouched();

    /* With it, the board's 4 MB are known after connecting: 1.5 MB at 0x3FF000 cannot fit,
     * and no --force makes room. */
    run(LIST("--fast"), NULL, LIST("flash", "--force", "0x3FF000", merged));
    expect(EXIT_REFUSED, "past the end of the board's 4 MB flash");
    cr_assert_not_null(strstr(e2e_flat(r.err), "refused (--force cannot override)"), "%s", r.err);
    cr_assert_not_null(strstr(e2e_flat(r.err), "Nothing was written"), "%s", r.err);
    expect_untouched();

    /* Raw data (no image header) at an address near the end: the same. */
    uint8_t raw[8192];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 7 + 3);
    write_file(scratch_path("nvs.img"), raw, sizeof raw);
    run(LIST("--fast"), NULL, LIST("flash", "--force", "--json", "0x3FF000", scratch_path("nvs.img")));
    cr_assert_eq(r.status, EXIT_REFUSED, "exit %d\n%s", r.status, r.err);
    expect_untouched();
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(o, "result"), "refused");
    json_object *problems = json_get(o, "problems");
    bool too_large = false;
    for (size_t i = 0; i < json_object_array_length(problems); i++) {
        json_object *p = json_object_array_get_idx(problems, i);
        if (strcmp(json_str(p, "id"), "image.too-large") == 0) {
            too_large = true;
            cr_assert_not(json_object_get_boolean(json_get(p, "forced")));
        }
    }
    cr_assert(too_large, "no image.too-large in %s", json_object_to_json_string(problems));
    json_object_put(o);
}

/* ---- files ------------------------------------------------------------------------------- */

struct file_case {
    const char *path;
    int status;
    const char *needle;
};

/* Every file that is no firmware, for `flash FILE` and `image FILE`: none reaches a board. */
Test(bad_input, files_that_are_not_firmware)
{
    const char *merged = merged_image();
    size_t len;
    uint8_t *whole = slurp(merged, &len);
    write_file(scratch_path("truncated.bin"), whole, 100000);   /* a download cut short */
    free(whole);
    write_file(scratch_path("empty.bin"), "", 0);
    cr_assert_eq(mkdir(scratch_path("folder.bin"), 0755), 0);
    cr_assert_eq(mkfifo(scratch_path("fifo.bin"), 0644), 0);
    uint8_t raw[4096];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 13 + 1);
    write_file(scratch_path("raw.bin"), raw, sizeof raw);
    /* The download page saved under the firmware's name, a zip, and a program (ELF). */
    uint8_t *page = slurp("tests/fixtures/download-page.html", &len);
    write_file(scratch_path("ESP32_GENERIC-20241025-v1.24.0.bin"), page, len);
    free(page);
    uint8_t *zip = slurp("tests/fixtures/firmware-bundle.zip", &len);
    write_file(scratch_path("bundle.bin"), zip, len);
    free(zip);
    uint8_t *elf = slurp(e2e_bin("espdoctor"), &len);
    write_file(scratch_path("firmware.elf"), elf, len);
    free(elf);

    const struct file_case cases[] = {
        { scratch_path("missing.bin"), EXIT_INPUT, "No such file or directory" },
        { scratch_path("empty.bin"), EXIT_INPUT, "empty" },
        { scratch_path("folder.bin"), EXIT_INPUT, "is a directory" },
        { scratch_path("fifo.bin"), EXIT_INPUT, "not a regular file" },   /* and no hang */
        { "/dev/zero", EXIT_INPUT, "not a regular file" },
        { scratch_path("ESP32_GENERIC-20241025-v1.24.0.bin"), EXIT_INPUT, "HTML" },
        { scratch_path("bundle.bin"), EXIT_INPUT, "zip archive" },
        { scratch_path("firmware.elf"), EXIT_INPUT, "ELF" },
        { scratch_path("raw.bin"), EXIT_INPUT, "not a firmware image espdoctor recognises" },
        { scratch_path("truncated.bin"), EXIT_REFUSED, "cut short" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct file_case *c = &cases[i];
        run(NULL, NULL, LIST("flash", c->path));
        expect(c->status, c->needle);
        cr_assert_not_null(strstr(e2e_flat(r.err), "Nothing was written"), "%s", r.err);
        /* Not firmware: refused before any board is asked. A broken image is judged
         * with the board, so that every problem is told at once. */
        if (c->status == EXIT_INPUT)
            expect_board_not_contacted();
        else
            expect_untouched();
        cr_assert_lt(r.seconds, 10 * e2e_time_scale(), "%s took %.1f s", c->path, r.seconds);

        run(NULL, NULL, LIST("image", c->path));
        cr_assert_eq(r.status, EXIT_INPUT, "image %s: exit %d\n%s", c->path, r.status, r.err);
        expect_board_not_contacted();
    }
}

Test(bad_input, files_with_json_say_why_on_stdout)
{
    const char *missing = scratch_path("missing.bin");
    run(NULL, NULL, LIST("flash", "--json", missing));
    cr_assert_eq(r.status, EXIT_INPUT, "exit %d\n%s", r.status, r.err);
    expect_board_not_contacted();
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(o, "result"), "input-error");
    cr_assert_not_null(strstr(json_str(json_get(o, "error"), "message"), "cannot open"));
    cr_assert_eq(json_object_array_length(json_get(o, "regions")), 0);
    json_object_put(o);

    run(NULL, NULL, LIST("image", "--json", missing));
    cr_assert_eq(r.status, EXIT_INPUT, "exit %d\n%s", r.status, r.err);
    o = stdout_json();
    cr_assert_not_null(strstr(json_str(json_get(o, "error"), "message"),
                              "No such file or directory"));
    json_object_put(o);
}

Test(bad_input, one_bad_file_among_good_ones_writes_nothing)
{
    const char *merged = merged_image();
    const char *app = app_image();
    run(NULL, NULL, LIST("flash", "0x1000", merged, "0x200000", scratch_path("missing.bin")));
    expect(EXIT_INPUT, "missing.bin");
    expect_board_not_contacted();

    /* Both readable, but sharing sectors: the second would overwrite the first. Judged
     * with the board, which answers, so all problems come at once; nothing is written. */
    run(NULL, NULL, LIST("flash", "0x1000", merged, "0x10000", app));
    expect(EXIT_REFUSED, "overlaps");
    expect_untouched();
}

/* Mode 000 refuses an ordinary user even its own file; root reads any file whatever its
 * mode, so as root espdoctor runs as nobody, from a copy in the scratch folder. */
Test(bad_input, unreadable_file_for_a_user_without_permission)
{
    const char *app = app_image();
    cr_assert_eq(chmod(app, 0), 0);
    const char *const nobody[] = { E2E_SETPRIV_NOBODY, NULL };
    const char *const *as = e2e_user_is_root() ? nobody : NULL;
    const char *espdoctor = e2e_user_reachable(e2e_bin("espdoctor"), scratch_dir);
    cr_assert_not_null(espdoctor, "cannot copy espdoctor into %s: %s", scratch_dir,
                       strerror(errno));
    run_program(NULL, as, espdoctor, LIST("flash", app));
    expect(EXIT_INPUT, "Permission denied");
    cr_assert_not_null(strstr(e2e_flat(r.err), "Nothing was written"), "%s", r.err);
    expect_board_not_contacted();

    run_program(NULL, as, espdoctor, LIST("image", app));
    expect(EXIT_INPUT, "Permission denied");

    run_program(NULL, as, espdoctor, LIST("doctor", "--flash", app));
    expect(EXIT_INPUT, "Permission denied");
    expect_board_not_contacted();
}

Test(bad_input, doctor_checks_its_flash_file_before_the_board)
{
    run(NULL, NULL, LIST("doctor", "--flash", scratch_path("missing.bin")));
    expect(EXIT_INPUT, "--flash: cannot open");
    cr_assert_not_null(strstr(e2e_flat(r.err), "Nothing was examined or written"), "%s", r.err);
    expect_board_not_contacted();

    const char *page = text_file("fw.bin", "<!DOCTYPE html>\n<html><head><title>MicroPython"
                                           "</title></head><body></body></html>\n");
    run(NULL, NULL, LIST("doctor", "--json", "--flash", page));
    expect(EXIT_INPUT, "HTML");
    /* One document, the error's: no report of a board that was never examined. */
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(json_get(o, "error"), "id"), "input.unusable");
    cr_assert_not_null(strstr(json_str(json_get(o, "error"), "message"), "HTML"), "%s", r.out);
    cr_assert(!json_object_object_get_ex(o, "findings", NULL), "the doctor printed a report: "
              "%s", r.out);
    json_object_put(o);
    expect_board_not_contacted();
}

Test(bad_input, stub_that_is_not_a_stub)
{
    const char *app = app_image();
    cr_assert_eq(mkfifo(scratch_path("stub.fifo"), 0644), 0);
    cr_assert_eq(mkdir(scratch_path("no-stubs"), 0755), 0);
    write_file(scratch_path("empty.json"), "", 0);
    const struct file_case cases[] = {
        { scratch_path("missing.json"), EXIT_INPUT, "does not exist" },
        { scratch_path("stub.fifo"), EXIT_INPUT, "is neither a file nor a directory" },
        { scratch_path("no-stubs"), EXIT_INPUT, "has no stub for this chip" },
        { scratch_path("empty.json"), EXIT_INPUT, "empty.json is empty" },
        { text_file("page.json", "<html>stub</html>\n"), EXIT_INPUT, "is not JSON" },
        { text_file("other.json", "{\"entry\": 5}\n"), EXIT_INPUT, "not a flasher stub" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(LIST("--fast"), NULL, LIST("flash", "--stub", cases[i].path, app));
        expect(cases[i].status, cases[i].needle);
        cr_assert_null(strstr(e2e_flat(r.err), "json_tokener"), "json-c's words leaked: %s", r.err);
        expect_untouched();
    }
    run(LIST("--fast"), NULL, LIST("erase", "--stub", scratch_path("missing.json")));
    expect(EXIT_INPUT, "does not exist");
    expect_untouched();
}

/* ---- read's output file ------------------------------------------------------------------ */

Test(bad_input, read_into_a_place_that_cannot_take_it)
{
    run(LIST("--fast"), NULL, LIST("read", "0", "0x1000", scratch_path("nowhere/out.bin")));
    expect(EXIT_INPUT, "cannot create");
    expect_untouched();

    cr_assert_eq(mkdir(scratch_path("folder"), 0755), 0);
    run(LIST("--fast"), NULL, LIST("read", "0", "0x1000", scratch_path("folder")));
    expect(EXIT_INPUT, "Is a directory");
    expect_untouched();

    /* A device that is full (through a link, so that a regression could only remove the
     * link): the message names the file, not the board, and the device is never unlinked. */
    const char *full = scratch_path("full");
    cr_assert_eq(symlink("/dev/full", full), 0);
    run(LIST("--fast"), NULL, LIST("read", "0", "0x1000", full));
    expect(EXIT_FAIL, "No space left on device");
    cr_assert_not_null(strstr(e2e_flat(r.err), "writing"), "%s", r.err);
    cr_assert_null(strstr(e2e_flat(r.err), "was removed"), "%s", r.err);
    struct stat st;
    cr_assert_eq(lstat(full, &st), 0, "read removed %s", full);
    expect_untouched();
}

/* ---- ports ------------------------------------------------------------------------------- */

Test(bad_input, ports_that_are_not_serial_ports)
{
    static const char text[] = "root:x:0:0:root:/root:/bin/bash\n";
    const char *regular = text_file("passwd", text);
    cr_assert_eq(mkdir(scratch_path("folder"), 0755), 0);
    const char *const ports[] = { regular, "/dev/null", scratch_path("folder") };
    const char *app = app_image();
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        const char *p = ports[i];
        const char *const *cases[] = {
            LIST("info", "-p", p), LIST("flash", "-p", p, app), LIST("erase", "-p", p),
            LIST("read", "-p", p, "0", "4K", scratch_path("out.bin")),
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            run(NULL, NULL, cases[c]);
            expect(EXIT_NODEV, "is not a serial port");
            expect_board_not_contacted();
        }
        run(NULL, NULL, LIST("doctor", "--json", "-p", p));
        cr_assert_eq(r.status, EXIT_PROBLEM, "doctor -p %s: exit %d\n%s", p, r.status, r.err);
        json_object *o = stdout_json();
        cr_assert_str_eq(json_str(json_get(o, "verdict"), "problem"), "port.not-serial");
        json_object_put(o);
        expect_board_not_contacted();
    }
    size_t len;
    uint8_t *now = slurp(regular, &len);
    cr_assert(len == strlen(text) && memcmp(now, text, len) == 0,
              "the file given as a port was changed");
    free(now);
    cr_assert_neq(access(scratch_path("out.bin"), F_OK), 0, "read left a file behind");
}

Test(bad_input, port_that_does_not_exist)
{
    const char *const *cases[] = {
        LIST("info", "-p", "/dev/ttyUSB9"), LIST("erase", "-p", "/dev/ttyUSB9"),
        LIST("read", "-p", "/dev/ttyUSB9", "0", "4K", scratch_path("out.bin")),
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        run(NULL, NULL, cases[c]);
        expect(EXIT_NODEV, "/dev/ttyUSB9 does not exist");
        expect_board_not_contacted();
    }
    run(NULL, NULL, LIST("doctor", "-p", "/dev/ttyUSB9"));
    expect(EXIT_NODEV, "");
    cr_assert_not_null(strstr(r.out, "device.none"), "%s", r.out);

    /* The bridge is on the bus but its driver made no tty: -p names a port that is not there. */
    run(LIST("--driver", "none"), NULL, LIST("flash", "-p", "/dev/ttyUSB0", app_image()));
    expect(EXIT_NODEV, "/dev/ttyUSB0 does not exist");
    expect_untouched();
}

/* The cable is pulled after 50 bytes (the first SYNC) and never comes back. */
Test(bad_input, port_that_vanishes)
{
    const char *const *sim = LIST("--fast", "--unplug-at", "50:0");
    const char *app = app_image();
    const char *const *cases[] = {
        LIST("info"), LIST("flash", "0x10000", app), LIST("erase"),
        LIST("read", "0", "4K", scratch_path("out.bin")),
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        run(sim, NULL, cases[c]);
        expect(EXIT_FAIL, "vanished");
        cr_assert_null(strstr(e2e_flat(r.err), "lower baud"), "misleading advice: %s", r.err);
        expect_untouched();
    }
    cr_assert_neq(access(scratch_path("out.bin"), F_OK), 0, "read left a file behind");

    /* info after the connect: never a board report with holes in it, and exit 1 */
    run(LIST("--fast", "--unplug-at", "300:0"), NULL, LIST("info", "--json"));
    cr_assert_eq(r.status, EXIT_FAIL, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(json_get(o, "error"), "id"), "port.vanished");
    json_object_put(o);

    run(sim, NULL, LIST("doctor", "--json"));
    cr_assert_eq(r.status, EXIT_PROBLEM, "exit %d\n%s", r.status, r.err);
    o = stdout_json();
    bool vanished = false, ready = false;
    json_object *findings = json_get(o, "findings");
    for (size_t i = 0; i < json_object_array_length(findings); i++) {
        const char *id = json_str(json_object_array_get_idx(findings, i), "id");
        vanished = vanished || strcmp(id, "port.vanished") == 0;
        ready = ready || strcmp(id, "bootloader.ok") == 0;
    }
    cr_assert(vanished, "no port.vanished finding: %s", r.out);
    cr_assert_not(ready, "a board that vanished was called ready: %s", r.out);
    json_object_put(o);
    expect_untouched();
}

/* A serial device that is not an ESP: NMEA text at 9600 baud, deaf to DTR/RTS and SYNC. */
Test(bad_input, port_that_answers_with_text_only)
{
    const char *const *sim = LIST("--chip", "none");
    const char *app = app_image();
    const char *const *cases[] = { LIST("info"), LIST("flash", "0x10000", app) };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        run(sim, NULL, cases[c]);
        expect(EXIT_FAIL, "could not reach the ROM bootloader on /dev/ttyUSB0");
        cr_assert_not_null(strstr(e2e_flat(r.err), "not an ESP"), "%s", r.err);
        expect_untouched();
        cr_assert_eq(stats.commands, 0, "the text device decoded %lld commands",
                     stats.commands);
    }

    run(sim, NULL, LIST("doctor", "--json"));
    cr_assert_eq(r.status, EXIT_PROBLEM, "exit %d\n%s", r.status, r.err);
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(json_get(o, "verdict"), "status"), "problem");
    cr_assert_null(json_str(json_get(o, "verdict"), "chip"));
    json_object_put(o);
    expect_untouched();
}

/* A board running its app, with no auto-reset circuit: it only ever prints its log. */
Test(bad_input, board_that_only_prints_its_app_log)
{
    /* The flash holds the app (espsim writes it into a blank flash file once). */
    unlink(scratch_path("flash.bin"));
    const char *setup_argv[] = { e2e_bin("espsim"), "--firmware", "app", "--flash",
                                 scratch_path("flash.bin"), "--", "true", NULL };
    e2e_run(&r, setup_argv, LIMIT_S);
    cr_assert_eq(r.status, 0, "espsim --firmware app: exit %d\n%s", r.status, r.err);

    const char *const *sim = LIST("--fast", "--no-autoreset", "--firmware", "app");
    run(sim, NULL, LIST("flash", "--button-wait", "0", "0x10000", app_image()));
    expect(EXIT_FAIL, "could not reach the ROM bootloader");
    cr_assert_not_null(strstr(e2e_flat(r.err), "Hold the BOOT (IO0) button"), "%s", r.err);
    cr_assert_not_null(strstr(e2e_flat(r.err), "Hello from espsim app"), "the board's text: %s", r.err);
    expect_untouched();

    run(sim, NULL, LIST("erase", "--button-wait", "0", "--json"));
    cr_assert_eq(r.status, EXIT_FAIL, "exit %d\n%s", r.status, r.err);
    json_object *o = stdout_json();
    cr_assert_str_eq(json_str(json_get(o, "error"), "id"), "reset.no-autoreset");
    json_object_put(o);
    expect_untouched();

    run(sim, NULL, LIST("read", "--button-wait", "0", "0", "4K", scratch_path("out.bin")));
    expect(EXIT_FAIL, "could not reach the ROM bootloader");
    expect_untouched();
    cr_assert_neq(access(scratch_path("out.bin"), F_OK), 0, "read left a file behind");
}
