/* `make install PREFIX=$HOME/.local` as an ordinary user: run as uid 65534 (nobody) with a
 * HOME of its own when the tests run as root (CI), as the user itself otherwise. That user
 * cannot write the build tree, so make must only copy what is built. Then the installed
 * program runs, `man espdoctor` finds the page (through PATH, as man-db derives the manual
 * path from it), the completion registers, and `make uninstall` removes every file. */
#include <criterion/criterion.h>
#include <limits.h>
#include <sys/stat.h>

#include "e2e_run.h"

#define LIMIT_S 120
#define NOBODY 65534

static struct e2e_result r;
static char home[64];
static char repo[PATH_MAX];
static char build[PATH_MAX];

static void make_home(void)
{
    snprintf(home, sizeof home, "/tmp/ed_e2e_install.XXXXXX");
    cr_assert_not_null(mkdtemp(home));
    if (geteuid() == 0)
        cr_assert_eq(chown(home, NOBODY, NOBODY), 0);
    cr_assert_eq(chmod(home, 0700), 0);
    cr_assert_not_null(getcwd(repo, sizeof repo));
    cr_assert_not_null(realpath(e2e_build(), build), "no build directory %s", e2e_build());
}

static void remove_home(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    cr_assert_eq(system(cmd), 0);
}

/* Run argv as the ordinary user with HOME=home, PATH starting with home/.local/bin, no
 * make state from a parent make (its jobserver descriptors are not ours). */
static void run_as_user(const char *const *argv)
{
    char env_home[96], env_path[160];
    snprintf(env_home, sizeof env_home, "HOME=%s", home);
    snprintf(env_path, sizeof env_path, "PATH=%s/.local/bin:/usr/local/bin:/usr/bin:/bin", home);
    const char *full[48];
    size_t n = 0;
    if (geteuid() == 0) {
        full[n++] = "setpriv";
        full[n++] = "--reuid=65534";
        full[n++] = "--regid=65534";
        full[n++] = "--clear-groups";
    }
    const char *env[] = { "env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS",
                          env_home, env_path, "LC_ALL=C", "MANWIDTH=80", NULL };
    for (size_t i = 0; env[i]; i++)
        full[n++] = env[i];
    for (size_t i = 0; argv[i]; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    e2e_run(&r, full, LIMIT_S);
}

/* make -C <repo> O=<build> [TARGETS...] PREFIX=<home>/.local, never remaking the built
 * files (-o): the user could not, and must not need to. */
static void make_as_user(const char *target)
{
    char dir_opt[PATH_MAX + 8], o_opt[PATH_MAX + 8], bin[PATH_MAX + 16], page[PATH_MAX + 16],
        prefix[128];
    snprintf(dir_opt, sizeof dir_opt, "-C%s", repo);
    snprintf(o_opt, sizeof o_opt, "O=%s", build);
    snprintf(bin, sizeof bin, "-o%s/espdoctor", build);
    snprintf(page, sizeof page, "-o%s/espdoctor.1", build);
    snprintf(prefix, sizeof prefix, "PREFIX=%s/.local", home);
    run_as_user((const char *[]){ "make", "--no-print-directory", dir_opt, o_opt, bin, page,
                                  target, prefix, NULL });
}

static const char *under_home(const char *rel)
{
    static char slots[8][192];
    static unsigned next;
    char *s = slots[next++ % 8];
    snprintf(s, sizeof slots[0], "%s/.local/%s", home, rel);
    return s;
}

static const char *const installed[] = {
    "bin/espdoctor",
    "share/man/man1/espdoctor.1",
    "share/bash-completion/completions/espdoctor",
    "share/espdoctor/70-espdoctor.rules",
};
#define INSTALLED_COUNT (sizeof installed / sizeof installed[0])

Test(install, user_local_install_works_without_root_and_uninstalls, .init = make_home,
     .fini = remove_home, .timeout = 300)
{
    make_as_user("install");
    cr_assert_eq(r.status, 0, "make install as an ordinary user: exit %d\n%s\n%s", r.status,
                 r.out, r.err);
    uid_t user = geteuid() == 0 ? NOBODY : geteuid();
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
    char mandir[192];
    snprintf(mandir, sizeof mandir, "%s", under_home("share/man"));
    run_as_user((const char *[]){ "man", "-M", mandir, "-P", "cat", "espdoctor", NULL });
    cr_expect_eq(r.status, 0, "man -M: exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.out, "ESPDOCTOR(1)"), "%s", r.out);
    run_as_user((const char *[]){ "man", "-l", "-P", "cat",
                                  under_home("share/man/man1/espdoctor.1"), NULL });
    cr_expect_eq(r.status, 0, "man -l: exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.out, "EXIT STATUS"), "%s", r.out);

    /* The completion file registers itself where bash-completion looks for a user's. */
    char script[256];
    snprintf(script, sizeof script, ". %s && complete -p espdoctor",
             under_home("share/bash-completion/completions/espdoctor"));
    run_as_user((const char *[]){ "bash", "-c", script, NULL });
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "-F _espdoctor espdoctor"), "%s", r.out);

    make_as_user("uninstall");
    cr_assert_eq(r.status, 0, "make uninstall: exit %d\n%s\n%s", r.status, r.out, r.err);
    run_as_user((const char *[]){ "find", under_home(""), "!", "-type", "d", NULL });
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "", "left behind after uninstall:\n%s", r.out);
}

/* install-files copies without looking at the build rules at all; DESTDIR stages. */
Test(install, install_files_with_destdir_only_copies, .init = make_home, .fini = remove_home)
{
    char dir_opt[PATH_MAX + 8], o_opt[PATH_MAX + 8], destdir[128];
    snprintf(dir_opt, sizeof dir_opt, "-C%s", repo);
    snprintf(o_opt, sizeof o_opt, "O=%s", build);
    snprintf(destdir, sizeof destdir, "DESTDIR=%s/stage", home);
    run_as_user((const char *[]){ "make", "--no-print-directory", dir_opt, o_opt,
                                  "install-files", destdir, "PREFIX=/usr", NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_null(strstr(r.out, "cc "), "install-files compiled something:\n%s", r.out);
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/stage/usr/bin/espdoctor", home);
    cr_expect_eq(stat(path, &st), 0, "%s", path);
    cr_expect(st.st_mode & S_IXUSR, "not executable");
    snprintf(path, sizeof path, "%s/stage/usr/share/man/man1/espdoctor.1", home);
    cr_expect_eq(stat(path, &st), 0, "%s", path);
}

/* Without a build, install-files says so instead of building. */
Test(install, install_files_without_a_build_says_so, .init = make_home, .fini = remove_home)
{
    char dir_opt[PATH_MAX + 8], o_opt[160], prefix[128];
    snprintf(dir_opt, sizeof dir_opt, "-C%s", repo);
    snprintf(o_opt, sizeof o_opt, "O=%s/no-build", home);
    snprintf(prefix, sizeof prefix, "PREFIX=%s/.local", home);
    run_as_user((const char *[]){ "make", "--no-print-directory", dir_opt, o_opt,
                                  "install-files", prefix, NULL });
    cr_expect_neq(r.status, 0, "%s", r.out);
    cr_expect_not_null(strstr(r.err, "is not built yet; run make first"), "%s", r.err);
    struct stat st;
    cr_expect_neq(stat(under_home("bin/espdoctor"), &st), 0, "something was installed");
}
