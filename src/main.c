/* espdoctor's entry point: parse the command line, run one command, exit with its code. */
#include "cli.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    exit(ed_cli_main(argc, argv));
}
