/* udev rules: generated from the bridge table, installed atomically, never over a file
 * someone else wrote (see udev.h). */
#include "espdoctor/udev.h"

#include "espdoctor/bridges.h"
#include "espdoctor/error.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A rules file bigger than this is not one of ours; no need to read it all. */
#define RULES_MAX_BYTES (1024 * 1024)

static const char header_text[] =
    " " ESPDOCTOR_VERSION ": do not edit; `espdoctor udev uninstall` removes it.\n"
    "# udev rules for the USB serial bridges of ESP32/ESP8266 boards and the chips' own USB,\n"
    "# generated from espdoctor's bridge table (`espdoctor udev show` prints them).\n"
    "#\n"
    "# tty rules: TAG+=\"uaccess\" gives the user at the local seat an ACL on the port\n"
    "# (73-seat-late.rules applies it, hence the 70- prefix). GROUP and MODE=\"0660\" serve\n"
    "# members of the serial group and systems without logind. Never 0666: that would let\n"
    "# every account on the machine (services, web servers) drive the board.\n"
    "# ENV{ID_MM_DEVICE_IGNORE}=\"1\" keeps ModemManager from probing the port with AT commands.\n"
    "#\n"
    "# usb_device rules: ModemManager reads ID_MM_DEVICE_IGNORE from the port's USB device\n"
    "# first and only then from the port, so it is set there too. No uaccess there: raw USB\n"
    "# access would let a seat user detach the serial driver (or drive the JTAG interface of\n"
    "# Espressif's USB-Serial/JTAG); the port is all espdoctor needs.\n";

bool ed_udev_group_name_valid(const char *group)
{
    if (!group || !*group || *group == '-' || strlen(group) >= ED_UDEV_GROUP_MAX)
        return false;
    for (const char *c = group; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.';
        if (!ok)
            return false;
    }
    return true;
}

