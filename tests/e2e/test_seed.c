/* The mistake that started the project, end to end: MicroPython built for the ESP32
 * (esp32spiram-20190913-v1.11-312-g22099ab88.bin, a merged image whose partition table sits
 * at file offset 0x7000) flashed onto an ESP8266, at 0x0 as the forum post did and with no
 * address. espdoctor must ask the board what it is before judging the file, refuse with
 * the right reason (exit 3, nothing written), name both chips, point at the ESP8266
 * download, and never print a command that writes that file. With no board answering it
 * must say what waits for the board, and still suggest no such command. */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e_dir.h"
#include "e2e_run.h"

#define LIMIT_S 60
#define SEED_NAME "esp32spiram-20190913-v1.11-312-g22099ab88.bin"
#define ESP8266_PAGE "https://micropython.org/download/ESP8266_GENERIC/"

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("seed");
}

/* The user's file, as MicroPython's build made it: bootloader, then the partition table
 * (magic 0xAA50) at file offset 0x7000, then the app. */
static const char *seed_image(void)
{
    const char *path = scratch_path(SEED_NAME);
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "merged",
                           "--micropython", "v1.11-312-g22099ab88", "-o", path, NULL };
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 0, "mkimage: %s", r.err);
    size_t len;
    uint8_t *img = e2e_slurp(path, &len);
    cr_assert_not_null(img, "cannot read %s", path);
    cr_assert_gt(len, 0x7002);
    cr_assert(img[0x7000] == 0xAA && img[0x7001] == 0x50, "no partition table at 0x7000");
    free(img);
    return path;
}

/* An ESP8266 board's flash as espsim leaves it, and a copy to compare with. */
static const char *esp8266_flash(const char *copy)
{
    const char *flash = scratch_path("board.flash");
    const char *argv[] = { e2e_bin("espsim"), "--chip", "esp8266", "--flash", flash, "--",
                           "true", NULL };
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 0, "espsim: %s", r.err);
    const char *cp[] = { "cp", flash, copy, NULL };
    e2e_run(&r, cp, LIMIT_S);
    cr_assert_eq(r.status, 0);
    return flash;
}

/* No line of text is a command that writes the file: "flash" and the file's name on one
 * line beside "espdoctor". */
static void expect_no_write_of(const char *text, const char *what)
{
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        char copy[4096];
        snprintf(copy, sizeof copy, "%.*s", (int)n, line);
        cr_expect(!(strstr(copy, "espdoctor") && strstr(copy, "flash") &&
                    strstr(copy, SEED_NAME)),
                  "%s: a command that writes the ESP32 file: %s", what, copy);
        line += n + (line[n] == '\n');
    }
}

/* Every fix_command in the document, none writing the file. */
static void expect_no_write_in_json(json_object *doc)
{
    json_object *problems = NULL;
    cr_assert(json_object_object_get_ex(doc, "problems", &problems));
    for (size_t i = 0; i < json_object_array_length(problems); i++) {
        json_object *p = json_object_array_get_idx(problems, i), *cmd = NULL;
        cr_assert(json_object_object_get_ex(p, "fix_command", &cmd));
        const char *c = cmd ? json_object_get_string(cmd) : "";
        cr_expect_null(strstr(c, SEED_NAME), "fix_command writes the ESP32 file: %s", c);
    }
}

