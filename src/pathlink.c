/* Following links by hand (see pathlink.h). */
#include "espdoctor/pathlink.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 16

/* Resolve "." and ".." in an absolute path, in place. */
static void normalise(char *path)
{
    char out[PATH_MAX];
    size_t used = 0;
    for (char *save = NULL, *part = strtok_r(path, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            while (used > 0 && out[used - 1] != '/')
                used--;
            if (used > 0)
                used--;   /* the slash before it */
            continue;
        }
        size_t n = strlen(part);
        if (used + 1 + n + 1 > sizeof out)
            break;
        out[used++] = '/';
        memcpy(out + used, part, n);
        used += n;
    }
    if (used == 0)
        out[used++] = '/';
    out[used] = '\0';
    memcpy(path, out, used + 1);
}

bool ed_path_follow_links(const char *path, char *out, size_t len)
{
    char cur[PATH_MAX];
    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
        return false;
    for (int hops = 0; hops <= MAX_LINKS; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
            if (cur[0] == '/')
                normalise(cur);
            return snprintf(out, len, "%s", cur) < (int)len;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n <= 0)
            return false;
        target[n] = '\0';
        char next[PATH_MAX];
        if (target[0] == '/') {
            snprintf(next, sizeof next, "%s", target);
        } else {
            const char *slash = strrchr(cur, '/');
            int dir = slash ? (int)(slash - cur) : 0;
            if (snprintf(next, sizeof next, "%.*s%s%s", dir, cur, slash ? "/" : "",
                         target) >= (int)sizeof next)
                return false;
        }
        memcpy(cur, next, sizeof cur);
        if (cur[0] == '/')
            normalise(cur);
    }
    return false;
}
