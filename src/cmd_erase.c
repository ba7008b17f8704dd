/* `espdoctor erase [--region ADDR SIZE]`: erase the whole flash, or a 4 KB-aligned region.
 * A stub has commands for both; a ROM erases through FLASH_BEGIN, before it answers, which
 * takes a while (up to 40 s per MB). Asks nothing: a whole-chip erase says what it will do
 * first.
 *
 * JSON (--json): {result ("ok", "failed", "refused"), the session's keys (port, chip, ...),
 * erased: {address, size, whole_chip}, error: null or {message}, seconds}, after a
 * progress event as the erase begins and one when it is done (progress_events.h). */
#include "config_cli.h"
#include "connect.h"
#include "cli.h"
#include "cli_json.h"
#include "commands.h"
#include "flash_session.h"
#include "out.h"
#include "progress_events.h"
#include "render.h"

#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/shell.h"

#include <string.h>
#include <time.h>


struct erase_args {
    bool whole;
    uint32_t addr, size;
};

static int parse_args(struct ed_cli *cli, int argc, char **argv, struct erase_args *a)
{
    memset(a, 0, sizeof *a);
    if (!cli->region_addr) {
        if (argc > 0) {
            ed_cli_error(cli, "'erase' erases the whole flash, or a region with --region ADDR "
                         "SIZE; '%s' is neither", argv[0]);
            return ED_EXIT_USAGE;
        }
        a->whole = true;
        return ED_EXIT_OK;
    }
    const char *size_text = NULL;
    int used = 0;
    if (argc > 0)
        size_text = argv[used++];
    if (!size_text || argc > used) {
        ed_cli_error(cli, "--region takes an address and a size: %s erase --region 0x10000 "
                     "0x1000", cli->prog);
        return ED_EXIT_USAGE;
    }
    if (!ed_cli_parse_size(cli->region_addr, &a->addr) ||
        !ed_cli_parse_size(size_text, &a->size) || a->size == 0) {
        ed_cli_error(cli, "--region %s %s: the address and the size must be numbers (0x10000, "
                     "64K), the size above 0", cli->region_addr, size_text);
        return ED_EXIT_USAGE;
    }
    if (a->addr % ED_FLASH_SECTOR || a->size % ED_FLASH_SECTOR) {
        ed_cli_error(cli, "--region %s %s: flash is erased in 4 KB sectors, so both must be "
                     "multiples of 0x1000 (e.g. --region 0x%x 0x%x)", cli->region_addr,
                     size_text, a->addr / ED_FLASH_SECTOR * ED_FLASH_SECTOR,
                     (a->size + ED_FLASH_SECTOR - 1) / ED_FLASH_SECTOR * ED_FLASH_SECTOR);
        return ED_EXIT_USAGE;
    }
    return ED_EXIT_OK;
}

static int report_as(struct ed_flash_session *s, const struct erase_args *a, int rc,
                     const char *result, const char *id, const char *error,
                     const char *fix_command, const struct timespec *t0)
{
    if (s->cli->json && !s->reported_json) {
        json_object *o = s->ld && s->ld->chip ? ed_session_json(s) : json_object_new_object();
        json_object *e = json_object_new_object();
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        json_object_object_add(o, "result", json_object_new_string(result));
        json_object_object_add(e, "address", json_object_new_int64(a->addr));
        json_object_object_add(e, "size", json_object_new_int64(a->size));
        json_object_object_add(e, "whole_chip", json_object_new_boolean(a->whole));
        json_object_object_add(o, "erased", e);
        json_object_object_add(o, "error", error ? ed_json_error(id, error, NULL, fix_command)
                                                 : NULL);
        json_object_object_add(o, "seconds", ed_json_seconds(
                                                 (double)(t1.tv_sec - t0->tv_sec) +
                                                 (double)(t1.tv_nsec - t0->tv_nsec) / 1e9));
        ed_out_json(s->cli->out, o);
    }
    return rc;
}

static int report(struct ed_flash_session *s, const struct erase_args *a, int rc,
                  const char *result, const char *error, const struct timespec *t0)
{
    const char *id = rc == ED_EXIT_INPUT ? "stub.unusable" : ed_cli_json_error_id(rc);
    return report_as(s, a, rc, result, id, error, NULL, t0);
}

