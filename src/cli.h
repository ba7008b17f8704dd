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

/* --before: how to reach the ROM bootloader (esptool's names). */
enum ed_before {
    ED_BEFORE_DEFAULT,   /* default-reset: the sequences the bridge table names */
    ED_BEFORE_USB,       /* usb-reset: the USB-Serial/JTAG sequence, whatever the bridge */
    ED_BEFORE_NONE,      /* no-reset: the lines untouched, the board already waiting */
};

/* --after: how to leave the board when the command is done. */
enum ed_after {
    ED_AFTER_HARD,       /* hard-reset: pulse EN, the firmware boots */
    ED_AFTER_NONE,       /* no-reset: left in the bootloader, lines untouched */
};

/* Options every command understands, filled by cli.c before the command runs. */
struct ed_cli {
    const char *prog;        /* argv[0] basename */
    const char *port;        /* -p/--port, or ESPDOCTOR_PORT; NULL: auto */
    const char *const *ports;   /* every -p given, in order (flash --all flashes each; the
                                   other commands take one); owned by ed_cli_parsed */
    size_t port_count;
    const char *ports_file;  /* flash --all --ports FILE: one port a line */
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
    enum ed_before before;   /* --before */
    enum ed_after after;     /* --after */
    const char *chip;        /* --chip KEY: refuse another chip (a key of the chip table,
                                checked); NULL: auto, any chip */
    bool dry_run;            /* --dry-run */
    const char *root;        /* --root DIR */
    const char *output;      /* merge -o/--output OUT */
    const char *flash_mode;  /* flash --flash-mode qio|qout|dio|dout (checked); NULL: keep */
    const char *flash_freq;  /* --flash-freq 80m|40m|26m|20m (checked); NULL: keep */
    const char *flash_size;  /* --flash-size 4MB, ... (checked); NULL: keep */
    const char *flash_file;  /* doctor --flash FILE */
    const char *region_addr; /* erase --region ADDR (SIZE is the next argument) */
    bool monitor;            /* flash --monitor: watch the board afterwards */
    bool reset;              /* monitor --reset: reset the board first */
    const char *eol;         /* monitor --eol CR|LF|CRLF (checked) */
    const char *log_file;    /* monitor --log FILE */
    unsigned timeout_ms;     /* monitor --timeout SECONDS; 0: none */
    unsigned button_wait_ms; /* --button-wait SECONDS: how long a board without
                                auto-reset gets for a press of BOOT and EN; 0: none */
    unsigned wait_ms;        /* --wait SECONDS: watch for the board to be plugged in */
    bool wait_given;         /* --wait given (--wait 0: never wait, the doctor neither) */
    bool no_config;          /* --no-config: read and write no configuration file */
    bool config_warned;      /* its one warning of this run is printed (config_cli.c) */
    FILE *out;               /* stdout */
    FILE *events;            /* --json: where progress events go at once, one a line (the
                                real stdout while the document is held back); NULL: none */
    FILE *err;               /* stderr */
    FILE *live;              /* stderr, even while a command holds its words back in
                                cli->err: what a person must see now (the button watch) */
    char *last_error;        /* the last ed_cli_error message, for JSON documents (a
                                buffer of ED_CLI_ERROR_MAX owned by cli.c; may be NULL) */
    struct ed_cli_problem *last_problem;   /* the finding behind that message, if one was
                                              named (owned by cli.c; may be NULL) */
};

#define ED_CLI_ERROR_MAX 2048

/* The diagnosis id, fix and fix command of the last error, for a JSON error object that
 * the failing command did not fill in itself (id "": none named). */
struct ed_cli_problem {
    char id[32];
    char fix[512];
    char fix_command[160];
};

/* The message of the last ed_cli_error, without the program's name; "" if none. */
const char *ed_cli_last_error(const struct ed_cli *cli);

/* Name the finding behind the error just reported (call right after ed_cli_error, which
 * forgets the previous one); fix_command may be NULL. */
void ed_cli_note_problem(const struct ed_cli *cli, const char *id, const char *fix,
                         const char *fix_command);

/* The finding named for the last error, or NULL. */
const struct ed_cli_problem *ed_cli_last_problem(const struct ed_cli *cli);

/* A command: positional arguments only (options are already parsed into cli). Returns an
 * enum ed_exit value. */
typedef int (*ed_command_fn)(struct ed_cli *cli, int argc, char **argv);

/* What the command line asked for, once ed_cli_parse has read it. */
struct ed_cli_parsed {
    size_t command;      /* index in cli.c's command table (doctor when none was named) */
    const char *name;    /* its name, or the unknown word given as one */
    bool named;          /* the line named a command (else `--help` is the global one) */
    bool help;           /* -h/--help */
    bool version;        /* --version */
    int argc;            /* the command's arguments, in order (argv owned: */
    char **argv;         /* ed_cli_parsed_free) */
    const char **ports;  /* every -p, for cli->ports (owned: ed_cli_parsed_free) */
};

/* Read argv with getopt_long into cli (options) and p (command, arguments). Returns
 * ED_EXIT_OK, or ED_EXIT_USAGE after saying what is wrong (p->name still says which
 * command, for the JSON document). Free p with ed_cli_parsed_free either way. */
int ed_cli_parse(struct ed_cli *cli, int argc, char **argv, struct ed_cli_parsed *p);
void ed_cli_parsed_free(struct ed_cli_parsed *p);

/* --help: command's synopsis and options, or (NULL) every command and option. */
void ed_cli_print_help(const struct ed_cli *cli, FILE *f, const char *command);

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

/* After a failed connect that looks like a board without auto-reset (and --button-wait
 * not 0): ask for a press of BOOT and EN and watch the port (button_cli.c). True when the
 * ROM answered SYNC after it (*reset_button: the name the reset button was given); false on
 * a timeout, a signal or a vanished port. */
struct ed_loader;
struct ed_bridge;
bool ed_cli_button_watch(struct ed_cli *cli, const struct ed_bridge *bridge,
                         struct ed_loader *ld, const char **reset_button);

/* The watch's words for one command: on a terminal a countdown line rewritten in place,
 * else plain lines. */
struct ed_cli_button {
    struct ed_cli *cli;
    bool terminal;           /* cli->live is a terminal */
    bool keyboard;           /* stdin is a terminal: Enter tries again */
    bool line_open;          /* the countdown line is on the screen, unfinished */
};

struct ed_button_watch;
/* Set up w's timeout and callbacks for this command line (the doctor's watch); ui must
 * outlive w's use. */
void ed_cli_button_prepare(struct ed_cli *cli, struct ed_cli_button *ui,
                           struct ed_button_watch *w);

#endif
