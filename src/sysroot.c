/* Paths under the system root (see sysroot.h). */
#include "espdoctor/sysroot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

void ed_sysroot_init(struct ed_sysroot *s, const char *root)
{
    if (!root)
        root = getenv("ESPDOCTOR_SYSROOT");
    if (!root || strcmp(root, "/") == 0)
        root = "";
    snprintf(s->root, sizeof s->root, "%s", root);
    size_t n = strlen(s->root);
    while (n > 0 && s->root[n - 1] == '/')
        s->root[--n] = '\0';
}

bool ed_sysroot_path(const struct ed_sysroot *s, const char *rel, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s", s->root, rel);
    return n >= 0 && (size_t)n < len;
}

char *ed_sysroot_read(const struct ed_sysroot *s, const char *rel, size_t max)
{
    char path[1024];
    if (!ed_sysroot_path(s, rel, path, sizeof path))
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        if (cap >= max) {
            free(buf);
            buf = NULL;
            break;
        }
        cap = cap * 2 > max ? max : cap * 2;
        char *grown = realloc(buf, cap + 1);
        if (!grown) {
            free(buf);
            buf = NULL;
        }
        buf = grown;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

void ed_sysroot_comm(const struct ed_sysroot *s, pid_t pid, char *out, size_t len)
{
    char rel[64];
    snprintf(rel, sizeof rel, "/proc/%d/comm", (int)pid);
    char *text = ed_sysroot_read(s, rel, 256);
    out[0] = '\0';
    if (text) {
        text[strcspn(text, "\n")] = '\0';
        snprintf(out, len, "%s", text);
        free(text);
    }
}

bool ed_sysroot_process_running(const struct ed_sysroot *s, const char *name, pid_t *pid)
{
    char path[1024];
    if (!ed_sysroot_path(s, "/proc", path, sizeof path))
        return false;
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t p = (pid_t)atoi(e->d_name);
        char comm[64];
        ed_sysroot_comm(s, p, comm, sizeof comm);
        if (strcmp(comm, name) == 0) {
            found = true;
            if (pid)
                *pid = p;
        }
    }
    closedir(d);
    return found;
}

void ed_sysroot_kernel_release(const struct ed_sysroot *s, char *out, size_t len)
{
    char *text = ed_sysroot_read(s, "/proc/sys/kernel/osrelease", 256);
    if (text) {
        text[strcspn(text, "\n")] = '\0';
        snprintf(out, len, "%s", text);
        free(text);
        if (out[0])
            return;
    }
    struct utsname u;
    snprintf(out, len, "%s", uname(&u) == 0 ? u.release : "");
}

bool ed_sysroot_process_exists(const struct ed_sysroot *s, pid_t pid, uid_t *owner)
{
    char rel[64], path[1024];
    snprintf(rel, sizeof rel, "/proc/%d", (int)pid);
    struct stat st;
    if (pid <= 0 || !ed_sysroot_path(s, rel, path, sizeof path) || stat(path, &st) != 0)
        return false;
    if (owner)
        *owner = st.st_uid;
    return true;
}

void ed_sysroot_describe_process(const struct ed_sysroot *s, pid_t pid, char *out, size_t len)
{
    char comm[64];
    ed_sysroot_comm(s, pid, comm, sizeof comm);
    if (comm[0])
        snprintf(out, len, "%s (PID %d)", comm, (int)pid);
    else
        snprintf(out, len, "PID %d", (int)pid);
}

void ed_sysroot_describe_processes(const struct ed_sysroot *s, const pid_t *pids, size_t n,
                                   char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        char who[96];
        ed_sysroot_describe_process(s, pids[i], who, sizeof who);
        int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "", who);
        if (w > 0)
            used += (size_t)w;
    }
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    if (a->st_dev == b->st_dev && a->st_ino == b->st_ino)
        return true;
    return S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode) && a->st_rdev == b->st_rdev;
}

/* A link under /proc/PID/fd names the node: same file when it can be followed, else the
 * same text. */
static bool link_names_node(const char *link, const struct stat *node, const char *node_path)
{
    struct stat st;
    if (stat(link, &st) == 0)
        return node && same_file(&st, node);
    char text[512];
    ssize_t n = node_path ? readlink(link, text, sizeof text - 1) : -1;
    if (n <= 0)
        return false;
    text[n] = '\0';
    return strcmp(text, node_path) == 0;
}

static bool process_has_open(const char *fd_dir, const struct stat *node,
                             const char *node_path, bool *readable)
{
    DIR *d = opendir(fd_dir);
    *readable = d != NULL || errno == ENOENT;   /* gone is not hidden */
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char link[1600];
        snprintf(link, sizeof link, "%s/%s", fd_dir, e->d_name);
        found = link_names_node(link, node, node_path);
    }
    closedir(d);
    return found;
}

size_t ed_sysroot_holders(const struct ed_sysroot *s, const struct stat *node,
                          const char *node_path, pid_t *pids, size_t max, size_t *hidden)
{
    size_t stored = 0;
    if (hidden)
        *hidden = 0;
    char proc[1024];
    if (!ed_sysroot_path(s, "/proc", proc, sizeof proc))
        return 0;
    DIR *d = opendir(proc);
    if (!d)
        return 0;
    pid_t self = getpid();
    struct dirent *e;
    while (stored < max && (e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid == self)
            continue;
        char fd_dir[1300];
        snprintf(fd_dir, sizeof fd_dir, "%s/%s/fd", proc, e->d_name);
        bool readable;
        if (process_has_open(fd_dir, node, node_path, &readable))
            pids[stored++] = pid;
        else if (!readable && hidden)
            (*hidden)++;
    }
    closedir(d);
    return stored;
}

