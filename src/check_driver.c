/* Driver: is a kernel serial driver bound to the bridge? Without a tty, tell apart an
 * interface claimed from user space (usbfs, usually brltty), a module the running kernel
 * has but did not load, and a module it lacks (modules.alias of $(uname -r)). */
#include "espdoctor/doctor.h"

#include "espdoctor/bridge_identity.h"
#include "espdoctor/error.h"
#include "espdoctor/shell.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_HOLDERS 8
#define MODULE_INDEX_MAX (64u << 20)

static void usb_subject(const struct ed_port *p, char *out, size_t len)
{
    if (p->usb_name[0])
        snprintf(out, len, "%s (%04x:%04x)", p->usb_name, p->vid, p->pid);
    else
        snprintf(out, len, "%s", p->devnode);
}

/* Kernel module names treat '-' and '_' alike. */
static bool same_module(const char *a, const char *b, size_t b_len)
{
    size_t i = 0;
    for (; i < b_len && a[i]; i++) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return i == b_len && a[i] == '\0';
}

static void tty_present(struct ed_doctor *d, const char *subject)
{
    const struct ed_port *p = &d->target;
    if (!p->driver[0])
        return;   /* not behind a USB interface we know: nothing to compare */
    if (!p->bridge || strcmp(p->driver, p->bridge->driver) == 0) {
        struct ed_finding *f = ed_report_add(&d->report, "driver.ok", subject);
        ed_finding_evidence(f, "%s is bound and created %s", p->driver, p->devnode);
        return;
    }
    struct ed_finding *f = ed_report_add(&d->report, "driver.wrong", subject);
    const struct ed_vendor_driver *vendor = ed_vendor_driver_lookup(p->driver);
    if (vendor) {
        ed_finding_evidence(f, "%s (module %s, %s) is bound and created %s; the kernel's "
                               "own %s normally serves %s bridges",
                            p->driver, vendor->module, vendor->maker, p->devnode,
                            p->bridge->driver, p->bridge->chip);
        ed_finding_fix(f, "If resetting into the bootloader fails, give the board back to "
                          "%s: blacklist %s (it claims the board again at every plug-in), "
                          "unload it, load %s, then unplug and replug the board.",
                       p->bridge->driver, vendor->module, p->bridge->driver);
        ed_finding_command(f, "echo 'blacklist %s' | sudo tee /etc/modprobe.d/espdoctor-%s.conf "
                              "&& sudo modprobe -r %s && sudo modprobe %s", vendor->module,
                           vendor->module, vendor->module, p->bridge->driver);
        return;
    }
    ed_finding_evidence(f, "%s is bound (it created %s); %s bridges are normally served by %s",
                        p->driver, p->devnode, p->bridge->chip, p->bridge->driver);
    ed_finding_fix(f, "If resetting into the bootloader fails, use the usual driver, then "
                      "unplug and replug the board.");
    char driver[80];
    ed_finding_command(f, "sudo modprobe -r %s && sudo modprobe %s",
                       ed_shell_quote(p->driver, driver, sizeof driver), p->bridge->driver);
}

static void claimed_by_userspace(struct ed_doctor *d, const char *subject)
{
    const struct ed_port *p = &d->target;
    pid_t pids[MAX_HOLDERS];
    size_t n = 0, hidden = 0;
    struct stat usb_node;
    if (p->usb_devnode[0]) {
        bool known = stat(p->usb_devnode, &usb_node) == 0;
        n = ed_sysroot_holders(&d->sys, known ? &usb_node : NULL, p->usb_devnode, pids,
                               MAX_HOLDERS, &hidden);
    }

    pid_t brltty = 0;
    for (size_t i = 0; i < n && !brltty; i++) {
        char comm[64];
        ed_sysroot_comm(&d->sys, pids[i], comm, sizeof comm);
        if (strcmp(comm, "brltty") == 0)
            brltty = pids[i];
    }
    bool brltty_runs = brltty || ed_sysroot_process_running(&d->sys, "brltty", &brltty);

    struct ed_finding *f = ed_report_add(&d->report, "driver.claimed-by-userspace", subject);
    const char *node_name = p->usb_devnode[0] ? p->usb_devnode : "the USB device node";
    char holders[512];
    ed_sysroot_describe_processes(&d->sys, pids, n, holders, sizeof holders);
    if (n > 0)
        ed_finding_evidence(f, "the interface is bound to usbfs (claimed from user space), no "
                               "serial port; %s is held open by %s",
                            node_name, holders);
    else
        ed_finding_evidence(f, "the interface is bound to usbfs (claimed from user space), no "
                               "serial port; no process %sholds %s%s%s",
                            hidden ? "you may inspect " : "", node_name,
                            hidden ? " (other users' processes are hidden; run as root, "
                                     "espdoctor names them)"
                                   : "",
                            brltty_runs ? "; brltty is running" : "");
    char node_word[300];
    if (brltty_runs) {
        ed_finding_fix(f, "Stop brltty (PID %d) for good (or remove the brltty package if "
                          "no braille display is used), then unplug and replug the board.",
                       (int)brltty);
        ed_finding_command(f, "sudo systemctl mask --now brltty-udev.service brltty.service");
    } else if (n > 0) {
        ed_finding_fix(f, "Close %s (or end it), then unplug and replug the board.", holders);
        ed_finding_command(f, "sudo kill %d", (int)pids[0]);
    } else {
        ed_finding_fix(f, "Find the program that holds the device, close it, then unplug and "
                          "replug the board.");
        if (p->usb_devnode[0])
            ed_finding_command(f, "sudo fuser -v %s",
                               ed_shell_quote(p->usb_devnode, node_word, sizeof node_word));
        else
            ed_finding_command(f, "sudo fuser -v /dev/bus/usb/*/*");
    }
}

