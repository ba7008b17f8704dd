/* Which port a command talks to: -p, $ESPDOCTOR_PORT, or the only board plugged in.
 * Part of the CLI layer: it prints its own errors and returns exit codes. */
#ifndef ESPDOCTOR_PORTSEL_H
#define ESPDOCTOR_PORTSEL_H

#include <json-c/json.h>

#include "cli.h"
#include "espdoctor/ports.h"

struct ed_port_choice {
    char path[256];            /* what to open */
    bool known;                /* found in the enumeration: info below is valid */
    struct ed_port info;
};

/* ED_EXIT_OK with *choice filled, or an exit code after explaining the problem
 * (no board: ED_EXIT_NODEV; several: ED_EXIT_USAGE with the list). */
int ed_select_port(struct ed_cli *cli, struct ed_port_choice *choice);

/* Open the chosen port at baud, explaining failures (permission, busy, vanished, not a
 * tty) in one paragraph. Returns ED_EXIT_OK or an exit code. */
struct ed_transport;
int ed_open_port(struct ed_cli *cli, const struct ed_port_choice *choice, uint32_t baud,
                 struct ed_transport **out);

/* "ready to probe", "no driver bound", ... for listings. */
const char *ed_port_state(const struct ed_port *p);

/* One port as JSON: {"port","by_id","usb_id","usb_path","family","bridge","serial",
 * "manufacturer","product","driver","state"}. */
json_object *ed_port_json(const struct ed_port *p);

#endif
