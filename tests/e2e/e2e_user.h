/* The second user an end-to-end test needs, built from what the runner has:
 *  - as root: nobody (65534:65534, no groups) through setpriv. The checkout may sit under a
 *    0700 folder that nobody cannot pass, so whatever nobody runs is first copied into a
 *    scratch folder of the test's (e2e_user_reachable).
 *  - as an ordinary user there is no second user: the runner itself is refused for real by
 *    a mode that gives the owner nothing (EACCES) and holds ports itself (EBUSY, flock);
 *    where the doctor must believe it is somebody else, that somebody's credentials are
 *    planted in its system root (e2e_user_planted_as), the seam it reads them through.
 * build/preflight (tests/tools/preflight.c) builds each construction once before any test
 * runs and fails the suite, naming the tests and the reason, when one cannot be built.
 * Header-only, like e2e_run.h. */
#ifndef ESPDOCTOR_E2E_USER_H
#define ESPDOCTOR_E2E_USER_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e_run.h"

#define E2E_NOBODY 65534u

/* setpriv's words that make the rest of a command line run as nobody. */
#define E2E_SETPRIV_NOBODY "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"

static inline bool e2e_user_is_root(void)
{
    return geteuid() == 0;
}

/* Copy the file src to dir/<its base name>, mode 0755; false (errno set) on failure. */
static inline bool e2e_user_copy(const char *src, const char *dir, char *out, size_t len)
{
    const char *base = strrchr(src, '/');
    if (snprintf(out, len, "%s/%s", dir, base ? base + 1 : src) >= (int)len) {
        errno = ENAMETOOLONG;
        return false;
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int to = in < 0 ? -1 : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    bool ok = to >= 0;
    char buf[65536];
    ssize_t n;
    while (ok && (n = read(in, buf, sizeof buf)) != 0) {
        ok = n > 0;
        for (ssize_t done = 0; ok && done < n;) {
            ssize_t w = write(to, buf + done, (size_t)(n - done));
            ok = w > 0;
            done += w;
        }
    }
    int saved = errno;
    if (in >= 0)
        close(in);
    if (to >= 0 && close(to) != 0)
        ok = false;
    ok = ok && chmod(out, 0755) == 0;
    errno = ok ? 0 : saved;
    return ok;
}

/* The program `path` as the second user can run it: as root a copy in dir (a folder
 * nobody may enter; per-call-site slots as in e2e_bin), otherwise path itself. NULL (errno
 * set) if the copy failed. */
static inline const char *e2e_user_reachable(const char *path, const char *dir)
{
    static char slots[8][600];
    static unsigned next;
    if (!e2e_user_is_root())
        return path;
    char *s = slots[next++ % 8];
    return e2e_user_copy(path, dir, s, sizeof slots[0]) ? s : NULL;
}

/* The name /etc/group gives gid (the file the planted root copies), else its number. */
static inline void e2e_user_group_label(gid_t gid, char *out, size_t len)
{
    snprintf(out, len, "%u", (unsigned)gid);
    FILE *f = fopen("/etc/group", "r");
    struct group *g;
    while (f && (g = fgetgrent(f)) != NULL)
        if (g->gr_gid == gid) {
            snprintf(out, len, "%s", g->gr_name);
            break;
        }
    if (f)
        fclose(f);
}

/* A shell command line's first words ("sh -c SCRIPT sh", then the command) that plant, in
 * the system root espsim hands the command ($ESPDOCTOR_SYSROOT), the credentials of uid
 * with gid and the supplementary groups `groups` ("" for none, else "20 46"), then run the
 * command. script is the caller's buffer. */
static inline void e2e_user_planted_as(uid_t uid, gid_t gid, const char *groups, char *script,
                                       size_t len, const char **words)
{
    snprintf(script, len,
             "d=\"$ESPDOCTOR_SYSROOT/proc/self\"; [ -n \"$ESPDOCTOR_SYSROOT\" ] && "
             "mkdir -p \"$d\" && printf 'Name:\\tespdoctor\\nUid:\\t%u\\t%u\\t%u\\t%u\\n"
             "Gid:\\t%u\\t%u\\t%u\\t%u\\nGroups:\\t%s\\n' > \"$d/status\" && exec \"$@\"",
             (unsigned)uid, (unsigned)uid, (unsigned)uid, (unsigned)uid, (unsigned)gid,
             (unsigned)gid, (unsigned)gid, (unsigned)gid, groups);
    words[0] = "sh";
    words[1] = "-c";
    words[2] = script;
    words[3] = "sh";
    words[4] = NULL;
}

#endif
