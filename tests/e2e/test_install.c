/* `make install PREFIX=$HOME/.local` as an ordinary user in a tree somebody else built (as
 * after `sudo make demo`): the user may read the tree but not write its build folder, so
 * make must find everything built and only copy. Then the installed program runs, `man
 * espdoctor` finds the page (through PATH, as man-db derives the manual path from it), the
 * completion registers, the installed flasher stubs verify an ESP8266 flash run from
 * outside the tree, and `make uninstall` removes every file.
 *
 * The tree is this checkout's Makefile, sources and build outputs, copied with their times
 * into a scratch folder (the checkout itself may sit under a 0700 folder): as root the copy
 * stays root's and make runs as nobody (setpriv) with a HOME of its own; as an ordinary
 * user the copy's build folder is made read-only and make runs as the user itself. Either
 * way a make that tried to build would fail for real. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "e2e_run.h"
#include "e2e_user.h"

#define LIMIT_S 120

static struct e2e_result r;
static char scratch[64];
static char home[PATH_MAX];
static char tree[PATH_MAX];
static char build_name[NAME_MAX + 1];   /* "build" or "build-san", as in the checkout */

/* snprintf that fails the test instead of cutting the text. */
__attribute__((format(printf, 3, 4)))
static void text(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < len, "text too long for %zu bytes: %s", len, fmt);
}

static void shell(const char *what, const char *cmd)
{
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "%s failed (%d): %s", what, rc, cmd);
}

/* Copy what make reads for install into tree/, times and modes kept. */
static void copy_tree(void)
{
    char build[PATH_MAX], cmd[3 * PATH_MAX + 256];
    cr_assert_not_null(realpath(e2e_build(), build), "no build directory %s", e2e_build());
    const char *base = strrchr(build, '/');
    text(build_name, sizeof build_name, "%s", base ? base + 1 : build);
    cr_assert_eq(mkdir(tree, 0755), 0);
    text(cmd, sizeof cmd,
             "cp -a Makefile mk man src include rules completion share '%s' && mkdir '%s/%s' && "
             "cd '%s' && cp -a --parents espdoctor espdoctor.1 mkman libespdoctor.a "
             ".deps-build obj/src obj/man share/espdoctor/stub_flasher '%s/%s'",
             tree, tree, build_name, build, tree, build_name);
    shell("copying the tree", cmd);
}

