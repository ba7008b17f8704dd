/* Command-line parsing: one table of commands, one table of options, and the mapping of
 * every outcome to an exit code. Options may come before or after the command name, as
 * with esptool (`espdoctor -p /dev/ttyUSB0 info` and `espdoctor info -p /dev/ttyUSB0`). */
#include "cli.h"
#include "cli_json.h"
#include "commands.h"
#include "flash_header.h"
#include "monitor_input.h"
#include "render.h"
#include "term_caps.h"
#include "wrap.h"

#include "espdoctor/button.h"
#include "espdoctor/chips.h"
#include "espdoctor/interrupt.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
       CMD_MONITOR, CMD_READ_MAC, CMD_MERGE };

static const struct command commands[] = {
    [CMD_DOCTOR] = { "doctor", cmd_doctor, "",
                     "(the default) find out why the board won't talk, and how to fix it" },
    [CMD_INFO] = { "info", cmd_info, "",
                   "reset into the ROM bootloader and identify the chip, MAC and flash" },
    [CMD_FLASH] = { "flash", cmd_flash, "[ADDR] FILE [[ADDR] FILE ...]",
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
    [CMD_READ_MAC] = { "read-mac", cmd_read_mac, "",
                       "print the chip's factory MAC (quick: no flash probe)" },
    [CMD_MERGE] = { "merge", cmd_merge, "-o OUT ADDR FILE [ADDR FILE ...]",
                    "one file of several at their addresses, gaps 0xFF (offline)" },
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

/* Long-only options get codes above the char range. */
enum {
    OPT_JSON = 256, OPT_NO_COLOR, OPT_FORCE, OPT_ERASE_ALL, OPT_NO_SKIP, OPT_STUB,
    OPT_NO_STUB, OPT_DRY_RUN, OPT_ROOT, OPT_FLASH, OPT_REGION, OPT_VERSION, OPT_ALL,
    OPT_MONITOR, OPT_RESET, OPT_EOL, OPT_LOG, OPT_TIMEOUT, OPT_BUTTON_WAIT, OPT_WAIT, OPT_CHIP,
    OPT_BEFORE, OPT_AFTER, OPT_FLASH_MODE, OPT_FLASH_FREQ, OPT_FLASH_SIZE, OPT_NO_CONFIG,
    OPT_PORTS,
    OPT_OUTPUT = 'o',
};

struct option_spec {
    struct option opt;
    uint32_t commands;     /* CMD_BIT mask of commands that take it */
    const char *arg_name;
    const char *help;
};

#define BOARD_COMMANDS (CMD_BIT(CMD_DOCTOR) | CMD_BIT(CMD_INFO) | CMD_BIT(CMD_FLASH) | \
                        CMD_BIT(CMD_ERASE) | CMD_BIT(CMD_READ) | CMD_BIT(CMD_MONITOR) | \
                        CMD_BIT(CMD_READ_MAC))
#define MONITOR_COMMANDS (CMD_BIT(CMD_MONITOR) | CMD_BIT(CMD_FLASH))   /* flash --monitor */
#define WRITER_COMMANDS (CMD_BIT(CMD_FLASH) | CMD_BIT(CMD_ERASE) | CMD_BIT(CMD_READ))
/* The commands that look for a board with no -p, through ed_select_port or the doctor. */
#define WAIT_COMMANDS (CMD_BIT(CMD_DOCTOR) | CMD_BIT(CMD_INFO) | WRITER_COMMANDS)
#define STUB_COMMANDS (WRITER_COMMANDS | CMD_BIT(CMD_INFO))   /* info: which one, from where */
#define DETECT_COMMANDS (WRITER_COMMANDS | CMD_BIT(CMD_INFO) | CMD_BIT(CMD_READ_MAC))
#define CONNECT_COMMANDS (DETECT_COMMANDS | CMD_BIT(CMD_DOCTOR))   /* reach the ROM loader */

static const struct option_spec options[] = {
    { { "port", required_argument, NULL, 'p' }, BOARD_COMMANDS, "PORT",
      "PATH, /dev/serial/by-id/..., VID:PID, serial=XXXX, rfc2217://HOST:PORT or "
      "socket://HOST:PORT; default: $ESPDOCTOR_PORT, else the only board present (flash "
      "--all: repeat it to flash each port named)" },
    /* Not info and read-mac: they read a few registers at the ROM's own rate. */
    { { "baud", required_argument, NULL, 'b' }, BOARD_COMMANDS & ~(CMD_BIT(CMD_INFO) |
                                                                    CMD_BIT(CMD_READ_MAC)), "BAUD",
      "line speed for the data phase (default: the fastest the bridge supports)" },
    { { "button-wait", required_argument, NULL, OPT_BUTTON_WAIT }, CONNECT_COMMANDS,
      "SECONDS", "on a board without auto-reset, wait this long for a press of BOOT and "
      "EN (default 30; 0: do not wait)" },
    { { "wait", required_argument, NULL, OPT_WAIT }, WAIT_COMMANDS, "SECONDS",
      "with no port there yet, wait up to SECONDS for the board to be plugged in (the "
      "doctor on a terminal: 30; 0: never)" },
    { { "chip", required_argument, NULL, OPT_CHIP }, DETECT_COMMANDS, "CHIP",
      "auto (the default), or the chip the board must be: esp32, esp8266, esp32s3, ... "
      "(another one is refused, nothing done)" },
    { { "before", required_argument, NULL, OPT_BEFORE }, DETECT_COMMANDS, "HOW",
      "default-reset (as the bridge needs), usb-reset (USB-Serial/JTAG), no-reset (the "
      "board already waits in its bootloader; the lines are not touched)" },
    { { "after", required_argument, NULL, OPT_AFTER }, DETECT_COMMANDS, "HOW",
      "hard-reset (the default: the firmware boots) or no-reset (left in the bootloader)" },
    { { "force", no_argument, NULL, OPT_FORCE }, CMD_BIT(CMD_FLASH), NULL,
      "write even though a check refused the image (says what it overrode)" },
    { { "flash-mode", required_argument, NULL, OPT_FLASH_MODE }, CMD_BIT(CMD_FLASH), "MODE",
      "keep (the default), qio, qout, dio or dout: set in the header of the image at the "
      "bootloader offset (its SHA-256 computed again)" },
    { { "flash-freq", required_argument, NULL, OPT_FLASH_FREQ }, CMD_BIT(CMD_FLASH), "FREQ",
      "keep, 80m, 40m, 26m or 20m, the same way" },
    { { "flash-size", required_argument, NULL, OPT_FLASH_SIZE }, CMD_BIT(CMD_FLASH), "SIZE",
      "keep, 1MB, 2MB, 4MB, 8MB, 16MB, ... (as the chip's header has them), the same way" },
    { { "erase-all", no_argument, NULL, OPT_ERASE_ALL }, CMD_BIT(CMD_FLASH), NULL,
      "erase the whole flash before writing" },
    { { "no-skip", no_argument, NULL, OPT_NO_SKIP }, CMD_BIT(CMD_FLASH), NULL,
      "write every block, even those the flash already holds" },
    { { "all", no_argument, NULL, OPT_ALL }, CMD_BIT(CMD_FLASH), NULL,
      "flash every connected board whose chip matches the image, all at once (or only "
      "the ports -p and --ports name, local or network)" },
    { { "ports", required_argument, NULL, OPT_PORTS }, CMD_BIT(CMD_FLASH), "FILE",
      "with --all: the ports to flash, one a line as -p takes them ('#' comments, blank "
      "lines ignored)" },
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
    { { "output", required_argument, NULL, OPT_OUTPUT }, CMD_BIT(CMD_MERGE), "OUT",
      "the merged file to write (replaced only once complete)" },
    { { "dry-run", no_argument, NULL, OPT_DRY_RUN }, CMD_BIT(CMD_UDEV), NULL,
      "say what would change, change nothing" },
    { { "root", required_argument, NULL, OPT_ROOT }, CMD_BIT(CMD_UDEV), "DIR",
      "act on the system installed under DIR (no udev reload unless DIR is /)" },
    { { "no-config", no_argument, NULL, OPT_NO_CONFIG }, BOARD_COMMANDS, NULL,
      "neither read nor write the configuration file (the board used last, and the rate "
      "that worked on each board)" },
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
    if (cli->last_problem)
        cli->last_problem->id[0] = '\0';   /* a new error: the old finding is not its cause */
}

const char *ed_cli_last_error(const struct ed_cli *cli)
{
    return cli->last_error ? cli->last_error : "";
}

void ed_cli_note_problem(const struct ed_cli *cli, const char *id, const char *fix,
                         const char *fix_command)
{
    struct ed_cli_problem *p = cli->last_problem;
    if (!p)
        return;
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->fix, sizeof p->fix, "%s", fix ? fix : "");
    snprintf(p->fix_command, sizeof p->fix_command, "%s", fix_command ? fix_command : "");
}