char *ed_udev_rules_text(const char *group)
{
    if (!ed_udev_group_name_valid(group))
        return NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    fputs(ED_UDEV_MARKER, f);
    fputs(header_text, f);
    for (size_t i = 0; i < ed_bridge_count; i++) {
        const struct ed_bridge *b = &ed_bridges[i];
        fprintf(f, "\n# %04x:%04x %s (%s)\n", b->vid, b->pid, b->chip, b->driver);
        fprintf(f, "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\", "
                   "TAG+=\"uaccess\", ENV{ID_MM_DEVICE_IGNORE}=\"1\", GROUP=\"%s\", MODE=\"0660\"\n",
                b->vid, b->pid, group);
        fprintf(f, "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"%04x\", "
                   "ATTR{idProduct}==\"%04x\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"\n",
                b->vid, b->pid);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* root with trailing slashes removed; "/" and NULL become "". */
static bool root_prefix(const char *root, char *out, size_t size)
{
    if (!root)
        root = "";
    size_t len = strlen(root);
    while (len > 0 && root[len - 1] == '/')
        len--;
    if (len >= size)
        return false;
    memcpy(out, root, len);
    out[len] = '\0';
    return true;
}

static bool join_path(const char *root, const char *rest, char *out, size_t size)
{
    char prefix[4096];
    if (!root_prefix(root, prefix, sizeof prefix))
        return false;
    int n = snprintf(out, size, "%s%s", prefix, rest);
    return n >= 0 && (size_t)n < size;
}

bool ed_udev_rules_path(const char *root, char *out, size_t size)
{
    return join_path(root, ED_UDEV_RULES_DIR "/" ED_UDEV_RULES_NAME, out, size);
}

bool ed_udev_group_exists(const char *root, const char *group)
{
    char path[4096];
    if (!group || !join_path(root, "/etc/group", path, sizeof path))
        return false;
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t glen = strlen(group);
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (!found && getline(&line, &cap, f) != -1)
        found = strncmp(line, group, glen) == 0 && line[glen] == ':';
    free(line);
    fclose(f);
    return found;
}

void ed_udev_detect_group(const char *root, char group[ED_UDEV_GROUP_MAX], bool *found)
{
    static const char *const candidates[] = { "dialout", "uucp" };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (ed_udev_group_exists(root, candidates[i])) {
            snprintf(group, ED_UDEV_GROUP_MAX, "%s", candidates[i]);
            *found = true;
            return;
        }
    snprintf(group, ED_UDEV_GROUP_MAX, "%s", candidates[0]);
    *found = false;
}

static int status_from_errno(int err)
{
    switch (err) {
    case EACCES:
    case EPERM: return ED_E_PERM;
    case ENOMEM: return ED_E_NOMEM;
    default: return ED_E_IO;
    }
}

/* Read a whole (small) file. *data is malloc'd and NUL-terminated. Returns 0, -1 with
 * errno set, or 1 when the file is larger than RULES_MAX_BYTES. */
static int read_small_file(const char *path, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
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

int ed_udev_inspect(const char *path, const char *rules, enum ed_udev_existing *existing,
                    int *sys_errno)
{
    struct stat st;
    *sys_errno = 0;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *existing = ED_UDEV_EXISTING_NONE;
            return ED_OK;
        }
        *sys_errno = errno;
        return status_from_errno(errno);
    }
    /* A symlink here is usually an admin masking rules with /dev/null: not ours. */
    if (!S_ISREG(st.st_mode)) {
        *existing = ED_UDEV_EXISTING_FOREIGN;
        return ED_OK;
    }
    char *data;
    size_t len;
    int rc = read_small_file(path, &data, &len);
    if (rc < 0) {
        *sys_errno = errno;
        return status_from_errno(errno);
    }
    if (rc > 0) {
        *existing = ED_UDEV_EXISTING_FOREIGN;
        return ED_OK;
    }
    if (strncmp(data, ED_UDEV_MARKER, strlen(ED_UDEV_MARKER)) != 0)
        *existing = ED_UDEV_EXISTING_FOREIGN;
    else if (rules && len == strlen(rules) && memcmp(data, rules, len) == 0)
        *existing = ED_UDEV_EXISTING_SAME;
    else
        *existing = ED_UDEV_EXISTING_OURS;
    free(data);
    return ED_OK;
}

static void start_result(struct ed_udev_result *r)
{
    memset(r, 0, sizeof *r);
}

static int fail(struct ed_udev_result *r, const char *step, const char *path, int err)
{
    r->step = step;
    snprintf(r->step_path, sizeof r->step_path, "%s", path);
    r->sys_errno = err;
    return status_from_errno(err);
}

/* For a dry run: would the install get through? Walks the directories the way
 * make_rules_dir creates them: each one there must be a directory; the first one missing
 * is created in its parent, which must be writable (a missing root fails there, as
 * mkdir would); with all there, the rules directory itself must be writable. */
static int check_writable(const char *root, struct ed_udev_result *r)
{
    static const char *const dirs[] = { "", "/etc", "/etc/udev", ED_UDEV_RULES_DIR };
    char parent[4096] = "";
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char dir[4096];
        if (!join_path(root, dirs[i], dir, sizeof dir))
            return ED_E_ARG;
        if (!dir[0])
            snprintf(dir, sizeof dir, "/");
        struct stat st;
        if (stat(dir, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return fail(r, "create directory", dir, ENOTDIR);
            snprintf(parent, sizeof parent, "%s", dir);
            continue;
        }
        if (errno != ENOENT)
            return fail(r, "create directory", dir, errno);
        if (!parent[0]) {   /* the root itself is missing: mkdir of its etc fails */
            char etc[4096];
            if (!join_path(root, dirs[1], etc, sizeof etc))
                return ED_E_ARG;
            return fail(r, "create directory", etc, ENOENT);
        }
        return access(parent, W_OK) == 0 ? ED_OK : fail(r, "create directory", dir, errno);
    }
    return access(parent, W_OK) == 0 ? ED_OK : fail(r, "write to", parent, errno);
}

static int make_rules_dir(const char *root, struct ed_udev_result *r)
{
    static const char *const dirs[] = { "/etc", "/etc/udev", ED_UDEV_RULES_DIR };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char dir[4096];
        if (!join_path(root, dirs[i], dir, sizeof dir))
            return ED_E_ARG;
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return fail(r, "create directory", dir, errno);
    }
    return ED_OK;
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

/* Make a rename or unlink in dir durable. Best effort: the change itself already
 * happened, and some file systems refuse fsync on directories. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int write_atomically(const char *dir, const char *path, const char *rules,
                            struct ed_udev_result *r)
{
    char tmp[4096];
    /* The leading dot and the missing .rules suffix keep udev from reading it early. */
    int n = snprintf(tmp, sizeof tmp, "%s/." ED_UDEV_RULES_NAME ".XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return ED_E_ARG;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail(r, "create a file in", dir, errno);
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
        unlink(tmp);
        return fail(r, step, tmp, err);
    }
    if (close(fd) != 0) {
        int err = errno;
        unlink(tmp);
        return fail(r, "write", tmp, err);
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return fail(r, "rename into place", path, err);
    }
    sync_dir(dir);
    return ED_OK;
}

