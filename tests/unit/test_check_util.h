/* Helpers for the doctor's system checks: a planted system root (files under a temporary
 * directory standing for /proc, /etc, /lib/modules...), a doctor context filled by hand,
 * and running a check in a child with dropped privileges (CI runs as root, and root
 * ignores modes and TIOCEXCL). The child sends its findings back through a pipe. */
#ifndef TEST_CHECK_UTIL_H
#define TEST_CHECK_UTIL_H

#include "espdoctor/doctor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The unprivileged account the tests plant and become. */
#define ALICE_UID 4343u
#define ALICE_GID 4343u
#define DIALOUT_GID 4242u

static char planted_root[256];

static inline void planted_root_make(void)
{
    snprintf(planted_root, sizeof planted_root, "/tmp/espdoctor-check-XXXXXX");
    cr_assert_not_null(mkdtemp(planted_root));
    cr_assert_eq(chmod(planted_root, 0755), 0);   /* readable by the dropped child */
}

static inline int planted_remove_entry(const char *path, const struct stat *st, int flag,
                                       struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static inline void planted_root_remove(void)
{
    nftw(planted_root, planted_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void planted_path(const char *rel, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s", planted_root, rel);
    cr_assert(n > 0 && (size_t)n < len);
}

/* mkdir -p for the parent directories of rel. */
static inline void planted_parents(const char *rel)
{
    char path[1024];
    planted_path(rel, path, sizeof path);
    for (char *slash = strchr(path + strlen(planted_root) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path,
                  strerror(errno));
        *slash = '/';
    }
}

static inline void plant(const char *rel, const char *text)
{
    planted_parents(rel);
    char path[1024];
    planted_path(rel, path, sizeof path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(chmod(path, 0644), 0);
}

static inline void plant_link(const char *rel, const char *target)
{
    planted_parents(rel);
    char path[1024];
    planted_path(rel, path, sizeof path);
    cr_assert_eq(symlink(target, path), 0, "symlink %s: %s", path, strerror(errno));
}

/* A process in the planted /proc: its name and, optionally, an fd link to a file. */
static inline void plant_process(int pid, const char *comm, const char *open_file)
{
    char rel[128], text[64];
    snprintf(rel, sizeof rel, "/proc/%d/comm", pid);
    snprintf(text, sizeof text, "%s\n", comm);
    plant(rel, text);
    if (open_file) {
        snprintf(rel, sizeof rel, "/proc/%d/fd/3", pid);
        plant_link(rel, open_file);
    }
}

static inline void plant_accounts(const char *group_file)
{
    plant("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                         "alice:x:4343:4343:Alice:/home/alice:/bin/bash\n"
                         "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    plant("/etc/group", group_file);
}

/* A doctor reading the planted root, running as alice with no supplementary groups. */
static inline void doctor_planted(struct ed_doctor *d)
{
    memset(d, 0, sizeof *d);
    ed_sysroot_init(&d->sys, planted_root);
    d->cred.uid = ALICE_UID;
    d->cred.gid = ALICE_GID;
    snprintf(d->cred.user, sizeof d->cred.user, "alice");
    d->has_target = true;
}

static inline void target_usb(struct ed_doctor *d, const char *usb_name, uint16_t vid,
                              uint16_t pid, const char *driver, const char *devnode)
{
    struct ed_port *p = &d->target;
    snprintf(p->usb_name, sizeof p->usb_name, "%s", usb_name);
    p->vid = vid;
    p->pid = pid;
    p->bridge = ed_bridge_lookup(vid, pid);
    snprintf(p->driver, sizeof p->driver, "%s", driver);
    snprintf(p->devnode, sizeof p->devnode, "%s", devnode);
}

static inline const struct ed_finding *finding(const struct ed_report *r, const char *id)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->items[i].diag->id, id) == 0)
            return &r->items[i];
    return NULL;
}

static inline const struct ed_finding *first_error(const struct ed_report *r)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].severity == ED_SEV_ERROR)
            return &r->items[i];
    return NULL;
}