/* SIGINT or SIGTERM: say whether the erase had begun, and the command that does it. */
static int stopped(struct ed_flash_session *s, const struct erase_args *a, bool erasing,
                   const struct timespec *t0)
{
    char what[64], command[400], port[300], message[600];
    if (a->whole)
        snprintf(what, sizeof what, "the whole flash");
    else
        snprintf(what, sizeof what, "0x%x bytes at 0x%x", a->size, a->addr);
    int n = snprintf(command, sizeof command, "espdoctor");
    if (s->pc.path[0])
        n += snprintf(command + n, sizeof command - (size_t)n, " -p %s",
                      ed_shell_quote(s->pc.path, port, sizeof port));
    snprintf(command + n, sizeof command - (size_t)n, " erase");
    if (!a->whole)
        snprintf(command + strlen(command), sizeof command - strlen(command),
                 " --region 0x%x 0x%x", a->addr, a->size);
    int sig = ed_interrupted();
    snprintf(message, sizeof message, "interrupted (%s) %s: %s%s", ed_interrupt_name(sig),
             erasing ? "while erasing" : "before erasing",
             erasing ? "the erase was under way, so part or all of " : "nothing was erased",
             erasing ? what : "");
    if (erasing)
        snprintf(message + strlen(message), sizeof message - strlen(message),
                 " is erased. The board is still in its bootloader");
    ed_cli_error(s->cli, "%s.", message);
    struct ed_text_style st;
    ed_cli_style(s->cli, true, &st);
    ed_render_fix(s->cli->err, "Fix: ", "  ", "Run this to erase it all the same:", command, &st);
    return report_as(s, a, ed_interrupt_exit_status(sig), "interrupted", "run.interrupted",
                     message, command, t0);
}

static int erase_on_board(struct ed_flash_session *s, struct erase_args *a,
                          const struct timespec *t0)
{
    struct ed_cli *cli = s->cli;
    char size[32], why[400];
    if (!a->whole && s->flash_size && (uint64_t)a->addr + a->size > s->flash_size) {
        ed_session_format_size(s->flash_size, size, sizeof size);
        snprintf(why, sizeof why, "--region 0x%x 0x%x ends at 0x%llx, past the end of the "
                 "board's %s flash. Nothing was erased.", a->addr, a->size,
                 (unsigned long long)a->addr + a->size, size);
        ed_cli_error(cli, "%s", why);
        return report(s, a, ED_EXIT_REFUSED, "refused", why, t0);
    }
    int rc = ed_session_stub(s);
    if (ed_interrupted())
        return stopped(s, a, false, t0);
    if (rc != ED_EXIT_OK)
        return report(s, a, rc, "failed", "the flasher stub could not be used", t0);
    int lrc = ed_flash_prepare(s->ld, s->flash_size);
    if (a->whole) {
        a->size = s->flash_size ? s->flash_size : ED_FLASH_DEFAULT_SIZE;
        ed_session_format_size(a->size, size, sizeof size);
        ed_session_say(s, "Erasing the whole %s flash of the %s on %s: everything on it goes, "
                       "firmware and files included.", size, s->ld->chip->name, s->pc.path);
    } else {
        ed_session_format_size(a->size, size, sizeof size);
        ed_session_say(s, "Erasing %s at 0x%x on %s.", size, a->addr, s->pc.path);
    }
    if (!s->ld->stub)
        ed_session_say(s, "The ROM loader erases everything before it answers; this can take "
                       "up to %u s.", ed_timeout_for_size(ED_RATE_ERASE_MS_PER_MB, a->size) / 1000);
    /* One command erases it all: an event as it starts, and one when it is done. */
    struct ed_progress_events events;
    ed_progress_events_init(&events, cli->events, "erase");
    if (lrc == ED_OK) {
        ed_progress_event(&events, "erase", 0, 0, a->size);
        lrc = ed_flash_erase(s->ld, a->whole, a->addr, a->size, s->flash_size);
        if (lrc == ED_OK)
            ed_progress_event(&events, "erase", 0, a->size, a->size);
    }
    if (ed_interrupted())
        return stopped(s, a, true, t0);   /* the erase had been asked for */
    if (lrc != ED_OK) {
        char detail[320];
        ed_session_describe_error(s->ld, lrc, detail, sizeof detail);
        snprintf(why, sizeof why, "erasing failed: %s", detail);
        ed_cli_error(cli, "%s", why);
        return report(s, a, ED_EXIT_FAIL, "failed", why, t0);
    }
    ed_session_say(s, "Erased.");
    ed_connect_leave(s->cli, s->ld);
    return report(s, a, ED_EXIT_OK, "ok", NULL, t0);
}

int cmd_erase(struct ed_cli *cli, int argc, char **argv)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct erase_args a;
    int rc = parse_args(cli, argc, argv, &a);
    if (rc != ED_EXIT_OK)
        return rc;
    struct ed_flash_session s;
    rc = ed_session_open(cli, &s);
    if (ed_interrupted())
        rc = stopped(&s, &a, false, &t0);
    else if (rc == ED_EXIT_OK)
        rc = erase_on_board(&s, &a, &t0);
    else if (s.port_failure.id[0])   /* reached, but refused before erasing: why */
        rc = report_as(&s, &a, rc, "failed", s.port_failure.id, s.port_failure.message,
                       s.port_failure.fix_command[0] ? s.port_failure.fix_command : NULL, &t0);
    else
        rc = report(&s, &a, rc, "failed", "could not reach the board", &t0);
    if (rc == ED_EXIT_OK)
        ed_cli_config_remember(cli, &s.pc, false, 0, 0);
    bool diagnose = rc != ED_EXIT_OK && ed_connect_failed(s.ld);
    ed_session_close(&s, false);
    if (diagnose)
        ed_cli_diagnose(cli, s.pc.path);
    return rc;
}