const struct ed_cli_problem *ed_cli_last_problem(const struct ed_cli *cli)
{
    return cli->last_problem && cli->last_problem->id[0] ? cli->last_problem : NULL;
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

static void print_option(FILE *f, unsigned width, const struct option_spec *spec)
{
    char head[64];
    const struct option *o = &spec->opt;
    const char *space = spec->arg_name ? " " : "", *arg = spec->arg_name ? spec->arg_name : "";
    if (o->val < 256)
        snprintf(head, sizeof head, "  -%c, --%s%s%s", o->val, o->name, space, arg);
    else
        snprintf(head, sizeof head, "      --%s%s%s", o->name, space, arg);
    print_entry(f, width, head, 26, spec->help);
}

/* `espdoctor --help`: every command and option. */
static void print_usage(const struct ed_cli *cli, FILE *f, unsigned width)
{
    fprintf(f, "usage: %s [COMMAND] [OPTIONS] [ARGS]\n\n"
               "Finds out why an ESP32/ESP8266 board won't talk, and flashes it.\n\n"
               "Commands:\n", cli->prog);
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        char head[64];
        snprintf(head, sizeof head, "  %s %s", commands[i].name, commands[i].args);
        print_entry(f, width, head, 24, commands[i].summary);
    }
    fprintf(f, "\nOptions:\n");
    for (size_t i = 0; i < OPTION_COUNT; i++)
        print_option(f, width, &options[i]);
    fprintf(f, "\nSee espdoctor(1) for exit codes, findings and examples.\n");
}

