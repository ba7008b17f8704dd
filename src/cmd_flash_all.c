/* `espdoctor flash --all [ADDR] FILE [ADDR FILE ...]`: flash every connected board whose
 * chip matches the files, all at once, one process per board (board_procs.h).
 *
 * Order: the files and the checks that need no board, once (exit 2, 3 or 6 as `flash`)
 * -> the boards: every connected one, or the ports -p (repeated) and --ports FILE name
 * (flash_all_ports.h: local paths, VID:PID and serial=XXXX among the connected boards,
 * rfc2217:// and socket:// as they are; a bad line: exit 2; nothing found: exit 4)
 * -> one process per board runs `flash` on its port, its output kept in memory; a board of
 * another chip is skipped (reset back into its firmware, untouched) -> a progress line per
 * board while they run -> a table: port, chip, MAC, result, time. Exit 0 when every board
 * of the files' chip was flashed, 1 when any failed or refused (a port named that cannot
 * be reached fails its own board only), 130 after Ctrl-C, 4 when no board was of the
 * files' chip.
 *
 * JSON (--json): one object on stdout at the end:
 *   result     "ok", "failed", "interrupted", "no-board", "input-error" (a file, or
 *              --ports FILE, cannot be read), "usage-error" (a port named is no port)
 *   files      [the files as given]
 *   chips      [the chips the files are built for]
 *   boards     [{port, chip, mac, result ("ok", "skipped", "failed", "refused",
 *                "interrupted", "input-error"), seconds, message (why it was skipped or
 *                failed; null when ok), flash (that board's `flash --json` document, or
 *                null)}]
 *   flashed, skipped, failed   board counts
 *   seconds    the whole command, wall clock */
#include "flash_all.h"

#include "board_procs.h"
#include "flash_all_ports.h"
#include "out.h"
#include "portsel.h"

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/ports.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_MAX 1024

/* The signal that came (SIGINT or SIGTERM), 0 while none did. Process-wide by nature (a signal
 * reaches a process, not a board): the parent passes it on to each board's process, whose own
 * copy its engine polls. */
static volatile sig_atomic_t all_interrupted;

static void on_signal(int sig)
{
    all_interrupted = sig;
}

