/* espsim: virtual ESP boards behind simulated USB serial bridges, for running espdoctor (or
 * any serial client) without hardware. See tests/sim/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "boards.h"
#include "run.h"

int main(int argc, char **argv)
{
    char err[512];
    struct espsim_board_set *set = espsim_boards_parse(argc, argv, err, sizeof err);
    if (!set) {
        fprintf(stderr, "espsim: %s\nTry 'espsim --help' for the options.\n", err);
        exit(2);
    }
    if (set->boards[0].help) {
        espsim_usage(stdout);
        espsim_boards_usage(stdout);
        espsim_boards_free(set);
        exit(0);
    }
    int status = espsim_run(set);
    espsim_boards_free(set);
    exit(status);
}