static void seed_on_esp8266(const char *const *flash_args)
{
    const char *img = seed_image();
    const char *before = scratch_path("before.flash");
    const char *flash = esp8266_flash(before);
    const char *argv[16];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--chip";
    argv[n++] = "esp8266";
    argv[n++] = "--flash";
    argv[n++] = flash;
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    argv[n++] = "flash";
    for (size_t i = 0; flash_args[i]; i++)
        argv[n++] = flash_args[i];
    argv[n++] = img;
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 3, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_assert(e2e_same_files(flash, before), "the ESP8266's flash changed");
    const char *err = e2e_flat(r.err);
    cr_expect_not_null(strstr(err, "for the ESP32"), "%s", r.err);
    cr_expect_not_null(strstr(err, "the board is an ESP8266"), "%s", r.err);
    cr_expect_not_null(strstr(err, ESP8266_PAGE), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "\n      espdoctor -p /dev/ttyUSB0 flash "
                                     "ESP8266_GENERIC-*.bin\n"),
                       "the command for a downloaded ESP8266 file, on its own line:\n%s",
                       r.err);
    cr_expect_null(strstr(err, "0x1000"), "an address for the ESP32 is no fix here:\n%s",
                   r.err);
    cr_expect_not_null(strstr(err, "Nothing was written"), "%s", r.err);
    expect_no_write_of(r.out, "stdout");
    expect_no_write_of(r.err, "stderr");

    /* The same for scripts: the chip mismatch first, with the ESP8266 command. */
    argv[n++] = "--json";
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 3, "--json: exit %d\n%s", r.status, r.err);
    cr_assert(e2e_same_files(flash, before), "the ESP8266's flash changed (--json)");
    json_object *doc = e2e_json_doc(r.out);
    cr_assert_not_null(doc, "%s", r.out);
    json_object *v;
    cr_assert(json_object_object_get_ex(doc, "result", &v));
    cr_expect_str_eq(json_object_get_string(v), "refused");
    cr_assert(json_object_object_get_ex(doc, "chip", &v));
    cr_expect_str_eq(json_object_get_string(v), "ESP8266");
    json_object *problems, *first, *id, *cmd;
    cr_assert(json_object_object_get_ex(doc, "problems", &problems));
    cr_assert_gt(json_object_array_length(problems), 0);
    first = json_object_array_get_idx(problems, 0);
    cr_assert(json_object_object_get_ex(first, "id", &id));
    cr_expect_str_eq(json_object_get_string(id), "image.wrong-chip");
    cr_assert(json_object_object_get_ex(first, "fix_command", &cmd));
    cr_expect_str_eq(json_object_get_string(cmd), "espdoctor -p /dev/ttyUSB0 flash "
                                                  "ESP8266_GENERIC-*.bin");
    expect_no_write_in_json(doc);
    json_object_put(doc);
    fprintf(stderr, "[time] seed on esp8266 (flash %s): exit 3 in %.2f s\n",
            flash_args[0] ? flash_args[0] : "without an address", r.seconds);
}

Test(seed, esp32_micropython_at_0x0_on_an_esp8266, .init = make_dir, .fini = scratch_remove)
{
    seed_on_esp8266((const char *[]){ "0x0", NULL });
}

Test(seed, esp32_micropython_without_address_on_an_esp8266, .init = make_dir,
     .fini = scratch_remove)
{
    seed_on_esp8266((const char *[]){ NULL });
}

/* No board answers (no auto-reset on an ESP8266 that prints nothing we can read): what the
 * file is, known offline, what waits for the board, and no command writing the file. */
Test(seed, no_board_answering_says_what_waits_for_it, .init = make_dir, .fini = scratch_remove)
{
    const char *img = seed_image();
    const char *before = scratch_path("before.flash");
    const char *flash = esp8266_flash(before);
    const char *argv[] = { e2e_bin("espsim"), "--chip", "esp8266", "--no-autoreset", "--flash",
                           flash, "--", e2e_bin("espdoctor"), "flash", "--button-wait", "0", "0x0", img,
                           NULL };
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
    cr_assert(e2e_same_files(flash, before), "the flash changed");
    const char *err = e2e_flat(r.err);
    cr_expect_not_null(strstr(err, "was checked without the board"), "%s", r.err);
    cr_expect_not_null(strstr(err, "waits for the board"), "%s", r.err);
    cr_expect_not_null(strstr(err, "for the ESP32"), "%s", r.err);
    cr_expect_not_null(strstr(err, "Nothing was written"), "%s", r.err);
    expect_no_write_of(r.out, "stdout");
    expect_no_write_of(r.err, "stderr");

    /* Nothing plugged in at all. */
    const char *alone[] = { e2e_bin("espdoctor"), "flash", img, NULL };
    e2e_run(&r, alone, LIMIT_S);
    cr_assert_eq(r.status, 4, "exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(e2e_flat(r.err), "waits for the board"), "%s", r.err);
    expect_no_write_of(r.err, "stderr, no board");

    const char *alone_json[] = { e2e_bin("espdoctor"), "flash", "--json", "0x0", img, NULL };
    e2e_run(&r, alone_json, LIMIT_S);
    json_object *doc = e2e_json_doc(r.out);
    cr_assert_not_null(doc, "%s", r.out);
    json_object *unchecked;
    cr_assert(json_object_object_get_ex(doc, "unchecked", &unchecked));
    cr_expect_eq(json_object_array_length(unchecked), 5, "%s",
                 json_object_to_json_string(unchecked));
    cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(unchecked, 0)),
                     "image.wrong-chip");
    expect_no_write_in_json(doc);
    json_object_put(doc);
}
