/* The JSON contract of the man page (JSON OUTPUT): with --json every run prints exactly
 * one document on stdout, and a run that fails carries a non-null error object with
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

/* stdout is one JSON object, nothing before or after it. */
static json_object *one_document(const char *what)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, r.out, (int)strlen(r.out));
    size_t end = o ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    cr_assert_not_null(o, "%s: stdout is not a JSON document (exit %d)\nstdout:\n%s\n"
                       "stderr:\n%s", what, r.status, r.out, r.err);
    cr_assert(strspn(r.out + end, " \n") == strlen(r.out + end),
              "%s: more than one document on stdout:\n%s", what, r.out);
    cr_assert(json_object_is_type(o, json_type_object), "%s: not an object", what);
    return o;
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
