/* Locks on a port node as /proc/locks shows them ("1: FLOCK  ADVISORY  WRITE 812
 * 00:19:5 0 EOF"; the device is the filesystem's, in hex), and who holds a port that
 * refused us: the doctor's lock checks and the commands' "in use" errors read the same. */
#ifndef ESPDOCTOR_PORT_LOCKS_H
#define ESPDOCTOR_PORT_LOCKS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "espdoctor/sysroot.h"

struct ed_port_lock {
    char kind[16];      /* FLOCK, POSIX, OFDLCK */
    char access[16];    /* WRITE, READ */
    int pid;            /* <= 0: an open file description lock, PID not shown */
    unsigned maj, min;
    unsigned long long ino;
};

/* The locks in text (/proc/locks) on the file *node (st_dev, st_ino), held by processes
 * other than this one; waiters ("1: -> FLOCK ...") hold nothing. At most max stored;
 * returns how many. */
size_t ed_port_locks_on(const char *text, const struct stat *node, struct ed_port_lock *out,
                        size_t max);

/* Who holds the port at path: the PIDs of the locks on its node, else the processes that
 * have it open (never this one). Read under sys. At most max; returns how many. */
size_t ed_port_holders(const struct ed_sysroot *sys, const char *path, pid_t *pids,
                       size_t max);

#endif