/* `espdoctor COMMAND --help`: that command's synopsis and the options it takes. */
static void print_command_usage(const struct ed_cli *cli, FILE *f, unsigned width,
                                size_t index)
{
    const struct command *cmd = &commands[index];
    char head[160];
    snprintf(head, sizeof head, "%s %s%s%s [OPTIONS]%s%s", cli->prog,
             index == CMD_DOCTOR ? "[" : "", cmd->name, index == CMD_DOCTOR ? "]" : "",
             *cmd->args ? " " : "", cmd->args);
    ed_wrap(f, width, "usage: ", "       ", head);
    fputc('\n', f);
    ed_wrap(f, width, "", "", cmd->summary);
    fprintf(f, "\nOptions:\n");
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (options[i].commands & CMD_BIT(index))
            print_option(f, width, &options[i]);
    fprintf(f, "\nSee espdoctor(1), COMMANDS, for more on %s.\n", cmd->name);
}

static const struct command *find_command(const char *name, size_t *index);

void ed_cli_print_help(const struct ed_cli *cli, FILE *f, const char *command)
{
    unsigned width = cli->out_width && cli->out_width < 80 ? cli->out_width : 80;
    size_t index;
    if (command && find_command(command, &index))
        print_command_usage(cli, f, width, index);
    else
        print_usage(cli, f, width);
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

/* --button-wait: 0 to an hour, decimals allowed, into milliseconds. */
static bool parse_wait(const char *text, unsigned *ms)
{
    if (strcmp(text, "0") == 0) {
        *ms = 0;
        return true;
    }
    return ed_cli_parse_seconds(text, ms) && *ms <= 3600u * 1000;
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

/* --chip: auto, or a key of the chip table (any case). */
static bool apply_chip(struct ed_cli *cli, const char *arg)
{
    if (strcasecmp(arg, "auto") == 0) {
        cli->chip = NULL;
        return true;
    }
    for (size_t i = 0; i < ed_chip_count; i++)
        if (strcasecmp(arg, ed_chips[i].key) == 0) {
            cli->chip = ed_chips[i].key;
            return true;
        }
    char keys[256] = "auto";
    for (size_t i = 0; i < ed_chip_count; i++) {
        size_t used = strlen(keys);
        snprintf(keys + used, sizeof keys - used, ", %s", ed_chips[i].key);
    }
    ed_cli_error(cli, "--chip takes one of %s; not '%s'", keys, arg);
    return false;
}

struct named_value {
    const char *name;
    int value;
};

static const struct named_value befores[] = {
    { "default-reset", ED_BEFORE_DEFAULT }, { "usb-reset", ED_BEFORE_USB },
    { "no-reset", ED_BEFORE_NONE },
};
static const struct named_value afters[] = {
    { "hard-reset", ED_AFTER_HARD }, { "no-reset", ED_AFTER_NONE },
};

/* One of esptool's words for --before/--after (also with '_' for '-', as it once spelt
 * them). */
static bool apply_named(struct ed_cli *cli, const char *option, const struct named_value *v,
                        size_t count, const char *arg, int *out)
{
    char spelled[32];
    snprintf(spelled, sizeof spelled, "%s", arg);
    for (char *c = spelled; *c; c++)
        if (*c == '_')
            *c = '-';
    char names[160] = "";
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(spelled, v[i].name) == 0) {
            *out = v[i].value;
            return true;
        }
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", v[i].name);
    }
    ed_cli_error(cli, "--%s takes %s; not '%s'", option, names, arg);
    return false;
}

