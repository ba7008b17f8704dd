/* Where the flasher stub comes from, through the real binaries under espsim: never from the
 * current directory, only known releases unless --stub names a file, and the virtual
 * board, like a chip, crashes on code that is no stub it knows (no OHAI).
 *
 * The stubs are the build's own copy (build/share/espdoctor/stub_flasher, from
 * mk/stubs.sh). Each test runs espdoctor from a scratch folder of its own, with
 * ESPDOCTOR_STUB_DIR unset unless the test is about it. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e_sim.h"

static struct e2e_result r;

static void enter_scratch(void)
{
    scratch_make("stubsrc");
    cr_assert_eq(chdir(scratch_dir), 0);
    unsetenv("ESPDOCTOR_STUB_DIR");
}

static void leave_scratch(void)
{
    cr_assert_eq(chdir("/"), 0);
    scratch_remove();
}

TestSuite(stub_source, .init = enter_scratch, .fini = leave_scratch, .timeout = 300);

/* The build's copy of esptool-js's stub for chip. */
static const char *built_stub(const char *chip)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/share/espdoctor/stub_flasher/%s.json", e2e_build(), chip);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing: `make` fetches the stubs with npm "
                 "(mk/stubs.sh)", path);
    return path;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* A file in the stub format whose code is eight bytes of text: what a planted stub that
 * "verifies" anything could look like. */
static void write_foreign_stub(const char *path)
{
    static const char json[] = "{\"entry\": 1074790400, \"text_start\": 1074790400, "
                               "\"text\": \"aGVsbG8hISE=\"}\n";   /* "hello!!!" */
    write_file(path, json, sizeof json - 1);
}

/* esptool-js's own stub with one more newline at the end: the same code, another file,
 * so no release espdoctor knows (espsim, which judges the code, still runs it). */
static void write_retouched_stub(const char *path, const char *chip)
{
    size_t len;
    char *text = sim_slurp(built_stub(chip), &len);
    cr_assert_not_null(text);
    char *more = malloc(len + 1);
    cr_assert_not_null(more);
    memcpy(more, text, len);
    more[len] = '\n';
    write_file(path, more, len + 1);
    free(more);
    free(text);
}

static void mkdirs(const char *path)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    cr_assert_eq(system(cmd), 0);
}

static const char *esp8266_image(void)
{
    return sim_mkimage("fw.bin", (const char *[]){ "--chip", "esp8266", "--kind", "v1",
                                                   "--size", "48K", NULL });
}

/* espsim --chip esp8266 --fast [EXTRA] -- PROGRAM ARGS... with PROGRAM given (a copy of
 * espdoctor, or build/espdoctor). */
static void run_board(const char *program, const char *extra, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--chip";
    argv[n++] = "esp8266";
    argv[n++] = "--fast";
    argv[n++] = "--flash";
    argv[n++] = scratch_path("flash.bin");
    if (extra)
        argv[n++] = extra;
    argv[n++] = "--";
    argv[n++] = program;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, 120);
}

static json_object *region0(json_object *o)
{
    return json_object_array_get_idx(sim_get(o, "regions"), 0);
}

static bool notes_mention(json_object *o, const char *what)
{
    json_object *notes = sim_get(o, "notes");
    for (size_t i = 0; i < json_object_array_length(notes); i++)
        if (strstr(json_object_get_string(json_object_array_get_idx(notes, i)), what))
            return true;
    return false;
}

/* ./node_modules in the current directory holds a "stub" that is text: it is never
 * uploaded. build/espdoctor takes the build's copy; a copy of espdoctor with no stubs
 * beside it takes none, even when the current directory holds esptool-js's real one. */
