/* Command-line parsing: one table of commands, one table of options, and the mapping of
 * every outcome to an exit code. Options may come before or after the command name, as
 * with esptool (`espdoctor -p /dev/ttyUSB0 info` and `espdoctor info -p /dev/ttyUSB0`). */
#include "cli.h"
#include "cli_json.h"
#include "commands.h"
#include "monitor_input.h"
#include "render.h"
#include "wrap.h"

#include "espdoctor/interrupt.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Which commands accept an option: a bit per command, in command-table order. */
#define CMD_BIT(i) (1u << (i))
#define ALL_COMMANDS 0xFFFFFFFFu

struct command {
    const char *name;
    ed_command_fn run;
    const char *args;     /* positional arguments, for the usage line */
    const char *summary;
};

enum { CMD_DOCTOR, CMD_INFO, CMD_FLASH, CMD_ERASE, CMD_READ, CMD_IMAGE, CMD_LIST, CMD_UDEV,
       CMD_MONITOR };

static const struct command commands[] = {
    [CMD_DOCTOR] = { "doctor", cmd_doctor, "",
                     "(the default) find out why the board won't talk, and how to fix it" },
    [CMD_INFO] = { "info", cmd_info, "",
                   "reset into the ROM bootloader and identify the chip, MAC and flash" },
    [CMD_FLASH] = { "flash", cmd_flash, "[ADDR] FILE [ADDR FILE ...]",
                    "check firmware against the board, write it, verify it, boot it" },
    [CMD_ERASE] = { "erase", cmd_erase, "",
                    "erase the whole flash, or a region with --region ADDR SIZE" },
    [CMD_READ] = { "read", cmd_read, "ADDR SIZE FILE",
                   "read flash contents into FILE" },
    [CMD_IMAGE] = { "image", cmd_image, "FILE",
                    "what a firmware file is: chip, flash address, integrity (offline)" },
    [CMD_LIST] = { "list", cmd_list, "",
                   "list USB serial bridges and ports" },
    [CMD_UDEV] = { "udev", cmd_udev, "show|install|uninstall",
                   "udev rules: port access for the desktop user, ModemManager kept off" },
    [CMD_MONITOR] = { "monitor", cmd_monitor, "",
                      "the board's console, decoded as it goes (Ctrl-] leaves)" },
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

/* Long-only options get codes above the char range. */
enum {
    OPT_JSON = 256, OPT_NO_COLOR, OPT_FORCE, OPT_ERASE_ALL, OPT_NO_SKIP, OPT_STUB,
    OPT_NO_STUB, OPT_DRY_RUN, OPT_ROOT, OPT_FLASH, OPT_REGION, OPT_VERSION, OPT_ALL,
    OPT_MONITOR, OPT_RESET, OPT_EOL, OPT_LOG, OPT_TIMEOUT,
};

struct option_spec {
    struct option opt;
    uint32_t commands;     /* CMD_BIT mask of commands that take it */
    const char *arg_name;
    const char *help;
};

#define BOARD_COMMANDS (CMD_BIT(CMD_DOCTOR) | CMD_BIT(CMD_INFO) | CMD_BIT(CMD_FLASH) | \
                        CMD_BIT(CMD_ERASE) | CMD_BIT(CMD_READ) | CMD_BIT(CMD_MONITOR))
#define MONITOR_COMMANDS (CMD_BIT(CMD_MONITOR) | CMD_BIT(CMD_FLASH))   /* flash --monitor */
#define WRITER_COMMANDS (CMD_BIT(CMD_FLASH) | CMD_BIT(CMD_ERASE) | CMD_BIT(CMD_READ))
#define STUB_COMMANDS (WRITER_COMMANDS | CMD_BIT(CMD_INFO))   /* info: which one, from where */

