/* Port selection and opening for commands (see portsel.h). */
#include "portsel.h"
#include "out.h"

#include "espdoctor/error.h"
#include "espdoctor/transport.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>

int ed_select_port(struct ed_cli *cli, struct ed_port_choice *choice)
{
    memset(choice, 0, sizeof *choice);
    struct ed_port_list ports;
    if (ed_ports_enumerate(&ports) != ED_OK)
        ports.count = 0, ports.items = NULL;

    if (cli->port) {
        snprintf(choice->path, sizeof choice->path, "%s", cli->port);
        const struct ed_port *p = ed_ports_find(&ports, cli->port);
        if (p) {
            choice->known = true;
            choice->info = *p;
        }
        ed_ports_free(&ports);
        return ED_EXIT_OK;
    }

    size_t boards = ed_ports_count_boards(&ports);
    if (boards == 1) {
        for (size_t i = 0; i < ports.count; i++)
            if (ports.items[i].devnode[0] && ports.items[i].bridge) {
                choice->known = true;
                choice->info = ports.items[i];
                snprintf(choice->path, sizeof choice->path, "%s", ports.items[i].devnode);
            }
        ed_ports_free(&ports);
        return ED_EXIT_OK;
    }
    if (boards == 0) {
        size_t ttyless = 0;
        for (size_t i = 0; i < ports.count; i++)
            ttyless += !ports.items[i].devnode[0];
        if (ttyless)
            ed_cli_error(cli, "a USB serial bridge is plugged in but has no serial port "
                              "(driver missing or the device claimed by another program). "
                              "Run '%s list' to see it, and '%s doctor' for why.",
                         cli->prog, cli->prog);
        else
            ed_cli_error(cli, "no ESP board found: no known USB serial bridge is connected. "
                              "Plug the board in with a data-capable cable (charge-only "
                              "cables are common), or name the port with -p.");
        ed_ports_free(&ports);
        return ED_EXIT_NODEV;
    }
    ed_cli_error(cli, "%zu boards are connected; say which one with -p PORT:", boards);
    for (size_t i = 0; i < ports.count; i++) {
        const struct ed_port *p = &ports.items[i];
        if (p->devnode[0] && p->bridge)
            fprintf(cli->err, "  -p %-14s %04x:%04x %s%s%s\n", p->devnode, p->vid, p->pid,
                    p->bridge->chip, p->serial[0] ? ", serial " : "", p->serial);
    }
    ed_ports_free(&ports);
    return ED_EXIT_USAGE;
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

int ed_open_port(struct ed_cli *cli, const struct ed_port_choice *choice, uint32_t baud,
                 struct ed_transport **out)
{
    int rc = ed_serial_open(choice->path, baud, out);
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
        return ED_EXIT_PORT;
    case ED_E_BUSY:
        ed_cli_error(cli, "%s is in use by another program (a serial monitor, screen, "
                          "minicom, an IDE). Close it and retry; '%s doctor' names the "
                          "process.", choice->path, cli->prog);
        return ED_EXIT_PORT;
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
