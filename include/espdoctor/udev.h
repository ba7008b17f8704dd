/* udev rules for the bridges in the bridge table: generate them, install or remove the
 * file atomically under a root directory, and ask udev to apply them. Nothing here
 * prints; the CLI turns the results into words. */
#ifndef ESPDOCTOR_UDEV_H
#define ESPDOCTOR_UDEV_H

#include <stdbool.h>
#include <stddef.h>

/* 70-: must sort before systemd's 73-seat-late.rules, which turns the uaccess tag into an
 * ACL for the user at the local seat. */
#define ED_UDEV_RULES_NAME "70-espdoctor.rules"
#define ED_UDEV_RULES_DIR "/etc/udev/rules.d"

/* The first line of every file espdoctor writes starts with this, then the version and
 * the SHA-256 of the rest of the file (udev_marker.c has the exact line, and how files of
 * older versions are told). A file without the full line is someone else's, and one whose
 * checksum does not match was edited since: neither is ever overwritten or removed. */
#define ED_UDEV_MARKER "# Written by espdoctor"

#define ED_UDEV_GROUP_MAX 33   /* group names are at most 32 characters */

/* The rules text for every bridge, with GROUP="<group>". Malloc'd; NULL if out of memory
 * or the group name is not a valid one (see ed_udev_group_name_valid). */
char *ed_udev_rules_text(const char *group);

/* True for a name that can stand in GROUP="...": letters, digits, '_', '-', '.', not
 * starting with '-', at most 32 characters. */
bool ed_udev_group_name_valid(const char *group);

/* True if <root>/etc/group lists the group. root NULL means "/". */
bool ed_udev_group_exists(const char *root, const char *group);

/* The serial group of the system under root: "dialout" (Debian, Ubuntu, Fedora) if
 * <root>/etc/group has it, else "uucp" (Arch), else "dialout" with *found false. */
void ed_udev_detect_group(const char *root, char group[ED_UDEV_GROUP_MAX], bool *found);

/* What sits at the rules path now. */
enum ed_udev_existing {
    ED_UDEV_EXISTING_NONE,      /* no file */
    ED_UDEV_EXISTING_SAME,      /* ours, with exactly the given content */
    ED_UDEV_EXISTING_OURS,      /* ours, other content (older version, other group) */
    ED_UDEV_EXISTING_FOREIGN,   /* not written by espdoctor (or not a regular file) */
    ED_UDEV_EXISTING_EDITED,    /* written by espdoctor, changed by someone since */
};

/* What install/uninstall did, or with dry_run would do. */
enum ed_udev_outcome {
    ED_UDEV_WRITTEN,     /* created or replaced the file */
    ED_UDEV_UNCHANGED,   /* install: identical content already there; nothing written */
    ED_UDEV_REMOVED,     /* uninstall: removed our file */
    ED_UDEV_ABSENT,      /* uninstall: there was nothing to remove */
    ED_UDEV_REFUSED,     /* a file espdoctor did not write (or one edited since) is there;
                            left untouched */
};

struct ed_udev_result {
    enum ed_udev_outcome outcome;    /* valid when the call returned ED_OK */
    enum ed_udev_existing existing;  /* what was at the path before */
    char path[4096];                 /* <root>/etc/udev/rules.d/70-espdoctor.rules */
    /* On failure: what was being done ("create directory", "write", "rename", ...), the
     * path it was done to, and errno. */
    const char *step;
    char step_path[4096];
    int sys_errno;
    const char *reason;   /* why, when errno alone would mislead (a symlink); else NULL */
};

/* The full path of the rules file under root (NULL: "/"). False if it does not fit, or
 * root is "" (which is refused everywhere: it once meant the live system). */
bool ed_udev_rules_path(const char *root, char *out, size_t size);

/* Classify what is at the rules path under root against the content we would write
 * (rules may be NULL: then any file of ours is ED_UDEV_EXISTING_OURS). Like install and
 * uninstall it follows no symbolic link below root. Returns ED_OK, ED_E_ARG (root ""),
 * or ED_E_PERM / ED_E_IO when the file cannot be read (errno kept in *sys_errno; a
 * symlinked directory gives ED_E_IO with ELOOP). */
int ed_udev_inspect(const char *root, const char *rules, enum ed_udev_existing *existing,
                    int *sys_errno);

/* Root: the directory is resolved once (a symlink naming the root itself is followed);
 * below it every component (etc, udev, rules.d, the file) is opened relative to its parent
 * without following symbolic links, so nothing outside the root is ever read, written or
 * removed. A symlinked component fails with result->reason saying so; root "" is
 * refused with ED_E_ARG; NULL means "/".
 *
 * Write rules to <root>/etc/udev/rules.d/70-espdoctor.rules: creates rules.d if missing,
 * writes a temporary file in the same directory, fsyncs it and renames it over the old
 * one, so udev never reads half a file. Identical content: nothing is written. A file
 * espdoctor did not write: refused. With dry_run nothing changes; result says what would
 * happen, and a directory we could not write to is reported as ED_E_PERM.
 * Returns ED_OK (see result->outcome), ED_E_PERM (EACCES/EPERM: needs root), ED_E_IO,
 * ED_E_NOMEM or ED_E_ARG. */
int ed_udev_install(const char *root, const char *rules, bool dry_run,
                    struct ed_udev_result *result);

/* Remove the rules file if espdoctor wrote it (and nobody edited it since). A file that is
 * already gone, also when a concurrent uninstall removed it first, is ED_UDEV_ABSENT.
 * Same return values as ed_udev_install. */
int ed_udev_uninstall(const char *root, bool dry_run, struct ed_udev_result *result);

/* Making udev apply changed rules to boards already plugged in: reload the rules, then
 * replay a "change" event for every tty (it sets GROUP, MODE and the uaccess ACL as an
 * "add" would, without re-running other packages' add-only rules). */
#define ED_UDEV_RELOAD_STEPS 2

/* The NULL-terminated argv of one step (step < ED_UDEV_RELOAD_STEPS). */
const char *const *ed_udev_reload_argv(size_t step);

/* The same step as one command line, e.g. "udevadm control --reload-rules". */
void ed_udev_reload_command(size_t step, char *out, size_t size);

struct ed_udev_reload_result {
    size_t failed_step;   /* the step that failed */
    int exit_status;      /* its exit status (-1: killed by a signal) */
    int sys_errno;        /* errno when it could not be started */
};

/* Run the steps with posix_spawnp (udevadm is looked up on PATH; no shell). Returns
 * ED_OK, ED_E_NOTFOUND (no udevadm on PATH), or ED_E_IO (a step could not start or
 * exited with a failure; see result). udevadm's stdout goes to stderr, so a --json
 * document on stdout stays clean. */
int ed_udev_reload(struct ed_udev_reload_result *result);

#endif
