/* Port selection and opening for commands (see portsel.h). */
#include "portsel.h"
#include "board_wait.h"
#include "config_cli.h"
#include "out.h"
#include "render.h"

#include "espdoctor/error.h"
#include "espdoctor/netport.h"
#include "espdoctor/port_locks.h"
#include "espdoctor/shell.h"
#include "espdoctor/sysroot.h"
#include "espdoctor/transport.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_board(const struct ed_port *p)
{
    return p->devnode[0] && p->bridge;
}

static bool parse_hex16(const char *text, size_t len, uint16_t *out)
{
    if (len == 0 || len > 4)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)text[i];
        if (!isxdigit(c))
            return false;
        v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    *out = (uint16_t)v;
    return true;
}

void ed_port_spec_parse(const char *text, struct ed_port_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->kind = ED_SPEC_PATH;
    spec->text = text;
    struct ed_port_url url;
    const char *colon = strchr(text, ':');
    if (strncmp(text, "serial=", 7) == 0) {
        spec->kind = ED_SPEC_SERIAL;
        spec->serial = text + 7;
    } else if (ed_port_url_parse(text, &url) != ED_OK || url.scheme != ED_PORT_LOCAL) {
        spec->kind = ED_SPEC_URL;
    } else if (colon && parse_hex16(text, (size_t)(colon - text), &spec->vid) &&
               parse_hex16(colon + 1, strlen(colon + 1), &spec->pid)) {
        spec->kind = ED_SPEC_USB_ID;
    }
}

static bool spec_matches(const struct ed_port_spec *spec, const struct ed_port *p)
{
    switch (spec->kind) {
    case ED_SPEC_USB_ID:
        return p->vid == spec->vid && p->pid == spec->pid;
    case ED_SPEC_SERIAL:
        return spec->serial[0] && strcmp(p->serial, spec->serial) == 0;
    default:
        return false;
    }
}

size_t ed_ports_match(const struct ed_port_list *list, const struct ed_port_spec *spec,
                      bool with_tty, size_t *idx, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < list->count; i++) {
        const struct ed_port *p = &list->items[i];
        if ((with_tty && !p->devnode[0]) || !spec_matches(spec, p))
            continue;
        if (n < cap)
            idx[n] = i;
        n++;
    }
    return n;
}

/* "10c4:ea60 CP2102, serial 0001" */
static void describe(const struct ed_port *p, char *buf, size_t len)
{
    const char *what = p->bridge ? p->bridge->chip : p->product[0] ? p->product : "USB serial";
    snprintf(buf, len, "%04x:%04x %s%s%s", p->vid, p->pid, what,
             p->serial[0] ? ", serial " : "", p->serial);
}

