/* The system root the doctor reads /proc, /etc, /usr/lib/udev, /lib/modules and /var/lock
 * under: "/" normally, a planted directory in tests ($ESPDOCTOR_SYSROOT). This is the
 * only code that builds those paths; /sys and /dev come through libudev. */
#ifndef ESPDOCTOR_SYSROOT_H
#define ESPDOCTOR_SYSROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
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

/* The running kernel's release ("6.1.0-18-amd64"): <root>/proc/sys/kernel/osrelease,
 * else uname(). */
void ed_sysroot_kernel_release(const struct ed_sysroot *s, char *out, size_t len);

/* True if <root>/proc/PID exists; *owner (when non-NULL) gets the uid owning it. */
bool ed_sysroot_process_exists(const struct ed_sysroot *s, pid_t pid, uid_t *owner);

/* "minicom (PID 812)", or "PID 812" when the name is hidden. */
void ed_sysroot_describe_process(const struct ed_sysroot *s, pid_t pid, char *out, size_t len);

/* "minicom (PID 812), screen (PID 901)": the same for several. */
void ed_sysroot_describe_processes(const struct ed_sysroot *s, const pid_t *pids, size_t n,
                                   char *out, size_t len);

/* Other processes (never this one) that have a node open: /proc/PID/fd links whose target
 * is the same file as *node (st_dev, st_ino) or the same character device (st_rdev); or,
 * when the link cannot be followed (a planted /proc, another mount namespace), whose text
 * is node_path (NULL: none). The text alone never decides otherwise: under umockdev the
 * links of a mocked tty read /dev/pts/N. node may be NULL when the node cannot be stat'ed.
 * Stores at most max PIDs and returns how many it stored; *hidden (when non-NULL) counts
 * processes whose fd directory we may not read (other users' when not root). */
size_t ed_sysroot_holders(const struct ed_sysroot *s, const struct stat *node,
                          const char *node_path, pid_t *pids, size_t max, size_t *hidden);

/* The account database: <root>/etc/passwd and <root>/etc/group, and with the real root
 * also the system's name services (LDAP, systemd-userdb...). False when not found. */
bool ed_sysroot_user_name(const struct ed_sysroot *s, uid_t uid, char *out, size_t len);
bool ed_sysroot_group_name(const struct ed_sysroot *s, gid_t gid, char *out, size_t len);
bool ed_sysroot_user_primary_gid(const struct ed_sysroot *s, const char *user, gid_t *gid);
/* True if the group's member list names the user. */
bool ed_sysroot_group_lists_member(const struct ed_sysroot *s, gid_t gid, const char *user);

/* The distribution's family, for naming its packages. */
enum ed_os_family { ED_OS_UNKNOWN, ED_OS_DEBIAN, ED_OS_UBUNTU, ED_OS_FEDORA, ED_OS_ARCH };

/* From <root>/etc/os-release, else <root>/usr/lib/os-release (os-release(5)): ID, else
 * the first of ID_LIKE the table knows (Linux Mint says "ubuntu debian": Ubuntu's
 * packages; Raspberry Pi OS "debian"). name gets PRETTY_NAME, else ID, else "". */
enum ed_os_family ed_sysroot_os_family(const struct ed_sysroot *s, char *name, size_t len);

#endif