static void make_tree(void)
{
    text(scratch, sizeof scratch, "/tmp/ed_e2e_install.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
    cr_assert_eq(chmod(scratch, 0755), 0);
    text(home, sizeof home, "%s/home", scratch);
    text(tree, sizeof tree, "%s/tree", scratch);
    cr_assert_eq(mkdir(home, 0700), 0);
    copy_tree();
    char cmd[PATH_MAX + 64];
    if (e2e_user_is_root()) {
        cr_assert_eq(chown(home, E2E_NOBODY, E2E_NOBODY), 0);
    } else {
        /* the owner may not write it either: what another user's build is to us */
        text(cmd, sizeof cmd, "chmod -R a-w '%s/%s'", tree, build_name);
        shell("making the build folder read-only", cmd);
    }
}

static void remove_tree(void)
{
    char cmd[256];
    text(cmd, sizeof cmd, "chmod -R u+w '%s' && rm -rf '%s'", scratch, scratch);
    cr_assert_eq(system(cmd), 0);
}

/* Run argv as the ordinary user (nobody when the tests run as root) with HOME=home, PATH
 * starting with home/.local/bin, no make state from a parent make (its jobserver
 * descriptors are not ours). */
static void run_as_user(const char *const *argv)
{
    char env_home[PATH_MAX + 8], env_path[PATH_MAX + 64];
    text(env_home, sizeof env_home, "HOME=%s", home);
    text(env_path, sizeof env_path, "PATH=%s/.local/bin:/usr/local/bin:/usr/bin:/bin",
             home);
    const char *full[48];
    size_t n = 0;
    if (e2e_user_is_root()) {
        const char *nobody[] = { E2E_SETPRIV_NOBODY, NULL };
        for (size_t i = 0; nobody[i]; i++)
            full[n++] = nobody[i];
    }
    const char *env[] = { "env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS",
                          "-u", "ESPDOCTOR_BUILD", env_home, env_path, "LC_ALL=C",
                          "MANWIDTH=80", NULL };
    for (size_t i = 0; env[i]; i++)
        full[n++] = env[i];
    for (size_t i = 0; argv[i]; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    e2e_run(&r, full, LIMIT_S);
}

/* make -C <tree> [O=<build>] TARGET VAR=VALUE..., exactly as the user would type it. */
static void make_as_user(const char *target, const char *var1, const char *var2)
{
    char dir_opt[PATH_MAX + 8], o_opt[NAME_MAX + 8];
    text(dir_opt, sizeof dir_opt, "-C%s", tree);
    text(o_opt, sizeof o_opt, "O=%s", build_name);
    run_as_user((const char *[]){ "make", "--no-print-directory", dir_opt, o_opt, target, var1,
                                  var2, NULL });
}

static const char *under_home(const char *rel)
{
    static char slots[8][PATH_MAX + 16];
    static unsigned next;
    char *s = slots[next++ % 8];
    text(s, sizeof slots[0], "%s/.local/%s", home, rel);
    return s;
}

static const char *prefix_opt(void)
{
    static char opt[PATH_MAX + 16];
    text(opt, sizeof opt, "PREFIX=%s/.local", home);
    return opt;
}

static const char *const installed[] = {
    "bin/espdoctor",
    "share/man/man1/espdoctor.1",
    "share/bash-completion/completions/espdoctor",
    "share/espdoctor/70-espdoctor.rules",
    "share/espdoctor/espdoctor.schema.json",   /* the JSON documents, for IDEs */
    "share/espdoctor/stub_flasher/esp8266.json",   /* fetched by the build (mk/stubs.sh) */
};
#define INSTALLED_COUNT (sizeof installed / sizeof installed[0])

/* The installed program, run from a folder outside the tree with no ESPDOCTOR_STUB_DIR,
 * flashes an ESP8266 under espsim with the stub installed beside it, verified by MD5 (the
 * ESP8266 ROM cannot hash flash: without the stub the flash would end unverified). */
static void flash_with_the_installed_stub(void)
{
    char work[PATH_MAX + 16], image[PATH_MAX + 32], flash[PATH_MAX + 32];
    text(work, sizeof work, "%s/elsewhere", scratch);
    cr_assert_eq(mkdir(work, 0755), 0);
    text(image, sizeof image, "%s/fw.bin", work);
    text(flash, sizeof flash, "%s/flash.bin", work);
    e2e_run(&r, (const char *[]){ e2e_bin("mkimage"), "--chip", "esp8266", "--kind", "v1",
                                  "--size", "48K", "-o", image, NULL }, LIMIT_S);
    cr_assert_eq(r.status, 0, "mkimage: %s", r.err);
    char program[PATH_MAX + 16];
    text(program, sizeof program, "%s", under_home("bin/espdoctor"));
    unsetenv("ESPDOCTOR_STUB_DIR");
    cr_assert_eq(chdir(work), 0);
    e2e_run(&r, (const char *[]){ e2e_bin("espsim"), "--chip", "esp8266", "--fast", "--flash",
                                  flash, "--", program, "flash", "--json", image, NULL },
            LIMIT_S);
    cr_assert_eq(chdir("/"), 0);
    cr_assert_eq(r.status, 0, "the installed espdoctor's flash: exit %d\n%s\n%s", r.status,
                 r.out, r.err);
    json_object *o = e2e_json_doc(r.out);
    cr_assert_not_null(o, "no JSON: %s", r.out);
    json_object *src, *from, *path, *regions, *verified;
    cr_assert(json_object_object_get_ex(o, "stub_source", &src) && src, "%s", r.out);
    cr_assert(json_object_object_get_ex(src, "from", &from));
    cr_expect_str_eq(json_object_get_string(from), "installed");
    cr_assert(json_object_object_get_ex(src, "path", &path));
    cr_expect_str_eq(json_object_get_string(path),
                     under_home("share/espdoctor/stub_flasher/esp8266.json"));
    cr_assert(json_object_object_get_ex(o, "regions", &regions));
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(regions, 0), "verified",
                                        &verified));
    cr_expect(json_object_get_boolean(verified), "not verified by MD5:\n%s", r.out);
    json_object_put(o);
}

TestSuite(install, .init = make_tree, .fini = remove_tree, .timeout = 300);

