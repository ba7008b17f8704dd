/* espsim's command line. */
#ifndef ESPSIM_OPTIONS_H
#define ESPSIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "board/board.h"
#include "usbrec.h"

struct espsim_opts {
    struct sim_board_opts board;
    const struct sim_bridge_model *bridge;
    char chip[16];              /* normalised --chip, board.chip points here */
    char serial[32];            /* USB serial string when it is derived (usb-jtag: the MAC) */
    const char *trace_path;     /* --trace FILE ("-": stderr) */
    int rfc2217_port;           /* -1: no RFC 2217 server; 0: any free port */
    char **command;             /* NULL-terminated; NULL: none */
    bool help;
};

/* Fill opts from argv. False with a one-paragraph reason in err. */
bool espsim_parse_args(int argc, char **argv, struct espsim_opts *opts, char *err,
                       size_t errlen);

void espsim_usage(FILE *out);

#endif
