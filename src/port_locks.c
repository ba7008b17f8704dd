/* Locks on a port node and who holds it (see port_locks.h). */
#include "espdoctor/port_locks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

size_t ed_port_locks_on(const char *text, const struct stat *node, struct ed_port_lock *out,
                        size_t max)
{
    size_t n = 0;
    pid_t self = getpid();
    for (const char *line = text; line && *line && n < max;) {
        const char *end = strchr(line, '\n');
        struct ed_port_lock l;
        /* "->" lines fail here: their second field is not a kind followed by a number */
        if (sscanf(line, "%*d: %15s %*s %15s %d %x:%x:%llu", l.kind, l.access, &l.pid, &l.maj,
                   &l.min, &l.ino) == 6 &&
            l.maj == major(node->st_dev) && l.min == minor(node->st_dev) &&
            l.ino == (unsigned long long)node->st_ino && l.pid != self)
            out[n++] = l;
        line = end ? end + 1 : NULL;
    }
    return n;
}

size_t ed_port_holders(const struct ed_sysroot *sys, const char *path, pid_t *pids,
                       size_t max)
{
    struct stat st;
    if (max == 0 || stat(path, &st) != 0)
        return 0;
    size_t n = 0;
    char *text = ed_sysroot_read(sys, "/proc/locks", 4u << 20);
    if (text) {
        struct ed_port_lock locks[16];
        size_t found = ed_port_locks_on(text, &st, locks, 16);
        for (size_t i = 0; i < found && n < max; i++)
            if (locks[i].pid > 0)
                pids[n++] = locks[i].pid;
        free(text);
    }
    if (n == 0)
        n = ed_sysroot_holders(sys, &st, path, pids, max, NULL);
    return n;
}