Test(install, user_local_install_works_without_root_and_uninstalls)
{
    make_as_user("install", prefix_opt(), NULL);
    cr_assert_eq(r.status, 0, "make install as an ordinary user: exit %d\n%s\n%s", r.status,
                 r.out, r.err);
    cr_expect_null(strstr(r.out, "cc "), "make install compiled something:\n%s", r.out);
    uid_t user = e2e_user_is_root() ? E2E_NOBODY : geteuid();
    for (size_t i = 0; i < INSTALLED_COUNT; i++) {
        struct stat st;
        cr_assert_eq(stat(under_home(installed[i]), &st), 0, "%s was not installed",
                     installed[i]);
        cr_expect_eq(st.st_uid, user, "%s belongs to uid %u", installed[i], (unsigned)st.st_uid);
    }

    /* The program runs from PATH. */
    run_as_user((const char *[]){ "espdoctor", "--version", NULL });
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "espdoctor "), "%s", r.out);

    /* man finds the page with nothing set: man-db looks beside each PATH entry's bin. */
    run_as_user((const char *[]){ "man", "-P", "cat", "espdoctor", NULL });
    cr_expect_eq(r.status, 0, "man espdoctor: exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.out, "ESPDOCTOR(1)"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "NAME"), "%s", r.out);
    /* ... and with the manual path named, and by file. */
    char mandir[PATH_MAX + 16];
    text(mandir, sizeof mandir, "%s", under_home("share/man"));
    run_as_user((const char *[]){ "man", "-M", mandir, "-P", "cat", "espdoctor", NULL });
    cr_expect_eq(r.status, 0, "man -M: exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.out, "ESPDOCTOR(1)"), "%s", r.out);
    run_as_user((const char *[]){ "man", "-l", "-P", "cat",
                                  under_home("share/man/man1/espdoctor.1"), NULL });
    cr_expect_eq(r.status, 0, "man -l: exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.out, "EXIT STATUS"), "%s", r.out);

    /* The completion file registers itself where bash-completion looks for a user's. */
    char script[PATH_MAX + 64];
    text(script, sizeof script, ". %s && complete -p espdoctor",
             under_home("share/bash-completion/completions/espdoctor"));
    run_as_user((const char *[]){ "bash", "-c", script, NULL });
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "-F _espdoctor espdoctor"), "%s", r.out);

    flash_with_the_installed_stub();

    make_as_user("uninstall", prefix_opt(), NULL);
    cr_assert_eq(r.status, 0, "make uninstall: exit %d\n%s\n%s", r.status, r.out, r.err);
    run_as_user((const char *[]){ "find", under_home(""), "!", "-type", "d", NULL });
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "", "left behind after uninstall:\n%s", r.out);
}

/* install-files copies without looking at the build rules at all; DESTDIR stages. */
Test(install, install_files_with_destdir_only_copies)
{
    char destdir[PATH_MAX + 16];
    text(destdir, sizeof destdir, "DESTDIR=%s/stage", home);
    make_as_user("install-files", destdir, "PREFIX=/usr");
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_null(strstr(r.out, "cc "), "install-files compiled something:\n%s", r.out);
    char path[PATH_MAX + 64];
    struct stat st;
    text(path, sizeof path, "%s/stage/usr/bin/espdoctor", home);
    cr_expect_eq(stat(path, &st), 0, "%s", path);
    cr_expect(st.st_mode & S_IXUSR, "not executable");
    text(path, sizeof path, "%s/stage/usr/share/man/man1/espdoctor.1", home);
    cr_expect_eq(stat(path, &st), 0, "%s", path);
}

/* Without a build, or with part of one, install-files names the missing file instead of
 * building or installing half. */
static void expect_refusal_naming(const char *missing)
{
    cr_expect_neq(r.status, 0, "%s", r.out);
    char want[PATH_MAX + 64];
    text(want, sizeof want, "%s is not built yet; run make first", missing);
    cr_expect_not_null(strstr(r.err, want), "no \"%s\" in:\n%s", want, r.err);
    struct stat st;
    cr_expect_neq(stat(under_home("bin/espdoctor"), &st), 0, "something was installed");
}

Test(install, install_files_names_what_is_not_built)
{
    char o_opt[PATH_MAX + 16], dir_opt[PATH_MAX + 8], missing[PATH_MAX + 16];
    text(dir_opt, sizeof dir_opt, "-C%s", tree);
    text(o_opt, sizeof o_opt, "O=%s/no-build", home);
    run_as_user((const char *[]){ "make", "--no-print-directory", dir_opt, o_opt,
                                  "install-files", prefix_opt(), NULL });
    text(missing, sizeof missing, "%s/no-build/espdoctor", home);
    expect_refusal_naming(missing);

    /* The program is there, its manual page is not: the page is named, not the program. */
    char partial[PATH_MAX + 16], cmd[3 * PATH_MAX];
    text(partial, sizeof partial, "%s/partial", home);
    text(cmd, sizeof cmd, "mkdir '%s' && cp '%s/%s/espdoctor' '%s/' && chmod -R a+rwX '%s'",
             partial, tree, build_name, partial, partial);
    shell("a build without the manual page", cmd);
    text(o_opt, sizeof o_opt, "O=%s", partial);
    run_as_user((const char *[]){ "make", "--no-print-directory", dir_opt, o_opt,
                                  "install-files", prefix_opt(), NULL });
    text(missing, sizeof missing, "%s/espdoctor.1", partial);
    expect_refusal_naming(missing);
}
