/* Locks: is another program using the port? Four kinds of evidence: EBUSY on open (the
 * holder set TIOCEXCL), flock/POSIX locks in /proc/locks on the node's device and inode,
 * processes with the node open (/proc/PID/fd), and UUCP lock files (LCK..ttyUSB0). Files
 * are compared by device and inode, never by path: under umockdev the links read
 * /dev/pts/N. The node's stat and the open's result come in struct ed_port_facts. */
#include "espdoctor/port_facts.h"
#include "espdoctor/port_locks.h"
#include "espdoctor/shell.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HOLDERS 16
#define MAX_NAMED 48

/* PIDs already named by an error finding, so they are not reported again as open-by. */
struct named_pids {
    pid_t pids[MAX_NAMED];
    size_t count;
};

static void name_pid(struct named_pids *named, pid_t pid)
{
    if (named->count < MAX_NAMED)
        named->pids[named->count++] = pid;
}

static bool is_named(const struct named_pids *named, pid_t pid)
{
    for (size_t i = 0; i < named->count; i++)
        if (named->pids[i] == pid)
            return true;
    return false;
}

/* "Close minicom (PID 812), or end it." and "kill 812"; with several, any of them may be
 * the one: "Close one of minicom (PID 812), screen (PID 913), or end them." and
 * "kill 812 913" (sudo when one is another user's process). */
static void fix_close_all(struct ed_doctor *d, struct ed_finding *f, const pid_t *pids,
                          size_t n)
{
    char who[512], numbers[256] = "";
    ed_sysroot_describe_processes(&d->sys, pids, n, who, sizeof who);
    bool foreign = false;
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof numbers; i++) {
        uid_t owner = d->cred.uid;
        ed_sysroot_process_exists(&d->sys, pids[i], &owner);
        foreign |= owner != d->cred.uid && d->cred.uid != 0;
        int w = snprintf(numbers + used, sizeof numbers - used, "%s%d", i ? " " : "",
                         (int)pids[i]);
        if (w > 0)
            used += (size_t)w;
    }
    ed_finding_fix(f, "Close %s%s, or end %s.", n > 1 ? "one of " : "", who,
                   n > 1 ? "them" : "it");
    ed_finding_command(f, "%skill %s", foreign ? "sudo " : "", numbers);
}

static void fix_close(struct ed_doctor *d, struct ed_finding *f, pid_t pid)
{
    fix_close_all(d, f, &pid, 1);
}

/* The holder is not to be seen: fuser names it. */
static void fix_find(struct ed_finding *f, const char *path)
{
    char word[300];
    ed_finding_fix(f, "Find the program that has the port open, then close it.");
    ed_finding_command(f, "sudo fuser -v %s", ed_shell_quote(path, word, sizeof word));
}

static void report_busy(struct ed_doctor *d, const char *path, const pid_t *holders, size_t n,
                        size_t hidden, struct named_pids *named)
{
    struct ed_finding *f = ed_report_add(&d->report, "lock.busy", path);
    char list[512];
    ed_sysroot_describe_processes(&d->sys, holders, n, list, sizeof list);
    if (n > 0) {
        ed_finding_evidence(f, "open(%s) failed with EBUSY: another program set exclusive mode "
                               "(TIOCEXCL); it is open in %s",
                            path, list);
        fix_close_all(d, f, holders, n);   /* which of them set it, no file tells */
    } else {
        ed_finding_evidence(f, "open(%s) failed with EBUSY: another program set exclusive mode "
                               "(TIOCEXCL); no process %shas it open%s",
                            path, hidden ? "you may inspect " : "",
                            hidden ? " (other users' processes are hidden)" : "");
        fix_find(f, path);
    }
    for (size_t i = 0; i < n; i++)
        name_pid(named, holders[i]);
}

/* Locks in /proc/locks on the node (port_locks.c reads them). */
static bool report_file_locks(struct ed_doctor *d, const char *path, const struct stat *st,
                              struct named_pids *named)
{
    char *text = ed_sysroot_read(&d->sys, "/proc/locks", 4u << 20);
    if (!text)
        return false;
    struct ed_port_lock locks[MAX_HOLDERS];
    size_t n = ed_port_locks_on(text, st, locks, MAX_HOLDERS);
    free(text);
    for (size_t i = 0; i < n; i++) {
        const struct ed_port_lock *l = &locks[i];
        struct ed_finding *f = ed_report_add(&d->report, "lock.flock", path);
        char who[96];
        if (l->pid > 0)
            ed_sysroot_describe_process(&d->sys, l->pid, who, sizeof who);
        else
            snprintf(who, sizeof who, "a process (open file description lock, PID not shown)");
        ed_finding_evidence(f, "/proc/locks: %s %s lock by %s on %02x:%02x:%llu (the device "
                               "and inode of %s)",
                            l->kind, l->access, who, l->maj, l->min, l->ino, path);
        if (l->pid > 0) {
            fix_close(d, f, l->pid);
            name_pid(named, l->pid);
        } else {
            fix_find(f, path);
        }
    }
    return n > 0;
}

