/* The command-line layer: the only place that maps results to exit codes. Each command
 * lives in its own src/cmd_*.c and is listed once in the command table in cli.c. */
#ifndef ESPDOCTOR_CLI_H
#define ESPDOCTOR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (documented in the man page, EXIT STATUS). */
enum ed_exit {
    ED_EXIT_OK = 0,        /* done; for the doctor: the board is ready */
    ED_EXIT_FAIL = 1,      /* the operation failed (connect, flash, verify, ...) */
    ED_EXIT_USAGE = 2,     /* wrong options or arguments */
    ED_EXIT_REFUSED = 3,   /* a safety check refused the write; nothing was written */
    ED_EXIT_NODEV = 4,     /* no board / port found */
    ED_EXIT_PORT = 5,      /* the port exists but cannot be used (permission, busy) */
    ED_EXIT_INPUT = 6,     /* an input file is missing, unreadable or not firmware */
    ED_EXIT_PROBLEM = 7,   /* the doctor found a problem (see findings) */
    ED_EXIT_INTERRUPTED = 130,   /* SIGINT; SIGTERM gives 143 (espdoctor/interrupt.h) */
};

/* Options every command understands, filled by cli.c before the command runs. */
struct ed_cli {
    const char *prog;        /* argv[0] basename */
    const char *port;        /* -p/--port, or ESPDOCTOR_PORT; NULL: auto */
    uint32_t baud;           /* -b/--baud for the data phase; 0: the best the bridge allows */
    bool json;               /* --json: machine output on stdout, nothing else there */
    bool color;              /* colour: stdout is a terminal that is not TERM=dumb (nor
                                TERM unset), no NO_COLOR, no --no-color */
    unsigned out_width;      /* columns to wrap stdout to (wrap.h: terminal, $COLUMNS, 80) */
    unsigned err_width;      /* the same for stderr */
    bool progress;           /* progress bar allowed (stderr is a terminal, not --json) */
    int verbose;             /* -v (repeatable) */
    bool quiet;              /* -q */
    /* Command-specific switches; a command rejects those it does not take. */
    bool force;              /* --force */
    bool erase_all;          /* --erase-all */
    bool no_skip;            /* --no-skip */
    bool all;                /* flash --all: every connected board whose chip matches */
    bool no_stub;            /* --no-stub */
    const char *stub;        /* --stub FILE|DIR */
    bool dry_run;            /* --dry-run */
    const char *root;        /* --root DIR */
    const char *flash_file;  /* doctor --flash FILE */
    const char *region_addr; /* erase --region ADDR (SIZE is the next argument) */
    bool monitor;            /* flash --monitor: watch the board afterwards */
    bool reset;              /* monitor --reset: reset the board first */
    const char *eol;         /* monitor --eol CR|LF|CRLF (checked) */
    const char *log_file;    /* monitor --log FILE */
    unsigned timeout_ms;     /* monitor --timeout SECONDS; 0: none */
    FILE *out;               /* stdout */
    FILE *events;            /* --json: where progress events go at once, one a line (the
                                real stdout while the document is held back); NULL: none */
    FILE *err;               /* stderr */
    char *last_error;        /* the last ed_cli_error message, for JSON documents (a
                                buffer of ED_CLI_ERROR_MAX owned by cli.c; may be NULL) */
};

#define ED_CLI_ERROR_MAX 2048

/* The message of the last ed_cli_error, without the program's name; "" if none. */
const char *ed_cli_last_error(const struct ed_cli *cli);

/* A command: positional arguments only (options are already parsed into cli). Returns an
 * enum ed_exit value. */
typedef int (*ed_command_fn)(struct ed_cli *cli, int argc, char **argv);

/* Parse argv, run the command, return its exit code (main() exits with it). */
int ed_cli_main(int argc, char **argv);

/* Print "espdoctor: <message>" to stderr (the CLI's one way of reporting usage errors). */
void ed_cli_error(const struct ed_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct ed_text_style;
/* How text on stdout (to_err false) or stderr is set: colour and width. */
void ed_cli_style(const struct ed_cli *cli, bool to_err, struct ed_text_style *st);

/* Parse "0x1000", "4096", "4K", "4M" into *out. False if it is not a number (or is C octal,
 * "010000": ambiguous). */
bool ed_cli_parse_size(const char *text, uint32_t *out);

/* --baud: a decimal line speed from 300 to 12000000. */
bool ed_cli_parse_baud(const char *text, uint32_t *baud);

/* --timeout: seconds above 0 and at most a day, decimals allowed, into milliseconds. */
bool ed_cli_parse_seconds(const char *text, unsigned *ms);

#endif
