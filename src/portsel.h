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
    const char *reset_button;  /* the bootloader was reached by a press of the buttons
                                  (button.h): the name of the one that restarts the chip,
                                  as the person was told; NULL: the auto-reset did it */
};

/* What -p (or $ESPDOCTOR_PORT) names. */
enum ed_port_spec_kind {
    ED_SPEC_PATH,        /* /dev/ttyUSB0, /dev/serial/by-id/... */
    ED_SPEC_URL,         /* rfc2217://HOST:PORT, socket://HOST:PORT */
    ED_SPEC_USB_ID,      /* VID:PID in hex, e.g. 10c4:ea60 */
    ED_SPEC_SERIAL,      /* serial=XXXX: the USB serial number */
};

struct ed_port_spec {
    enum ed_port_spec_kind kind;
    const char *text;    /* the whole value as given */
    uint16_t vid, pid;   /* ED_SPEC_USB_ID */
    const char *serial;  /* ED_SPEC_SERIAL: points into text */
};

/* Classify text; never fails (anything unrecognised is a path). */
void ed_port_spec_parse(const char *text, struct ed_port_spec *spec);

/* The ports of list that spec (USB_ID or SERIAL) names, as indices into list->items,
 * at most cap of them; with_tty: only those that have a serial device node. Returns the
 * number of matches, which may exceed cap. */
size_t ed_ports_match(const struct ed_port_list *list, const struct ed_port_spec *spec,
                      bool with_tty, size_t *idx, size_t cap);

#define ED_PORT_PICK_TRIES 5u

/* Show the ports items[idx[0..n)] numbered from 1 on err, ask, and read one line from in;
 * an answer that is not one of the numbers is said to be so and the question asked again
 * (up to ED_PORT_PICK_TRIES times). Returns the chosen position in idx (0-based), or -1:
 * an empty answer (cancel), end of input, or no right answer in all those tries. */
int ed_port_pick(FILE *in, FILE *err, const struct ed_port *items, const size_t *idx,
                 size_t n);

/* ED_EXIT_OK with *choice filled, or an exit code after explaining the problem.
 * cli->port may be a path, a URL (no lookup: choice->known is false), VID:PID or
 * serial=XXXX (the one matching board). Without it: the only board present; of several,
 * the one the configuration file names as used last (config_cli.h; said on stderr). When
 * several boards fit otherwise, a terminal on stdin (and no --json) gets a numbered
 * choice; otherwise the list of -p values is printed and ED_EXIT_USAGE returned. No
 * board: ED_EXIT_NODEV. */
int ed_select_port(struct ed_cli *cli, struct ed_port_choice *choice);

/* Open the chosen port at baud, explaining failures (permission, busy, vanished, not a
 * tty, nothing listening) in one paragraph; a socket:// port also gets the note that the
 * board cannot be reset from here. Returns ED_EXIT_OK or an exit code. */
struct ed_transport;
int ed_open_port(struct ed_cli *cli, const struct ed_port_choice *choice, uint32_t baud,
                 struct ed_transport **out);

/* Why a port could not be opened, for a command's JSON error object (id "" when the
 * failure has no finding id of its own). */
struct ed_port_failure {
    char id[32];             /* "lock.busy" */
    char message[1200];
    char fix[512];
    char fix_command[96];
};

/* ed_open_port that also fills *why (may be NULL) when it fails. */
int ed_open_port_why(struct ed_cli *cli, const struct ed_port_choice *choice, uint32_t baud,
                     struct ed_transport **out, struct ed_port_failure *why);

/* "ready to probe", "no driver bound", ... for listings. */
const char *ed_port_state(const struct ed_port *p);

/* One port as JSON: {"port","by_id","usb_id","usb_path","family","bridge","serial",
 * "manufacturer","product","driver","state"}. */
json_object *ed_port_json(const struct ed_port *p);

#endif
