/* The system root the doctor reads /proc, /etc, /usr/lib/udev, /lib/modules and /var/lock
 * under: "/" normally, a planted directory in tests ($ESPDOCTOR_SYSROOT). This is the
 * only code that builds those paths; /sys and /dev come through libudev. */
#ifndef ESPDOCTOR_SYSROOT_H
#define ESPDOCTOR_SYSROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ed_sysroot {
    char root[512];   /* no trailing slash; "" means the real root */
};

/* root NULL: $ESPDOCTOR_SYSROOT if set, else the real root. */
void ed_sysroot_init(struct ed_sysroot *s, const char *root);

/* root + rel ("/proc/locks") into out. False if it does not fit. */
bool ed_sysroot_path(const struct ed_sysroot *s, const char *rel, char *out, size_t len);

/* Read a whole (small) file under the root, NUL-terminated; NULL if unreadable or larger
 * than max. The caller frees it. */
char *ed_sysroot_read(const struct ed_sysroot *s, const char *rel, size_t max);

/* The name of a process (/proc/PID/comm without the newline), "" if gone or hidden. */
void ed_sysroot_comm(const struct ed_sysroot *s, pid_t pid, char *out, size_t len);

/* True if a process with this name runs (scans /proc/NNN/comm). *pid gets the first. */
bool ed_sysroot_process_running(const struct ed_sysroot *s, const char *name, pid_t *pid);

#endif
