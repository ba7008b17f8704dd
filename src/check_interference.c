/* Interference: programs that grab or probe a fresh serial port. brltty's udev rules name
 * USB ids of braille displays that CH340 and other bridges share, so it claims the bridge
 * on plug-in; ModemManager sends AT commands to ports not tagged ID_MM_DEVICE_IGNORE. */
#include "espdoctor/doctor.h"
#include "espdoctor/shell.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RULE_FILES 32

/* udev's rule directories, highest precedence first: a file name found in an earlier one
 * hides the same name in the later ones (a link to /dev/null masks it). */
static const char *const rule_dirs[] = {
    "/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d",
    "/usr/lib/udev/rules.d", "/lib/udev/rules.d",
};

struct rule_hit {
    char file[512];     /* path on the real system */
    unsigned line;
    char match[160];    /* the matching key, as written */
};

/* The value of the first KEY=="value" in a rule; false if the rule has none. */
static bool rule_value(const char *rule, const char *key, char *out, size_t len)
{
    for (const char *at = strstr(rule, key); at; at = strstr(at + 1, key)) {
        const char *op = at + strlen(key);
        op += strspn(op, " \t");
        if (strncmp(op, "==", 2) != 0)
            continue;
        op += 2;
        op += strspn(op, " \t");
        const char *end = *op == '"' ? strchr(op + 1, '"') : NULL;
        if (!end)
            continue;
        snprintf(out, len, "%.*s", (int)(end - op - 1), op + 1);
        return true;
    }
    return false;
}

/* A udev match value ("1a86", "1A86|10c4", "7*") against a 16-bit hex id. */
static bool id_matches(const char *pattern, size_t len, uint16_t id)
{
    char short_form[8], long_form[8];
    snprintf(short_form, sizeof short_form, "%x", id);
    snprintf(long_form, sizeof long_form, "%04x", id);
    while (len > 0) {
        size_t alt = 0;
        while (alt < len && pattern[alt] != '|')
            alt++;
        char one[64];
        snprintf(one, sizeof one, "%.*s", (int)alt, pattern);
        if (fnmatch(one, short_form, FNM_CASEFOLD) == 0 ||
            fnmatch(one, long_form, FNM_CASEFOLD) == 0)
            return true;
        pattern += alt;
        len -= alt;
        if (len > 0) {
            pattern++;
            len--;
        }
    }
    return false;
}

/* ENV{PRODUCT}=="1a86/7523/..." (vendor/product/bcdDevice in bare hex); the device
 * release is not compared. Alternatives separated by '|'. */
static bool product_matches(const char *value, uint16_t vid, uint16_t pid)
{
    const char *alt = value;
    while (*alt) {
        size_t n = strcspn(alt, "|");
        const char *slash = memchr(alt, '/', n);
        if (slash) {
            const char *rest = slash + 1;
            size_t rest_len = n - (size_t)(rest - alt);
            const char *slash2 = memchr(rest, '/', rest_len);
            size_t pid_len = slash2 ? (size_t)(slash2 - rest) : rest_len;
            if (id_matches(alt, (size_t)(slash - alt), vid) && id_matches(rest, pid_len, pid))
                return true;
        }
        alt += n;
        if (*alt == '|')
            alt++;
    }
    return false;
}

static bool rule_matches(const char *rule, uint16_t vid, uint16_t pid, char *match, size_t len)
{
    char vendor[64], product[64], env[128];
    if (rule_value(rule, "ENV{PRODUCT}", env, sizeof env) && product_matches(env, vid, pid)) {
        snprintf(match, len, "ENV{PRODUCT}==\"%s\"", env);
        return true;
    }
    if (!rule_value(rule, "{idVendor}", vendor, sizeof vendor) ||
        !id_matches(vendor, strlen(vendor), vid))
        return false;
    bool has_product = rule_value(rule, "{idProduct}", product, sizeof product);
    if (has_product && !id_matches(product, strlen(product), pid))
        return false;
    snprintf(match, len, "idVendor==\"%s\"%s%s%s", vendor, has_product ? ", idProduct==\"" : "",
             has_product ? product : "", has_product ? "\"" : "");
    return true;
}

/* The first rule in text naming vid:pid; continuation lines (trailing '\') are joined. */
static bool scan_rules(char *text, uint16_t vid, uint16_t pid, struct rule_hit *hit)
{
    char rule[4096];
    size_t used = 0;
    unsigned number = 0, first_line = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        number++;
        size_t n = strlen(line);
        bool continued = n > 0 && line[n - 1] == '\\';
        if (continued)
            n--;
        if (used == 0)
            first_line = number;
        if (used + n < sizeof rule) {
            memcpy(rule + used, line, n);
            used += n;
        }
        rule[used] = '\0';
        line = next;
        if (continued)
            continue;
        const char *start = rule + strspn(rule, " \t");
        if (*start != '#' && rule_matches(start, vid, pid, hit->match, sizeof hit->match)) {
            hit->line = first_line;
            return true;
        }
        used = 0;
    }
    return false;
}

static bool is_brltty_rules(const char *name)
{
    size_t n = strlen(name);
    return strstr(name, "brltty") && n > 6 && strcmp(name + n - 6, ".rules") == 0;
}

static bool name_seen(char seen[][256], size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(seen[i], name) == 0)
            return true;
    return false;
}

/* Masked: an empty file or a link to /dev/null in a directory of higher precedence. */
static bool masked(const char *path)
{
    char target[64];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        if (strcmp(target, "/dev/null") == 0)
            return true;
    }
    struct stat st;
    return stat(path, &st) == 0 && st.st_size == 0;
}

