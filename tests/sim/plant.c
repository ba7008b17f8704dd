#include "plant.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <glib/gstdio.h>

/* ---- files ---------------------------------------------------------------------------- */

static bool set_errno_error(GError **err, const char *what, const char *path)
{
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot %s %s: %s", what,
                path, g_strerror(errno));
    return false;
}

/* root + rel, with the directories above it. */
static char *under(const struct sim_plant *p, const char *rel, GError **err)
{
    char *path = g_strconcat(p->dir, rel, NULL);
    char *parent = g_path_get_dirname(path);
    int rc = g_mkdir_with_parents(parent, 0755);
    if (rc != 0) {
        set_errno_error(err, "create", parent);
        g_free(path);
        path = NULL;
    }
    g_free(parent);
    return path;
}

static bool put_bytes(const struct sim_plant *p, const char *rel, const char *data, size_t len,
                      GError **err)
{
    char *path = under(p, rel, err);
    if (!path)
        return false;
    bool ok = g_file_set_contents(path, data, (gssize)len, err);
    if (ok)
        g_chmod(path, 0644);
    g_free(path);
    return ok;
}

static bool put_text(const struct sim_plant *p, const char *rel, const char *text,
                     GError **err)
{
    return put_bytes(p, rel, text, strlen(text), err);
}

static bool put_link(const struct sim_plant *p, const char *rel, const char *target,
                     GError **err)
{
    char *path = under(p, rel, err);
    if (!path)
        return false;
    bool ok = symlink(target, path) == 0 || set_errno_error(err, "create", path);
    g_free(path);
    return ok;
}

/* A process: its name, command line (arguments separated by '\n' here, by NUL in /proc)
 * and open files ("FD=TARGET"). */
static bool put_process(const struct sim_plant *p, int pid, const char *comm,
                        const char *cmdline, const char *const *fds, GError **err)
{
    char rel[128];
    snprintf(rel, sizeof rel, "/proc/%d/comm", pid);
    char *comm_line = g_strconcat(comm, "\n", NULL);
    bool ok = put_text(p, rel, comm_line, err);
    g_free(comm_line);
    GString *args = g_string_new(cmdline);
    for (gsize i = 0; i < args->len; i++)
        if (args->str[i] == '\n')
            args->str[i] = '\0';
    snprintf(rel, sizeof rel, "/proc/%d/cmdline", pid);
    ok = ok && put_bytes(p, rel, args->str, args->len + 1, err);
    g_string_free(args, TRUE);
    for (size_t i = 0; ok && fds && fds[i]; i++) {
        const char *eq = strchr(fds[i], '=');
        snprintf(rel, sizeof rel, "/proc/%d/fd/%.*s", pid, (int)(eq - fds[i]), fds[i]);
        ok = put_link(p, rel, eq + 1, err);
    }
    return ok;
}

/* ---- /etc ----------------------------------------------------------------------------- */

/* Add user to the member list of group in /etc/group text; false if there is no group. */
static bool add_member(GString *groups, const char *group, const char *user)
{
    size_t glen = strlen(group);
    for (gsize at = 0; at < groups->len;) {
        const char *line = groups->str + at;
        const char *nl = strchr(line, '\n');
        gsize end = nl ? (gsize)(nl - groups->str) : groups->len;
        if (strncmp(line, group, glen) == 0 && line[glen] == ':') {
            if (groups->str[end - 1] != ':')   /* the member list is not empty */
                g_string_insert_c(groups, (gssize)end++, ',');
            g_string_insert(groups, (gssize)end, user);
            return true;
        }
        at = end + 1;
    }
    return false;
}

static bool plant_accounts(const struct sim_plant *p, const struct espsim_sysroot *r,
                           GError **err)
{
    char *passwd = NULL, *group = NULL;
    if (!g_file_get_contents("/etc/passwd", &passwd, NULL, err) ||
        !g_file_get_contents("/etc/group", &group, NULL, err)) {
        g_free(passwd);
        return false;
    }
    GString *groups = g_string_new(group);
    g_free(group);
    bool ok = true;
    for (size_t i = 0; ok && i < r->group_member_count; i++) {
        const char *spec = r->group_members[i];
        const char *colon = strchr(spec, ':');
        char *name = g_strndup(spec, (gsize)(colon - spec));
        ok = add_member(groups, name, colon + 1);
        if (!ok)
            g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT, "--group-member %s: there is "
                        "no group %s in /etc/group", spec, name);
        g_free(name);
    }
    ok = ok && put_text(p, "/etc/passwd", passwd, err) &&
         put_text(p, "/etc/group", groups->str, err);
    g_free(passwd);
    g_string_free(groups, TRUE);
    return ok;
}

