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