/* --flash-mode/-freq/-size: keep, or a word some chip's image header has (flash_header.h;
 * whether the board's chip has it is judged once it answers). */
enum header_field { FIELD_MODE, FIELD_FREQ, FIELD_SIZE };

static bool apply_header(struct ed_cli *cli, enum header_field field, const char *arg,
                         const char **out)
{
    static const char *const names[] = { "flash-mode", "flash-freq", "flash-size" };
    static const char *const words[] = { "qio, qout, dio, dout", "80m, 40m, 26m, 20m",
                                         "a size such as 1MB, 2MB, 4MB, 8MB, 16MB" };
    if (strcasecmp(arg, "keep") == 0) {
        *out = NULL;
        return true;
    }
    bool known = field == FIELD_MODE ? ed_header_mode_code(arg) >= 0
                 : field == FIELD_FREQ ? ed_header_freq_known(arg)
                                        : ed_header_size_known(arg);
    if (!known) {
        ed_cli_error(cli, "--%s takes keep or %s; not '%s'", names[field], words[field], arg);
        return false;
    }
    *out = arg;
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
    case OPT_CHIP: return apply_chip(cli, arg);
    case OPT_BEFORE: {
        int v;
        if (!apply_named(cli, "before", befores, sizeof befores / sizeof befores[0], arg, &v))
            return false;
        cli->before = (enum ed_before)v;
        return true;
    }
    case OPT_AFTER: {
        int v;
        if (!apply_named(cli, "after", afters, sizeof afters / sizeof afters[0], arg, &v))
            return false;
        cli->after = (enum ed_after)v;
        return true;
    }
    case OPT_JSON: cli->json = true; return true;
    case OPT_FORCE: cli->force = true; return true;
    case OPT_ERASE_ALL: cli->erase_all = true; return true;
    case OPT_NO_SKIP: cli->no_skip = true; return true;
    case OPT_ALL: cli->all = true; return true;
    case OPT_PORTS: cli->ports_file = arg; return true;
    case OPT_STUB: cli->stub = arg; return true;
    case OPT_NO_STUB: cli->no_stub = true; return true;
    case OPT_NO_CONFIG: cli->no_config = true; return true;
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
    case OPT_BUTTON_WAIT:
        if (!parse_wait(arg, &cli->button_wait_ms)) {
            ed_cli_error(cli, "--button-wait takes a number of seconds from 0 (do not wait) "
                              "to 3600, not '%s'", arg);
            return false;
        }
        return true;
    case OPT_WAIT:
        cli->wait_given = true;
        if (strcmp(arg, "0") != 0 && !ed_cli_parse_seconds(arg, &cli->wait_ms)) {
            ed_cli_error(cli, "--wait takes a number of seconds (0: do not wait; at most "
                              "86400), not '%s'", arg);
            return false;
        }
        if (strcmp(arg, "0") == 0)
            cli->wait_ms = 0;
        return true;
    case OPT_DRY_RUN: cli->dry_run = true; return true;
    case OPT_OUTPUT: cli->output = arg; return true;
    case OPT_FLASH_MODE: return apply_header(cli, FIELD_MODE, arg, &cli->flash_mode);
    case OPT_FLASH_FREQ: return apply_header(cli, FIELD_FREQ, arg, &cli->flash_freq);
    case OPT_FLASH_SIZE: return apply_header(cli, FIELD_SIZE, arg, &cli->flash_size);
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
    if (command == CMD_DOCTOR && cli->baud && !cli->flash_file) {
        ed_cli_error(cli, "--baud sets the speed of a flash: the doctor uses it only with "
                          "--flash FILE (it listens at the ROM's own rates)");
        return false;
    }
    if (cli->monitor && cli->all) {
        ed_cli_error(cli, "--monitor watches one board: it cannot follow --all; flash them, "
                          "then run '%s monitor -p PORT' for the one to watch", cli->prog);
        return false;
    }
    if (cli->port_count > 1 && !cli->all) {
        ed_cli_error(cli, "-p names the one port to use; several -p are for 'flash --all', "
                          "which flashes each of them");
        return false;
    }
    if (cli->ports_file && !cli->all) {
        ed_cli_error(cli, "--ports FILE lists the ports for 'flash --all': add --all");
        return false;
    }
    if (cli->all && cli->wait_ms) {
        ed_cli_error(cli, "--wait waits for one board: with --all, plug them in first");
        return false;
    }
    if (cli->after == ED_AFTER_NONE && cli->monitor) {
        ed_cli_error(cli, "--after no-reset leaves the board in its bootloader; --monitor "
                          "resets it to watch it boot: give one of them");
        return false;
    }
    if (cli->chip && cli->all) {
        ed_cli_error(cli, "--chip and --all: --all already flashes only the boards of the "
                          "files' chip; give one of them");
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
    cli->live = stderr;
    cli->button_wait_ms = ED_BUTTON_WAIT_DEFAULT_MS;
    cli->color = ed_term_color(STDOUT_FILENO);
    cli->out_width = ed_term_width(STDOUT_FILENO);
    cli->err_width = ed_term_width(STDERR_FILENO);
    const char *port = getenv("ESPDOCTOR_PORT");
    if (port && *port)
        cli->port = port;
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

/* What the user typed for the option getopt just refused: "-x" for a short one (also
 * inside a cluster such as "-vx"), else the word itself up to any '='. */
static void refused_text(int argc, char **argv, char *text, size_t size)
{
    const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (optopt > 0 && optopt < 256 && strncmp(word, "--", 2) != 0) {
        snprintf(text, size, "-%c", optopt);
        return;
    }
    snprintf(text, size, "%.*s", (int)strcspn(word, "="), word);
}

/* The option a long prefix getopt_long found ambiguous stands for when every option it fits
 * starts with the shortest one's whole name (--por fits --port and --ports: --port, as
 * before --ports came); its index, or -1 (ambiguous, or no option at all). */
static int shortest_fit(const char *word)
{
    if (strncmp(word, "--", 2) != 0 || !word[2])
        return -1;
    size_t len = strcspn(word + 2, "=");
    int best = -1;
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strncmp(options[i].opt.name, word + 2, len) == 0 &&
            (best < 0 || strlen(options[i].opt.name) < strlen(options[best].opt.name)))
            best = (int)i;
    if (best < 0)
        return -1;
    const char *shortest = options[best].opt.name;
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strncmp(options[i].opt.name, word + 2, len) == 0 &&
            strncmp(options[i].opt.name, shortest, strlen(shortest)) != 0)
            return -1;
    return best;
}

