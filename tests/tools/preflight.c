/* make check's first step: can every test that needs a second user be built here, for this
 * user? Each way tests/e2e/e2e_user.h (and the unit tests that touch real files) gets one is
 * tried once, for real. When one fails, the suite stops before any test runs, naming the
 * tests that need it and why; no test is skipped instead.
 *
 *   build/preflight                 try every way that applies to this user
 *   build/preflight --probe PATH    (run by the root checks, as nobody) print "uid=U
 *                                   open=ERRNO" for an open of PATH */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e/e2e_user.h"

struct way {
    bool for_root;                         /* tried as root; else as an ordinary user */
    bool for_both;                         /* tried by everyone */
    const char *what;
    bool (*try_it)(const char *dir, char *why, size_t len);
    const char *tests;                     /* the tests that are built this way */
};

static int probe(const char *path)
{
    int fd = open(path, O_RDWR | O_NOCTTY);
    printf("uid=%u open=%d\n", (unsigned)getuid(), fd < 0 ? errno : 0);
    return 0;
}

static bool fail(char *why, size_t len, const char *fmt, const char *arg)
{
    snprintf(why, len, fmt, arg);
    return false;
}

/* root: setpriv makes nobody, who runs a program copied into a scratch folder under /tmp
 * and is refused a file of root's with mode 0600. */
static bool nobody_runs_a_copy(const char *dir, char *why, size_t len)
{
    char self[4096], copy[4200], file[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return fail(why, len, "cannot read /proc/self/exe: %s", strerror(errno));
    self[n] = '\0';
    if (!e2e_user_copy(self, dir, copy, sizeof copy))
        return fail(why, len, "cannot copy a program into the scratch folder: %s",
                    strerror(errno));
    snprintf(file, sizeof file, "%s/root-only", dir);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return fail(why, len, "cannot create a file: %s", strerror(errno));
    close(fd);
    struct e2e_result *r = malloc(sizeof *r);
    if (!r)
        return fail(why, len, "%s", "out of memory");
    e2e_run(r, (const char *const[]){ E2E_SETPRIV_NOBODY, copy, "--probe", file, NULL }, 20);
    char want[64];
    snprintf(want, sizeof want, "uid=%u open=%d\n", E2E_NOBODY, EACCES);
    bool ok = r->status == 0 && strcmp(r->out, want) == 0;
    if (!ok)
        snprintf(why, len, "`setpriv --reuid=65534 --regid=65534 --clear-groups %s --probe "
                           "FILE` exited %d printing \"%.60s\" (wanted \"%.30s\"): %.200s",
                 copy, r->status, r->out, want, r->err);
    free(r);
    return ok;
}

static bool account_named(bool group, unsigned id, const char *name, char *why, size_t len)
{
    const char *file = group ? "/etc/group" : "/etc/passwd";
    FILE *f = fopen(file, "r");
    bool found = false;
    if (group) {
        struct group *g;
        while (f && !found && (g = fgetgrent(f)) != NULL)
            found = name ? strcmp(g->gr_name, name) == 0 : g->gr_gid == id;
    } else {
        struct passwd *p;
        while (f && !found && (p = fgetpwent(f)) != NULL)
            found = p->pw_uid == id && (!name || strcmp(p->pw_name, name) == 0);
    }
    if (f)
        fclose(f);
    if (!found) {
        char what[96];
        if (name)
            snprintf(what, sizeof what, "%s %s (%u)", group ? "group" : "user", name, id);
        else
            snprintf(what, sizeof what, "%s %u", group ? "group" : "user", id);
        snprintf(why, len, "%s names no %s (espsim plants a copy of it)", file, what);
    }
    return found;
}

/* root: the accounts the scenarios name. */
static bool root_accounts(const char *dir, char *why, size_t len)
{
    (void)dir;
    return account_named(true, 0, "dialout", why, len) &&
           account_named(false, E2E_NOBODY, "nobody", why, len);
}

/* an ordinary user: its own group named (espsim --group-member NAME:nobody) and nobody. */
static bool user_accounts(const char *dir, char *why, size_t len)
{
    (void)dir;
    return account_named(true, (unsigned)getgid(), NULL, why, len) &&
           account_named(false, E2E_NOBODY, "nobody", why, len);
}

/* an ordinary user: mode 000 refuses a file's owner, and a read-only folder too (no
 * CAP_DAC_OVERRIDE). */
static bool modes_refuse_the_owner(const char *dir, char *why, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/mode-000", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0000);
    if (fd < 0)
        return fail(why, len, "cannot create a file: %s", strerror(errno));
    close(fd);
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        close(fd);
        return fail(why, len, "%s", "this user opened its own file of mode 000: it has "
                                    "CAP_DAC_OVERRIDE, so no mode refuses it");
    }
    if (errno != EACCES)
        return fail(why, len, "opening a file of mode 000 failed with %s, not EACCES",
                    strerror(errno));
    snprintf(path, sizeof path, "%s/read-only", dir);
    if (mkdir(path, 0555) != 0)
        return fail(why, len, "cannot create a folder: %s", strerror(errno));
    snprintf(path, sizeof path, "%s/read-only/file", dir);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) {
        close(fd);
        unlink(path);
        return fail(why, len, "%s", "this user created a file in its own folder of mode 0555");
    }
    return true;
}

static int open_pty(char *slave, size_t len)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        ptsname_r(master, slave, len) != 0) {
        if (master >= 0)
            close(master);
        return -1;
    }
    return master;
}

