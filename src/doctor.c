/* The doctor's run loop, its table of check families, and the presence check. */
#include "espdoctor/doctor.h"

#include "espdoctor/error.h"
#include "espdoctor/loader.h"
#include "espdoctor/netport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct ed_check_family ed_check_families[] = {
    { "presence", ed_check_presence },
    { "driver", ed_check_driver },
    { "interference", ed_check_interference },
    { "permissions", ed_check_permissions },
    { "locks", ed_check_locks },
    { "power", ed_check_power },
    { "line", ed_check_line },
    { "firmware", ed_check_firmware },
    { "bootloader", ed_check_bootloader },
};
const size_t ed_check_family_count = sizeof ed_check_families / sizeof ed_check_families[0];

/* The families that only read the system: safe to run for every board at once. */
#define SYSTEM_FAMILIES 6

void ed_doctor_init(struct ed_doctor *d, const char *requested_port)
{
    memset(d, 0, sizeof *d);
    ed_sysroot_init(&d->sys, NULL);
    ed_credentials_read(&d->sys, &d->cred);
    d->requested_port = requested_port;
    d->button.timeout_ms = 0;   /* no watch unless the caller asks (and can show it) */
}

int ed_doctor_open_port(struct ed_doctor *d, uint32_t baud)
{
    struct ed_port_url url;
    if (ed_port_url_parse(d->port_path, &url) == ED_OK && url.scheme == ED_PORT_RFC2217)
        return ed_rfc2217_open(url.host, url.port, baud, &d->tp);
    if (ed_port_url_parse(d->port_path, &url) == ED_OK && url.scheme == ED_PORT_SOCKET)
        return ed_socket_open(url.host, url.port, baud, &d->tp);
    return ed_serial_open(d->port_path, baud, &d->tp);
}

/* A network port: nothing on this machine to examine but the line itself. */
static bool presence_of_remote(struct ed_doctor *d, const struct ed_port_url *url)
{
    memset(&d->target, 0, sizeof d->target);
    snprintf(d->port_path, sizeof d->port_path, "%s", d->requested_port);
    d->has_target = true;
    d->remote = true;
    struct ed_finding *f = ed_report_add(&d->report, "device.found", d->requested_port);
    ed_finding_evidence(f, "network port %s:%u (%s)%s", url->host, url->port,
                        ed_port_scheme_name(url->scheme),
                        url->scheme == ED_PORT_SOCKET ? "; raw TCP carries no DTR/RTS, so "
                                                        "the board cannot be reset from here"
                                                      : "");
    return true;
}

void ed_doctor_close_port(struct ed_doctor *d)
{
    free(d->ld);
    d->ld = NULL;
    ed_tp_close(d->tp);
    d->tp = NULL;
}

void ed_doctor_free(struct ed_doctor *d)
{
    ed_doctor_close_port(d);
    ed_ports_free(&d->ports);
    ed_report_free(&d->report);
}

static void describe_usb(const struct ed_port *p, char *out, size_t len)
{
    snprintf(out, len, "%s %04x:%04x %s%s%s", p->usb_name, p->vid, p->pid,
             p->bridge ? p->bridge->chip : "unknown", p->serial[0] ? ", serial " : "",
             p->serial);
}

static void set_target(struct ed_doctor *d, const struct ed_port *p)
{
    d->target = *p;
    d->has_target = true;
    snprintf(d->port_path, sizeof d->port_path, "%s", p->devnode);
}

