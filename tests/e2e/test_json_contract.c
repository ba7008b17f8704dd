/* The JSON contract of the man page (JSON OUTPUT): with --json every run prints exactly
 * one document on stdout, its last line (flash, erase and read print progress events, one
 * a line, before it; every line carries "schema"), and a run that fails carries a non-null error object with
 * "id" (an id of the diagnoses table), "message", "fix" and "fix_command". Walks the
 * failure paths of every command: usage errors, missing files, and, under espsim, the
 * failures a board gives (a stub the ROM will not take, a refused image, a region past
 * the end of the flash, an output file that cannot be created). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <unistd.h>

#include "e2e_dir.h"
#include "e2e_run.h"

#include "espdoctor/findings.h"
#include "espdoctor/image.h"

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("json");
}

/* stdout is JSON lines, each an object with "schema": 1: progress events, then the one
 * document, last; the document is returned. How many progress events came is in *events
 * (may be NULL). */
static json_object *document_after_events(const char *what, size_t *events)
{
    json_object *doc = NULL;
    size_t progress = 0;
    cr_assert(r.out[0] && r.out[strlen(r.out) - 1] == '\n', "%s: stdout does not end a line "
              "(exit %d)\nstdout:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
    for (const char *line = r.out; *line;) {
        const char *end = strchr(line, '\n');
        cr_assert_null(doc, "%s: a line after the document:\n%s", what, r.out);
        json_object *o = e2e_json_line(line, (size_t)(end - line)), *v;
        cr_assert(o && json_object_is_type(o, json_type_object),
                  "%s: a line that is not one JSON object:\n%.*s", what, (int)(end - line),
                  line);
        cr_assert(json_object_object_get_ex(o, "schema", &v) && json_object_get_int(v) == 1,
                  "%s: a line without \"schema\": 1: %.*s", what, (int)(end - line), line);
        if (json_object_object_get_ex(o, "event", &v)) {
            cr_assert_str_eq(json_object_get_string(v), "progress", "%s: %.*s", what,
                             (int)(end - line), line);
            progress++;
            json_object_put(o);
        } else {
            doc = o;
        }
        line = end + 1;
    }
    cr_assert_not_null(doc, "%s: no document on stdout:\n%s", what, r.out);
    if (events)
        *events = progress;
    return doc;
}

static json_object *one_document(const char *what)
{
    return document_after_events(what, NULL);
}

/* An id the man page lists: the diagnoses, the flasher's refusals (DIAGNOSTICS, Before
 * flashing). */
static bool documented_id(const char *id)
{
    static const char *const plan_ids[] = { "flash.unaligned", "flash.overlap",
                                            "flash.no-address" };
    if (ed_diagnosis_find(id))
        return true;
    for (size_t i = 0; i < ED_IMAGE_P_COUNT; i++)
        if (strcmp(ed_image_problem_rules[i].id, id) == 0)
            return true;
    for (size_t i = 0; i < sizeof plan_ids / sizeof plan_ids[0]; i++)
        if (strcmp(plan_ids[i], id) == 0)
            return true;
    return false;
}

static void check_failure(const char *what, int want_status)
{
    cr_assert_eq(r.status, want_status, "%s: exit %d, not %d\nstdout:\n%s\nstderr:\n%s", what,
                 r.status, want_status, r.out, r.err);
    json_object *o = one_document(what), *e, *v;
    cr_assert(json_object_object_get_ex(o, "error", &e) && e &&
              json_object_is_type(e, json_type_object),
              "%s: no error object in %s", what, json_object_to_json_string(o));
    cr_assert(json_object_object_get_ex(e, "id", &v) && json_object_is_type(v, json_type_string),
              "%s: error without an id: %s", what, json_object_to_json_string(e));
    const char *id = json_object_get_string(v);
    cr_assert(documented_id(id), "%s: error id %s is not a documented id", what, id);
    cr_assert_str_neq(id, "run.failed", "%s: a failure with a specific cause gets its id: %s",
                      what, json_object_to_json_string(e));
    cr_assert(json_object_object_get_ex(e, "message", &v) &&
              json_object_is_type(v, json_type_string) && json_object_get_string(v)[0],
              "%s: error without a message: %s", what, json_object_to_json_string(e));
    cr_assert(json_object_object_get_ex(e, "fix", &v), "%s: error without fix: %s", what,
              json_object_to_json_string(e));
    cr_assert(json_object_object_get_ex(e, "fix_command", &v), "%s: error without "
              "fix_command: %s", what, json_object_to_json_string(e));
    json_object_put(o);
}

static void run_doctor(const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, 60);
}

