/* Connecting a command to the ROM bootloader: run the reset ladder, detect the chip, and
 * on failure explain what was tried and what the board printed (CLI layer). */
#ifndef ESPDOCTOR_CONNECT_H
#define ESPDOCTOR_CONNECT_H

#include <json-c/json.h>

#include "cli.h"
#include "portsel.h"
#include "espdoctor/loader.h"

/* ED_EXIT_OK with ld connected and ld->chip set; ED_EXIT_REFUSED (ld->chip set, the board
 * reset into its firmware, a JSON document printed) when it is not the chip --chip names;
 * otherwise the failure was explained
 * (stderr text, or a JSON document on stdout with --json) and an exit code returned.
 * A native-USB port that re-enumerates when the chip resets is followed (port_follow.h):
 * ld->tp and pc then name the board's new port, and the attempt says so. */
int ed_connect_and_detect(struct ed_cli *cli, struct ed_port_choice *pc, struct ed_loader *ld);

/* True when ld tried to reach the bootloader and no attempt got an answer. */
bool ed_connect_failed(const struct ed_loader *ld);

/* Run the doctor on port and print its findings (not with --json or -q). */
void ed_cli_diagnose(struct ed_cli *cli, const char *port);

/* The whole way to a board for a command that only reads it (info, read-mac): select the
 * port, open it at the ROM's rate, connect and detect. *ld is NULL when nothing was
 * opened; otherwise hand it, whatever the result, to ed_connect_close. */
int ed_connect_open(struct ed_cli *cli, struct ed_port_choice *pc, struct ed_loader **ld);

/* Close what ed_connect_open opened, run the doctor's checks when the connect itself
 * failed, and return rc. */
int ed_connect_close(struct ed_cli *cli, const struct ed_port_choice *pc,
                     struct ed_loader *ld, int rc);

/* The refusal above on its own, for a chip identified another way: ED_EXIT_OK when
 * there is no --chip or it names ld->chip. */
int ed_connect_check_chip(struct ed_cli *cli, const struct ed_port_choice *pc,
                          struct ed_loader *ld);

/* The end of a command on a board, as --after says: a hard reset (the firmware boots) or
 * nothing (left in the bootloader). */
void ed_connect_leave(const struct ed_cli *cli, struct ed_loader *ld);

/* [{"sequence","delay_ms","boot","boot_value","result"}, ...] */
json_object *ed_connect_attempts_json(const struct ed_loader *ld);

/* {"chip","usb_id","serial","driver","by_id"} or null for an unknown port. */
json_object *ed_connect_bridge_json(const struct ed_port_choice *pc);

#endif