/* Take the option shortest_fit found in argv[optind - 1] (getopt_long has stepped past the
 * word, not its value): its code and value into *code and *arg. False (saying why when
 * say) when it needs a value there is none of, or is given one it takes none. */
static bool take_fit(const struct ed_cli *cli, bool say, int fit, int argc, char **argv,
                     int *code, const char **arg)
{
    const struct option *o = &options[fit].opt;
    const char *word = argv[optind - 1], *eq = strchr(word, '=');
    int typed = (int)strcspn(word, "=");   /* the option as typed, for the messages */
    *code = o->val;
    *arg = NULL;
    if (o->has_arg == no_argument && eq) {
        if (say)
                ed_cli_error(cli, "option '%.*s' takes no value. Run '%s --help'.", typed, word,
                         cli->prog);
        return false;
    }
    if (o->has_arg == required_argument) {
        if (eq)
            *arg = eq + 1;
        else if (optind < argc)
            *arg = argv[optind++];   /* getopt_long reads on from there */
        else {
            if (say)
                ed_cli_error(cli, "option '%.*s' needs a value. Run '%s --help'.", typed,
                             word, cli->prog);
            return false;
        }
    }
    return true;
}

/* getopt_long says only '?' for a long option prefix that fits several: name them. */
static bool report_ambiguous(const struct ed_cli *cli, const char *text)
{
    if (strncmp(text, "--", 2) != 0 || !text[2])
        return false;
    size_t len = strlen(text + 2), fits = 0;
    char names[256] = "";
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strncmp(options[i].opt.name, text + 2, len) == 0) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s--%s", fits ? ", " : "",
                     options[i].opt.name);
            fits++;
        }
    if (fits < 2)
        return false;
    ed_cli_error(cli, "option '%s' is ambiguous: it could be %s. Spell more of it.", text,
                 names);
    return true;
}

