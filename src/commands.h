/* Every command's entry point; the table that lists them is in cli.c. */
#ifndef ESPDOCTOR_COMMANDS_H
#define ESPDOCTOR_COMMANDS_H

#include "cli.h"

struct ed_port_choice;

/* flash --monitor: the monitor on the port just flashed, the board reset first. */
int ed_monitor_after_flash(struct ed_cli *cli, const struct ed_port_choice *pc);

int cmd_doctor(struct ed_cli *cli, int argc, char **argv);
int cmd_erase(struct ed_cli *cli, int argc, char **argv);
int cmd_flash(struct ed_cli *cli, int argc, char **argv);
int cmd_image(struct ed_cli *cli, int argc, char **argv);
int cmd_info(struct ed_cli *cli, int argc, char **argv);
int cmd_list(struct ed_cli *cli, int argc, char **argv);
int cmd_merge(struct ed_cli *cli, int argc, char **argv);
int cmd_monitor(struct ed_cli *cli, int argc, char **argv);
int cmd_read(struct ed_cli *cli, int argc, char **argv);
int cmd_read_mac(struct ed_cli *cli, int argc, char **argv);
int cmd_udev(struct ed_cli *cli, int argc, char **argv);

#endif
