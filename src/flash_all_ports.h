/* The ports `flash --all` was told to flash: every -p, in order, then the lines of
 * --ports FILE (one port a line as -p takes it; '#' starts a comment, blank lines are
 * ignored). Part of the CLI layer: it prints its own errors and returns exit codes.
 *
 * A line that cannot be a port (two words, a malformed or unknown URL, a relative name)
 * stops the run before any board is opened, each named "FILE:LINE"; whether a port
 * answers is each board's own business (board_procs.h). */
#ifndef ESPDOCTOR_FLASH_ALL_PORTS_H
#define ESPDOCTOR_FLASH_ALL_PORTS_H

#include <stddef.h>

#include "cli.h"

struct ed_port_entry {
    char text[256];     /* the port as given: "/dev/ttyUSB1", "rfc2217://host:4000" */
    char where[288];    /* where it was given: "-p", "bench.ports:3" */
};

struct ed_port_entries {
    struct ed_port_entry *items;
    size_t count;
};

/* Fill *out from cli->ports and cli->ports_file (without either: $ESPDOCTOR_PORT's
 * cli->port, if set; else nothing: every connected board). A port named twice is kept
 * once. Returns ED_EXIT_OK, ED_EXIT_INPUT (the file cannot be read), ED_EXIT_USAGE (bad
 * lines, every one reported; a file that names no port) or ED_EXIT_FAIL (memory); after
 * an error *out holds nothing to free. */
int ed_port_entries_read(const struct ed_cli *cli, struct ed_port_entries *out);

void ed_port_entries_free(struct ed_port_entries *e);

#endif
