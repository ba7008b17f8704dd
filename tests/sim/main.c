/* espsim: a virtual ESP board behind a USB serial bridge, for running espdoctor (or any
 * serial client) without hardware. See tests/sim/README.md. */
#include <stdio.h>
#include <stdlib.h>

#include "options.h"
#include "run.h"

int main(int argc, char **argv)
{
    struct espsim_opts opts;
    char err[512];
    if (!espsim_parse_args(argc, argv, &opts, err, sizeof err)) {
        fprintf(stderr, "espsim: %s\nTry 'espsim --help' for the options.\n", err);
        exit(2);
    }
    if (opts.help) {
        espsim_usage(stdout);
        exit(0);
    }
    exit(espsim_run(&opts));
}
