#include "boards.h"
#include "board/optfail.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

/* Options that shape the session, not one board: `--board I:` refuses them. */
static const char *const session_only[] = {
    "trace", "stats", "rfc2217", "sysroot", "real-proc", "brltty", "modemmanager",
    "uucp-lock", "group-member", "help", "boards", "board",
};

#define MAX_OVERRIDES 64

/* The command line taken apart: what every board gets, and what is ours. */
struct split {
    GPtrArray *shared;          /* argv[0] and the one-board options, borrowed */
    char **command;             /* COMMAND and its arguments; NULL: none */
    int command_len;
    const char *count_text;     /* --boards N; NULL: one board */
    const char *overrides[MAX_OVERRIDES];   /* "I:KEY=VALUE,..." */
    size_t override_count;
};


void espsim_boards_usage(FILE *out)
{
    fputs(
"\n"
"Several boards (one testbed, one COMMAND):\n"
"  --boards N           serve N boards (1-8) at once. Board i is /dev/ttyUSBi\n"
"                       (/dev/ttyACMi for usb-jtag) on port 2+i of the USB hub, with its\n"
"                       own serial number (the bridge's counted up: 0001, 0002, ...),\n"
"                       MAC (the chip's default or --mac, plus i) and files: --flash FILE,\n"
"                       --trace FILE and --stats FILE become FILE.0, FILE.1, ...\n"
"                       (--trace - stays one shared stream)\n"
"  --board I:KEY[=VALUE][,KEY[=VALUE]...]\n"
"                       options for board I only: any option above without its dashes,\n"
"                       e.g. --board 3:chip=esp8266 or --board 1:flash-size=1MB,mac=\n"
"                       24:0A:C4:00:00:01; flash=FILE is used as given. Repeatable.\n"
"                       The session's options (--trace, --stats, --rfc2217 and the\n"
"                       system root's) cannot be set per board\n", out);
}

/* "--name" or "--name=value": is it ours? Sets *value to the part after '='. */
static bool ours(const char *arg, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
        return false;
    if (arg[2 + n] == '\0') {
        *value = NULL;
        return true;
    }
    if (arg[2 + n] == '=') {
        *value = arg + 3 + n;
        return true;
    }
    return false;
}

/* Take --boards and --board out; everything else up to COMMAND is shared by the boards. */
static bool split_args(int argc, char **argv, struct split *sp, char *err, size_t errlen)
{
    g_ptr_array_add(sp->shared, argv[0]);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *value;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        bool count = ours(a, "boards", &value);
        if (count || ours(a, "board", &value)) {
            if (!value && i + 1 >= argc)
                return sim_optfail(err, errlen, "option \"%s\" needs a value.", a);
            if (!value)
                value = argv[++i];
            if (count) {
                sp->count_text = value;
            } else {
                if (sp->override_count == MAX_OVERRIDES)
                    return sim_optfail(err, errlen, "--board: at most %d are taken.", MAX_OVERRIDES);
                sp->overrides[sp->override_count++] = value;
            }
            continue;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;   /* the first word that is not an option starts COMMAND */
        g_ptr_array_add(sp->shared, argv[i]);
        if (strncmp(a, "--", 2) == 0 && !strchr(a, '=') &&
            espsim_option_takes_value(a + 2, strlen(a + 2)) && i + 1 < argc)
            g_ptr_array_add(sp->shared, argv[++i]);
    }
    if (i < argc) {
        sp->command = &argv[i];
        sp->command_len = argc - i;
    }
    return true;
}

static bool parse_count(const char *text, size_t *count)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || errno || *end || v < 1 || v > ESPSIM_MAX_BOARDS ||
        v > sim_usb_max_boards())
        return false;
    *count = v;
    return true;
}

/* "I:SPEC" -> I, and SPEC's start. */
static bool override_index(const char *text, size_t count, size_t *index, const char **spec)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || errno || *end != ':' || v >= count)
        return false;
    *index = v;
    *spec = end + 1;
    return true;
}

static bool is_session_only(const char *key, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(session_only); i++)
        if (strlen(session_only[i]) == len && strncmp(session_only[i], key, len) == 0)
            return true;
    return false;
}

