/* Which flasher stub is used (src/stub_find.c, stub_known.c, stub_choice.c): the table of
 * known digests against the files the build fetched, never the current directory, and an
 * unknown file refused unless --stub names it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/stub_choice.h"   /* the tests have no -Isrc */
#include "espdoctor/error.h"

static const char *const chips[] = { "esp8266", "esp32", "esp32s2", "esp32s3", "esp32c3",
                                     "esp32c6" };

static const char *build_dir(void)
{
    const char *b = getenv("ESPDOCTOR_BUILD");
    return b && *b ? b : "build";
}

static void built(const char *chip, char *out, size_t len)
{
    snprintf(out, len, "%s/share/espdoctor/stub_flasher/%s.json", build_dir(), chip);
    struct stat st;
    cr_assert_eq(stat(out, &st), 0, "%s is missing: `make` fetches it (mk/stubs.sh)", out);
}

static char tmp[64];

static void make_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/test_stub_choice.XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
    unsetenv("ESPDOCTOR_STUB_DIR");
}

static void remove_tmp(void)
{
    char cmd[128];
    cr_assert_eq(chdir("/"), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

static void copy(const char *from, const char *to, const char *tail)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'%s", to, from, to,
             tail ? tail : "");
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(stub_known, every_built_stub_is_a_known_release)
{
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++) {
        char path[600], err[800];
        built(chips[i], path, sizeof path);
        struct ed_stub s;
        cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_OK, "%s", err);
        const struct ed_stub_release *rel = ed_stub_release_of(chips[i], s.sha256);
        cr_assert_not_null(rel, "%s: sha256 %s is not in stub_known.c", path, s.sha256);
        cr_expect_str_eq(rel->release, "esptool-js 0.7.0");
        /* The digest is the chip's own: another chip's file is not known for it. */
        cr_expect_null(ed_stub_release_of(chips[(i + 1) % 6], s.sha256));
        ed_stub_free(&s);
    }
}

/* A stub_flasher folder, an esptool-js package and a node_modules folder in the current
 * directory, each with the chip's real stub: none is taken. */
Test(stub_find, the_current_directory_is_never_searched, .init = make_tmp, .fini = remove_tmp)
{
    char real[600], to[300];
    built("esp32", real, sizeof real);
    static const char *const planted[] = {
        "esp32.json", "lib/targets/stub_flasher/esp32.json",
        "esptool-js/lib/targets/stub_flasher/esp32.json",
        "node_modules/esptool-js/lib/targets/stub_flasher/esp32.json",
    };
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        snprintf(to, sizeof to, "%s/%s", tmp, planted[i]);
        copy(real, to, NULL);
    }
    cr_assert_eq(chdir(tmp), 0);
    struct ed_stub_place place;
    char err[300];
    int rc = ed_stub_locate(NULL, ed_chip_by_key("esp32"), &place, err, sizeof err);
    if (rc == ED_OK) {
        cr_expect_neq(strncmp(place.path, tmp, strlen(tmp)), 0, "taken from the cwd: %s",
                      place.path);
        cr_expect_neq(place.path[0], '.', "a relative path: %s", place.path);
        cr_expect_neq(place.origin, ED_STUB_FROM_OPTION);
        cr_expect_neq(place.origin, ED_STUB_FROM_ENV);
    }
}

Test(stub_choice, an_unknown_file_is_refused_unless_named, .init = make_tmp, .fini = remove_tmp)
{
    char real[600], mine[300];
    built("esp8266", real, sizeof real);
    snprintf(mine, sizeof mine, "%s/stubs/esp8266.json", tmp);
    copy(real, mine, NULL);
    /* one byte more: the same code, a file no release ships */
    FILE *f = fopen(mine, "a");
    cr_assert_not_null(f);
    fputc('\n', f);
    fclose(f);
    const struct ed_chip *chip = ed_chip_by_key("esp8266");
    char dir[300];
    snprintf(dir, sizeof dir, "%s/stubs", tmp);
    setenv("ESPDOCTOR_STUB_DIR", dir, 1);

    struct ed_stub_choice c;
    cr_assert_eq(ed_stub_choose(NULL, false, chip, &c), ED_OK);
    cr_expect_eq(c.verdict, ED_STUB_REFUSED);
    cr_expect_eq(c.place.origin, ED_STUB_FROM_ENV);
    cr_expect_null(c.release);
    cr_expect_not_null(strstr(c.why, "refused"), "%s", c.why);
    cr_expect_not_null(strstr(c.why, "--stub"), "%s", c.why);
    cr_expect_null(c.stub.text, "a refused stub stays unloaded");
    ed_stub_choice_free(&c);

    cr_assert_eq(ed_stub_choose(mine, false, chip, &c), ED_OK);
    cr_expect_eq(c.verdict, ED_STUB_USE);
    cr_expect_eq(c.place.origin, ED_STUB_FROM_OPTION);
    cr_expect_null(c.release);
    cr_expect_not_null(strstr(c.why, "warning"), "%s", c.why);
    ed_stub_choice_free(&c);

    /* The real file from the same place: used, named, no warning. */
    copy(real, mine, NULL);
    cr_assert_eq(ed_stub_choose(NULL, false, chip, &c), ED_OK);
    cr_expect_eq(c.verdict, ED_STUB_USE);
    cr_assert_not_null(c.release);
    cr_expect_str_eq(c.release->release, "esptool-js 0.7.0");
    cr_expect_str_eq(c.why, "");
    ed_stub_choice_free(&c);

    /* --no-stub, and a --stub that does not exist (an input error). */
    cr_assert_eq(ed_stub_choose(NULL, true, chip, &c), ED_OK);
    cr_expect_eq(c.verdict, ED_STUB_DECLINED);
    snprintf(dir, sizeof dir, "%s/nowhere.json", tmp);
    cr_expect_eq(ed_stub_choose(dir, false, chip, &c), ED_E_NOTFOUND);
    cr_expect_not_null(strstr(c.why, "does not exist"), "%s", c.why);
}