/* an ordinary user: a port it holds with TIOCEXCL refuses its second open with EBUSY (no
 * CAP_SYS_ADMIN). */
static bool exclusive_mode_refuses_the_holder(const char *dir, char *why, size_t len)
{
    (void)dir;
    char slave[64];
    int master = open_pty(slave, sizeof slave);
    if (master < 0)
        return fail(why, len, "cannot open a pty: %s", strerror(errno));
    int held = open(slave, O_RDWR | O_NOCTTY);
    bool ok = held >= 0 && ioctl(held, TIOCEXCL) == 0;
    if (!ok)
        snprintf(why, len, "cannot hold a pty with TIOCEXCL: %s", strerror(errno));
    int again = ok ? open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK) : -1;
    if (ok && again >= 0)
        ok = fail(why, len, "%s", "a second open of a pty held with TIOCEXCL worked: this "
                                  "user has CAP_SYS_ADMIN");
    else if (ok && errno != EBUSY)
        ok = fail(why, len, "a second open of a pty held with TIOCEXCL failed with %s, not "
                            "EBUSY", strerror(errno));
    if (again >= 0)
        close(again);
    if (held >= 0)
        close(held);
    close(master);
    return ok;
}

/* everyone: a flock() on a pty shows in /proc/locks under the holder's PID. */
static bool flock_shows_in_proc_locks(const char *dir, char *why, size_t len)
{
    (void)dir;
    char slave[64];
    int master = open_pty(slave, sizeof slave);
    if (master < 0)
        return fail(why, len, "cannot open a pty: %s", strerror(errno));
    int fd = open(slave, O_RDWR | O_NOCTTY);
    bool ok = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (!ok)
        snprintf(why, len, "cannot flock a pty: %s", strerror(errno));
    FILE *locks = ok ? fopen("/proc/locks", "r") : NULL;
    if (ok && !locks)
        ok = fail(why, len, "cannot read /proc/locks: %s", strerror(errno));
    if (locks) {
        char line[256], mine[32];
        snprintf(mine, sizeof mine, " %d ", (int)getpid());
        bool seen = false;
        while (!seen && fgets(line, sizeof line, locks))
            seen = strstr(line, "FLOCK") && strstr(line, mine);
        fclose(locks);
        if (!seen)
            ok = fail(why, len, "%s", "/proc/locks does not show this process's flock");
    }
    if (fd >= 0)
        close(fd);
    close(master);
    return ok;
}

static const struct way ways[] = {
    { true, false, "nobody (65534), through setpriv, runs a program copied into a folder "
                   "under /tmp and is refused root's files",
      nobody_runs_a_copy,
      "doctor_permissions::*, doctor_locks::exclusive_holder_makes_the_port_busy, "
      "bad_input::unreadable_file_for_a_user_without_permission, install::*" },
    { true, false, "/etc/group names dialout and /etc/passwd names nobody (65534)",
      root_accounts, "doctor_permissions::*" },
    { false, false, "/etc/group names this user's group and /etc/passwd names nobody (65534)",
      user_accounts, "doctor_permissions::*" },
    { false, false, "a mode of 000, or a read-only folder, refuses this user its own files",
      modes_refuse_the_owner,
      "doctor_permissions::not_in_the_ports_group, "
      "doctor_permissions::added_to_the_group_after_logging_in, "
      "bad_input::unreadable_file_for_a_user_without_permission, "
      "scenario_node::the_nodes_mode_is_enforced_on_open, install::*, "
      "udev_cli::unwritable_rules_dir_names_sudo" },
    { false, false, "a port this user holds with TIOCEXCL refuses its next open (EBUSY)",
      exclusive_mode_refuses_the_holder, "doctor_locks::exclusive_holder_makes_the_port_busy" },
    { false, true, "flock() on a port shows in /proc/locks", flock_shows_in_proc_locks,
      "doctor_locks::flock_holder_is_named_with_its_pid, "
      "check_locks::flock_holder_found_in_the_real_proc_locks" },
};

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--probe") == 0)
        return probe(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--probe PATH]\n", argv[0]);
        return 2;
    }
    bool root = e2e_user_is_root();
    char dir[] = "/tmp/ed_preflight.XXXXXX";
    if (!mkdtemp(dir) || chmod(dir, 0755) != 0) {
        fprintf(stderr, "preflight: cannot make a scratch folder under /tmp: %s\n",
                strerror(errno));
        return 1;
    }
    int tried = 0, failed = 0;
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        const struct way *w = &ways[i];
        if (!w->for_both && w->for_root != root)
            continue;
        char why[1024] = "";
        tried++;
        if (w->try_it(dir, why, sizeof why))
            continue;
        failed++;
        fprintf(stderr, "preflight: as uid %u these tests cannot be built on this machine: "
                        "%s\n  they need: %s\n  but: %s\n",
                (unsigned)geteuid(), w->tests, w->what, why);
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "preflight: could not remove %s\n", dir);
    if (failed) {
        fprintf(stderr, "preflight: %d of %d ways to a second user failed; no test was run\n",
                failed, tried);
        return 1;
    }
    printf("preflight: %s; %d ways to a second user checked\n",
           root ? "as root, the second user is nobody (setpriv, from copies under /tmp)"
                : "as an ordinary user, the second user is this user refused by modes, "
                  "holding ports itself, or with nobody's credentials planted",
           tried);
    return 0;
}
