/* Writing the configuration file atomically (see espdoctor/config.h): a reader sees the
 * old file or the new one, never half of one, and a crash leaves at most a temporary. */
#include "espdoctor/config.h"
#include "espdoctor/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *why, size_t len, const char *what, const char *path)
{
    int e = errno;
    if (why && len)
        snprintf(why, len, "%s %s: %s", what, path, strerror(e));
    return e == EACCES || e == EPERM || e == EROFS ? ED_E_PERM : ED_E_IO;
}

/* mkdir -p for the folder holding path: missing folders get 0700 (the file says which
 * boards and ports this login uses); folders already there are left as they are. */
static int make_parents(const char *path, char *why, size_t len)
{
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir) {
        errno = ENAMETOOLONG;
        return fail(why, len, "cannot use", path);
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return ED_OK;   /* the file is in the current folder, or in / */
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return fail(why, len, "cannot create the folder", dir);
        *p = c;
        if (!c)
            break;
    }
    return ED_OK;
}

int ed_config_write(const struct ed_config *c, const char *path, char *why, size_t len)
{
    if (why && len)
        why[0] = '\0';
    /* A link (a dotfiles folder) stays a link: the file it points to is replaced. */
    char real[PATH_MAX];
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, real))
        path = real;
    int rc = make_parents(path, why, len);
    if (rc != ED_OK)
        return rc;
    char *text = ed_config_format(c);
    char tmp[4200];
    if (!text)
        return ED_E_NOMEM;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
        free(text);
        errno = ENAMETOOLONG;
        return fail(why, len, "cannot use", path);
    }
    int fd = mkstemp(tmp);   /* 0600, whatever the umask */
    if (fd < 0) {
        free(text);
        return fail(why, len, "cannot write a file beside", path);
    }
    size_t n = strlen(text), done = 0;
    while (done < n) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    free(text);
    if (done < n || fsync(fd) != 0) {
        rc = fail(why, len, "cannot write", tmp);
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        rc = fail(why, len, "cannot replace", path);
        unlink(tmp);
        return rc;
    }
    return ED_OK;
}

int ed_config_lock(const char *path)
{
    if (make_parents(path, NULL, 0) != ED_OK)
        return -1;
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir)
        return -1;
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    return fd;
}

void ed_config_unlock(int fd)
{
    if (fd >= 0)
        close(fd);   /* closing the last descriptor releases the flock */
}