static bool presence_of_requested(struct ed_doctor *d)
{
    const struct ed_port *p = ed_ports_find(&d->ports, d->requested_port);
    if (p) {
        set_target(d, p);
        snprintf(d->port_path, sizeof d->port_path, "%s", d->requested_port);
        char usb[256];
        describe_usb(p, usb, sizeof usb);
        struct ed_finding *f = ed_report_add(&d->report, "device.found", d->requested_port);
        ed_finding_evidence(f, "%s, driver %s", usb, p->driver[0] ? p->driver : "(none)");
        if (!p->bridge) {
            f = ed_report_add(&d->report, "device.unknown-port", d->requested_port);
            ed_finding_evidence(f, "USB id %04x:%04x is not in espdoctor's bridge table",
                                p->vid, p->pid);
            ed_finding_fix(f, "Make sure this is the board's port: the list names the USB "
                              "serial ports and their bridges.");
            ed_finding_command(f, "espdoctor list");
        }
        return true;
    }
    struct stat st;
    if (stat(d->requested_port, &st) != 0) {
        struct ed_finding *f = ed_report_add(&d->report, "device.none", d->requested_port);
        ed_finding_evidence(f, "%s does not exist; %zu USB serial device(s) seen",
                            d->requested_port, d->ports.count);
        ed_finding_fix(f, "Check the name against the ports there are, and plug the board "
                          "in with a data-capable USB cable.");
        ed_finding_command(f, "espdoctor list");
        return false;
    }
    /* A port that exists but that udev does not place under a USB bridge. */
    memset(&d->target, 0, sizeof d->target);
    snprintf(d->target.devnode, sizeof d->target.devnode, "%s", d->requested_port);
    snprintf(d->port_path, sizeof d->port_path, "%s", d->requested_port);
    d->has_target = true;
    struct ed_finding *f = ed_report_add(&d->report, "device.unknown-port", d->requested_port);
    ed_finding_evidence(f, "%s exists but is not a USB serial port espdoctor knows",
                        d->requested_port);
    ed_finding_fix(f, "Make sure this is the board's port: the list names the USB serial "
                      "ports and their bridges.");
    ed_finding_command(f, "espdoctor list");
    return true;
}

bool ed_check_presence(struct ed_doctor *d)
{
    if (!d->ports.items && ed_ports_enumerate(&d->ports) != ED_OK)
        d->ports.count = 0;
    struct ed_port_url url;
    if (d->requested_port && ed_port_url_parse(d->requested_port, &url) == ED_OK &&
        url.scheme != ED_PORT_LOCAL)
        return presence_of_remote(d, &url);
    if (d->requested_port)
        return presence_of_requested(d);

    size_t bridges = 0;
    for (size_t i = 0; i < d->ports.count; i++)
        bridges += d->ports.items[i].bridge != NULL;
    if (bridges == 0 && d->waited_ms) {
        struct ed_finding *f = ed_report_add(&d->report, "device.nothing-appeared", "USB");
        ed_finding_evidence(f, "watched USB for %u s: no USB device of a known bridge "
                               "(CP210x, CH340/CH9102, FTDI, PL2303, Espressif USB) appeared",
                            (d->waited_ms + 500) / 1000);
        ed_finding_fix(f, "Plug the board in with a cable known to carry data (many are "
                          "charge-only), try another USB port on the computer itself, and "
                          "check the board's power LED.");
        return false;
    }
    if (bridges == 0) {
        struct ed_finding *f = ed_report_add(&d->report, "device.none", "USB");
        ed_finding_evidence(f, "no USB device of a known bridge (CP210x, CH340/CH9102, FTDI, "
                               "PL2303, Espressif USB) is connected%s",
                            d->ports.count ? "; other serial ports exist (see 'espdoctor list')"
                                           : "");
        ed_finding_fix(f, "Plug the board in with a data-capable USB cable (charge-only "
                          "cables are common), try another USB port, and check the power "
                          "LED.");
        return false;
    }
    for (size_t i = 0; i < d->ports.count; i++) {
        const struct ed_port *p = &d->ports.items[i];
        if (!p->bridge)
            continue;
        char usb[256];
        describe_usb(p, usb, sizeof usb);
        struct ed_finding *f = ed_report_add(&d->report, p->devnode[0] ? "device.found" : "device.no-tty",
                                             p->devnode[0] ? p->devnode : p->usb_name);
        char appeared[64] = "";
        if (d->appeared_ms)
            snprintf(appeared, sizeof appeared, "; it appeared %u.%u s into the wait",
                     d->appeared_ms / 1000, d->appeared_ms % 1000 / 100);
        ed_finding_evidence(f, "%s, driver %s%s%s", usb, p->driver[0] ? p->driver : "(none)",
                            p->devnode[0] ? "" : ", no serial port", appeared);
        if (!p->devnode[0])
            ed_finding_fix(f, "The driver findings say why there is no port.");
        if (!d->has_target)
            set_target(d, p);
    }
    return true;
}