/* The module whose alias pattern in <root>/lib/modules/REL/INDEX matches modalias: 1 and
 * its name in module, 0 if none matches, -1 if there is no such index. */
static int find_alias(const struct ed_sysroot *s, const char *release, const char *index,
                      const char *modalias, char *module, size_t len)
{
    char rel[512];
    snprintf(rel, sizeof rel, "/lib/modules/%s/%s", release, index);
    char *text = ed_sysroot_read(s, rel, MODULE_INDEX_MAX);
    if (!text)
        return -1;
    int found = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        char pattern[256], name[64];
        if (sscanf(line, "alias %255s %63s", pattern, name) == 2 &&
            fnmatch(pattern, modalias, 0) == 0) {
            snprintf(module, len, "%s", name);
            found = 1;
        }
    }
    free(text);
    return found;
}

/* -1 unknown (no index), 0 no, 1 yes: a line "NAME ..." in /proc/modules, or a
 * ".../NAME.ko...:" in modules.dep. */
static int module_listed(const struct ed_sysroot *s, const char *rel, const char *module,
                         bool dep_format)
{
    char *text = ed_sysroot_read(s, rel, MODULE_INDEX_MAX);
    if (!text)
        return -1;
    int found = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        const char *name = line;
        size_t n = strcspn(line, " ");
        if (dep_format) {
            const char *ko = strstr(line, ".ko");
            const char *colon = strchr(line, ':');
            if (!ko || !colon || ko > colon)
                continue;
            const char *slash = memrchr(line, '/', (size_t)(ko - line));
            name = slash ? slash + 1 : line;
            n = (size_t)(ko - name);
        }
        found = same_module(module, name, n);
    }
    free(text);
    return found;
}

static void module_known(struct ed_doctor *d, const char *subject, const char *module,
                         bool builtin)
{
    const struct ed_port *p = &d->target;
    struct ed_finding *f = ed_report_add(&d->report, "driver.not-loaded", subject);
    if (builtin) {
        ed_finding_evidence(f, "no driver is bound; %s is built into the kernel and claims "
                               "modalias %s",
                            module, p->modalias);
        ed_finding_fix(f, "Unplug the board and plug it back in.");
        return;
    }
    int loaded = module_listed(&d->sys, "/proc/modules", module, false);
    if (loaded == 1) {
        ed_finding_evidence(f, "no driver is bound; module %s is loaded and claims modalias "
                               "%s, but did not bind",
                            module, p->modalias);
        ed_finding_fix(f, "Unplug and replug the board; if no port appears, load the module "
                          "again.");
        ed_finding_command(f, "sudo modprobe -r %s && sudo modprobe %s", module, module);
    } else {
        ed_finding_evidence(f, "no driver is bound; module %s claims modalias %s but is not "
                               "loaded",
                            module, p->modalias);
        ed_finding_fix(f, "Load the module; the port appears at once.");
        ed_finding_command(f, "sudo modprobe %s", module);
    }
}

/* The package that carries the running kernel's modules has another name on each
 * distribution: Ubuntu splits the rarer ones off into linux-modules-extra-RELEASE, Debian's
 * linux-image-RELEASE has them all (missing means that package is damaged or gone), and
 * Fedora's are in kernel-modules-extra. */
static void missing_module_package(struct ed_doctor *d, struct ed_finding *f,
                                   const char *release, const char *module)
{
    char os[128], rel[300];
    enum ed_os_family family = ed_sysroot_os_family(&d->sys, os, sizeof os);
    ed_shell_quote(release, rel, sizeof rel);
    const char *where = os[0] ? os : "this system";
    switch (family) {
    case ED_OS_UBUNTU:
        ed_finding_fix(f, "On %s the module is in the kernel's extra modules package: install "
                          "it, then load the module.", where);
        ed_finding_command(f, "sudo apt install linux-modules-extra-%s && sudo modprobe %s",
                           rel, module);
        return;
    case ED_OS_DEBIAN:
        ed_finding_fix(f, "On %s every module comes with the kernel's own package, so it is "
                          "damaged or incomplete: reinstall it, then load the module.", where);
        ed_finding_command(f, "sudo apt install --reinstall linux-image-%s && sudo modprobe %s",
                           rel, module);
        return;
    case ED_OS_FEDORA:
        ed_finding_fix(f, "On %s the module is in the kernel's extra modules package: install "
                          "it, then load the module.", where);
        ed_finding_command(f, "sudo dnf install kernel-modules-extra-%s && sudo modprobe %s",
                           rel, module);
        return;
    case ED_OS_ARCH:
    case ED_OS_UNKNOWN:
        break;
    }
    ed_finding_fix(f, "Load the module; if modprobe says \"not found\", install the package "
                      "of %s that carries the kernel's extra modules, then load it again.",
                   where);
    ed_finding_command(f, "sudo modprobe %s", module);
}

