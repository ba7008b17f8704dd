/* Installing and removing the rules file under a root directory, and never outside it.
 *
 * The root is opened once (O_PATH; a symlink naming the root itself is followed, that is
 * the user's choice). Below it, etc, udev, rules.d and the file are each opened relative
 * to the directory before with O_NOFOLLOW: a symbolic link anywhere below the root is
 * refused, and since every later step works on descriptors, swapping a directory for a
 * link mid-run cannot redirect it either. The names walked are fixed (no "..", no
 * user-given parts), so this is what openat2's RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
 * would give, on every kernel. */
#include "espdoctor/udev.h"

#include "espdoctor/error.h"
#include "udev_marker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* A rules file bigger than this is not one of ours; no need to read it all. */
#define RULES_MAX_BYTES (1024 * 1024)

static const char *const rules_dir_parts[] = { "etc", "udev", "rules.d" };
#define RULES_DIR_DEPTH (sizeof rules_dir_parts / sizeof rules_dir_parts[0])

static const char symlink_reason[] =
    "it is a symbolic link, and espdoctor follows none below the root";

/* How far a walk from the root got: the deepest directory open, and its path as shown. */
struct walk {
    int fd;
    size_t depth;
    char shown[4096];
};

static int status_from_errno(int err)
{
    switch (err) {
    case EACCES:
    case EPERM: return ED_E_PERM;
    case ENOMEM: return ED_E_NOMEM;
    default: return ED_E_IO;
    }
}

static int fail(struct ed_udev_result *r, const char *step, const char *path, int err)
{
    r->step = step;
    if (snprintf(r->step_path, sizeof r->step_path, "%s", path) < 0)
        r->step_path[0] = '\0';
    r->sys_errno = err;
    return status_from_errno(err);
}

static int refuse_link(struct ed_udev_result *r, const char *path)
{
    r->reason = symlink_reason;
    return fail(r, "use", path, ELOOP);
}

/* "<shown>/<name>" into out. */
static void child_path(const struct walk *w, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", strcmp(w->shown, "/") == 0 ? "" : w->shown, name);
}

