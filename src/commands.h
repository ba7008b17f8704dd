/* Every command's entry point; the table that lists them is in cli.c. */
#ifndef ESPDOCTOR_COMMANDS_H
#define ESPDOCTOR_COMMANDS_H

#include "cli.h"

int cmd_doctor(struct ed_cli *cli, int argc, char **argv);
int cmd_erase(struct ed_cli *cli, int argc, char **argv);
int cmd_flash(struct ed_cli *cli, int argc, char **argv);
int cmd_image(struct ed_cli *cli, int argc, char **argv);
int cmd_info(struct ed_cli *cli, int argc, char **argv);
int cmd_list(struct ed_cli *cli, int argc, char **argv);
int cmd_read(struct ed_cli *cli, int argc, char **argv);
int cmd_udev(struct ed_cli *cli, int argc, char **argv);

#endif