/* The number typed on line, 1..n, or 0 when it is not one of them. */
static unsigned long parse_choice(const char *line, size_t n)
{
    char *end;
    errno = 0;
    unsigned long choice = strtoul(line, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    const char *first = line + strspn(line, " \t");
    if (end == line || *end || errno || *first == '-' || *first == '+' || choice < 1 ||
        choice > n)
        return 0;
    return choice;
}

static bool blank_line(const char *line)
{
    return line[strspn(line, " \t\r\n")] == '\0';
}

int ed_port_pick(FILE *in, FILE *err, const struct ed_port *items, const size_t *idx,
                 size_t n)
{
    char line[64], what[160];
    for (size_t i = 0; i < n; i++) {
        describe(&items[idx[i]], what, sizeof what);
        fprintf(err, "  %zu) %-14s %s\n", i + 1, items[idx[i]].devnode, what);
    }
    for (unsigned tries = 0; tries < ED_PORT_PICK_TRIES; tries++) {
        fprintf(err, "Which one? [1-%zu, Enter cancels] ", n);
        fflush(err);
        if (!fgets(line, sizeof line, in))
            return -1;
        bool whole = strchr(line, '\n') != NULL || feof(in);
        if (!whole) {   /* a line longer than any number: drop the rest of it */
            int c;
            while ((c = fgetc(in)) != EOF && c != '\n')
                ;
        }
        if (blank_line(line))
            return -1;
        unsigned long choice = whole ? parse_choice(line, n) : 0;
        if (choice)
            return (int)(choice - 1);
        line[strcspn(line, "\r\n")] = '\0';
        fprintf(err, "'%s' is not one of the numbers 1 to %zu.\n", line, n);
    }
    return -1;
}

static void take(struct ed_port_choice *choice, const struct ed_port *p)
{
    choice->known = true;
    choice->info = *p;
    snprintf(choice->path, sizeof choice->path, "%s", p->devnode);
}

/* Several ports fit: ask at a terminal, else list the -p values and stop. */
static int choose_one(struct ed_cli *cli, const struct ed_port_list *ports, const size_t *idx,
                      size_t n, const char *why, struct ed_port_choice *choice)
{
    if (!cli->json && isatty(STDIN_FILENO)) {
        fprintf(cli->err, "%s: %s:\n", cli->prog, why);
        int at = ed_port_pick(stdin, cli->err, ports->items, idx, n);
        if (at < 0) {
            ed_cli_error(cli, "no port chosen; name one with -p PORT.");
            return ED_EXIT_USAGE;
        }
        take(choice, &ports->items[idx[at]]);
        return ED_EXIT_OK;
    }
    ed_cli_error(cli, "%s; say which one with -p PORT:", why);
    char what[160];
    for (size_t i = 0; i < n; i++) {
        const struct ed_port *p = &ports->items[idx[i]];
        describe(p, what, sizeof what);
        fprintf(cli->err, "  -p %-14s %s\n", p->devnode, what);
    }
    return ED_EXIT_USAGE;
}

/* -p VID:PID or serial=XXXX */
static int select_matching(struct ed_cli *cli, const struct ed_port_list *ports,
                           const struct ed_port_spec *spec, struct ed_port_choice *choice)
{
    if (spec->kind == ED_SPEC_SERIAL && !spec->serial[0]) {
        ed_cli_error(cli, "'serial=' needs the USB serial number after it (see '%s list').",
                     cli->prog);
        return ED_EXIT_USAGE;
    }
    size_t idx[32];
    size_t n = ed_ports_match(ports, spec, true, idx, sizeof idx / sizeof idx[0]);
    if (n > sizeof idx / sizeof idx[0])
        n = sizeof idx / sizeof idx[0];
    if (n == 1) {
        take(choice, &ports->items[idx[0]]);
        return ED_EXIT_OK;
    }
    if (n > 1) {
        char why[128];
        snprintf(why, sizeof why, "%zu ports match %s", n, spec->text);
        return choose_one(cli, ports, idx, n, why, choice);
    }
    if (ed_ports_match(ports, spec, false, NULL, 0) > 0) {
        ed_cli_error(cli, "the USB device %s names is plugged in but has no serial port "
                          "(driver missing, or the device claimed by another program). "
                          "Run '%s doctor' for why.", spec->text, cli->prog);
        return ED_EXIT_NODEV;
    }
    size_t boards = ed_ports_count_boards(ports);
    ed_cli_error(cli, "no connected port matches %s%s", spec->text,
                 boards ? "; these are here:" : " (no ESP board is connected).");
    char what[160];
    for (size_t i = 0; i < ports->count; i++) {
        const struct ed_port *p = &ports->items[i];
        if (is_board(p)) {
            describe(p, what, sizeof what);
            fprintf(cli->err, "  -p %-14s %s\n", p->devnode, what);
        }
    }
    return ED_EXIT_NODEV;
}

/* Several boards and no -p: the one the configuration file says was used last, when it is
 * one of them (and the person is told, with how to pick another). */
static bool take_remembered(struct ed_cli *cli, const struct ed_port_list *ports,
                            const size_t *idx, size_t n, struct ed_port_choice *choice)
{
    struct ed_config c;
    bool found = false;
    if (ed_cli_config_load(cli, &c) && c.last[0])
        for (size_t i = 0; i < n && !found; i++)
            if (strcmp(ports->items[idx[i]].serial, c.last) == 0) {
                take(choice, &ports->items[idx[i]]);
                found = true;
            }
    ed_config_free(&c);
    if (found && !cli->quiet)
        fprintf(cli->err, "%s: %zu boards are connected; using %s (USB serial %s), the one "
                "used last (configuration file; -p PORT names another).\n", cli->prog, n,
                choice->path, choice->info.serial);
    return found;
}

static int select_automatically(struct ed_cli *cli, const struct ed_port_list *ports,
                                const struct ed_board_wait *waited,
                                struct ed_port_choice *choice)
{
    size_t idx[32], n = 0;
    for (size_t i = 0; i < ports->count && n < sizeof idx / sizeof idx[0]; i++)
        if (is_board(&ports->items[i]))
            idx[n++] = i;
    if (n == 1) {
        take(choice, &ports->items[idx[0]]);
        return ED_EXIT_OK;
    }
    if (n > 1 && take_remembered(cli, ports, idx, n, choice))
        return ED_EXIT_OK;
    if (n > 1) {
        char why[64];
        snprintf(why, sizeof why, "%zu boards are connected", n);
        return choose_one(cli, ports, idx, n, why, choice);
    }
    size_t ttyless = 0;
    for (size_t i = 0; i < ports->count; i++)
        ttyless += !ports->items[i].devnode[0];
    if (ttyless)
        ed_cli_error(cli, "a USB serial bridge is plugged in but has no serial port "
                          "(driver missing or the device claimed by another program). "
                          "Run '%s list' to see it, and '%s doctor' for why.",
                     cli->prog, cli->prog);
    else if (waited->waited_ms)
        ed_cli_error(cli, "no ESP board appeared: nothing was plugged in on USB in %u s "
                          "(a charge-only cable, a dead USB port or board). Plug it in "
                          "with a cable known to carry data, or try another USB port.",
                     (waited->waited_ms + 500) / 1000);
    else
        ed_cli_error(cli, "no ESP board found: no known USB serial bridge is connected. "
                          "Plug the board in with a data-capable cable (charge-only "
                          "cables are common), or name the port with -p.");
    return ED_EXIT_NODEV;
}

/* The port a path names: the node or by-id link exactly as listed, else whatever the
 * link resolves to. The exact match needs no realpath(), which umockdev's testbed
 * cannot serve for /dev paths. */
static const struct ed_port *find_listed(const struct ed_port_list *ports, const char *path)
{
    for (size_t i = 0; i < ports->count; i++) {
        const struct ed_port *p = &ports->items[i];
        if (p->devnode[0] && (strcmp(p->devnode, path) == 0 || strcmp(p->by_id, path) == 0))
            return p;
    }
    return ed_ports_find(ports, path);
}

int ed_select_port(struct ed_cli *cli, struct ed_port_choice *choice)
{
    memset(choice, 0, sizeof *choice);
    struct ed_port_spec spec;
    if (cli->port) {
        ed_port_spec_parse(cli->port, &spec);
        if (spec.kind == ED_SPEC_URL) {
            /* A network port: nothing local to look up. */
            snprintf(choice->path, sizeof choice->path, "%s", cli->port);
            return ED_EXIT_OK;
        }
    }
    struct ed_board_wait waited = { 0 };
    if (cli->wait_ms) {
        int rc = ed_wait_for_board(cli, cli->wait_ms, false, &waited);
        if (rc != ED_EXIT_OK)
            return rc;
    }
    struct ed_port_list ports;
    if (ed_ports_enumerate(&ports) != ED_OK)
        ports.count = 0, ports.items = NULL;

    int rc = ED_EXIT_OK;
    if (cli->port && spec.kind == ED_SPEC_PATH) {
        snprintf(choice->path, sizeof choice->path, "%s", cli->port);
        const struct ed_port *p = find_listed(&ports, cli->port);
        if (p) {
            choice->known = true;
            choice->info = *p;
        }
    } else if (cli->port) {
        rc = select_matching(cli, &ports, &spec, choice);
    } else {
        rc = select_automatically(cli, &ports, &waited, choice);
    }
    ed_ports_free(&ports);
    return rc;
}

/* Name the group that owns the node, for permission advice. */
static void node_group(const char *path, char *out, size_t len)
{
    struct stat st;
    struct group *gr;
    if (stat(path, &st) == 0 && (gr = getgrgid(st.st_gid)) != NULL)
        snprintf(out, len, "%s", gr->gr_name);
    else
        snprintf(out, len, "dialout");
}

/* Explain why a network port could not be opened; returns the exit code. */
static int explain_remote_failure(struct ed_cli *cli, const struct ed_port_url *url, int rc,
                                  int err, struct ed_port_failure *why)
{
    char where[300];
    bool v6 = strchr(url->host, ':') != NULL;
    snprintf(where, sizeof where, "%s%s%s:%u", v6 ? "[" : "", url->host, v6 ? "]" : "",
             url->port);
    const char *server = url->scheme == ED_PORT_RFC2217 ? "the RFC 2217 server (ser2net, "
                                                          "esp_rfc2217_server)"
                                                        : "the serial server (ser2net, ...)";
    switch (rc) {
    case ED_E_NOTFOUND:
        if (err == ECONNREFUSED)
            ed_cli_error(cli, "nothing listens on %s; is %s running, and on that port?",
                         where, server);
        else if (err == ENOENT)
            ed_cli_error(cli, "the host name '%s' does not resolve; check the spelling, or "
                              "give its IP address.", url->host);
        else
            ed_cli_error(cli, "%s cannot be reached (%s): check the address and the "
                              "network.", where, strerror(err));
        return ED_EXIT_NODEV;
    case ED_E_TIMEOUT:
        ed_cli_error(cli, "%s did not answer within %u s: the host is down, or a firewall "
                          "drops the connection.", where, ED_NET_CONNECT_MS / 1000);
        return ED_EXIT_NODEV;
    case ED_E_BUSY:
        ed_cli_error(cli, "%s accepted the connection and closed it at once: the server "
                          "probably has another client on this port (most serve one at a "
                          "time). Close the other client and retry.", where);
        if (why) {
            *why = (struct ed_port_failure){ .id = "lock.busy" };
            snprintf(why->message, sizeof why->message, "%s accepted the connection and "
                     "closed it at once: the server probably has another client on this "
                     "port (most serve one at a time).", where);
            snprintf(why->fix, sizeof why->fix, "Close the other client and retry.");
        }
        return ED_EXIT_PORT;
    case ED_E_UNSUPPORTED:
        ed_cli_error(cli, "%s answered, but not as an RFC 2217 server (it did not agree to "
                          "the COM-PORT-OPTION). If it is a raw TCP serial bridge, use "
                          "socket://%s (no reset possible); for ser2net, configure the "
                          "accepter as telnet(rfc2217),tcp,...", where, where);
        return ED_EXIT_PORT;
    default:
        ed_cli_error(cli, "cannot use %s: %s%s%s.", where, ed_strerror(rc),
                     err ? " - " : "", err ? strerror(err) : "");
        return ED_EXIT_PORT;
    }
}

static int open_remote(struct ed_cli *cli, const struct ed_port_url *url, uint32_t baud,
                       struct ed_transport **out, struct ed_port_failure *why)
{
    int rc = url->scheme == ED_PORT_RFC2217 ? ed_rfc2217_open(url->host, url->port, baud, out)
                                            : ed_socket_open(url->host, url->port, baud, out);
    if (rc != ED_OK)
        return explain_remote_failure(cli, url, rc, errno, why);
    if (url->scheme == ED_PORT_SOCKET && !cli->quiet)
        fprintf(cli->err, "%s: socket:// has no DTR/RTS: espdoctor cannot reset the board; "
                          "put it in download mode by hand (hold BOOT, tap EN).\n",
                cli->prog);
    return ED_EXIT_OK;
}

/* The port is held by another program (its flock, or TIOCEXCL): name it by PID, from the
 * real /proc (the refusal was real, whatever system root the doctor would judge). */
static int explain_busy(struct ed_cli *cli, const struct ed_port_choice *choice,
                        const char *node, struct ed_port_failure *why)
{
    struct ed_sysroot real;
    ed_sysroot_init(&real, "");
    pid_t pids[8];
    size_t n = ed_port_holders(&real, node, pids, 8);
    struct ed_port_failure f = { .id = "lock.busy" };
    char quoted[300];
    if (n > 0) {
        char who[300];
        ed_sysroot_describe_processes(&real, pids, n, who, sizeof who);
        uid_t owner = geteuid();
        ed_sysroot_process_exists(&real, pids[0], &owner);
        snprintf(f.message, sizeof f.message, "%s is in use by %s: a port serves one program "
                 "at a time, and a second one would reset the board in the middle of the "
                 "first one's work.", choice->path, who);
        snprintf(f.fix, sizeof f.fix, "Wait for %s to finish, or end it.", who);
        snprintf(f.fix_command, sizeof f.fix_command, "%skill %d",
                 owner != geteuid() && geteuid() != 0 ? "sudo " : "", (int)pids[0]);
    } else {
        snprintf(f.message, sizeof f.message, "%s is in use by another program (a serial "
                 "monitor, screen, minicom, an IDE, another espdoctor) that you may not see: "
                 "a port serves one program at a time.", choice->path);
        snprintf(f.fix, sizeof f.fix, "Find the program that has the port open, then close "
                 "it.");
        snprintf(f.fix_command, sizeof f.fix_command, "sudo fuser -v %s",
                 ed_shell_quote(choice->path, quoted, sizeof quoted));
    }
    ed_cli_error(cli, "%s", f.message);
    ed_cli_note_problem(cli, f.id, f.fix, f.fix_command);
    struct ed_text_style st;
    ed_cli_style(cli, true, &st);
    ed_render_fix(cli->err, "Fix: ", "  ", f.fix, f.fix_command, &st);
    if (why)
        *why = f;
    return ED_EXIT_PORT;
}

int ed_open_port(struct ed_cli *cli, const struct ed_port_choice *choice, uint32_t baud,
                 struct ed_transport **out)
{
    return ed_open_port_why(cli, choice, baud, out, NULL);
}

int ed_open_port_why(struct ed_cli *cli, const struct ed_port_choice *choice, uint32_t baud,
                     struct ed_transport **out, struct ed_port_failure *why)
{
    *out = NULL;
    if (why)
        memset(why, 0, sizeof *why);
    struct ed_port_url url;
    int urc = ed_port_url_parse(choice->path, &url);
    if (urc != ED_OK) {
        ed_cli_error(cli, "'%s' is not a port espdoctor can open: %s.", choice->path,
                     url.problem);
        return ED_EXIT_USAGE;
    }
    if (url.scheme != ED_PORT_LOCAL)
        return open_remote(cli, &url, baud, out, why);

    /* A known port opens through the node the enumeration found (a by-id link is only
     * another name for it); errors still name what the user typed. */
    const char *node = choice->known && choice->info.devnode[0] ? choice->info.devnode
                                                                 : choice->path;
    int rc = ed_serial_open(node, baud, out);
    if (rc == ED_OK)
        return ED_EXIT_OK;
    char group[64];
    switch (rc) {
    case ED_E_NOTFOUND:
        ed_cli_error(cli, "%s does not exist. Run '%s list' to see the ports there are; "
                          "if the board was just unplugged, plug it back in.",
                     choice->path, cli->prog);
        return ED_EXIT_NODEV;
    case ED_E_PERM:
        node_group(choice->path, group, sizeof group);
        ed_cli_error(cli, "permission denied opening %s: it belongs to the group '%s' and "
                          "this login is not in it. Fix: sudo usermod -aG %s $USER, then log "
                          "out and in (or install espdoctor's udev rules: sudo %s udev "
                          "install). Run '%s doctor' for the full diagnosis.",
                     choice->path, group, group, cli->prog, cli->prog);
        {
            char quoted[96], command[160];
            snprintf(command, sizeof command, "sudo usermod -aG %s \"$USER\"",
                     ed_shell_quote(group, quoted, sizeof quoted));
            ed_cli_note_problem(cli, "perm.not-in-group",
                                "Add yourself to the port's group, then log out and back in "
                                "(or install espdoctor's udev rules as root).", command);
        }
        return ED_EXIT_PORT;
    case ED_E_BUSY:
        return explain_busy(cli, choice, node, why);
    case ED_E_ARG:
        ed_cli_error(cli, "%s is not a serial port. Pick one from '%s list'.", choice->path,
                     cli->prog);
        return ED_EXIT_NODEV;
    default:
        ed_cli_error(cli, "cannot open %s: %s%s%s.", choice->path, ed_strerror(rc),
                     errno ? " - " : "", errno ? strerror(errno) : "");
        return ED_EXIT_PORT;
    }
}

const char *ed_port_state(const struct ed_port *p)
{
    if (!p->devnode[0])
        return p->driver[0] ? "no serial port" : "no driver bound";
    if (!p->bridge)
        return "not a known bridge";
    return "ready to probe";
}

json_object *ed_port_json(const struct ed_port *p)
{
    char id[10];
    json_object *o = json_object_new_object();
    snprintf(id, sizeof id, "%04x:%04x", p->vid, p->pid);
    json_object_object_add(o, "port", ed_json_str(p->devnode[0] ? p->devnode : NULL));
    json_object_object_add(o, "by_id", ed_json_str(p->by_id[0] ? p->by_id : NULL));
    json_object_object_add(o, "usb_id", json_object_new_string(id));
    json_object_object_add(o, "usb_path", ed_json_str(p->usb_name));
    json_object_object_add(o, "family",
                           ed_json_str(p->bridge ? ed_bridge_family_name(p->bridge->family) : NULL));
    json_object_object_add(o, "bridge", ed_json_str(p->bridge ? p->bridge->chip : NULL));
    json_object_object_add(o, "serial", ed_json_str(p->serial[0] ? p->serial : NULL));
    json_object_object_add(o, "manufacturer", ed_json_str(p->manufacturer[0] ? p->manufacturer : NULL));
    json_object_object_add(o, "product", ed_json_str(p->product[0] ? p->product : NULL));
    json_object_object_add(o, "driver", ed_json_str(p->driver[0] ? p->driver : NULL));
    json_object_object_add(o, "state", json_object_new_string(ed_port_state(p)));
    return o;
}