/* With several boards, system checks run for each; the live ones need -p. */
static void run_system_checks_for_each(struct ed_doctor *d)
{
    for (size_t i = 0; i < d->ports.count; i++) {
        if (!d->ports.items[i].bridge)
            continue;
        set_target(d, &d->ports.items[i]);
        for (size_t k = 1; k < SYSTEM_FAMILIES; k++)
            if (!ed_check_families[k].run(d))
                break;
    }
    struct ed_finding *f = ed_report_add(&d->report, "device.several", "USB");
    char list[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < d->ports.count && used < sizeof list; i++) {
        const struct ed_port *p = &d->ports.items[i];
        if (!p->bridge || !p->devnode[0])
            continue;
        int n = snprintf(list + used, sizeof list - used, "%s%s (%s%s%s)", used ? ", " : "",
                         p->devnode, p->bridge->chip, p->serial[0] ? " " : "", p->serial);
        if (n > 0)
            used += (size_t)n;
    }
    ed_finding_evidence(f, "boards: %s", list);
    ed_finding_fix(f, "Name the board to examine with -p (or set ESPDOCTOR_PORT); the "
                      "commands for each are below.");
    d->has_target = false;
    d->port_path[0] = '\0';   /* no one port was examined */
}

/* "No MicroPython" and "nothing bootable" are worth more with the download for the chip
 * that answered, which is known only after the bootloader check. */
static void complete_firmware_fixes(struct ed_doctor *d)
{
    if (!d->chip)
        return;
    char fix[512], command[400];
    ed_chip_micropython_fix(d->chip, d->port_path, fix, sizeof fix, command, sizeof command);
    for (size_t i = 0; i < d->report.count; i++) {
        struct ed_finding *f = &d->report.items[i];
        if (strcmp(f->diag->id, "firmware.none") != 0 &&
            strcmp(f->diag->id, "firmware.blank") != 0 &&
            strcmp(f->diag->id, "boot.crash-loop") != 0)
            continue;
        ed_finding_fix(f, "%s", fix);
        ed_finding_command(f, "%s", command);
    }
}

/* A port of no bridge espdoctor knows where nothing answered as an ESP: that is the
 * problem (a built-in serial port, another device), and what the reset ladder found on it
 * only follows from it. */
static void judge_unknown_port(struct ed_doctor *d)
{
    struct ed_finding *f = ed_report_find(&d->report, "device.unknown-port");
    if (!f || d->bootloader_ok || d->remote || !d->ld)
        return;   /* it answered, or it was never opened (the errors so far say why) */
    for (size_t i = 0; i < d->report.count; i++) {
        const struct ed_finding *x = &d->report.items[i];
        if (x->severity == ED_SEV_ERROR && strcmp(x->diag->family, "Bootloader") != 0 &&
            strcmp(x->diag->family, "Boot log") != 0)
            return;   /* something else kept it from talking */
    }
    ed_finding_raise(f, ED_SEV_ERROR);
    char *seen = f->evidence;   /* the new text is made from the old: keep it alive */
    f->evidence = NULL;
    ed_finding_evidence(f, "%s%s; nothing answered on it as an ESP bootloader",
                        seen ? seen : "", d->boot.bytes ? "" : ", and it printed nothing "
                                                               "after a reset");
    free(seen);
}

void ed_doctor_conclude(struct ed_doctor *d)
{
    complete_firmware_fixes(d);
    judge_unknown_port(d);
}

void ed_doctor_run(struct ed_doctor *d)
{
    if (!ed_check_presence(d))
        return;
    size_t boards = 0;
    for (size_t i = 0; i < d->ports.count; i++)
        boards += d->ports.items[i].bridge != NULL;
    if (!d->requested_port && boards > 1) {
        run_system_checks_for_each(d);
        return;
    }
    for (size_t k = d->remote ? SYSTEM_FAMILIES : 1; k < ed_check_family_count; k++)
        if (!ed_check_families[k].run(d))
            break;
    ed_doctor_conclude(d);
}
