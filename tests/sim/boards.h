/* Several boards in one testbed: `--boards N` and `--board I:KEY=VALUE,...` on top of the
 * one-board command line (options.c). Each board gets its own complete espsim_opts, parsed
 * by espsim_parse_args from the shared options plus its own overrides, and its own place
 * on the USB hub, tty, serial number, MAC and per-board files (see tests/sim/README.md,
 * "Several boards"). */
#ifndef ESPSIM_BOARDS_H
#define ESPSIM_BOARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "options.h"
#include "usbrec.h"

#define ESPSIM_MAX_BOARDS 8

struct espsim_board_set {
    size_t count;
    /* Board i's options. The session's own (COMMAND, the planted root, --rfc2217,
     * --help) are those of boards[0]. */
    struct espsim_opts boards[ESPSIM_MAX_BOARDS];
    struct sim_usb_place places[ESPSIM_MAX_BOARDS];
    char serials[ESPSIM_MAX_BOARDS][64];
    GPtrArray *owned;           /* strings and argv arrays the options point into */
};

/* Parse argv. NULL with a one-paragraph reason in err; free the result with
 * espsim_boards_free. */
struct espsim_board_set *espsim_boards_parse(int argc, char **argv, char *err, size_t errlen);
void espsim_boards_free(struct espsim_board_set *set);

/* The --help section for the options above. */
void espsim_boards_usage(FILE *out);

#endif