static void report_bad_option(const struct ed_cli *cli, int code, const char *text)
{
    if (code == ':')
        ed_cli_error(cli, "option '%s' needs a value. Run '%s --help'.", text, cli->prog);
    else if (!report_ambiguous(cli, text))
        ed_cli_error(cli, "unknown option '%s'. Run '%s --help' for the list.", text,
                     cli->prog);
}

static void report_unknown_command(const struct ed_cli *cli, const char *name)
{
    char names[256] = "";
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, commands[i].name, sizeof names - strlen(names) - 1);
    }
    ed_cli_error(cli, "unknown command '%s' (commands: %s). Run '%s --help'.", name, names,
                 cli->prog);
}

void ed_cli_parsed_free(struct ed_cli_parsed *p)
{
    free(p->argv);
    p->argv = NULL;
    free(p->ports);
    p->ports = NULL;
    p->argc = 0;
}

/* getopt_long alone reads the line, in order ('-' first in the option string): every
 * argument that is no option comes back as code 1, the first of them being the command,
 * so options stand on either side of it and POSIXLY_CORRECT changes nothing. The options
 * are applied once the command is known (which of them it takes depends on it). */
int ed_cli_parse(struct ed_cli *cli, int argc, char **argv, struct ed_cli_parsed *p)
{
    memset(p, 0, sizeof *p);
    cli->ports = NULL;         /* every -p of this line, kept in p */
    cli->port_count = 0;
    p->command = CMD_DOCTOR;   /* `espdoctor` alone examines the board */
    p->name = commands[CMD_DOCTOR].name;
    struct { int code; const char *arg; } *seen = calloc((size_t)argc + 1, sizeof *seen);
    p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    p->ports = calloc((size_t)argc + 1, sizeof *p->ports);
    if (!seen || !p->argv || !p->ports) {
        free(seen);
        ed_cli_parsed_free(p);
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    struct option long_opts[OPTION_COUNT + 1];
    char short_opts[2 * OPTION_COUNT + 3] = "-:";   /* in order; a missing value is ':' */
    build_getopt_tables(long_opts, short_opts + 2);

    const char *name = NULL;
    size_t nseen = 0;
    bool bad = false;
    optind = 0;   /* glibc: start afresh, reading the option string's flags again */
    opterr = 0;
    int c, fit;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        if (c == 1) {
            if (name)
                p->argv[p->argc++] = optarg;
            else
                name = optarg;
        } else if (c == '?' && optopt == 0 && optind > 0 && optind <= argc &&
                   (fit = shortest_fit(argv[optind - 1])) >= 0) {
            if (take_fit(cli, !bad, fit, argc, argv, &seen[nseen].code, &seen[nseen].arg))
                nseen++;
            else
                bad = true;
        } else if (c == '?' || c == ':') {
            char text[64];
            refused_text(argc, argv, text, sizeof text);
            if (!bad)   /* the first mistake only; the rest is still read for --json */
                report_bad_option(cli, c, text);
            bad = true;
        } else {
            seen[nseen].code = c;
            seen[nseen++].arg = optarg;
        }
    }
    for (; optind < argc; optind++) {   /* after "--": arguments, never options */
        if (name)
            p->argv[p->argc++] = argv[optind];
        else
            name = argv[optind];
    }
    for (size_t i = 0; i < nseen; i++)
        if (seen[i].code == OPT_JSON)
            cli->json = true;   /* before any error, so the error is a document too */

    if (name) {
        p->named = true;
        p->name = name;
        if (!find_command(name, &p->command)) {
            if (!bad)
                report_unknown_command(cli, name);
            bad = true;
        }
    }
    for (size_t i = 0; i < nseen && !bad; i++) {
        int code = seen[i].code;
        const struct option_spec *spec = spec_for(code);
        if (code == 'h')
            p->help = true;
        else if (code == OPT_VERSION)
            p->version = true;
        else if (spec && !(spec->commands & CMD_BIT(p->command))) {
            ed_cli_error(cli, "option '--%s' does not apply to '%s'. Run '%s %s --help'.",
                         spec->opt.name, commands[p->command].name, cli->prog,
                         commands[p->command].name);
            bad = true;
        } else if (!apply_option(cli, code, seen[i].arg)) {
            bad = true;
        } else if (code == 'p') {
            p->ports[cli->port_count++] = seen[i].arg;
            cli->ports = p->ports;
        }
    }
    free(seen);
    if (!bad && !check_contradictions(cli, p->command))
        bad = true;
    return bad ? ED_EXIT_USAGE : ED_EXIT_OK;
}