static const struct option_spec options[] = {
    { { "port", required_argument, NULL, 'p' }, BOARD_COMMANDS, "PORT",
      "PATH, /dev/serial/by-id/..., VID:PID, serial=XXXX, rfc2217://HOST:PORT or "
      "socket://HOST:PORT; default: $ESPDOCTOR_PORT, else the only board present" },
    { { "baud", required_argument, NULL, 'b' }, BOARD_COMMANDS, "BAUD",
      "line speed for the data phase (default: the fastest the bridge supports)" },
    { { "force", no_argument, NULL, OPT_FORCE }, CMD_BIT(CMD_FLASH), NULL,
      "write even though a check refused the image (says what it overrode)" },
    { { "erase-all", no_argument, NULL, OPT_ERASE_ALL }, CMD_BIT(CMD_FLASH), NULL,
      "erase the whole flash before writing" },
    { { "no-skip", no_argument, NULL, OPT_NO_SKIP }, CMD_BIT(CMD_FLASH), NULL,
      "write every block, even those the flash already holds" },
    { { "all", no_argument, NULL, OPT_ALL }, CMD_BIT(CMD_FLASH), NULL,
      "flash every connected board whose chip matches the image, all at once" },
    { { "stub", required_argument, NULL, OPT_STUB }, STUB_COMMANDS, "FILE|DIR",
      "flasher stub in esptool's JSON format (default: the installed esptool-js stubs)" },
    { { "no-stub", no_argument, NULL, OPT_NO_STUB }, STUB_COMMANDS, NULL,
      "talk to the ROM loader only" },
    { { "region", required_argument, NULL, OPT_REGION }, CMD_BIT(CMD_ERASE), "ADDR",
      "erase ADDR and the SIZE that follows it (4 KB multiples) instead of everything" },
    { { "flash", required_argument, NULL, OPT_FLASH }, CMD_BIT(CMD_DOCTOR), "FILE",
      "when the board is ready, flash FILE (with the same checks as 'flash')" },
    { { "monitor", no_argument, NULL, OPT_MONITOR }, CMD_BIT(CMD_FLASH), NULL,
      "then watch the board's console (as 'monitor')" },
    { { "reset", no_argument, NULL, OPT_RESET }, CMD_BIT(CMD_MONITOR), NULL,
      "reset the board first, to see it boot" },
    { { "eol", required_argument, NULL, OPT_EOL }, MONITOR_COMMANDS, "CR|LF|CRLF",
      "what Enter sends to the board (default: CR)" },
    { { "log", required_argument, NULL, OPT_LOG }, MONITOR_COMMANDS, "FILE",
      "append the board's raw output to FILE" },
    { { "timeout", required_argument, NULL, OPT_TIMEOUT }, MONITOR_COMMANDS, "SECONDS",
      "stop after SECONDS (a normal end: status 0)" },
    { { "dry-run", no_argument, NULL, OPT_DRY_RUN }, CMD_BIT(CMD_UDEV), NULL,
      "say what would change, change nothing" },
    { { "root", required_argument, NULL, OPT_ROOT }, CMD_BIT(CMD_UDEV), "DIR",
      "act on the system installed under DIR (no udev reload unless DIR is /)" },
    { { "json", no_argument, NULL, OPT_JSON }, ALL_COMMANDS, NULL,
      "machine-readable output on stdout" },
    { { "no-color", no_argument, NULL, OPT_NO_COLOR }, ALL_COMMANDS, NULL,
      "no colour (also: NO_COLOR in the environment)" },
    { { "verbose", no_argument, NULL, 'v' }, ALL_COMMANDS, NULL,
      "say more (repeat for protocol traces)" },
    { { "quiet", no_argument, NULL, 'q' }, ALL_COMMANDS, NULL,
      "say only what went wrong" },
    { { "help", no_argument, NULL, 'h' }, ALL_COMMANDS, NULL, "this help" },
    { { "version", no_argument, NULL, OPT_VERSION }, ALL_COMMANDS, NULL,
      "print the version" },
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

void ed_cli_error(const struct ed_cli *cli, const char *fmt, ...)
{
    va_list ap;
    fprintf(cli->err, "%s: ", cli->prog);
    va_start(ap, fmt);
    vfprintf(cli->err, fmt, ap);
    va_end(ap);
    fputc('\n', cli->err);
    if (cli->last_error) {
        va_start(ap, fmt);
        vsnprintf(cli->last_error, ED_CLI_ERROR_MAX, fmt, ap);
        va_end(ap);
    }
}

const char *ed_cli_last_error(const struct ed_cli *cli)
{
    return cli->last_error ? cli->last_error : "";
}

void ed_cli_style(const struct ed_cli *cli, bool to_err, struct ed_text_style *st)
{
    st->color = cli->color;
    st->width = to_err ? cli->err_width : cli->out_width;
}

bool ed_cli_parse_size(const char *text, uint32_t *out)
{
    /* A digit first (no sign, no blank), and no C octal: "010000" would quietly be 0x1000,
     * where its writer surely meant 0x10000 or 10000 (esptool refuses it too). */
    if (!text || !isdigit((unsigned char)text[0]) ||
        (text[0] == '0' && isdigit((unsigned char)text[1])))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || end == text)
        return false;
    unsigned long long mult = 1;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': mult = 1024; break;
        case 'M': mult = 1024 * 1024; break;
        default: return false;
        }
        end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return false;
    }
    if (v > UINT32_MAX / mult)
        return false;
    *out = (uint32_t)(v * mult);
    return true;
}

