/* `flash --all` (cmd_flash_all.c): every connected board whose chip matches the image,
 * flashed at once, one process per board (board_procs.h). Each runs the same code as
 * `flash` on one port (ed_flash_one, in cmd_flash.c), with hooks that tell the caller what
 * the board is, let it skip a board of another chip, and report progress. */
#ifndef ESPDOCTOR_FLASH_ALL_H
#define ESPDOCTOR_FLASH_ALL_H

#include <signal.h>
#include <stdbool.h>

#include "cli.h"
#include "flash_session.h"
#include "espdoctor/flash.h"

struct ed_flash_hooks {
    void *ctx;
    /* The files passed the checks that need no board. Return false to stop there, before
     * any port is opened (the run ends with result "checked", exit 0). NULL: go on. */
    bool (*files)(void *ctx, const struct ed_flash_plan *plan);
    /* Connected, the chip and flash known, and every file checked against them (the plan's
     * issues). Return false to leave this board alone: it is reset back into its firmware
     * and the run ends with result "skipped". NULL: always go on. */
    bool (*board)(void *ctx, struct ed_flash_session *s, const struct ed_flash_plan *plan);
    /* The engine's progress (see ed_flash_progress_fn). NULL: none. */
    ed_flash_progress_fn progress;
    /* Polled between blocks instead of flash's own SIGINT flag: the caller owns SIGINT. */
    const volatile sig_atomic_t *cancel;
};

/* `flash` on the port in cli->port, as cmd_flash does it (same checks, same output on
 * cli->out and cli->err, same exit codes), with the caller's hooks (NULL: none). */
int ed_flash_one(struct ed_cli *cli, int argc, char **argv, const struct ed_flash_hooks *hooks);

/* `flash --all [ADDR] FILE [ADDR FILE ...]` */
int cmd_flash_all(struct ed_cli *cli, int argc, char **argv);

#endif