/* A command that works on a board stops on SIGINT, SIGTERM or SIGHUP and says what it had
 * done (espdoctor/interrupt.h). The monitor installs the same module itself, around its
 * session; list, image and udev are quick and poll nothing, so a signal ends them as it
 * would any program. */
static bool catches_signals(size_t command)
{
    return command != CMD_MONITOR && command != CMD_LIST && command != CMD_IMAGE &&
           command != CMD_UDEV && command != CMD_MERGE;
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

int ed_cli_main(int argc, char **argv)
{
    struct ed_cli cli;
    char last_error[ED_CLI_ERROR_MAX] = "";
    struct ed_cli_problem last_problem = { .id = "" };
    init_defaults(&cli, argc > 0 ? argv[0] : "espdoctor");
    cli.last_error = last_error;
    cli.last_problem = &last_problem;

    struct ed_cli_parsed p;
    int rc = ed_cli_parse(&cli, argc, argv, &p);
    if (rc != ED_EXIT_OK) {
        rc = usage_error(&cli, p.name, rc);
        ed_cli_parsed_free(&p);
        return rc;
    }
    const struct command *cmd = &commands[p.command];
    if (p.version || p.help) {
        if (p.version)
            fprintf(cli.out, "espdoctor %s\n", ESPDOCTOR_VERSION);
        else
            ed_cli_print_help(&cli, cli.out, p.named ? cmd->name : NULL);
        ed_cli_parsed_free(&p);
        return ED_EXIT_OK;
    }
    cli.progress = !cli.json && isatty(STDERR_FILENO);
    struct ed_cli_json j;
    /* The monitor streams its events; flash --monitor's come after flash's document. */
    bool streams = p.command == CMD_MONITOR || cli.monitor;
    if (!streams)
        ed_cli_json_begin(&cli, &j);
    else if (cli.json)
        cli.events = cli.out;
    bool signals = catches_signals(p.command);
    if (signals)
        ed_interrupt_install();
    rc = cmd->run(&cli, p.argc, p.argv);
    if (signals)
        rc = after_signal(&cli, cmd->name, rc);
    if (!streams)
        rc = ed_cli_json_end(&cli, &j, cmd->name, rc);
    if (signals)
        ed_interrupt_restore();
    ed_cli_parsed_free(&p);
    return rc;
}
