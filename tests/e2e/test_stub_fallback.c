/* A flasher stub that a noisy line keeps breaking (espsim --line-errors 1e-3): the upload
 * is tried again after a reset in smaller pieces, and after the last try the ROM loader
 * does the work, saying so in text and in JSON. Seed 15 is one where every try fails
 * (espsim's faults follow its seed). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "e2e_run.h"
#include "e2e_dir.h"

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("stub_fallback");
}

static const char *stub_dir(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/share/espdoctor/stub_flasher", e2e_build());
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing: `make` fetches the stubs (mk/stubs.sh)",
                 path);
    return path;
}

static const char *esp8266_image(void)
{
    const char *out = scratch_path("fw.bin");
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp8266", "--kind", "v1", "--size",
                           "36K", "--micropython", "v1.24.0", "-o", out, NULL };
    struct e2e_result *m = malloc(sizeof *m);
    e2e_run(m, argv, 60);
    cr_assert_eq(m->status, 0, "mkimage: %s", m->err);
    free(m);
    return out;
}

static bool flash_holds(const char *flash, const char *img)
{
    FILE *f = fopen(flash, "rb"), *g = fopen(img, "rb");
    bool same = f && g;
    int a, b;
    while (same && (b = fgetc(g)) != EOF)
        same = (a = fgetc(f)) == b;
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    return same;
}

static void flash_noisy(const char *img, const char *flash, bool json)
{
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--seed", "15", "--line-errors", "1e-3",
                           "--chip", "esp8266", "--flash", flash, "--", e2e_bin("espdoctor"),
                           "flash", json ? "--json" : "--no-skip", "--stub", stub_dir(), img, NULL };
    e2e_run(&r, argv, 170);
}

Test(stub_fallback, an_upload_the_line_keeps_breaking_falls_back_to_the_rom_and_says_so,
     .init = make_dir, .fini = scratch_remove, .timeout = 360)
{
    const char *img = esp8266_image(), *flash = scratch_path("flash.bin");
    flash_noisy(img, flash, true);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = e2e_json_doc(r.out);
    cr_assert_not_null(o, "%s", r.out);
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, "stub_fallback", &v));
    cr_assert_not_null(v, "no fallback: %s", r.out);
    const char *why = json_object_get_string(v);
    cr_assert_not_null(strstr(why, "could not be uploaded"), "%s", why);
    cr_assert_not_null(strstr(why, "256 bytes"), "the pieces did not shrink: %s", why);
    cr_assert(json_object_object_get_ex(o, "stub", &v));
    cr_assert_null(v, "the stub is not what wrote");
    json_object_put(o);
    cr_assert(flash_holds(flash, img), "the image is not at 0x0");

    const char *flash2 = scratch_path("flash2.bin");
    flash_noisy(img, flash2, false);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "Note: the flasher stub"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "the ROM loader does the work instead"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "Writing with the ROM loader"), "%s", r.out);
}