/* The first error must be `id`; returns it for further checks of evidence and fix. */
static inline const struct ed_finding *expect_first_error(const struct ed_report *r,
                                                          const char *id)
{
    const struct ed_finding *f = first_error(r);
    cr_assert_not_null(f, "no error finding; expected %s (%zu findings)", id, r->count);
    cr_assert_str_eq(f->diag->id, id, "first error is %s: %s", f->diag->id,
                     f->evidence ? f->evidence : "");
    return f;
}

static inline void expect_text(const char *text, const char *part)
{
    cr_assert_not_null(text, "expected text containing \"%s\", got none", part);
    cr_assert_not_null(strstr(text, part), "\"%s\" not in \"%s\"", part, text);
}

/* Give up root: no supplementary groups but `groups`, then gid and uid. The process stays
 * dumpable so others of the same uid may read its /proc/PID/fd. False on failure. */
static inline bool drop_privileges(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
    return setgroups(ngroups, groups) == 0 && setresgid(gid, gid, gid) == 0 &&
           setresuid(uid, uid, uid) == 0 && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0;
}

#define FIELD_SEP '\x1f'
#define RECORD_SEP '\x1e'

static inline void send_text(int fd, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0)
            _exit(3);
        text += n;
        len -= (size_t)n;
    }
}

/* Run `check` in a child with the given credentials; its return value and findings come
 * back into d->report. Fails the test if the child could not drop privileges. */
static inline bool run_unprivileged(struct ed_doctor *d, bool (*check)(struct ed_doctor *),
                                    uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        close(fds[0]);
        if (!drop_privileges(uid, gid, groups, ngroups))
            _exit(2);
        bool go_on = check(d);
        send_text(fds[1], go_on ? "1" : "0");
        for (size_t i = 0; i < d->report.count; i++) {
            const struct ed_finding *f = &d->report.items[i];
            char sep[2] = { FIELD_SEP, 0 }, end[2] = { RECORD_SEP, 0 };
            send_text(fds[1], f->diag->id);
            send_text(fds[1], sep);
            send_text(fds[1], f->subject);
            send_text(fds[1], sep);
            send_text(fds[1], f->evidence);
            send_text(fds[1], sep);
            send_text(fds[1], f->fix);
            send_text(fds[1], sep);
            send_text(fds[1], f->fix_command);
            send_text(fds[1], end);
        }
        _exit(0);
    }
    close(fds[1]);
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            text = realloc(text, cap);
            cr_assert_not_null(text);
        }
        ssize_t n = read(fds[0], text + len, 4096);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fds[0]);
    text[len] = '\0';
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the unprivileged child failed (status %#x)", status);
    cr_assert_gt(len, 0);

    bool go_on = text[0] == '1';
    for (char *rec = text + 1; *rec;) {
        char *end = strchr(rec, RECORD_SEP);
        cr_assert_not_null(end);
        *end = '\0';
        char *field[5] = { rec, NULL, NULL, NULL, NULL };
        for (int k = 1; k < 5; k++) {
            field[k] = strchr(field[k - 1], FIELD_SEP);
            cr_assert_not_null(field[k]);
            *field[k]++ = '\0';
        }
        struct ed_finding *f = ed_report_add(&d->report, field[0], field[1]);
        cr_assert_not_null(f);
        if (field[2][0])
            ed_finding_evidence(f, "%s", field[2]);
        if (field[3][0])
            ed_finding_fix(f, "%s", field[3]);
        if (field[4][0])
            ed_finding_command(f, "%s", field[4]);
        rec = end + 1;
    }
    free(text);
    return go_on;
}

static inline void require_root(void)
{
    cr_assert_eq(geteuid(), 0, "these tests create nodes owned by other users and drop "
                               "privileges: run them as root (CI does)");
}

#endif