int ed_udev_install(const char *root, const char *rules, bool dry_run,
                    struct ed_udev_result *result)
{
    start_result(result);
    char dir[4096];
    if (!rules || !ed_udev_rules_path(root, result->path, sizeof result->path) ||
        !join_path(root, ED_UDEV_RULES_DIR, dir, sizeof dir))
        return ED_E_ARG;
    int err;
    int rc = ed_udev_inspect(result->path, rules, &result->existing, &err);
    if (rc != ED_OK)
        return fail(result, "read", result->path, err);
    switch (result->existing) {
    case ED_UDEV_EXISTING_FOREIGN:
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
    rc = make_rules_dir(root, result);
    if (rc != ED_OK)
        return rc;
    return write_atomically(dir, result->path, rules, result);
}

int ed_udev_uninstall(const char *root, bool dry_run, struct ed_udev_result *result)
{
    start_result(result);
    char dir[4096];
    if (!ed_udev_rules_path(root, result->path, sizeof result->path) ||
        !join_path(root, ED_UDEV_RULES_DIR, dir, sizeof dir))
        return ED_E_ARG;
    int err;
    int rc = ed_udev_inspect(result->path, NULL, &result->existing, &err);
    if (rc != ED_OK)
        return fail(result, "read", result->path, err);
    switch (result->existing) {
    case ED_UDEV_EXISTING_NONE:
        result->outcome = ED_UDEV_ABSENT;
        return ED_OK;
    case ED_UDEV_EXISTING_FOREIGN:
        result->outcome = ED_UDEV_REFUSED;
        return ED_OK;
    case ED_UDEV_EXISTING_SAME:
    case ED_UDEV_EXISTING_OURS:
        break;
    }
    result->outcome = ED_UDEV_REMOVED;
    if (dry_run)
        return access(dir, W_OK) == 0 ? ED_OK : fail(result, "write to", dir, errno);
    if (unlink(result->path) != 0)
        return fail(result, "remove", result->path, errno);
    sync_dir(dir);
    return ED_OK;
}

static const char *const reload_rules_argv[] = { "udevadm", "control", "--reload-rules",
                                                 NULL };
static const char *const trigger_tty_argv[] = { "udevadm", "trigger", "--action=change",
                                                "--subsystem-match=tty", NULL };

const char *const *ed_udev_reload_argv(size_t step)
{
    switch (step) {
    case 0: return reload_rules_argv;
    case 1: return trigger_tty_argv;
    }
    return NULL;
}

void ed_udev_reload_command(size_t step, char *out, size_t size)
{
    const char *const *argv = ed_udev_reload_argv(step);
    size_t used = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; argv && argv[i]; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

/* Run argv, wait for it. Returns 0, or an errno from starting it; *status: exit status
 * or -1 when a signal ended it. */
static int run_and_wait(const char *const *argv, int *status)
{
    posix_spawn_file_actions_t actions;
    int err = posix_spawn_file_actions_init(&actions);
    if (err)
        return err;
    err = posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid = 0;
    if (!err)
        err = posix_spawnp(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err)
        return err;
    int wstatus;
    while (waitpid(pid, &wstatus, 0) < 0)
        if (errno != EINTR)
            return errno;
    *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    return 0;
}

int ed_udev_reload(struct ed_udev_reload_result *result)
{
    memset(result, 0, sizeof *result);
    for (size_t step = 0; step < ED_UDEV_RELOAD_STEPS; step++) {
        int status = 0;
        int err = run_and_wait(ed_udev_reload_argv(step), &status);
        result->failed_step = step;
        if (err) {
            result->sys_errno = err;
            return err == ENOENT ? ED_E_NOTFOUND : ED_E_IO;
        }
        if (status != 0) {
            result->exit_status = status;
            return ED_E_IO;
        }
    }
    return ED_OK;
}