struct flash_all {
    struct ed_cli *cli;
    int argc;
    char **argv;
    struct ed_board_job *jobs;
    size_t count;
    char chips[64];             /* the files' chips: "ESP32" */
    json_object *chip_list;
    uint64_t t0_us;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The files passed the checks that need no board: note their chips, then stop. */
static bool note_files(void *ctx, const struct ed_flash_plan *plan)
{
    struct flash_all *all = ctx;
    for (size_t i = 0; i < plan->count; i++) {
        const struct ed_chip *chip = plan->items[i].img.chip;
        if (!chip || strstr(all->chips, chip->name))
            continue;
        size_t n = strlen(all->chips);
        snprintf(all->chips + n, sizeof all->chips - n, "%s%s", n ? ", " : "", chip->name);
        json_object_array_add(all->chip_list, json_object_new_string(chip->name));
    }
    return false;
}

/* ---- the boards -------------------------------------------------------------------- */

static bool is_board(const struct ed_port *p)
{
    return p->devnode[0] && p->bridge;
}

/* A board to flash: a port of the enumeration (p), or one named that it does not hold
 * (p NULL: a network port, or a path that is not there, whose process says so). */
static struct ed_board_job *add_job(struct flash_all *all, const struct ed_port *p,
                                    const char *name)
{
    for (size_t i = 0; i < all->count; i++)
        if (strcmp(all->jobs[i].name, name) == 0)
            return &all->jobs[i];   /* named twice (a path and its serial=): once */
    struct ed_board_job *grown = realloc(all->jobs, (all->count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    all->jobs = grown;
    struct ed_board_job *job = &all->jobs[all->count++];
    memset(job, 0, sizeof *job);
    if (p)
        job->port = *p;
    job->fd = -1;
    snprintf(job->name, sizeof job->name, "%s", name);
    struct ed_port_spec spec;
    ed_port_spec_parse(name, &spec);
    snprintf(job->line.port, sizeof job->line.port, "%s",
             spec.kind == ED_SPEC_URL ? name : base_name(name));
    snprintf(job->line.state, sizeof job->line.state, "waiting");
    snprintf(job->mac, sizeof job->mac, "-");
    return job;
}

/* The connected boards a VID:PID or serial=XXXX names; none: a board that failed. */
static bool add_matches(struct flash_all *all, const struct ed_port_list *ports,
                        const struct ed_port_entry *e)
{
    struct ed_port_spec spec;
    ed_port_spec_parse(e->text, &spec);
    size_t n = ed_ports_match(ports, &spec, true, NULL, 0);
    size_t *idx = calloc(n ? n : 1, sizeof *idx);
    if (!idx)
        return false;
    ed_ports_match(ports, &spec, true, idx, n);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++)
        ok = add_job(all, &ports->items[idx[i]], ports->items[idx[i]].devnode) != NULL;
    free(idx);
    if (n || !ok)
        return ok;
    struct ed_board_job *job = add_job(all, NULL, e->text);
    if (!job)
        return false;
    job->ended = true;
    job->exit_code = ED_EXIT_NODEV;
    snprintf(job->reason, sizeof job->reason, "no connected board matches %s (%s; '%s list' "
             "shows them)", e->text, e->where, all->cli->prog);
    return true;
}

/* Each port named, in order: a network port as it is, a path as the enumeration knows it
 * (or as given: its process explains why it cannot be opened), VID:PID and serial=XXXX
 * as every board they match. */
static bool add_named(struct flash_all *all, const struct ed_port_list *ports,
                      const struct ed_port_entries *named)
{
    for (size_t i = 0; i < named->count; i++) {
        const struct ed_port_entry *e = &named->items[i];
        struct ed_port_spec spec;
        ed_port_spec_parse(e->text, &spec);
        const struct ed_port *p = spec.kind == ED_SPEC_PATH ? ed_ports_find(ports, e->text)
                                                            : NULL;
        bool ok = spec.kind == ED_SPEC_USB_ID || spec.kind == ED_SPEC_SERIAL
                      ? add_matches(all, ports, e)
                      : add_job(all, p, p ? p->devnode : e->text) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

/* Every connected board, or the ports -p, --ports and $ESPDOCTOR_PORT name. */
static int find_boards(struct flash_all *all)
{
    struct ed_cli *cli = all->cli;
    struct ed_port_entries named;
    int rc = ed_port_entries_read(cli, &named);
    if (rc != ED_EXIT_OK)
        return rc;
    struct ed_port_list ports;
    if (ed_ports_enumerate(&ports) != ED_OK)
        ports.count = 0, ports.items = NULL;
    bool ok = true;
    if (named.count)
        ok = add_named(all, &ports, &named);
    else
        for (size_t i = 0; i < ports.count && ok; i++)
            if (is_board(&ports.items[i]))
                ok = add_job(all, &ports.items[i], ports.items[i].devnode) != NULL;
    size_t boards = ed_ports_count_boards(&ports);
    ed_ports_free(&ports);
    if (!ok) {
        ed_port_entries_free(&named);
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    bool any = false;
    for (size_t i = 0; i < all->count; i++)
        any = any || !all->jobs[i].ended;
    if (any) {
        ed_port_entries_free(&named);
        return ED_EXIT_OK;
    }
    if (named.count)
        ed_cli_error(cli, "no connected board matches %s%s (%zu board%s connected; '%s list' "
                          "shows them).", named.items[0].text, named.count > 1 ? " or the "
                          "other ports named" : "", boards, boards == 1 ? " is" : "s are",
                     cli->prog);
    else
        ed_cli_error(cli, "no ESP board found: no known USB serial bridge is connected. "
                          "Plug the boards in with data-capable cables, and see '%s list'.",
                     cli->prog);
    ed_port_entries_free(&named);
    return ED_EXIT_NODEV;
}

/* ---- the summary ------------------------------------------------------------------- */

struct tally {
    size_t flashed, skipped, failed, interrupted;
};

static struct tally count_results(const struct flash_all *all)
{
    struct tally t = { 0 };
    for (size_t i = 0; i < all->count; i++) {
        const char *r = ed_board_job_result(&all->jobs[i]);
        if (strcmp(r, "ok") == 0)
            t.flashed++;
        else if (strcmp(r, "skipped") == 0)
            t.skipped++;
        else if (strcmp(r, "interrupted") == 0)
            t.interrupted++;
        else
            t.failed++;
    }
    return t;
}

static const char *board_chip(const struct ed_board_job *job)
{
    return job->line.chip[0] ? job->line.chip : NULL;
}

static void print_table(const struct flash_all *all, const struct tally *t, double seconds)
{
    struct ed_cli *cli = all->cli;
    FILE *o = cli->out;
    int width = 14;   /* as wide as the longest port (a network one is longer) */
    for (size_t i = 0; i < all->count; i++)
        if ((int)strlen(all->jobs[i].name) > width)
            width = (int)strlen(all->jobs[i].name);
    fprintf(o, "\n%s%-*s %-9s %-18s %-12s %s%s\n", ed_tone_on(cli->color, ED_TONE_BOLD),
            width, "PORT", "CHIP", "MAC", "RESULT", "TIME", ed_tone_off(cli->color));
    for (size_t i = 0; i < all->count; i++) {
        const struct ed_board_job *job = &all->jobs[i];
        const char *r = ed_board_job_result(job);
        enum ed_tone tone = strcmp(r, "ok") == 0        ? ED_TONE_OK
                            : strcmp(r, "skipped") == 0 ? ED_TONE_DIM
                                                        : ED_TONE_ERROR;
        const char *chip = board_chip(job);
        fprintf(o, "%-*s %-9s %-18s %s%-12s%s %.1f s\n", width, job->name,
                chip ? chip : "-", job->mac, ed_tone_on(cli->color, tone), r,
                ed_tone_off(cli->color), job->seconds);
    }
    fprintf(o, "%zu board%s: %zu flashed, %zu skipped, %zu failed%s, in %.1f s\n", all->count,
            all->count == 1 ? "" : "s", t->flashed, t->skipped, t->failed,
            t->interrupted ? ", the rest interrupted" : "", seconds);
    for (size_t i = 0; i < all->count; i++) {
        const struct ed_board_job *job = &all->jobs[i];
        char why[MESSAGE_MAX];
        ed_board_job_message(job, cli->prog, why, sizeof why);
        if (job->skipped)
            fprintf(o, "  %s skipped: %s\n", job->name, why);
    }
    fflush(o);
}

/* Every failure on stderr, whatever the output mode. */
static void report_failures(const struct flash_all *all)
{
    for (size_t i = 0; i < all->count; i++) {
        const struct ed_board_job *job = &all->jobs[i];
        const char *r = ed_board_job_result(job);
        if (strcmp(r, "ok") == 0 || strcmp(r, "skipped") == 0)
            continue;
        char why[MESSAGE_MAX];
        ed_board_job_message(job, all->cli->prog, why, sizeof why);
        ed_cli_error(all->cli, "%s: %s: %s", job->name, r, why);
    }
}

static json_object *summary_json(const struct flash_all *all, const struct tally *t,
                                 const char *result, double seconds)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "result", json_object_new_string(result));
    json_object *files = json_object_new_array();
    for (int i = all->argc == 1 ? 0 : 1; i < all->argc; i += all->argc == 1 ? 1 : 2)
        json_object_array_add(files, json_object_new_string(all->argv[i]));
    json_object_object_add(o, "files", files);
    json_object_object_add(o, "chips", json_object_get(all->chip_list));
    json_object *boards = json_object_new_array();
    for (size_t i = 0; i < all->count; i++) {
        const struct ed_board_job *job = &all->jobs[i];
        json_object *b = json_object_new_object();
        char why[MESSAGE_MAX];
        ed_board_job_message(job, all->cli->prog, why, sizeof why);
        json_object_object_add(b, "port", json_object_new_string(job->name));
        json_object_object_add(b, "chip", ed_json_str(board_chip(job)));
        json_object_object_add(b, "mac", ed_json_str(job->mac[0] != '-' ? job->mac : NULL));
        json_object_object_add(b, "result", json_object_new_string(ed_board_job_result(job)));
        json_object_object_add(b, "seconds", ed_json_seconds(job->seconds));
        json_object_object_add(b, "message", ed_json_str(why[0] ? why : NULL));
        json_object_object_add(b, "flash", json_object_get(job->doc));
        json_object_array_add(boards, b);
    }
    json_object_object_add(o, "boards", boards);
    json_object_object_add(o, "flashed", json_object_new_int64((int64_t)t->flashed));
    json_object_object_add(o, "skipped", json_object_new_int64((int64_t)t->skipped));
    json_object_object_add(o, "failed", json_object_new_int64((int64_t)t->failed));
    json_object_object_add(o, "seconds", ed_json_seconds(seconds));
    return o;
}

static int finish(struct flash_all *all)
{
    struct ed_cli *cli = all->cli;
    double seconds = (double)(now_us() - all->t0_us) / 1e6;
    struct tally t = count_results(all);
    int rc = ED_EXIT_OK;
    const char *result = "ok";
    if (t.interrupted || all_interrupted) {
        /* As the shell reports a process ended by that signal: 130, or 143 for SIGTERM. */
        rc = all_interrupted ? ed_interrupt_exit_status(all_interrupted) : ED_EXIT_INTERRUPTED;
        result = "interrupted";
    } else if (t.failed) {
        rc = ED_EXIT_FAIL;
        result = "failed";
    } else if (t.flashed == 0) {
        rc = ED_EXIT_NODEV;
        result = "no-board";
    }
    if (cli->json)
        ed_out_json(cli->out, summary_json(all, &t, result, seconds));
    else if (!cli->quiet)
        print_table(all, &t, seconds);
    report_failures(all);
    if (rc == ED_EXIT_NODEV)
        ed_cli_error(cli, "none of the %zu connected board%s is %s%s: nothing was written.",
                     all->count, all->count == 1 ? "" : "s",
                     all->chips[0] ? "an " : "one the files are for",
                     all->chips[0] ? all->chips : "");
    return rc;
}

/* An early end (bad files, no board): the reason is already on stderr. */
static int finish_early(struct flash_all *all, int rc, const char *result)
{
    if (all->cli->json) {
        struct tally t = count_results(all);
        double seconds = (double)(now_us() - all->t0_us) / 1e6;
        ed_out_json(all->cli->out, summary_json(all, &t, result, seconds));
    }
    return rc;
}

static void say_start(const struct flash_all *all)
{
    struct ed_cli *cli = all->cli;
    if (cli->json || cli->quiet)
        return;
    fprintf(cli->out, "Flashing %s firmware onto %zu board%s at once:", all->chips[0] ?
            all->chips : "the", all->count, all->count == 1 ? "" : "s");
    for (size_t i = 0; i < all->count; i++)
        fprintf(cli->out, "%s%s", i ? ", " : " ", all->jobs[i].name);
    fprintf(cli->out, "\n");
    fflush(cli->out);
}

static int run_boards(struct flash_all *all)
{
    struct ed_cli *cli = all->cli;
    say_start(all);
    enum ed_view_mode mode = cli->json || cli->quiet ? ED_VIEW_OFF
                             : cli->progress        ? ED_VIEW_TERMINAL
                                                    : ED_VIEW_PLAIN;
    struct sigaction sa = { .sa_handler = on_signal }, old, old_term;
    sigemptyset(&sa.sa_mask);
    all_interrupted = 0;
    sigaction(SIGINT, &sa, &old);
    sigaction(SIGTERM, &sa, &old_term);   /* SIGTERM too: every board says where it stopped */
    ed_board_procs_run(all->jobs, all->count, cli, all->argc, all->argv, mode,
                       &all_interrupted);
    sigaction(SIGINT, &old, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return finish(all);
}

int cmd_flash_all(struct ed_cli *cli, int argc, char **argv)
{
    struct flash_all all = { .cli = cli, .argc = argc, .argv = argv, .t0_us = now_us(),
                             .chip_list = json_object_new_array() };
    /* The files once, with flash's own checks and messages; no board is opened. */
    struct ed_cli files_cli = *cli;
    files_cli.json = false;
    files_cli.all = false;
    struct ed_flash_hooks files_hooks = { .ctx = &all, .files = note_files };
    int rc = ed_flash_one(&files_cli, argc, argv, &files_hooks);
    if (rc != ED_EXIT_OK)
        rc = finish_early(&all, rc, rc == ED_EXIT_INPUT     ? "input-error"
                                    : rc == ED_EXIT_REFUSED ? "refused"
                                                            : "failed");
    else if ((rc = find_boards(&all)) != ED_EXIT_OK)
        rc = finish_early(&all, rc, rc == ED_EXIT_NODEV   ? "no-board"
                                    : rc == ED_EXIT_USAGE ? "usage-error"   /* a bad line */
                                    : rc == ED_EXIT_INPUT ? "input-error"   /* --ports FILE */
                                                          : "failed");
    else
        rc = run_boards(&all);
    for (size_t i = 0; i < all.count; i++)
        ed_board_job_free(&all.jobs[i]);
    free(all.jobs);
    json_object_put(all.chip_list);
    return rc;
}
