/* udev rules: generated from the bridge table, the serial group, and the udevadm reload
 * (see udev.h). Installing and removing the file is in udev_install.c. */
#include "espdoctor/udev.h"

#include "espdoctor/bridges.h"
#include "espdoctor/error.h"
#include "udev_marker.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The lines after the marker line (see udev_marker.c). */
static const char header_text[] =
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
    char marker[ED_UDEV_MARKER_LINE_MAX];
    ed_udev_marker_line(text, size, marker, sizeof marker);
    char *whole = malloc(strlen(marker) + size + 1);
    if (whole) {
        memcpy(whole, marker, strlen(marker));
        memcpy(whole + strlen(marker), text, size + 1);
    }
    free(text);
    return whole;
}

/* root with trailing slashes removed; "/" and NULL become "". An empty root is refused:
 * it once meant the live system. */
static bool root_prefix(const char *root, char *out, size_t size)
{
    if (!root)
        root = "/";
    if (!*root)
        return false;
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