/* Usage lines: a head in a column of its own, its text wrapped beside it; a head wider
 * than the column gets a line to itself. Fits the width (at most 80 columns). */
static void print_entry(FILE *f, unsigned width, const char *head, size_t column,
                        const char *text)
{
    char lead[96], pad[96];
    snprintf(pad, sizeof pad, "%*s", (int)column, "");
    if (strlen(head) + 2 > column) {
        fprintf(f, "%s\n", head);
        snprintf(lead, sizeof lead, "%s", pad);
    } else {
        snprintf(lead, sizeof lead, "%-*s", (int)column, head);
    }
    ed_wrap(f, width, lead, pad, text);
}

static void print_usage(const struct ed_cli *cli, FILE *f)
{
    unsigned width = cli->out_width < 80 ? cli->out_width : 80;
    fprintf(f, "usage: %s [COMMAND] [OPTIONS] [ARGS]\n\n"
               "Finds out why an ESP32/ESP8266 board won't talk, and flashes it.\n\n"
               "Commands:\n", cli->prog);
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        char head[64];
        snprintf(head, sizeof head, "  %s %s", commands[i].name, commands[i].args);
        print_entry(f, width, head, 24, commands[i].summary);
    }
    fprintf(f, "\nOptions:\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        char head[64];
        const struct option *o = &options[i].opt;
        if (o->val < 256)
            snprintf(head, sizeof head, "  -%c, --%s%s%s", o->val, o->name,
                     options[i].arg_name ? " " : "",
                     options[i].arg_name ? options[i].arg_name : "");
        else
            snprintf(head, sizeof head, "      --%s%s%s", o->name,
                     options[i].arg_name ? " " : "",
                     options[i].arg_name ? options[i].arg_name : "");
        print_entry(f, width, head, 26, options[i].help);
    }
    fprintf(f, "\nSee espdoctor(1) for exit codes, findings and examples.\n");
}

static const struct command *find_command(const char *name, size_t *index)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0) {
            *index = i;
            return &commands[i];
        }
    return NULL;
}

bool ed_cli_parse_seconds(const char *text, unsigned *ms)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v <= 0 || v > 86400)
        return false;
    *ms = v * 1000 < 1 ? 1u : (unsigned)(v * 1000 + 0.5);
    return true;
}

bool ed_cli_parse_baud(const char *text, uint32_t *baud)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || v < 300 || v > 12000000)
        return false;
    *baud = (uint32_t)v;
    return true;
}

/* Apply one parsed option to cli. Returns false (after printing why) on a bad value. */
static bool apply_option(struct ed_cli *cli, int code, const char *arg)
{
    switch (code) {
    case 'p':
        if (!*arg) {   /* `-p ""` (an unset variable in a script) names no port at all */
            ed_cli_error(cli, "--port needs a port name (e.g. /dev/ttyUSB0); it was given "
                              "an empty one");
            return false;
        }
        cli->port = arg;
        return true;
    case 'b':
        if (!ed_cli_parse_baud(arg, &cli->baud)) {
            ed_cli_error(cli, "--baud takes a line speed between 300 and 12000000, "
                              "not '%s' (try 460800 or 921600)", arg);
            return false;
        }
        return true;
    case OPT_JSON: cli->json = true; return true;
    case OPT_FORCE: cli->force = true; return true;
    case OPT_ERASE_ALL: cli->erase_all = true; return true;
    case OPT_NO_SKIP: cli->no_skip = true; return true;
    case OPT_ALL: cli->all = true; return true;
    case OPT_STUB: cli->stub = arg; return true;
    case OPT_NO_STUB: cli->no_stub = true; return true;
    case OPT_REGION: cli->region_addr = arg; return true;
    case OPT_FLASH: cli->flash_file = arg; return true;
    case OPT_MONITOR: cli->monitor = true; return true;
    case OPT_RESET: cli->reset = true; return true;
    case OPT_LOG: cli->log_file = arg; return true;
    case OPT_EOL: {
        enum ed_eol eol;
        if (!ed_eol_parse(arg, &eol)) {
            ed_cli_error(cli, "--eol takes CR, LF or CRLF (what Enter sends), not '%s'", arg);
            return false;
        }
        cli->eol = arg;
        return true;
    }
    case OPT_TIMEOUT:
        if (!ed_cli_parse_seconds(arg, &cli->timeout_ms)) {
            ed_cli_error(cli, "--timeout takes a number of seconds above 0 (at most 86400), "
                              "not '%s'", arg);
            return false;
        }
        return true;
    case OPT_DRY_RUN: cli->dry_run = true; return true;
    case OPT_ROOT: cli->root = arg; return true;
    case OPT_NO_COLOR: cli->color = false; return true;
    case 'v': cli->verbose++; return true;
    case 'q': cli->quiet = true; return true;
    }
    return false;
}