static void module_missing(struct ed_doctor *d, const char *subject, const char *release,
                           bool have_index)
{
    const struct ed_port *p = &d->target;
    const char *expected = p->bridge ? p->bridge->driver : "MODULE";
    struct ed_finding *f = ed_report_add(&d->report, "driver.missing", subject);
    if (!have_index) {
        ed_finding_evidence(f, "no driver is bound and /lib/modules/%s/modules.alias does not "
                               "exist: the running kernel's modules are not installed (often "
                               "the kernel was upgraded and the machine not rebooted)",
                            release);
        ed_finding_fix(f, "Reboot into the installed kernel; if the port still does not "
                          "appear, load the module.");
        ed_finding_command(f, "sudo modprobe %s", expected);
        return;
    }
    char rel[512];
    snprintf(rel, sizeof rel, "/lib/modules/%s/modules.dep", release);
    int installed = p->bridge ? module_listed(&d->sys, rel, expected, true) : -1;
    const char *why = installed == 1 ? " (its installed module does not list this USB id)"
                      : installed == 0 ? " and the module is not installed"
                                       : "";
    if (p->modalias[0])
        ed_finding_evidence(f, "no driver is bound and no module of kernel %s claims modalias "
                               "%s; expected driver: %s%s",
                            release, p->modalias, expected, why);
    else
        ed_finding_evidence(f, "no driver is bound and the interface reports no modalias; "
                               "expected driver: %s%s",
                            expected, why);
    if (installed == 1) {
        ed_finding_fix(f, "Install a newer kernel: this kernel's %s does not know %04x:%04x.",
                       expected, p->vid, p->pid);
        return;
    }
    missing_module_package(d, f, release, expected);
}

static void unbound(struct ed_doctor *d, const char *subject)
{
    char release[128], module[64];
    ed_sysroot_kernel_release(&d->sys, release, sizeof release);
    const char *modalias = d->target.modalias[0] ? d->target.modalias : "(none)";
    int found = find_alias(&d->sys, release, "modules.alias", modalias, module, sizeof module);
    if (found == 1) {
        module_known(d, subject, module, false);
        return;
    }
    if (find_alias(&d->sys, release, "modules.builtin.alias", modalias, module,
                   sizeof module) == 1) {
        module_known(d, subject, module, true);
        return;
    }
    module_missing(d, subject, release, found != -1);
}

static void bound_without_tty(struct ed_doctor *d, const char *subject)
{
    const struct ed_port *p = &d->target;
    bool expected = p->bridge && strcmp(p->driver, p->bridge->driver) == 0;
    struct ed_finding *f = ed_report_add(&d->report, expected ? "driver.ok" : "driver.wrong",
                                         subject);
    if (expected || !p->bridge) {
        ed_finding_evidence(f, "%s is bound but no serial port appeared", p->driver);
        return;
    }
    ed_finding_evidence(f, "%s is bound, no serial port appeared; %s bridges are served by %s",
                        p->driver, p->bridge->chip, p->bridge->driver);
    ed_finding_fix(f, "Load the usual driver, then unplug and replug the board.");
    ed_finding_command(f, "sudo modprobe %s", p->bridge->driver);
}

/* A bridge that answers as a counterfeit CP2102 does (read over USB, as list shows it):
 * the clue to garbled writes at high rates. Only a reading from the device counts; the
 * table's guess never calls a part counterfeit. */
static void counterfeit_bridge(struct ed_doctor *d, const char *subject)
{
    struct ed_bridge_identity id;
    if (ed_bridge_identify(&d->target, &id) != ED_OK || !id.from_usb || !id.counterfeit)
        return;
    struct ed_finding *f = ed_report_add(&d->report, "bridge.counterfeit", subject);
    ed_finding_evidence(f, "asked its part number (vendor request 0xFF/0x370B) with room for "
                           "two bytes, it answered one byte (0x02): %s bridges answer two",
                        id.part);
}

bool ed_check_driver(struct ed_doctor *d)
{
    if (!d->has_target)
        return false;
    const struct ed_port *p = &d->target;
    char subject[64];
    usb_subject(p, subject, sizeof subject);
    if (p->devnode[0]) {
        tty_present(d, subject);
        counterfeit_bridge(d, subject);
        return true;
    }
    if (strcmp(p->driver, "usbfs") == 0) {
        claimed_by_userspace(d, subject);
    } else if (!p->driver[0]) {
        unbound(d, subject);
    } else {
        bound_without_tty(d, subject);
    }
    return false;
}
