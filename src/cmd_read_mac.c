/* `espdoctor read-mac`: reach the ROM bootloader, identify the chip and read its factory
 * MAC from eFuse (OTP on the ESP8266), nothing else: no flash probe, no stub. */
#include "cli.h"
#include "commands.h"
#include "connect.h"
#include "out.h"
#include "portsel.h"

#include "espdoctor/error.h"
#include "espdoctor/loader.h"


static int say_mac(struct ed_cli *cli, const struct ed_port_choice *pc,
                   const struct ed_loader *ld, const uint8_t mac[6], int rc)
{
    char text[18];
    if (rc == ED_OK)
        ed_format_mac(mac, text);
    else
        ed_cli_error(cli, "the %s on %s answered, but its MAC could not be read: %s. Retry; "
                          "if it persists, run '%s info'.", ld->chip->name, pc->path,
                     ed_strerror(rc), cli->prog);
    if (cli->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "port", json_object_new_string(pc->path));
        json_object_object_add(o, "bridge", ed_connect_bridge_json(pc));
        json_object_object_add(o, "chip", json_object_new_string(ld->chip->name));
        json_object_object_add(o, "chip_key", json_object_new_string(ld->chip->key));
        json_object_object_add(o, "mac", rc == ED_OK ? json_object_new_string(text) : NULL);
        json_object_object_add(o, "error", NULL);   /* filled in on failure (cli_json.c) */
        ed_out_json(cli->out, o);
    } else if (rc == ED_OK) {
        fprintf(cli->out, "%s\n", text);
    }
    return rc == ED_OK ? ED_EXIT_OK : ED_EXIT_FAIL;
}

int cmd_read_mac(struct ed_cli *cli, int argc, char **argv)
{
    if (argc > 0) {
        ed_cli_error(cli, "'read-mac' takes no arguments (got '%s'); name the port with -p.",
                     argv[0]);
        return ED_EXIT_USAGE;
    }
    struct ed_port_choice pc;
    struct ed_loader *ld;
    int rc = ed_connect_open(cli, &pc, &ld);
    if (rc == ED_EXIT_OK) {
        uint8_t mac[6];
        rc = say_mac(cli, &pc, ld, mac, ed_loader_read_mac(ld, mac));
        ed_connect_leave(cli, ld);
    }
    return ed_connect_close(cli, &pc, ld, rc);
}
