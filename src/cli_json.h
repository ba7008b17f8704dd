/* The JSON contract, kept in one place (CLI layer): with --json a run prints exactly one
 * document on stdout, and a run that fails carries a non-null error object {"id",
 * "message", "fix", "fix_command"}. Commands print their own document; this holds it back
 * until the command is done, then completes its error (an error a command left null or
 * gave as a bare string, with the id its exit status means and the table's fix), or, when
 * the command printed none (a usage error), writes one:
 *   {"command", "result", "exit_status", "error"}
 * Every document and event is one line with "schema" first (out.h). Progress events
 * (progress_events.h) are not held back: cli->events is the real stdout meanwhile, so
 * flash, erase and read print them, one a line, before their document. The monitor
 * streams events, one per line: its output is not held back. */
#ifndef ESPDOCTOR_CLI_JSON_H
#define ESPDOCTOR_CLI_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

struct ed_cli_json {
    FILE *real;      /* stdout */
    FILE *held;      /* what the command prints, in memory */
    char *text;
    size_t len;
};

/* Hold back cli->out (no-op unless --json). */
void ed_cli_json_begin(struct ed_cli *cli, struct ed_cli_json *j);

/* The command ended with exit status rc: print its document, completed; returns rc. */
int ed_cli_json_end(struct ed_cli *cli, struct ed_cli_json *j, const char *command, int rc);

/* The id an exit status stands for when nothing more specific is known. */
const char *ed_cli_json_error_id(int rc);

#endif
