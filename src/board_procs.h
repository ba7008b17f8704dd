/* flash --all's workers: one process per board, each running `flash` on its own port
 * (ed_flash_one) with its output kept in memory; the parent follows them through a pipe
 * each (board_pipe.h) and shows a progress line per board (boards_view.h).
 *
 * Processes, not threads: a board's run then shares no library state with the others (the
 * umockdev preload the tests run under keeps paths in static buffers, and a crash or a
 * stuck library call stays with its board). */
#ifndef ESPDOCTOR_BOARD_PROCS_H
#define ESPDOCTOR_BOARD_PROCS_H

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "boards_view.h"
#include "board_pipe.h"
#include "cli.h"
#include "espdoctor/image.h"
#include "espdoctor/ports.h"

struct ed_board_job {
    struct ed_port port;        /* in: the board's port, from the enumeration (zero for a
                                   port that was named but not found: a network port) */
    char name[256];             /* in: what its process opens: the devnode, or the port as
                                   named (rfc2217://HOST:PORT) */
    bool ended;                 /* in: failed before its process could start (reason says
                                   why): none is started for it */
    /* Filled as the board's process reports, and when it ends. */
    struct ed_board_line line;  /* what the progress view shows */
    bool skipped;               /* the files are for another chip */
    char reason[ED_IMAGE_MESSAGE_MAX];   /* why it was skipped, or why it failed outside flash */
    char mac[18];               /* "-" until read */
    int exit_code;              /* the board's `flash` exit code */
    double seconds;
    json_object *doc;           /* its `flash --json` document; NULL if none arrived */
    char *messages;             /* what it said on stderr ("" if nothing) */
    /* The parent's bookkeeping. */
    pid_t pid;
    int fd;
    bool running;
    struct ed_frame_reader reader;
    uint64_t start_us, moved_us, moved_from;
};

/* Run `flash` with argc/argv on every job's port, one process each, cli's options (its
 * output mode decides the view: mode). Returns when every process has ended. SIGINT is
 * the caller's: once *interrupted is set, each board is told to stop between blocks. */
void ed_board_procs_run(struct ed_board_job *jobs, size_t count, const struct ed_cli *cli,
                        int argc, char **argv, enum ed_view_mode mode,
                        volatile sig_atomic_t *interrupted);

/* The board's result word: "ok", "skipped", "failed", "refused", "interrupted",
 * "input-error". */
const char *ed_board_job_result(const struct ed_board_job *job);

/* Why a board was skipped or failed, in one line; "" when it is fine. prog is the name
 * the board's messages start with. */
void ed_board_job_message(const struct ed_board_job *job, const char *prog, char *out,
                          size_t len);

void ed_board_job_free(struct ed_board_job *job);

#endif