Test(stub_source, a_stub_in_the_current_directory_is_never_used)
{
    mkdirs("node_modules/esptool-js/lib/targets/stub_flasher");
    write_foreign_stub("node_modules/esptool-js/lib/targets/stub_flasher/esp8266.json");
    const char *img = esp8266_image();
    run_board(e2e_bin("espdoctor"), NULL, (const char *[]){ "flash", "--json", img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = sim_json(&r);
    json_object *src = sim_get(o, "stub_source");
    cr_assert_str_eq(json_object_get_string(sim_get(src, "from")), "build");
    cr_assert_str_eq(json_object_get_string(sim_get(src, "path")), built_stub("esp8266"));
    cr_assert_str_eq(json_object_get_string(sim_get(src, "release")), "esptool-js 0.7.0");
    cr_assert(json_object_get_boolean(sim_get(region0(o), "verified")));
    json_object_put(o);

    /* The genuine stub in ./node_modules, and a program with no share folder near it. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cp '%s' node_modules/esptool-js/lib/targets/stub_flasher/ && "
             "mkdir -p bin && cp '%s' bin/espdoctor", built_stub("esp8266"),
             e2e_bin("espdoctor"));
    cr_assert_eq(system(cmd), 0);
    char copy[600];
    snprintf(copy, sizeof copy, "%s/bin/espdoctor", scratch_dir);
    run_board(copy, NULL, (const char *[]){ "flash", "--json", img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    o = sim_json(&r);
    json_object *stub = sim_get(o, "stub");
    const char *used = stub ? json_object_get_string(stub) : NULL;
    cr_assert(used == NULL || strncmp(used, scratch_dir, strlen(scratch_dir)) != 0,
              "the stub came from the current directory: %s", used);
    cr_assert(used == NULL || strstr(used, "node_modules") == NULL, "%s", used);
    json_object_put(o);
}

/* $ESPDOCTOR_STUB_DIR names a folder whose esp8266.json is no known release: refused, the
 * ROM loader does the work and the notes say why. */
Test(stub_source, an_unknown_digest_is_refused_without_stub_option)
{
    mkdirs("stubs");
    write_retouched_stub("stubs/esp8266.json", "esp8266");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/stubs", scratch_dir);
    setenv("ESPDOCTOR_STUB_DIR", dir, 1);
    const char *img = esp8266_image();
    run_board(e2e_bin("espdoctor"), NULL, (const char *[]){ "flash", "--json", img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = sim_json(&r);
    cr_assert_null(sim_get(o, "stub"), "an unknown stub was uploaded: %s", r.out);
    json_object *src = sim_get(o, "stub_source");
    cr_assert_str_eq(json_object_get_string(sim_get(src, "from")), "ESPDOCTOR_STUB_DIR");
    cr_assert_not(json_object_get_boolean(sim_get(src, "known")));
    cr_assert_not(json_object_get_boolean(sim_get(src, "used")));
    cr_assert_null(sim_get(src, "release"));
    cr_assert(notes_mention(o, "refused"), "%s", r.out);
    cr_assert(notes_mention(o, "--stub"), "%s", r.out);
    json_object_put(o);
}

/* The same file named with --stub is used, with a warning on stderr. */
Test(stub_source, an_unknown_file_given_with_stub_is_used_with_a_warning)
{
    write_retouched_stub(scratch_path("mine.json"), "esp8266");
    const char *img = esp8266_image();
    run_board(e2e_bin("espdoctor"), NULL, (const char *[]){ "flash", "--json", "--stub",
                                                            scratch_path("mine.json"), img,
                                                            NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "warning"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "not a release espdoctor knows"), "%s", r.err);
    json_object *o = sim_json(&r);
    cr_assert_str_eq(json_object_get_string(sim_get(o, "stub")), scratch_path("mine.json"));
    json_object *src = sim_get(o, "stub_source");
    cr_assert_str_eq(json_object_get_string(sim_get(src, "from")), "--stub");
    cr_assert_not(json_object_get_boolean(sim_get(src, "known")));
    cr_assert(json_object_get_boolean(sim_get(src, "used")));
    cr_assert(json_object_get_boolean(sim_get(region0(o), "verified")));
    json_object_put(o);
}

/* Code that is no stub the board knows crashes it, as on a chip: no OHAI after MEM_END.
 * espdoctor says so and lets the ROM loader do the work. With --any-stub espsim runs it
 * anyway, which shows the refusal is its digest check and not the file's form. */
Test(stub_source, espsim_rejects_a_foreign_blob)
{
    write_foreign_stub(scratch_path("foreign.json"));
    const char *img = esp8266_image();
    const char *args[] = { "flash", "--json", "--stub", scratch_path("foreign.json"), img,
                           NULL };
    run_board(e2e_bin("espdoctor"), NULL, args);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "warning"), "%s", r.err);
    json_object *o = sim_json(&r);
    cr_assert(json_object_is_type(sim_get(o, "stub"), json_type_null), "%s", r.out);
    const char *fallback = json_object_get_string(sim_get(o, "stub_fallback"));
    cr_assert_not_null(fallback, "%s", r.out);
    cr_assert_not_null(strstr(fallback, "did not start"), "%s", fallback);
    cr_assert_not_null(strstr(fallback, "no OHAI"), "%s", fallback);
    cr_assert_not_null(strstr(fallback, "the ROM loader does the work"), "%s", fallback);
    json_object_put(o);

    run_board(e2e_bin("espdoctor"), "--any-stub", args);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    o = sim_json(&r);
    cr_assert(json_object_is_type(sim_get(o, "stub_fallback"), json_type_null),
              "--any-stub: the blob should start (OHAI)\n%s", r.out);
    cr_assert_not(json_object_is_type(sim_get(o, "stub"), json_type_null), "%s", r.out);
    json_object_put(o);
}

/* info names the stub flash would upload and where it comes from, in text and JSON. */
Test(stub_source, info_says_which_stub_and_from_where)
{
    run_board(e2e_bin("espdoctor"), NULL, (const char *[]){ "info", "--json", NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = sim_json(&r);
    json_object *src = sim_get(o, "stub_source");
    cr_assert_str_eq(json_object_get_string(sim_get(src, "path")), built_stub("esp8266"));
    cr_assert_str_eq(json_object_get_string(sim_get(src, "from")), "build");
    cr_assert_str_eq(json_object_get_string(sim_get(src, "release")), "esptool-js 0.7.0");
    json_object_put(o);

    run_board(e2e_bin("espdoctor"), NULL, (const char *[]){ "info", NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "esptool-js 0.7.0's esp8266.json, from the build tree"),
                       "%s", r.out);
}