/* SPEC's KEY[=VALUE] items as "--KEY[=VALUE]" arguments; notes which keys were set. */
static bool add_override_args(struct espsim_board_set *set, GPtrArray *args, const char *text,
                              const char *spec, bool *flash_set, bool *mac_set, char *err,
                              size_t errlen)
{
    gchar **items = g_strsplit(spec, ",", -1);
    bool ok = true;
    for (gchar **it = items; ok && *it; it++) {
        size_t key_len = strcspn(*it, "=");
        if (key_len == 0) {
            ok = sim_optfail(err, errlen, "--board %s: each item is KEY or KEY=VALUE (an option "
                      "without its dashes), like chip=esp8266.", text);
        } else if (is_session_only(*it, key_len)) {
            ok = sim_optfail(err, errlen, "--board %s: --%.*s is the session's, not one board's; "
                      "give it once, without --board.", text, (int)key_len, *it);
        } else {
            *flash_set = *flash_set || (key_len == 5 && strncmp(*it, "flash", 5) == 0);
            *mac_set = *mac_set || (key_len == 3 && strncmp(*it, "mac", 3) == 0);
            char *arg = g_strconcat("--", *it, NULL);
            g_ptr_array_add(set->owned, arg);
            g_ptr_array_add(args, arg);
        }
    }
    g_strfreev(items);
    return ok;
}

/* The chip's own MAC, from a throwaway board of the same chip. */
static bool default_mac(const struct sim_board_opts *opts, uint8_t mac[6])
{
    struct sim_board_opts o = *opts;
    o.flash_path = NULL;
    o.trace = NULL;
    o.firmware = SIM_FW_BLANK;
    o.flash_size = 256 * 1024;
    o.mac_given = false;
    char err[128];
    struct sim_board *b = sim_board_new(&o, err, sizeof err);
    if (!b)
        return false;
    sim_board_mac(b, mac);
    sim_board_free(b);
    return true;
}

