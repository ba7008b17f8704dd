/* `espdoctor list`: the USB serial bridges and ports present. */
#include "cli.h"
#include "commands.h"
#include "out.h"

#include "espdoctor/error.h"
#include "espdoctor/ports.h"

static const char *port_state(const struct ed_port *p)
{
    if (!p->devnode[0])
        return p->driver[0] ? "no serial port" : "no driver bound";
    if (!p->bridge)
        return "not a known bridge";
    return "ready to probe";
}

static json_object *port_json(const struct ed_port *p)
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
    json_object_object_add(o, "state", json_object_new_string(port_state(p)));
    return o;
}

int cmd_list(struct ed_cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        ed_cli_error(cli, "'list' takes no arguments.");
        return ED_EXIT_USAGE;
    }
    struct ed_port_list ports;
    int rc = ed_ports_enumerate(&ports);
    if (rc != ED_OK) {
        ed_cli_error(cli, "cannot enumerate devices through udev: %s.", ed_strerror(rc));
        return ED_EXIT_FAIL;
    }
    if (cli->json) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < ports.count; i++)
            json_object_array_add(arr, port_json(&ports.items[i]));
        json_object *root = json_object_new_object();
        json_object_object_add(root, "ports", arr);
        ed_out_json(cli->out, root);
    } else if (ports.count == 0) {
        fprintf(cli->out, "No USB serial ports or known bridges found.\n"
                          "Plug the board in with a data-capable USB cable (charge-only "
                          "cables are common), then run '%s list' again.\n", cli->prog);
    } else {
        for (size_t i = 0; i < ports.count; i++) {
            const struct ed_port *p = &ports.items[i];
            bool good = p->devnode[0] && p->bridge;
            fprintf(cli->out, "%s%s%s %-14s %04x:%04x  %-14s driver %-9s %s\n",
                    ed_tone_on(cli->color, good ? ED_TONE_OK : ED_TONE_WARN),
                    ed_tone_mark(good ? ED_TONE_OK : ED_TONE_WARN), ed_tone_off(cli->color),
                    p->devnode[0] ? p->devnode : "(no tty)", p->vid, p->pid,
                    p->bridge ? p->bridge->chip : "unknown",
                    p->driver[0] ? p->driver : "(none)", port_state(p));
            if (p->serial[0] || p->by_id[0])
                fprintf(cli->out, "  serial %s%s%s\n", p->serial[0] ? p->serial : "-",
                        p->by_id[0] ? "  " : "", p->by_id);
        }
    }
    ed_ports_free(&ports);
    return ED_EXIT_OK;
}