static void run_sim(const char *const *sim, const char *const *args)
{
    const char *argv[48];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; sim[i]; i++)
        argv[n++] = sim[i];
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, 120);
}

static const char *mkimage(const char *name, const char *chip, const char *kind)
{
    const char *out = scratch_path(name);
    const char *argv[] = { e2e_bin("mkimage"), "--chip", chip, "--kind", kind, "--size", "64K",
                           "-o", out, NULL };
    e2e_run(&r, argv, 60);
    cr_assert_eq(r.status, 0, "mkimage failed: %s", r.err);
    return out;
}

static const char *stub_dir(void)
{
    static char path[512];
    char cwd[256];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(path, sizeof path, "%s/tests/js/node_modules/esptool-js/lib/targets/stub_flasher",
             cwd);
    cr_assert_eq(access(path, R_OK), 0, "%s is missing: run tests/js/setup.sh", path);
    return path;
}

/* Usage errors of every command, before any board is looked for. */
Test(json_contract, usage_errors_of_every_command_are_one_document, .init = make_dir,
     .fini = scratch_remove)
{
    static const struct {
        const char *what;
        const char *args[8];
    } cases[] = {
        { "unknown command", { "bogus", "--json", NULL } },
        { "unknown option", { "info", "--json", "--bogus", NULL } },
        { "option of another command", { "image", "--json", "--force", "x.bin", NULL } },
        { "bad baud", { "flash", "--json", "-b", "12", "x.bin", NULL } },
        { "contradiction", { "flash", "--json", "--stub", "x", "--no-stub", "x.bin", NULL } },
        { "doctor argument", { "doctor", "--json", "extra", NULL } },
        { "info argument", { "info", "--json", "extra", NULL } },
        { "flash without a file", { "flash", "--json", NULL } },
        /* Files alone and ADDR FILE pairs mix: an address needs a file after it. */
        { "flash address without a file", { "flash", "--json", "a.bin", "0x1000", NULL } },
        { "flash bad address", { "flash", "--json", "0xZZ", "a.bin", NULL } },
        { "erase argument", { "erase", "--json", "extra", NULL } },
        { "erase unaligned region", { "erase", "--json", "--region", "0x1001", "0x1000", NULL } },
        { "read too few", { "read", "--json", "0x0", NULL } },
        { "read bad numbers", { "read", "--json", "zz", "1", "out.bin", NULL } },
        { "image without a file", { "image", "--json", NULL } },
        { "list argument", { "list", "--json", "extra", NULL } },
        { "udev bad action", { "udev", "--json", "bogus", NULL } },
        { "udev too many", { "udev", "--json", "show", "a", "b", NULL } },
        { "monitor bad eol", { "monitor", "--json", "--eol", "XX", NULL } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_doctor(cases[i].args);
        check_failure(cases[i].what, 2);
    }
}

Test(json_contract, missing_files_are_one_document, .init = make_dir, .fini = scratch_remove)
{
    const char *missing = scratch_path("no-such.bin");
    run_doctor((const char *[]){ "image", "--json", missing, NULL });
    check_failure("image of a missing file", 6);
    run_doctor((const char *[]){ "flash", "--json", missing, NULL });
    check_failure("flash of a missing file", 6);
    run_doctor((const char *[]){ "doctor", "--json", "--flash", missing, NULL });
    check_failure("doctor --flash of a missing file", 6);
}

Test(json_contract, board_failures_are_one_document_with_an_error, .init = make_dir,
     .fini = scratch_remove)
{
    const char *app_s3 = mkimage("apps3.bin", "esp32s3", "app");
    const char *app8266 = mkimage("app8266.bin", "esp8266", "v1");
    /* Secure Download Mode refuses RAM: no stub can run, the ROM loader does the work and
     * the document says why (no error: the write verified). */
    run_sim((const char *[]){ "--chip", "esp32s3", "--bridge", "cp2102", "--secure-download",
                              NULL },
            (const char *[]){ "flash", "--json", "--stub", stub_dir(), "0x10000", app_s3, NULL });
    cr_assert_eq(r.status, 0, "secure download: exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *sdm = one_document("secure download"), *v;
    cr_assert(json_object_object_get_ex(sdm, "stub_fallback", &v) &&
              strstr(json_object_get_string(v), "Secure Download Mode"), "%s", r.out);
    cr_assert(json_object_object_get_ex(sdm, "error", &v) && v == NULL, "%s", r.out);
    json_object_put(sdm);
    /* An image for another chip: refused, the error is the chip mismatch. */
    run_sim((const char *[]){ "--chip", "esp32", NULL },
            (const char *[]){ "flash", "--json", "--no-stub", app8266, NULL });
    check_failure("wrong chip", 3);
    cr_assert_not_null(strstr(r.out, "\"id\": \"image.wrong-chip\""), "%s", r.out);
    /* A region past the end of the flash. */
    run_sim((const char *[]){ "--chip", "esp32", NULL },
            (const char *[]){ "erase", "--json", "--no-stub", "--region", "0x3ff000", "0x2000",
                              NULL });
    check_failure("erase past the end", 3);
    /* read into a folder that does not exist. */
    run_sim((const char *[]){ "--chip", "esp32", NULL },
            (const char *[]){ "read", "--json", "--no-stub", "0x0", "0x1000",
                              "/nonexistent-dir/out.bin", NULL });
    check_failure("read output that cannot be created", 6);
    /* doctor --flash: the doctor's document holds flash's, one document in all. */
    run_sim((const char *[]){ "--chip", "esp32", NULL },
            (const char *[]){ "doctor", "--json", "--flash", app8266, NULL });
    check_failure("doctor --flash of an image for another chip", 3);
    cr_assert_not_null(strstr(r.out, "\"flash\": {"), "%s", r.out);
}

/* Every "seconds" on stdout is given to milliseconds at most (json-c would print 17
 * digits): "seconds": 23.878, never 23.877974999. */
static void seconds_rounded(const char *what)
{
    size_t seen = 0;
    for (const char *p = strstr(r.out, "\"seconds\": "); p; p = strstr(p + 1, "\"seconds\": ")) {
        const char *num = p + strlen("\"seconds\": ");
        if (*num == 'n')
            continue;   /* null */
        size_t digits = strspn(num, "0123456789");
        size_t decimals = num[digits] == '.' ? strspn(num + digits + 1, "0123456789") : 0;
        cr_assert(decimals <= 3, "%s: seconds not rounded to milliseconds: %.30s", what, num);
        seen++;
    }
    cr_assert_gt(seen, 0, "%s: no seconds on stdout:\n%s", what, r.out);
}

/* The progress event's integer key, asserted present. */
static int64_t event_int(json_object *e, const char *key)
{
    json_object *v;
    cr_assert(json_object_object_get_ex(e, key, &v) && json_object_is_type(v, json_type_int),
              "no integer %s in %s", key, json_object_to_json_string(e));
    return json_object_get_int64(v);
}

/* flash, read and erase under --json: progress lines an IDE can show as they come, before
 * the document: bytes done of the region's total, the rate a whole number or null. */
Test(json_contract, flash_read_erase_stream_progress_before_their_document, .init = make_dir,
     .fini = scratch_remove)
{
    const char *app = mkimage("app.bin", "esp32", "app");
    const char *flash = scratch_path("board.flash");
    run_sim((const char *[]){ "--chip", "esp32", "--flash", flash, NULL },
            (const char *[]){ "flash", "--json", "--stub", stub_dir(), "0x10000", app, NULL });
    cr_assert_eq(r.status, 0, "flash: exit %d\n%s\n%s", r.status, r.out, r.err);
    size_t events = 0;
    json_object *doc = document_after_events("flash", &events), *v;
    cr_assert_geq(events, 1, "flash --json printed no progress line:\n%s", r.out);
    cr_assert(json_object_object_get_ex(doc, "result", &v) &&
              strcmp(json_object_get_string(v), "ok") == 0, "%s", r.out);
    json_object_put(doc);
    seconds_rounded("flash");
    /* The write's last event has every byte of the region, and the region's size. */
    json_object *last_write = NULL;
    for (const char *line = r.out; *line; line = strchr(line, '\n') + 1) {
        json_object *e = e2e_json_line(line, (size_t)(strchr(line, '\n') - line));
        if (e && json_object_object_get_ex(e, "phase", &v) &&
            strcmp(json_object_get_string(v), "write") == 0) {
            json_object_put(last_write);
            last_write = e;
            cr_assert(json_object_object_get_ex(e, "bytes_per_second", &v) &&
                      (v == NULL || json_object_is_type(v, json_type_int)),
                      "a rate that is not a whole number: %s", json_object_to_json_string(e));
        } else {
            json_object_put(e);
        }
    }
    cr_assert_not_null(last_write, "no write event:\n%s", r.out);
    cr_assert_eq(event_int(last_write, "done"), event_int(last_write, "total"), "%s",
                 json_object_to_json_string(last_write));
    cr_assert_eq(event_int(last_write, "region"), 0);
    json_object_put(last_write);

    run_sim((const char *[]){ "--chip", "esp32", "--flash", flash, NULL },
            (const char *[]){ "read", "--json", "--stub", stub_dir(), "0x10000", "0x4000",
                              scratch_path("back.bin"), NULL });
    cr_assert_eq(r.status, 0, "read: exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object_put(document_after_events("read", &events));
    cr_assert_geq(events, 1, "read --json printed no progress line:\n%s", r.out);
    cr_assert_not_null(strstr(r.out, "\"phase\": \"read\""), "%s", r.out);

    run_sim((const char *[]){ "--chip", "esp32", "--flash", flash, NULL },
            (const char *[]){ "erase", "--json", "--stub", stub_dir(), "--region", "0x10000",
                              "0x1000", NULL });
    cr_assert_eq(r.status, 0, "erase: exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object_put(document_after_events("erase", &events));
    cr_assert_eq(events, 2, "erase --json: an event as it begins and one when done:\n%s",
                 r.out);
}

/* The schema check make check runs (tests/run.sh) rejects what breaks the contract, and
 * names the run and the reason: an error without fix_command, a document without "schema",
 * seconds to nine decimals, a line that is not JSON; it passes a good one. */
Test(json_contract, the_schema_check_rejects_a_broken_document, .init = make_dir,
     .fini = scratch_remove)
{
    static const struct {
        const char *line, *says;
    } bad[] = {
        { "{\"schema\": 1, \"command\": \"flash\", \"result\": \"usage-error\", "
          "\"exit_status\": 2, \"error\": {\"id\": \"usage.invalid\", \"message\": \"x\", "
          "\"fix\": null}}", "fix_command" },
        { "{\"command\": \"flash\", \"result\": \"usage-error\", \"exit_status\": 2, "
          "\"error\": {\"id\": \"usage.invalid\", \"message\": \"x\", \"fix\": null, "
          "\"fix_command\": null}}", "schema" },
        { "{\"schema\": 1, \"event\": \"progress\", \"command\": \"flash\", \"phase\": "
          "\"write\", \"region\": 0, \"done\": 5, \"total\": 9, \"seconds\": 23.877974999, "
          "\"bytes_per_second\": 7}", "rounded" },
        { "{\"schema\": 1, \"result\": \"failed\", \"error\": null}", "error" },
        { "not json", "not JSON" },
    };
    char cwd[256], validator[512], schema[512];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(validator, sizeof validator, "%s/tests/tools/validate_json.py", cwd);
    snprintf(schema, sizeof schema, "%s/share/espdoctor/espdoctor.schema.json", cwd);
    const char *log = scratch_path("lines.log");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(log, "w");
        cr_assert_not_null(f);
        fprintf(f, "case %zu\t%s\n", i, bad[i].line);
        fclose(f);
        const char *argv[] = { "/usr/bin/python3", validator, schema, log, NULL };
        e2e_run(&r, argv, 60);
        cr_assert_eq(r.status, 1, "accepted: %s\n%s%s", bad[i].line, r.out, r.err);
        char where[32];
        snprintf(where, sizeof where, "case %zu", i);
        cr_assert(strstr(r.err, where) && strstr(r.err, bad[i].says),
                  "the failure does not name the run and \"%s\":\n%s", bad[i].says, r.err);
    }
    FILE *f = fopen(log, "w");
    cr_assert_not_null(f);
    fprintf(f, "good\t{\"schema\": 1, \"command\": \"flash\", \"result\": \"usage-error\", "
            "\"exit_status\": 2, \"error\": {\"id\": \"usage.invalid\", \"message\": \"x\", "
            "\"fix\": null, \"fix_command\": null}}\n");
    fclose(f);
    const char *argv[] = { "/usr/bin/python3", validator, schema, log, NULL };
    e2e_run(&r, argv, 60);
    cr_assert_eq(r.status, 0, "a good document refused:\n%s%s", r.out, r.err);
    cr_assert_not_null(strstr(r.out, "1 lines validated"), "%s", r.out);
}