/* mac + n in its last three bytes (the device part; the vendor prefix stays). */
static void mac_plus(uint8_t mac[6], unsigned n)
{
    uint32_t low = (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
    low = (low + n) & 0xFFFFFFu;
    mac[3] = (uint8_t)(low >> 16);
    mac[4] = (uint8_t)(low >> 8);
    mac[5] = (uint8_t)low;
}

/* A serial number counted up n times in its own alphabet: 0001 -> 0002, A50285BI ->
 * A50285BJ, 0009 -> 0010. */
static void serial_plus(const char *base, unsigned n, char *out, size_t len)
{
    snprintf(out, len, "%s", base);
    for (; n > 0; n--)
        for (size_t k = strlen(out); k-- > 0;) {
            char c = out[k];
            if (c == '9' || c == 'Z' || c == 'z') {
                out[k] = c == '9' ? '0' : c == 'Z' ? 'A' : 'a';
                continue;   /* carry into the next character */
            }
            if (isalnum((unsigned char)c)) {
                out[k] = (char)(c + 1);
                break;
            }
        }
}

static char *per_board_name(struct espsim_board_set *set, const char *path, size_t i)
{
    char *name = g_strdup_printf("%s.%zu", path, i);
    g_ptr_array_add(set->owned, name);
    return name;
}

/* What makes board i a board of its own: files, MAC, serial number, place on the hub. */
static bool make_distinct(struct espsim_board_set *set, size_t i, bool flash_set, bool mac_set,
                          char *err, size_t errlen)
{
    struct espsim_opts *o = &set->boards[i];
    if (set->count > 1) {
        if (o->board.flash_path && !flash_set)
            o->board.flash_path = per_board_name(set, o->board.flash_path, i);
        if (o->trace_path && strcmp(o->trace_path, "-") != 0)
            o->trace_path = per_board_name(set, o->trace_path, i);
        if (o->stats_path)
            o->stats_path = per_board_name(set, o->stats_path, i);
        if (!mac_set) {
            if (!o->board.mac_given && !default_mac(&o->board, o->board.mac))
                return sim_optfail(err, errlen, "board %zu: cannot build a %s board.", i, o->chip);
            mac_plus(o->board.mac, (unsigned)i);
            o->board.mac_given = true;
        }
    }
    if (o->bridge->serial && o->bridge->link == SIM_LINK_UART) {
        serial_plus(o->bridge->serial, (unsigned)i, set->serials[i], sizeof set->serials[i]);
        o->usb.serial = set->serials[i];
    }
    unsigned same_kind = 0;
    for (size_t k = 0; k < i; k++)
        same_kind += set->boards[k].bridge->cdc_acm == o->bridge->cdc_acm;
    sim_usb_place_for(o->bridge, (unsigned)i, same_kind, &set->places[i]);
    return true;
}

/* Board i's options: the shared ones, then its own, then COMMAND. */
static bool parse_board(struct espsim_board_set *set, const struct split *sp, size_t i,
                        char *err, size_t errlen)
{
    GPtrArray *args = g_ptr_array_new();
    for (guint k = 0; k < sp->shared->len; k++)
        g_ptr_array_add(args, g_ptr_array_index(sp->shared, k));
    bool flash_set = false, mac_set = false, ok = true;
    for (size_t k = 0; ok && k < sp->override_count; k++) {
        size_t index;
        const char *spec;
        if (!override_index(sp->overrides[k], set->count, &index, &spec))
            ok = sim_optfail(err, errlen, "--board wants I:KEY=VALUE,... with I a board from 0 to "
                      "%zu (--boards N makes N boards), not \"%s\".", set->count - 1,
                      sp->overrides[k]);
        else if (index == i)
            ok = add_override_args(set, args, sp->overrides[k], spec, &flash_set, &mac_set,
                                   err, errlen);
    }
    if (ok && sp->command) {
        g_ptr_array_add(args, "--");
        for (int k = 0; k < sp->command_len; k++)
            g_ptr_array_add(args, sp->command[k]);
    }
    g_ptr_array_add(args, NULL);
    char board_err[512];
    if (ok && !espsim_parse_args((int)args->len - 1, (char **)args->pdata, &set->boards[i],
                                 board_err, sizeof board_err))
        ok = sim_optfail(err, errlen, "board %zu: %s", i, board_err);
    /* The options point into args: it lives as long as the set. */
    g_ptr_array_add(set->owned, g_ptr_array_free(args, FALSE));
    return ok && make_distinct(set, i, flash_set, mac_set, err, errlen);
}

static bool check_session(const struct espsim_board_set *set, char *err, size_t errlen)
{
    if (set->count == 1)
        return true;
    const struct espsim_opts *o = &set->boards[0];
    if (o->rfc2217_port >= 0)
        return sim_optfail(err, errlen, "--rfc2217 serves one board; with --boards %zu the boards "
                    "are served to a COMMAND run in the testbed (after --).", set->count);
    return true;
}

struct espsim_board_set *espsim_boards_parse(int argc, char **argv, char *err, size_t errlen)
{
    struct espsim_board_set *set = g_new0(struct espsim_board_set, 1);
    set->owned = g_ptr_array_new_with_free_func(g_free);
    set->count = 1;
    struct split sp = { .shared = g_ptr_array_new() };
    bool ok = split_args(argc, argv, &sp, err, errlen);
    if (ok && sp.count_text && !parse_count(sp.count_text, &set->count))
        ok = sim_optfail(err, errlen, "--boards wants a number of boards from 1 to %d, not \"%s\".",
                  ESPSIM_MAX_BOARDS, sp.count_text);
    /* The shared options alone first, so that their errors name no board. */
    if (ok) {
        struct split alone = sp;
        alone.override_count = 0;
        size_t count = set->count;
        set->count = 1;
        ok = parse_board(set, &alone, 0, err, errlen);
        set->count = count;
    }
    if (ok && !set->boards[0].help) {
        for (size_t i = 0; ok && i < set->count; i++)
            ok = parse_board(set, &sp, i, err, errlen);
        ok = ok && check_session(set, err, errlen);
    }
    g_ptr_array_free(sp.shared, TRUE);
    if (!ok) {
        espsim_boards_free(set);
        return NULL;
    }
    return set;
}

void espsim_boards_free(struct espsim_board_set *set)
{
    if (!set)
        return;
    g_ptr_array_free(set->owned, TRUE);
    g_free(set);
}
