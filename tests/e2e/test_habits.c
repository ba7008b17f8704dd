/* esptool's habits, through the real binary against espsim: --chip refuses another chip
 * and changes nothing. */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e_dir.h"
#include "e2e_run.h"

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
    for (size_t i = 0; sim[i]; i++)
        argv[n++] = sim[i];
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    unlink(scratch_path("stats.json"));
    e2e_run(&r, argv, 60);
    json_object *o = json_object_from_file(scratch_path("stats.json")), *v;
    cr_assert_not_null(o, "espsim wrote no statistics (exit %d)\n%s", r.status, r.err);
    blocks_written = json_object_object_get_ex(o, "blocks_written", &v)
                         ? json_object_get_int64(v) : -1;
    commands = json_object_object_get_ex(o, "commands", &v) ? json_object_get_int64(v) : -1;
    json_object_put(o);
}

static const char *mkimage(const char *name, const char *const *args)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = e2e_bin("mkimage");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    const char *out = scratch_path(name);
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n] = NULL;
    static struct e2e_result m;
    e2e_run(&m, argv, 60);
    cr_assert_eq(m.status, 0, "mkimage failed: %s", m.err);
    return out;
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
    const char *fw = mkimage("e8266.bin", LIST("--chip", "esp8266", "--kind", "v1",
                                               "--size", "64K"));
    run(LIST("--chip", "esp8266"), LIST("flash", "--chip", "esp32", "--json", fw));
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(blocks_written, 0);
    json_object *doc = json_tokener_parse(r.out);
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