/* The PID in a UUCP lock file: ten ASCII digits (HDB style) or, in the old style, a
 * binary int of 4 bytes. 0 if neither. */
static pid_t lock_file_pid(const char *text, size_t len)
{
    const char *p = text + strspn(text, " \t");
    if (*p >= '0' && *p <= '9')
        return (pid_t)strtol(p, NULL, 10);
    if (len == sizeof(int)) {
        int binary;
        memcpy(&binary, text, sizeof binary);
        return binary > 0 ? (pid_t)binary : 0;
    }
    return 0;
}

static bool alive(const struct ed_sysroot *s, pid_t pid)
{
    if (pid <= 0)
        return false;
    bool signalable = kill(pid, 0) == 0 || errno == EPERM;
    return signalable && ed_sysroot_process_exists(s, pid, NULL);
}

/* Reads a lock file whose content may be binary: length kept. */
static char *read_lock_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65);
    if (buf)
        *len = fread(buf, 1, 64, f);
    fclose(f);
    return buf;
}

static bool report_uucp_locks(struct ed_doctor *d, const char *devname, struct named_pids *named)
{
    static const char *const dirs[] = { "/var/lock", "/run/lock" };
    struct stat seen[2];
    size_t nseen = 0;
    bool live = false;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char rel[320], path[1024];
        snprintf(rel, sizeof rel, "%s/LCK..%s", dirs[i], devname);
        struct stat st;
        if (!ed_sysroot_path(&d->sys, rel, path, sizeof path) || stat(path, &st) != 0)
            continue;
        bool duplicate = false;   /* /var/lock is usually a link to /run/lock */
        for (size_t k = 0; k < nseen; k++)
            duplicate |= seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino;
        if (duplicate)
            continue;
        seen[nseen++] = st;
        size_t len = 0;
        char *text = read_lock_file(path, &len);
        if (!text)
            continue;
        pid_t pid = lock_file_pid(text, len);
        free(text);
        if (pid == getpid())
            continue;
        if (alive(&d->sys, pid)) {
            struct ed_finding *f = ed_report_add(&d->report, "lock.uucp", rel);
            char who[96];
            ed_sysroot_describe_process(&d->sys, pid, who, sizeof who);
            ed_finding_evidence(f, "the lock file %s names %s, which is running", rel, who);
            fix_close(d, f, pid);
            name_pid(named, pid);
            live = true;
        } else {
            struct ed_finding *f = ed_report_add(&d->report, "lock.uucp-stale", rel);
            if (pid > 0)
                ed_finding_evidence(f, "the lock file %s names PID %d, which no longer runs",
                                    rel, (int)pid);
            else
                ed_finding_evidence(f, "the lock file %s holds no PID", rel);
            char word[300];
            ed_finding_fix(f, "Remove the stale lock file; no program holds the port.");
            ed_finding_command(f, "sudo rm %s", ed_shell_quote(rel, word, sizeof word));
        }
    }
    return live;
}

static const char *port_path(const struct ed_doctor *d)
{
    return d->port_path[0] ? d->port_path : d->target.devnode;
}

bool ed_judge_locks(struct ed_doctor *d, const struct ed_port_facts *facts)
{
    const char *path = facts->path;
    if (facts->stat_errno)
        return false;
    const struct stat *st = &facts->st;

    const char *node = d->target.devnode[0] ? d->target.devnode : path;
    pid_t holders[MAX_HOLDERS];
    size_t hidden = 0;
    size_t n = ed_sysroot_holders(&d->sys, st, node, holders, MAX_HOLDERS, &hidden);
    struct named_pids named = { .count = 0 };
    bool blocked = false;

    if (facts->open_errno == EBUSY) {
        report_busy(d, path, holders, n, hidden, &named);
        blocked = true;
    }
    blocked |= report_file_locks(d, path, st, &named);

    const char *base = strrchr(node, '/');
    blocked |= report_uucp_locks(d, base ? base + 1 : node, &named);

    for (size_t i = 0; i < n; i++) {
        if (is_named(&named, holders[i]))
            continue;
        struct ed_finding *f = ed_report_add(&d->report, "lock.open-by", path);
        char who[96];
        ed_sysroot_describe_process(&d->sys, holders[i], who, sizeof who);
        ed_finding_evidence(f, "%s has %s open (without a lock)", who, path);
        fix_close(d, f, holders[i]);
    }
    return !blocked;
}

bool ed_check_locks(struct ed_doctor *d)
{
    const char *path = port_path(d);
    if (!d->has_target || !path[0])
        return false;
    struct ed_port_facts facts;
    ed_port_facts_gather(path, &facts);
    bool ok = ed_judge_locks(d, &facts);
    ed_port_facts_release(&facts);
    return ok;
}