/* Options that cannot both be meant: refuse rather than guess which one wins. */
static bool check_contradictions(const struct ed_cli *cli, size_t command)
{
    if (command == CMD_FLASH && !cli->monitor && (cli->eol || cli->log_file || cli->timeout_ms)) {
        ed_cli_error(cli, "--%s is a monitor option: with 'flash' it needs --monitor",
                     cli->eol ? "eol" : cli->log_file ? "log" : "timeout");
        return false;
    }
    if (cli->monitor && cli->all) {
        ed_cli_error(cli, "--monitor watches one board: it cannot follow --all; flash them, "
                          "then run '%s monitor -p PORT' for the one to watch", cli->prog);
        return false;
    }
    if (cli->stub && cli->no_stub) {
        ed_cli_error(cli, "--stub %s and --no-stub contradict each other: give one of them",
                     cli->stub);
        return false;
    }
    if (cli->quiet && cli->verbose) {
        ed_cli_error(cli, "--quiet and --verbose contradict each other: give one of them");
        return false;
    }
    return true;
}

static const struct option_spec *spec_for(int code)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (options[i].opt.val == code)
            return &options[i];
    return NULL;
}

static void init_defaults(struct ed_cli *cli, const char *argv0)
{
    memset(cli, 0, sizeof *cli);
    const char *slash = strrchr(argv0, '/');
    cli->prog = slash ? slash + 1 : argv0;
    cli->out = stdout;
    cli->err = stderr;
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    bool able = term && *term && strcmp(term, "dumb") != 0;   /* a dumb terminal shows ESC */
    cli->color = isatty(STDOUT_FILENO) && able && !(no_color && *no_color);
    cli->out_width = ed_term_width(STDOUT_FILENO);
    cli->err_width = ed_term_width(STDERR_FILENO);
    const char *port = getenv("ESPDOCTOR_PORT");
    if (port && *port)
        cli->port = port;
}

/* The index of the command name in argv: the first argument that is neither an option
 * nor the value of one. 0 if there is none. */
static int find_command_index(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return i + 1 < argc ? i + 1 : 0;
        if (a[0] != '-' || a[1] == '\0')
            return i;
        if (a[1] == '-') {
            if (strchr(a, '='))
                continue;
            for (size_t k = 0; k < OPTION_COUNT; k++)
                if (strcmp(options[k].opt.name, a + 2) == 0 &&
                    options[k].opt.has_arg == required_argument)
                    i++;
        } else if (a[2] == '\0') {
            const struct option_spec *spec = spec_for((unsigned char)a[1]);
            if (spec && spec->opt.has_arg == required_argument)
                i++;
        }
    }
    return 0;
}

static void build_getopt_tables(struct option *long_opts, char *short_opts)
{
    size_t s = 0;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        long_opts[i] = options[i].opt;
        if (options[i].opt.val < 256) {
            short_opts[s++] = (char)options[i].opt.val;
            if (options[i].opt.has_arg == required_argument)
                short_opts[s++] = ':';
        }
    }
    short_opts[s] = '\0';
    memset(&long_opts[OPTION_COUNT], 0, sizeof long_opts[0]);
}

static void report_bad_option(const struct ed_cli *cli, int code, const char *text)
{
    if (code == ':')
        ed_cli_error(cli, "option '%s' needs a value. Run '%s --help'.", text, cli->prog);
    else
        ed_cli_error(cli, "unknown option '%s'. Run '%s --help' for the list.", text,
                     cli->prog);
}

/* A command that works on a board stops on SIGINT, SIGTERM or SIGHUP and says what it had
 * done (espdoctor/interrupt.h). The monitor installs the same module itself, around its
 * session; list, image and udev are quick and poll nothing, so a signal ends them as it
 * would any program. */
static bool catches_signals(size_t command)
{
    return command != CMD_MONITOR && command != CMD_LIST && command != CMD_IMAGE &&
           command != CMD_UDEV;
}