/* ---- /lib/modules --------------------------------------------------------------------- */

/* The aliases the serial bridge drivers declare (a few of each driver's id table). */
static const struct {
    const char *module;
    const char *patterns[6];
} aliases[] = {
    { "cp210x", { "usb:v10C4pEA60d*dc*dsc*dp*ic*isc*ip*in*",
                  "usb:v10C4pEA70d*dc*dsc*dp*ic*isc*ip*in*",
                  "usb:v10C4pEA71d*dc*dsc*dp*ic*isc*ip*in*" } },
    { "ch341", { "usb:v1A86p7523d*dc*dsc*dp*ic*isc*ip*in*",
                 "usb:v1A86p5523d*dc*dsc*dp*ic*isc*ip*in*",
                 "usb:v1A86p7522d*dc*dsc*dp*ic*isc*ip*in*" } },
    { "ftdi_sio", { "usb:v0403p6001d*dc*dsc*dp*ic*isc*ip*in*",
                    "usb:v0403p6010d*dc*dsc*dp*ic*isc*ip*in*",
                    "usb:v0403p6014d*dc*dsc*dp*ic*isc*ip*in*",
                    "usb:v0403p6015d*dc*dsc*dp*ic*isc*ip*in*" } },
    { "pl2303", { "usb:v067Bp2303d*dc*dsc*dp*ic*isc*ip*in*",
                  "usb:v067Bp23A3d*dc*dsc*dp*ic*isc*ip*in*" } },
    { "cdc_acm", { "usb:v*p*d*dc*dsc*dp*ic02isc02ip00in*",
                   "usb:v*p*d*dc*dsc*dp*ic02isc02ip01in*",
                   "usb:v*p*d*dc*dsc*dp*ic02isc02ip02in*" } },
};

/* modules.alias for the running kernel's release; without the bridge's module when it is
 * missing (--driver none). */
static bool plant_modules(const struct sim_plant *p, const struct espsim_opts *o, GError **err)
{
    struct utsname u;
    if (uname(&u) != 0)
        return set_errno_error(err, "find", "the kernel release");
    const char *missing = o->usb.driver == SIM_DRIVER_NONE ? sim_bridge_module(o->bridge) : "";
    GString *text = g_string_new("# Aliases extracted from modules themselves.\n");
    for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++) {
        if (strcmp(aliases[i].module, missing) == 0)
            continue;
        for (size_t k = 0; k < G_N_ELEMENTS(aliases[i].patterns) && aliases[i].patterns[k]; k++)
            g_string_append_printf(text, "alias %s %s\n", aliases[i].patterns[k],
                                   aliases[i].module);
    }
    char *rel = g_strdup_printf("/lib/modules/%s/modules.alias", u.release);
    bool ok = put_text(p, rel, text->str, err);
    g_free(rel);
    g_string_free(text, TRUE);
    return ok;
}

/* ---- interference ---------------------------------------------------------------------- */

/* brltty's udev rules, in the style of its 90-brltty-device.rules: a braille display is
 * recognised by ENV{PRODUCT} (vendor/product/release in bare hex), which also catches the
 * serial bridges some displays are built on. */