static void close_walk(struct walk *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

/* Open the root. A missing root fails where creating its etc would (as mkdir -p would
 * not: the root is the user's to make). */
static int open_root(const char *root, struct walk *w, struct ed_udev_result *r)
{
    w->fd = -1;
    w->depth = 0;
    if (!root)
        root = "/";
    if (!*root)
        return ED_E_ARG;
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        len--;
    if (len + sizeof "/etc/udev/rules.d/." ED_UDEV_RULES_NAME ".01234567" >= sizeof w->shown)
        return ED_E_ARG;
    memcpy(w->shown, root, len);
    w->shown[len] = '\0';
    w->fd = open(w->shown, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (w->fd >= 0)
        return ED_OK;
    int err = errno;
    char etc[4200];
    child_path(w, rules_dir_parts[0], etc, sizeof etc);
    return fail(r, "create directory", err == ENOENT || err == ENOTDIR ? etc : w->shown, err);
}

/* Step into the next directory of the rules path, creating it first if asked. Returns
 * ED_OK, ED_E_NOTFOUND when it is missing (and not created), or a failure in r. */
static int step_into(struct walk *w, bool create, struct ed_udev_result *r)
{
    const char *name = rules_dir_parts[w->depth];
    char path[4200];
    child_path(w, name, path, sizeof path);
    if (create && mkdirat(w->fd, name, 0755) != 0 && errno != EEXIST)
        return fail(r, "create directory", path, errno);
    int fd = openat(w->fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        struct stat st;
        if (fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            return refuse_link(r, path);
        if (err == ENOENT && !create)
            return ED_E_NOTFOUND;
        return fail(r, "create directory", path, err);
    }
    close(w->fd);
    w->fd = fd;
    w->depth++;
    if (snprintf(w->shown, sizeof w->shown, "%s", path) >= (int)sizeof w->shown)
        return ED_E_ARG;   /* cannot happen: the root was checked to leave room */
    return ED_OK;
}

/* A walk that failed because a directory of the path is missing, or is a file: there is
 * no rules file to look at or remove (a link is not "nothing": it is refused). */
static bool nothing_there(int rc, const struct ed_udev_result *r)
{
    return rc == ED_E_NOTFOUND || (rc != ED_OK && rc != ED_E_ARG && !r->reason &&
                                   (r->sys_errno == ENOENT || r->sys_errno == ENOTDIR));
}

/* Walk to rules.d from the root opened once (root, depth 0). With create, make what is
 * missing; without, stop at the first missing one (ED_E_NOTFOUND, w at its parent). */
static int walk_rules_dir(const struct walk *root, bool create, struct walk *w,
                          struct ed_udev_result *r)
{
    w->depth = 0;
    memcpy(w->shown, root->shown, sizeof w->shown);
    w->fd = fcntl(root->fd, F_DUPFD_CLOEXEC, 0);
    if (w->fd < 0)
        return fail(r, "use", root->shown, errno);
    int rc = ED_OK;
    while (rc == ED_OK && w->depth < RULES_DIR_DEPTH)
        rc = step_into(w, create, r);
    return rc;
}

/* Open the root, then walk (the one-walk callers). */
static int open_and_walk(const char *root_path, struct walk *root, struct walk *w,
                         struct ed_udev_result *r)
{
    w->fd = -1;
    int rc = open_root(root_path, root, r);
    return rc == ED_OK ? walk_rules_dir(root, false, w, r) : rc;
}

/* Read the rules file in dir_fd (a regular file, at most RULES_MAX_BYTES). Returns 0, -1
 * with errno set, or 1 when it is not ours to read (a link, not a regular file, too big,
 * or replaced between the look and the open). */
static int read_rules_file(int dir_fd, const struct stat *seen, char **data, size_t *len)
{
    int fd = openat(dir_fd, ED_UDEV_RULES_NAME,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? 1 : -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != seen->st_ino ||
        st.st_dev != seen->st_dev) {
        close(fd);
        return 1;
    }
    char *buf = malloc(RULES_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, buf + used, RULES_MAX_BYTES + 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            free(buf);
            close(fd);
            errno = err;
            return -1;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > RULES_MAX_BYTES) {
            free(buf);
            close(fd);
            return 1;
        }
    }
    close(fd);
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return 0;
}

/* What is at the rules path in dir_fd; *seen identifies it for a later unlink. */
static int inspect_at(int dir_fd, const char *rules, enum ed_udev_existing *existing,
                      struct stat *seen, int *sys_errno)
{
    *sys_errno = 0;
    if (fstatat(dir_fd, ED_UDEV_RULES_NAME, seen, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) {
            *existing = ED_UDEV_EXISTING_NONE;
            return ED_OK;
        }
        *sys_errno = errno;
        return status_from_errno(errno);
    }
    /* A symlink here is usually an admin masking rules with /dev/null: not ours. */
    if (!S_ISREG(seen->st_mode)) {
        *existing = ED_UDEV_EXISTING_FOREIGN;
        return ED_OK;
    }
    char *data;
    size_t len;
    int rc = read_rules_file(dir_fd, seen, &data, &len);
    if (rc < 0 && errno == ENOENT) {
        *existing = ED_UDEV_EXISTING_NONE;
        return ED_OK;
    }
    if (rc < 0) {
        *sys_errno = errno;
        return status_from_errno(errno);
    }
    if (rc > 0) {
        *existing = ED_UDEV_EXISTING_FOREIGN;
        return ED_OK;
    }
    *existing = ed_udev_classify(data, len, rules);
    free(data);
    return ED_OK;
}

int ed_udev_inspect(const char *root, const char *rules, enum ed_udev_existing *existing,
                    int *sys_errno)
{
    struct ed_udev_result r;
    memset(&r, 0, sizeof r);
    struct walk top, w;
    *sys_errno = 0;
    *existing = ED_UDEV_EXISTING_NONE;
    int rc = open_and_walk(root, &top, &w, &r);
    if (rc == ED_OK) {
        struct stat seen;
        rc = inspect_at(w.fd, rules, existing, &seen, sys_errno);
    } else if (nothing_there(rc, &r)) {
        rc = ED_OK;
    } else {
        *sys_errno = r.sys_errno;
    }
    close_walk(&w);
    close_walk(&top);
    return rc;
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Make a rename or unlink in the directory durable. Best effort: the change itself
 * already happened, and some file systems refuse fsync on directories. */
static void sync_dir(int dir_fd)
{
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* A new temporary file in dir_fd. The leading dot and the missing .rules suffix keep
 * udev from reading it early. */
static int create_temp(int dir_fd, char *name, size_t size)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned tag = 0;
        if (getrandom(&tag, sizeof tag, GRND_NONBLOCK) != (ssize_t)sizeof tag)
            tag = (unsigned)getpid() * 2654435761u + (unsigned)attempt;
        snprintf(name, size, "." ED_UDEV_RULES_NAME ".%08x", tag);
        int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static int write_atomically(const struct walk *w, const char *path, const char *rules,
                            struct ed_udev_result *r)
{
    char tmp[64], tmp_path[4200];
    int fd = create_temp(w->fd, tmp, sizeof tmp);
    if (fd < 0)
        return fail(r, "create a file in", w->shown, errno);
    child_path(w, tmp, tmp_path, sizeof tmp_path);
    const char *step = NULL;
    if (fchmod(fd, 0644) != 0)
        step = "set the mode of";
    else if (!write_all(fd, rules, strlen(rules)))
        step = "write";
    else if (fsync(fd) != 0)
        step = "flush";
    if (step) {
        int err = errno;
        close(fd);
        unlinkat(w->fd, tmp, 0);
        return fail(r, step, tmp_path, err);
    }
    if (close(fd) != 0) {
        int err = errno;
        unlinkat(w->fd, tmp, 0);
        return fail(r, "write", tmp_path, err);
    }
    if (renameat(w->fd, tmp, w->fd, ED_UDEV_RULES_NAME) != 0) {
        int err = errno;
        unlinkat(w->fd, tmp, 0);
        return fail(r, "rename into place", path, err);
    }
    sync_dir(w->fd);
    return ED_OK;
}

/* For a dry run of install: would it get through? The first directory missing is created
 * in its parent, which must be writable; with all there, rules.d must be writable. */
static int check_writable(const struct walk *root, struct ed_udev_result *r)
{
    struct walk w;
    int rc = walk_rules_dir(root, false, &w, r);
    if (rc == ED_E_NOTFOUND) {
        char path[4200];
        child_path(&w, rules_dir_parts[w.depth], path, sizeof path);
        rc = faccessat(w.fd, ".", W_OK, 0) == 0 ? ED_OK
                                                : fail(r, "create directory", path, errno);
    } else if (rc == ED_OK && faccessat(w.fd, ".", W_OK, 0) != 0) {
        rc = fail(r, "write to", w.shown, errno);
    }
    close_walk(&w);
    return rc;
}

static void start_result(struct ed_udev_result *r)
{
    memset(r, 0, sizeof *r);
}

/* Where the existing file stands, in the directory the walk reached. */
static int inspect_walked(struct walk *w, const char *rules, struct stat *seen,
                          struct ed_udev_result *r)
{
    int err;
    int rc = inspect_at(w->fd, rules, &r->existing, seen, &err);
    return rc == ED_OK ? ED_OK : fail(r, "read", r->path, err);
}

/* Install, once what is there now (result->existing) is known. */
static int decide_install(const struct walk *root, const char *rules, bool dry_run,
                          struct ed_udev_result *result)
{
    switch (result->existing) {
    case ED_UDEV_EXISTING_FOREIGN:
    case ED_UDEV_EXISTING_EDITED:
        result->outcome = ED_UDEV_REFUSED;
        return ED_OK;
    case ED_UDEV_EXISTING_SAME:
        result->outcome = ED_UDEV_UNCHANGED;
        return ED_OK;
    case ED_UDEV_EXISTING_NONE:
    case ED_UDEV_EXISTING_OURS:
        break;
    }
    result->outcome = ED_UDEV_WRITTEN;
    if (dry_run)
        return check_writable(root, result);
    struct walk w;
    struct stat seen;
    int rc = walk_rules_dir(root, true, &w, result);
    if (rc == ED_OK) {
        /* Look again in the directory we will write to: another run may have put
         * something there since. */
        rc = inspect_walked(&w, rules, &seen, result);
        if (rc == ED_OK && (result->existing == ED_UDEV_EXISTING_FOREIGN ||
                            result->existing == ED_UDEV_EXISTING_EDITED))
            result->outcome = ED_UDEV_REFUSED;
        else if (rc == ED_OK && result->existing == ED_UDEV_EXISTING_SAME)
            result->outcome = ED_UDEV_UNCHANGED;
        else if (rc == ED_OK)
            rc = write_atomically(&w, result->path, rules, result);
    }
    close_walk(&w);
    return rc;
}

int ed_udev_install(const char *root, const char *rules, bool dry_run,
                    struct ed_udev_result *result)
{
    start_result(result);
    if (!rules || !ed_udev_rules_path(root, result->path, sizeof result->path))
        return ED_E_ARG;
    struct walk top, w;
    int rc = open_and_walk(root, &top, &w, result);
    struct stat seen;
    if (rc == ED_OK)
        rc = inspect_walked(&w, rules, &seen, result);
    else if (rc == ED_E_NOTFOUND)
        rc = ED_OK;   /* nothing there yet */
    close_walk(&w);
    if (rc == ED_OK)
        rc = decide_install(&top, rules, dry_run, result);
    close_walk(&top);
    return rc;
}

/* Remove the file inspected as *seen, unless it was replaced since. Gone already (a
 * concurrent uninstall got there first): absent, which is what was asked for. */
static int remove_inspected(struct walk *w, const struct stat *seen, struct ed_udev_result *r)
{
    struct stat now;
    if (fstatat(w->fd, ED_UDEV_RULES_NAME, &now, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
        r->outcome = ED_UDEV_ABSENT;
        return ED_OK;
    }
    if (now.st_ino != seen->st_ino || now.st_dev != seen->st_dev) {
        r->reason = "it was replaced while espdoctor looked at it; run the command again";
        return fail(r, "remove", r->path, EAGAIN);
    }
    if (unlinkat(w->fd, ED_UDEV_RULES_NAME, 0) != 0) {
        if (errno == ENOENT) {
            r->outcome = ED_UDEV_ABSENT;
            return ED_OK;
        }
        return fail(r, "remove", r->path, errno);
    }
    sync_dir(w->fd);
    return ED_OK;
}

int ed_udev_uninstall(const char *root, bool dry_run, struct ed_udev_result *result)
{
    start_result(result);
    if (!ed_udev_rules_path(root, result->path, sizeof result->path))
        return ED_E_ARG;
    struct walk top, w;
    int rc = open_and_walk(root, &top, &w, result);
    if (nothing_there(rc, result)) {
        result->step = NULL;
        result->sys_errno = 0;
        result->existing = ED_UDEV_EXISTING_NONE;
        result->outcome = ED_UDEV_ABSENT;
        close_walk(&w);
        close_walk(&top);
        return ED_OK;
    }
    struct stat seen;
    if (rc == ED_OK)
        rc = inspect_walked(&w, NULL, &seen, result);
    if (rc == ED_OK) {
        switch (result->existing) {
        case ED_UDEV_EXISTING_NONE:
            result->outcome = ED_UDEV_ABSENT;
            break;
        case ED_UDEV_EXISTING_FOREIGN:
        case ED_UDEV_EXISTING_EDITED:
            result->outcome = ED_UDEV_REFUSED;
            break;
        case ED_UDEV_EXISTING_SAME:
        case ED_UDEV_EXISTING_OURS:
            result->outcome = ED_UDEV_REMOVED;
            if (dry_run)
                rc = faccessat(w.fd, ".", W_OK, 0) == 0
                         ? ED_OK : fail(result, "write to", w.shown, errno);
            else
                rc = remove_inspected(&w, &seen, result);
            break;
        }
    }
    close_walk(&w);
    close_walk(&top);
    return rc;
}