/* brltty's rule files that udev would use, searched for a rule naming vid:pid. */
static bool brltty_rule_for(const struct ed_sysroot *s, uint16_t vid, uint16_t pid,
                            struct rule_hit *hit)
{
    char seen[MAX_RULE_FILES][256];
    size_t nseen = 0;
    bool found = false;
    for (size_t i = 0; i < sizeof rule_dirs / sizeof rule_dirs[0] && !found; i++) {
        char dir_path[1024];
        if (!ed_sysroot_path(s, rule_dirs[i], dir_path, sizeof dir_path))
            continue;
        DIR *dir = opendir(dir_path);
        if (!dir)
            continue;
        struct dirent *e;
        while (!found && (e = readdir(dir)) != NULL) {
            if (!is_brltty_rules(e->d_name) || name_seen(seen, nseen, e->d_name) ||
                nseen == MAX_RULE_FILES)
                continue;
            snprintf(seen[nseen++], sizeof seen[0], "%s", e->d_name);
            char rel[512];
            snprintf(rel, sizeof rel, "%s/%s", rule_dirs[i], e->d_name);
            char path[1600];
            if (!ed_sysroot_path(s, rel, path, sizeof path) || masked(path))
                continue;
            char *text = ed_sysroot_read(s, rel, 4u << 20);
            if (text && scan_rules(text, vid, pid, hit)) {
                snprintf(hit->file, sizeof hit->file, "%s", rel);
                found = true;
            }
            free(text);
        }
        closedir(dir);
    }
    return found;
}

static void usb_subject(const struct ed_port *p, char *out, size_t len)
{
    if (p->usb_name[0])
        snprintf(out, len, "%s (%04x:%04x)", p->usb_name, p->vid, p->pid);
    else
        snprintf(out, len, "%s", p->devnode);
}

static void check_brltty(struct ed_doctor *d, const char *subject)
{
    const struct ed_port *p = &d->target;
    if (!p->vid)
        return;   /* not a USB device: brltty's rules cannot name it */
    pid_t pid = 0;
    bool running = ed_sysroot_process_running(&d->sys, "brltty", &pid);
    struct rule_hit hit;
    memset(&hit, 0, sizeof hit);
    bool rule = brltty_rule_for(&d->sys, p->vid, p->pid, &hit);
    if (!rule && !running)
        return;
    char state[96];
    if (running)
        snprintf(state, sizeof state, "brltty runs as PID %d", (int)pid);
    else
        snprintf(state, sizeof state, "brltty is not running now; udev starts it on plug-in");
    if (!rule) {
        struct ed_finding *f = ed_report_add(&d->report, "interference.brltty-running", subject);
        ed_finding_evidence(f, "%s; none of its udev rules names %04x:%04x", state, p->vid,
                            p->pid);
        ed_finding_fix(f, "If no braille display is used and the port vanishes after "
                          "plug-in, mask brltty.");
        ed_finding_command(f, "sudo systemctl mask --now brltty.service brltty-udev.service");
        return;
    }
    struct ed_finding *f = ed_report_add(&d->report, "interference.brltty", subject);
    ed_finding_evidence(f, "%s line %u matches %04x:%04x (%s); %s", hit.file, hit.line, p->vid,
                        p->pid, hit.match, state);
    const char *name = strrchr(hit.file, '/') + 1;
    char file[600], masked[600];
    if (strncmp(hit.file, "/etc/", 5) == 0) {
        ed_finding_fix(f, "Comment out line %u of %s, reload udev's rules and mask brltty's "
                          "udev service, then unplug and replug the board (or remove the "
                          "brltty package if no braille display is used).",
                       hit.line, hit.file);
        ed_finding_command(f, "sudo sed -i '%us/^/#/' %s && sudo udevadm control "
                              "--reload-rules && sudo systemctl mask --now "
                              "brltty-udev.service",
                           hit.line, ed_shell_quote(hit.file, file, sizeof file));
    } else {
        char target[400];
        snprintf(target, sizeof target, "/etc/udev/rules.d/%s", name);
        ed_finding_fix(f, "Mask the rule file with one of the same name in /etc/udev/rules.d, "
                          "reload udev's rules and mask brltty's udev service, then unplug "
                          "and replug the board (or remove the brltty package if no braille "
                          "display is used).");
        ed_finding_command(f, "sudo ln -s /dev/null %s && sudo udevadm control "
                              "--reload-rules && sudo systemctl mask --now "
                              "brltty-udev.service",
                           ed_shell_quote(target, masked, sizeof masked));
    }
}

static void check_modemmanager(struct ed_doctor *d, const char *subject)
{
    pid_t pid = 0;
    if (d->target.mm_ignore || !ed_sysroot_process_running(&d->sys, "ModemManager", &pid))
        return;
    struct ed_finding *f = ed_report_add(&d->report, "interference.modemmanager", subject);
    ed_finding_evidence(f, "ModemManager runs as PID %d and the device is not tagged "
                           "ID_MM_DEVICE_IGNORE",
                        (int)pid);
    ed_finding_fix(f, "Install espdoctor's udev rules: they tell ModemManager to leave ESP "
                      "bridges alone.");
    ed_finding_command(f, "sudo espdoctor udev install");
}

bool ed_check_interference(struct ed_doctor *d)
{
    if (!d->has_target)
        return true;
    char subject[300];
    usb_subject(&d->target, subject, sizeof subject);
    check_brltty(d, subject);
    check_modemmanager(d, subject);
    return true;
}