/* The account files are read with glibc's fgetpwent_r/fgetgrent_r (the format of
 * passwd(5) and group(5)); a record longer than the buffer (ERANGE: glibc goes back to the
 * record's start) is read again with a buffer twice the size. */
#define ACCOUNT_BUF_START 1024u
#define ACCOUNT_BUF_MAX (4u << 20)

typedef bool passwd_visit(const struct passwd *pw, void *ctx);
typedef bool group_visit(const struct group *gr, void *ctx);

static FILE *open_account_file(const struct ed_sysroot *s, const char *rel)
{
    char path[1024];
    return ed_sysroot_path(s, rel, path, sizeof path) ? fopen(path, "re") : NULL;
}

/* Twice the room for a record that did not fit; false when it may not grow further. */
static bool grow_record_buffer(char **buf, size_t *cap)
{
    char *grown = *cap < ACCOUNT_BUF_MAX ? realloc(*buf, *cap * 2) : NULL;
    if (!grown)
        return false;
    *buf = grown;
    *cap *= 2;
    return true;
}

/* Each record of <root>/etc/passwd until visit says it found what it wanted (true then). */
static bool each_passwd(const struct ed_sysroot *s, passwd_visit *visit, void *ctx)
{
    FILE *f = open_account_file(s, "/etc/passwd");
    if (!f)
        return false;
    bool found = false;
    size_t cap = ACCOUNT_BUF_START;
    char *buf = malloc(cap);
    while (buf && !found) {
        struct passwd pw, *got;
        int err = fgetpwent_r(f, &pw, buf, cap, &got);
        if (err == ERANGE && grow_record_buffer(&buf, &cap))
            continue;
        if (err || !got)
            break;   /* the end (ENOENT), or a record too long to be real */
        found = visit(got, ctx);
    }
    free(buf);
    fclose(f);
    return found;
}

/* The same for <root>/etc/group. */
static bool each_group(const struct ed_sysroot *s, group_visit *visit, void *ctx)
{
    FILE *f = open_account_file(s, "/etc/group");
    if (!f)
        return false;
    bool found = false;
    size_t cap = ACCOUNT_BUF_START;
    char *buf = malloc(cap);
    while (buf && !found) {
        struct group gr, *got;
        int err = fgetgrent_r(f, &gr, buf, cap, &got);
        if (err == ERANGE && grow_record_buffer(&buf, &cap))
            continue;
        if (err || !got)
            break;
        found = visit(got, ctx);
    }
    free(buf);
    fclose(f);
    return found;
}

/* What a lookup asks, and where its answer goes. */
struct account_query {
    uid_t uid;
    gid_t gid;
    const char *name;
    char *out;
    size_t len;
    bool member;      /* group lookups: the member list names `name` */
};

static bool passwd_by_uid(const struct passwd *pw, void *ctx)
{
    struct account_query *q = ctx;
    if (pw->pw_uid != q->uid)
        return false;
    snprintf(q->out, q->len, "%s", pw->pw_name);
    return true;
}

static bool passwd_by_name(const struct passwd *pw, void *ctx)
{
    struct account_query *q = ctx;
    if (strcmp(pw->pw_name, q->name) != 0)
        return false;
    q->gid = pw->pw_gid;
    return true;
}

static bool group_by_gid(const struct group *gr, void *ctx)
{
    struct account_query *q = ctx;
    if (gr->gr_gid != q->gid)
        return false;
    if (q->out)
        snprintf(q->out, q->len, "%s", gr->gr_name);
    for (char **m = gr->gr_mem; q->name && m && *m && !q->member; m++)
        q->member = strcmp(*m, q->name) == 0;
    return true;
}

static bool use_name_services(const struct ed_sysroot *s)
{
    return s->root[0] == '\0';
}

bool ed_sysroot_user_name(const struct ed_sysroot *s, uid_t uid, char *out, size_t len)
{
    struct account_query q = { .uid = uid, .out = out, .len = len };
    bool found = each_passwd(s, passwd_by_uid, &q);
    if (!found && use_name_services(s)) {
        struct passwd *pw = getpwuid(uid);
        found = pw != NULL;
        if (found)
            snprintf(out, len, "%s", pw->pw_name);
    }
    return found;
}

bool ed_sysroot_group_name(const struct ed_sysroot *s, gid_t gid, char *out, size_t len)
{
    struct account_query q = { .gid = gid, .out = out, .len = len };
    bool found = each_group(s, group_by_gid, &q);
    if (!found && use_name_services(s)) {
        struct group *gr = getgrgid(gid);
        found = gr != NULL;
        if (found)
            snprintf(out, len, "%s", gr->gr_name);
    }
    return found;
}

bool ed_sysroot_user_primary_gid(const struct ed_sysroot *s, const char *user, gid_t *gid)
{
    struct account_query q = { .name = user };
    bool found = each_passwd(s, passwd_by_name, &q);
    if (found)
        *gid = q.gid;
    if (!found && use_name_services(s)) {
        struct passwd *pw = getpwnam(user);
        found = pw != NULL;
        if (found)
            *gid = pw->pw_gid;
    }
    return found;
}

bool ed_sysroot_group_lists_member(const struct ed_sysroot *s, gid_t gid, const char *user)
{
    struct account_query q = { .gid = gid, .name = user };
    bool listed = each_group(s, group_by_gid, &q);
    bool member = q.member;
    if (!listed && use_name_services(s)) {
        struct group *gr = getgrgid(gid);
        for (char **m = gr ? gr->gr_mem : NULL; m && *m && !member; m++)
            member = strcmp(*m, user) == 0;
    }
    return member;
}
