/* `espdoctor list`: the USB serial bridges and ports present. */
#include "cli.h"
#include "commands.h"
#include "out.h"
#include "portsel.h"

#include "espdoctor/bridge_identity.h"
#include "espdoctor/error.h"
#include "espdoctor/ports.h"

/* {"part","line_max_baud","source":"usb"|"table","counterfeit","finding","note"} */
static json_object *identity_json(const struct ed_bridge_identity *id)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "part", json_object_new_string(id->part));
    json_object_object_add(o, "line_max_baud",
                           id->line_max_baud ? json_object_new_int64(id->line_max_baud) : NULL);
    json_object_object_add(o, "source", json_object_new_string(id->from_usb ? "usb" : "table"));
    json_object_object_add(o, "counterfeit", json_object_new_boolean(id->counterfeit));
    json_object_object_add(o, "finding",
                           id->counterfeit ? json_object_new_string("bridge.counterfeit") : NULL);
    json_object_object_add(o, "note", id->note[0] ? json_object_new_string(id->note) : NULL);
    return o;
}

static void print_identity(const struct ed_cli *cli, const struct ed_bridge_identity *id)
{
    fprintf(cli->out, "  part %s%s%s", id->part, id->from_usb ? " (read over USB)" : "",
            id->counterfeit ? ", answers as a counterfeit CP2102 does (bridge.counterfeit)" : "");
    if (id->line_max_baud)
        fprintf(cli->out, ", up to %u baud", id->line_max_baud);
    fprintf(cli->out, "%s%s\n", id->note[0] ? "; " : "", id->note);
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
        for (size_t i = 0; i < ports.count; i++) {
            json_object *o = ed_port_json(&ports.items[i]);
            struct ed_bridge_identity id;
            ed_bridge_identify(&ports.items[i], &id);
            json_object_object_add(o, "variant",
                                   ports.items[i].bridge ? identity_json(&id) : NULL);
            json_object_array_add(arr, o);
        }
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
                    p->driver[0] ? p->driver : "(none)", ed_port_state(p));
            if (p->serial[0] || p->by_id[0])
                fprintf(cli->out, "  serial %s%s%s\n", p->serial[0] ? p->serial : "-",
                        p->by_id[0] ? "  " : "", p->by_id);
            struct ed_bridge_identity id;
            if (p->bridge && ed_bridge_identify(p, &id) == ED_OK)
                print_identity(cli, &id);
        }
    }
    ed_ports_free(&ports);
    return ED_EXIT_OK;
}
