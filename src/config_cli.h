/* The configuration file for commands (CLI layer): loaded when a command needs it, unless
 * --no-config; any problem with it is one warning on stderr, never a failure. */
#ifndef ESPDOCTOR_CONFIG_CLI_H
#define ESPDOCTOR_CONFIG_CLI_H

#include "cli.h"
#include "portsel.h"
#include "espdoctor/config.h"

/* Read the file into c (initialised here; free it with ed_config_free). False when there
 * is none to use (--no-config, no path) or it could not be read: c is then empty. */
bool ed_cli_config_load(struct ed_cli *cli, struct ed_config *c);

/* What a command learnt about the board at pc (remembered only when it has a USB serial
 * number): it was used last, on pc->path; with learn_baud (a verified flash), the rate
 * aimed at (asked) and the one that worked (reached). The file is written only when it
 * changes. */
void ed_cli_config_remember(struct ed_cli *cli, const struct ed_port_choice *pc,
                            bool learn_baud, uint32_t asked, uint32_t reached);

/* Where a flash with no -b starts on the board at pc: target, or lower when the file
 * remembers a step down on it (ed_config_start_baud). */
uint32_t ed_cli_config_start_baud(struct ed_cli *cli, const struct ed_port_choice *pc,
                                  uint32_t target);

#endif