/* A command that came back from a signal without saying so gets one line that does. */
static int after_signal(const struct ed_cli *cli, const char *command, int rc)
{
    int sig = ed_interrupted();
    if (!sig || rc == ed_interrupt_exit_status(sig))
        return rc;
    ed_cli_error(cli, "interrupted (%s) during '%s': it stopped before it was done.",
                 ed_interrupt_name(sig), command);
    return ed_interrupt_exit_status(sig);
}

/* Usage errors under --json: the document says so too (cli_json.h). */
static int usage_error(struct ed_cli *cli, const char *command, int rc)
{
    struct ed_cli_json j;
    ed_cli_json_begin(cli, &j);
    return ed_cli_json_end(cli, &j, command, rc);
}

/* --json anywhere on the line, before the options are parsed (for their errors). */
static bool json_asked(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            return true;
    return false;
}

int ed_cli_main(int argc, char **argv)
{
    struct ed_cli cli;
    char last_error[ED_CLI_ERROR_MAX] = "";
    init_defaults(&cli, argc > 0 ? argv[0] : "espdoctor");
    cli.last_error = last_error;
    cli.json = json_asked(argc, argv);

    /* Take the command name out, so options may stand on either side of it. */
    size_t index = CMD_DOCTOR;   /* `espdoctor` alone examines the board */
    int cmd_at = find_command_index(argc, argv);
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) {
        ed_cli_error(&cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    int nargs = 0;
    for (int i = 0; i < argc; i++)
        if (i != cmd_at || cmd_at == 0)
            args[nargs++] = argv[i];
    if (cmd_at && !find_command(argv[cmd_at], &index)) {
        char names[256] = "";
        for (size_t i = 0; i < COMMAND_COUNT; i++) {
            strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, commands[i].name, sizeof names - strlen(names) - 1);
        }
        ed_cli_error(&cli, "unknown command '%s' (commands: %s). Run '%s --help'.",
                     argv[cmd_at], names, cli.prog);
        free(args);
        return usage_error(&cli, argv[cmd_at], ED_EXIT_USAGE);
    }
    const struct command *cmd = &commands[index];

    struct option long_opts[OPTION_COUNT + 1];
    char short_opts[2 * OPTION_COUNT + 2];
    short_opts[0] = ':';   /* report missing values as ':' */
    build_getopt_tables(long_opts, short_opts + 1);

    bool want_help = false, want_version = false;
    int rc = ED_EXIT_OK;
    opterr = 0;
    int c;
    while ((c = getopt_long(nargs, args, short_opts, long_opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            char shortname[3] = { '-', (char)optopt, '\0' };
            const char *text = (optopt > 0 && optopt < 256) ? shortname : args[optind - 1];
            report_bad_option(&cli, c, text);
            rc = ED_EXIT_USAGE;
            goto out;
        }
        if (c == 'h') { want_help = true; continue; }
        if (c == OPT_VERSION) { want_version = true; continue; }
        const struct option_spec *spec = spec_for(c);
        if (spec && !(spec->commands & CMD_BIT(index))) {
            ed_cli_error(&cli, "option '--%s' does not apply to '%s'. Run '%s --help'.",
                         spec->opt.name, cmd->name, cli.prog);
            rc = ED_EXIT_USAGE;
            goto out;
        }
        if (!apply_option(&cli, c, optarg)) {
            rc = ED_EXIT_USAGE;
            goto out;
        }
    }
    if (!check_contradictions(&cli, index)) {
        rc = ED_EXIT_USAGE;
        goto out;
    }
    if (want_version) {
        fprintf(cli.out, "espdoctor %s\n", ESPDOCTOR_VERSION);
        goto out;
    }
    if (want_help) {
        print_usage(&cli, cli.out);
        goto out;
    }
    cli.progress = !cli.json && isatty(STDERR_FILENO);
    struct ed_cli_json j;
    /* The monitor streams its events; flash --monitor's come after flash's document. */
    bool streams = index == CMD_MONITOR || cli.monitor;
    if (!streams)
        ed_cli_json_begin(&cli, &j);
    else if (cli.json)
        cli.events = cli.out;
    bool signals = catches_signals(index);
    if (signals)
        ed_interrupt_install();
    rc = cmd->run(&cli, nargs - optind, args + optind);
    if (signals)
        rc = after_signal(&cli, cmd->name, rc);
    if (!streams)
        rc = ed_cli_json_end(&cli, &j, cmd->name, rc);
    if (signals)
        ed_interrupt_restore();
    free(args);
    return rc;
out:
    free(args);
    if (rc != ED_EXIT_OK)
        rc = usage_error(&cli, cmd->name, rc);
    return rc;
}
