/* Helpers for the doctor's system checks: a planted system root (files under a temporary
 * directory standing for /proc, /etc, /lib/modules...), a doctor whose credentials come
 * from the planted /proc/self/status, and planted facts of a port node (struct
 * ed_port_facts). No test needs privileges: a node owned by root, or an open() that fails,
 * is a fact planted, not a file made by root. */
#ifndef TEST_CHECK_UTIL_H
#define TEST_CHECK_UTIL_H

#include "espdoctor/doctor.h"
#include "espdoctor/port_facts.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* The planted /proc/self/status: who the doctor runs as (real, effective, saved and
 * filesystem ids alike) and this login's supplementary groups. */
static inline void plant_credentials(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
    char text[512];
    int n = snprintf(text, sizeof text, "Name:\ttest\nUmask:\t0022\nState:\tR (running)\n"
                     "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t64\nGroups:\t",
                     (unsigned)uid, (unsigned)uid, (unsigned)uid, (unsigned)uid, (unsigned)gid,
                     (unsigned)gid, (unsigned)gid, (unsigned)gid);
    for (size_t i = 0; i < ngroups; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%u ", (unsigned)groups[i]);
    snprintf(text + n, sizeof text - (size_t)n, "\nVmPeak:\t   10000 kB\n");
    plant("/proc/self/status", text);
}

/* A doctor reading the planted root: the accounts and credentials planted so far are read
 * through it, as espdoctor reads them. */
static inline void doctor_read_planted(struct ed_doctor *d)
{
    memset(d, 0, sizeof *d);
    ed_sysroot_init(&d->sys, planted_root);
    ed_credentials_read(&d->sys, &d->cred);
    d->has_target = true;
}

/* A doctor running as alice (4343:4343, no supplementary groups). */
static inline void doctor_planted(struct ed_doctor *d)
{
    char path[1024];
    planted_path("/etc/passwd", path, sizeof path);
    if (access(path, F_OK) != 0)
        plant("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                             "alice:x:4343:4343:Alice:/home/alice:/bin/bash\n");
    plant_credentials(ALICE_UID, ALICE_GID, NULL, 0);
    doctor_read_planted(d);
    cr_assert_eq(d->cred.uid, ALICE_UID);
    cr_assert_str_eq(d->cred.user, "alice");
}

/* A port node as the system would show it: a character device (188:0) with this owner,
 * group and mode, no ACL, and the result of a real open(). */
static inline struct ed_port_facts port_facts(const char *path, uid_t owner, gid_t group,
                                              mode_t mode, int open_errno)
{
    struct ed_port_facts f;
    memset(&f, 0, sizeof f);
    f.path = path;
    f.st.st_mode = S_IFCHR | mode;
    f.st.st_uid = owner;
    f.st.st_gid = group;
    f.st.st_rdev = makedev(188, 0);
    f.open_errno = open_errno;
    return f;
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

#endif