static bool plant_brltty(const struct sim_plant *p, const struct espsim_opts *o, GError **err)
{
    const struct sim_bridge_model *m = o->bridge;
    GString *rules = g_string_new(
        "# Braille displays on USB: start brltty for them (planted by espsim).\n"
        "ACTION==\"add\", SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", "
        "GOTO=\"brltty_usb_add\"\n"
        "GOTO=\"brltty_end\"\n\n"
        "LABEL=\"brltty_usb_add\"\n"
        "# Device: 0F4E:0100\n# Freedom Scientific [Focus 1]\n"
        "ENV{PRODUCT}==\"f4e/100/*\", ENV{BRLTTY_BRAILLE_DRIVER}=\"fs\", "
        "GOTO=\"brltty_usb_run\"\n\n");
    g_string_append_printf(rules,
        "# Device: %04X:%04X\n# Generic [serial adapter used by some displays]\n"
        "ENV{PRODUCT}==\"%x/%x/*\", ENV{BRLTTY_BRAILLE_DRIVER}=\"bm\", "
        "GOTO=\"brltty_usb_run\"\n\n", m->vid, m->pid, m->vid, m->pid);
    g_string_append(rules,
        "GOTO=\"brltty_end\"\n"
        "LABEL=\"brltty_usb_run\"\n"
        "ENV{BRLTTY_BRAILLE_DRIVER}==\"?*\", TAG+=\"systemd\", "
        "ENV{SYSTEMD_WANTS}+=\"brltty-device@%p.service\"\n"
        "LABEL=\"brltty_end\"\n");
    bool ok = put_text(p, "/usr/lib/udev/rules.d/85-brltty.rules", rules->str, err);
    g_string_free(rules, TRUE);
    /* With the interface claimed (usbfs) brltty holds the usb device node open. */
    char *usb_fd = g_strdup_printf("7=%s", sim_bridge_usb_devnode());
    const char *fds[] = { "0=/dev/null", "1=/dev/null", "2=/dev/null", usb_fd, NULL };
    ok = ok && put_process(p, PLANT_BRLTTY_PID, "brltty",
                           "/usr/bin/brltty\n--pid-file=/run/brltty.pid",
                           o->usb.driver == SIM_DRIVER_USBFS ? fds : NULL, err);
    g_free(usb_fd);
    return ok;
}

/* A PID no process has: counting down from the kernel's limit. */
static int unused_pid(void)
{
    int max = 32768;
    char *text = NULL;
    if (g_file_get_contents("/proc/sys/kernel/pid_max", &text, NULL, NULL))
        max = atoi(text);
    g_free(text);
    for (int pid = max - 1; pid > 300; pid--)
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return pid;
    return max;
}

/* The UUCP lock a program like minicom leaves: its PID, 10 characters and a newline. */
static bool plant_uucp_lock(const struct sim_plant *p, const struct espsim_opts *o,
                            int live_pid, GError **err)
{
    const char *tty = strrchr(sim_bridge_devnode(o->bridge), '/') + 1;
    int pid = o->sysroot.uucp_lock == UUCP_LOCK_LIVE ? live_pid : unused_pid();
    char content[16], rel[64];
    snprintf(content, sizeof content, "%10d\n", pid);
    snprintf(rel, sizeof rel, "/var/lock/LCK..%s", tty);
    bool ok = put_text(p, rel, content, err);
    if (ok && o->sysroot.uucp_lock == UUCP_LOCK_LIVE) {
        char *cmdline = g_strdup_printf("minicom\n-D\n%s", sim_bridge_devnode(o->bridge));
        ok = put_process(p, pid, "minicom", cmdline, NULL, err);
        g_free(cmdline);
    }
    return ok;
}

/* ---- the root ------------------------------------------------------------------------ */

bool sim_plant_build(struct sim_plant *p, const struct espsim_opts *o, int live_pid,
                     GError **err)
{
    *p = (struct sim_plant){ 0 };
    const struct espsim_sysroot *r = &o->sysroot;
    if (r->real)
        return true;
    if (r->dir) {
        if (g_mkdir_with_parents(r->dir, 0755) != 0)
            return set_errno_error(err, "create", r->dir);
        p->dir = g_canonicalize_filename(r->dir, NULL);
    } else {
        p->dir = g_dir_make_tmp("espsim-root-XXXXXX", err);
        if (!p->dir)
            return false;
        p->temporary = true;
        g_chmod(p->dir, 0755);   /* readable by a command that drops its privileges */
    }
    /* /proc holds only what the scenario plants; an empty lock table says "no locks". */
    bool ok = put_text(p, "/proc/locks", "", err) && plant_accounts(p, r, err) &&
              plant_modules(p, o, err);
    char *lockdir = ok ? under(p, "/var/lock/.", err) : NULL;
    ok = lockdir != NULL;
    g_free(lockdir);
    if (ok && r->brltty)
        ok = plant_brltty(p, o, err);
    if (ok && r->modemmanager)
        ok = put_process(p, PLANT_MODEMMANAGER_PID, "ModemManager", "/usr/sbin/ModemManager",
                         NULL, err);
    if (ok && r->uucp_lock != UUCP_LOCK_NONE)
        ok = plant_uucp_lock(p, o, live_pid, err);
    return ok;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void sim_plant_remove(struct sim_plant *p)
{
    if (p->dir && p->temporary)
        nftw(p->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_free(p->dir);
    p->dir = NULL;
}
