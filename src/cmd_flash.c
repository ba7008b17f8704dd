/* `espdoctor flash [ADDR] FILE [[ADDR] FILE ...]`: check that each file belongs on this
 * board at that address, then write it (skipping what is already there), verify it, reset
 * the board and say what booted.
 *
 * Order: files (exit 6 when missing or not firmware: refused offline, no board could
 * change that) -> connect and identify the board -> every check, against the board that
 * answered: chip, address, flash size, revision, integrity, the regions (exit 3 unless
 * --force; all problems reported, a chip mismatch first, each fix right for that board)
 * -> stub -> baud -> [--erase-all] -> write -> reset -> firmware probe. Nothing is written
 * before every check has passed. When no board answers, the checks that need none are
 * reported (exit 3 if one refuses), and the rest are named as waiting for the board; no
 * command that writes the file is suggested then. A failure while writing leaves the board
 * in its bootloader and says how far it got (exit 1); SIGINT, SIGTERM or SIGHUP at any
 * phase say what was done, what the flash holds and how to finish (flash_stop.c; exit
 * 130, 143, 129). Under flash --all
 * the checks that need no board run once, before any board is contacted.
 *
 * JSON (--json): progress events as it goes (progress_events.h), then one object on stdout
 * at the end, whatever happened (except a failed connect, which prints the connect report
 * instead):
 *   result         "ok", "refused", "input-error", "failed", "interrupted"; "skipped"
 *                  (a board of another chip, under flash --all)
 *   port, bridge, chip, chip_key, flash_size, chip_revision ("v1.0" or null), stub (path or
 *   null), baud (the data phase's), notes [strings]: from the session; null before connect
 *   regions        [{file, address, size, compressed_size (null: written uncompressed),
 *                    written, skipped, seconds, verified (true, false, or null when the
 *                    loader cannot hash flash), baud, md5 (of the file), resent (blocks
 *                    sent again after the loader refused them as damaged), recoveries
 *                    (times the link was brought back while writing it), compressed
 *                    (null: uncompressed, or {zlib, libdeflate (null: not tried),
 *                    used: "libdeflate" or "zlib"}), compressed_from_cache}]
 *   problems       [{file, id, blocking, forced, message, fix, fix_command}] (a chip
 *                  mismatch first; fix_command null when the fix is an action)
 *   unchecked      [ids of the checks that waited for a board that never answered]
 *   error          null or {id, message, fix, fix_command (ed_json_error), and for a region:
 *                  region (index), file, address, done, size}; a refusal's is its first
 *                  blocking problem; a file that changed while it was written:
 *                  input.changed (exit 6)
 *   interrupted    null or what a signal stopped (flash_stop.h): {signal, phase, erased,
 *                  flash, regions_complete, finish_command}; exit 128 + the signal
 *   firmware       null or {state, answered, micropython_version, description, boot_log}
 *   seconds        the whole command, wall clock */
#include "config_cli.h"
#include "connect.h"
#include "flash_header.h"
#include "cli.h"
#include "cli_json.h"
#include "commands.h"
#include "flash_all.h"
#include "flash_report.h"
#include "flash_internal.h"
#include "flash_session.h"
#include "flash_stop.h"
#include "escape.h"
#include "out.h"
#include "progress.h"
#include "progress_events.h"
#include "render.h"
#include "wrap.h"

#include "espdoctor/deflate_best.h"
#include "espdoctor/deflate_warm.h"
#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/fwprobe.h"
#include "espdoctor/interrupt.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct flash_run {
    struct ed_cli *cli;
    struct ed_flash_plan plan;
    struct ed_flash_region regions[ED_FLASH_MAX_REGIONS];
    struct ed_flash_session s;
    bool connected;
    bool unreached;             /* no board answered: the board's checks never ran */
    struct timespec t0;
    struct ed_flash_report rep; /* the problems found, and the checks that waited */
    json_object *error;
    json_object *firmware;
    json_object *interrupted;   /* what a signal stopped, or NULL */
    enum ed_flash_phase phase;
    const char *region_phase;   /* the engine's last: "comparing", "writing", "verifying" */
    bool erased_all;            /* --erase-all completed */
    char cache_dir[FILENAME_MAX];   /* deflate_best.h's; empty: no cache */
    struct ed_deflate_warm warm;    /* the files compressed while the board connects */
    struct ed_progress bar;
    struct ed_progress_events events;   /* --json: progress lines before the document */
    size_t bar_region;
    const struct ed_flash_hooks *hooks;   /* flash --all's; NULL for a plain flash */
    bool flashed;               /* every region written (or found there) and the board reset */
};

static double elapsed(const struct flash_run *run)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - run->t0.tv_sec) + (double)(t1.tv_nsec - run->t0.tv_nsec) / 1e9;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void md5_hex(const uint8_t md5[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md5[i]);
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* Both encoders' sizes of what was written compressed, and whose stream went out. */
static json_object *compressed_json(const struct ed_flash_region *r)
{
    if (!r->compressed || !r->written)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "zlib", json_object_new_int64((int64_t)r->zlib_size));
    json_object_object_add(o, "libdeflate", r->libdeflate_size
                                                ? json_object_new_int64((int64_t)r->libdeflate_size)
                                                : NULL);
    json_object_object_add(o, "used",
                           json_object_new_string(r->used_libdeflate ? "libdeflate" : "zlib"));
    return o;
}

static json_object *regions_json(const struct flash_run *run, size_t count)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < count; i++) {
        const struct ed_flash_region *r = &run->regions[i];
        json_object *o = json_object_new_object();
        char md5[33];
        md5_hex(r->file_md5, md5);
        json_object_object_add(o, "file", json_object_new_string(r->path));
        json_object_object_add(o, "address", json_object_new_int64(r->addr));
        json_object_object_add(o, "size", json_object_new_int64(r->size));
        json_object_object_add(o, "compressed_size",
                               r->compressed ? json_object_new_int64(r->compressed_size) : NULL);
        json_object_object_add(o, "compressed", compressed_json(r));
        /* From the cache: compressed by no part of this command (the thread that compresses
         * while the board connects fills the cache too). */
        bool made = ed_deflate_warm_made(&run->warm, i);
        json_object_object_add(o, "compressed_from_cache",
                               json_object_new_boolean(r->compressed_from_cache && !made));
        json_object_object_add(o, "compressed_while_connecting",
                               json_object_new_boolean(r->compressed_from_cache && made));
        json_object_object_add(o, "written", json_object_new_int64(r->written));
        json_object_object_add(o, "skipped", json_object_new_int64(r->skipped));
        json_object_object_add(o, "seconds", ed_json_seconds(r->seconds));
        json_object_object_add(o, "verified", r->verify == ED_VERIFY_NONE
                                                  ? NULL
                                                  : json_object_new_boolean(r->verify ==
                                                                            ED_VERIFY_OK));
        json_object_object_add(o, "baud", json_object_new_int64(run->s.baud));
        json_object_object_add(o, "md5", json_object_new_string(md5));
        json_object_object_add(o, "resent", json_object_new_int64(r->resent));
        json_object_object_add(o, "recoveries", json_object_new_int64(r->recoveries));
        json_object_array_add(arr, o);
    }
    return arr;
}

/* A refusal's error is its first blocking problem: the one to fix first. */
static json_object *refusal_error(const struct flash_run *run)
{
    json_object *problems = run->rep.problems;
    size_t n = problems ? json_object_array_length(problems) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(problems, i), *v;
        if (!json_object_object_get_ex(p, "blocking", &v) || !json_object_get_boolean(v))
            continue;
        json_object *id, *msg, *fix, *cmd;
        json_object_object_get_ex(p, "id", &id);
        json_object_object_get_ex(p, "message", &msg);
        json_object_object_get_ex(p, "fix", &fix);
        json_object_object_get_ex(p, "fix_command", &cmd);
        return ed_json_error(json_object_get_string(id), json_object_get_string(msg),
                             json_object_get_string(fix), json_object_get_string(cmd));
    }
    return ed_json_error("flash.refused", ed_cli_last_error(run->cli), NULL, NULL);
}

static int finish(struct flash_run *run, int exit_code, const char *result, size_t regions)
{
    if (run->cli->json && !run->s.reported_json) {
        /* The board session's keys are there whether or not a board answered. */
        json_object *o = ed_session_json(&run->s);
        json_object_object_add(o, "result", json_object_new_string(result));
        json_object_object_add(o, "regions", regions_json(run, regions));
        ed_flash_report_json(&run->rep, o);
        if (exit_code != ED_EXIT_OK && !run->error)
            run->error = ed_session_port_error_json(&run->s);
        if (exit_code != ED_EXIT_OK && !run->error)
            run->error = exit_code == ED_EXIT_REFUSED ? refusal_error(run)
                                                      : ed_json_error(
                                                            ed_cli_json_error_id(exit_code),
                                                            ed_cli_last_error(run->cli), NULL,
                                                            NULL);
        json_object_object_add(o, "error", json_object_get(run->error));
        json_object_object_add(o, "interrupted", json_object_get(run->interrupted));
        json_object_object_add(o, "firmware", json_object_get(run->firmware));
        json_object_object_add(o, "seconds", ed_json_seconds(elapsed(run)));
        ed_out_json(run->cli->out, o);
    }
    return exit_code;
}

static void set_error(struct flash_run *run, const char *id, const char *message)
{
    json_object_put(run->error);
    run->error = ed_json_error(id, message, NULL, NULL);
}

/* The regions as the plan has them now (the board's checks may settle an address). */
static void plan_regions(struct flash_run *run)
{
    for (size_t i = 0; i < run->plan.count; i++) {
        const struct ed_flash_item *it = &run->plan.items[i];
        run->regions[i] = (struct ed_flash_region){
            .path = it->path, .fd = it->fd, .addr = it->addr, .size = (uint32_t)it->img.file_size,
        };
    }
}

/* The signal that came, 0 if none: under flash --all the caller's flag (SIGINT). */
static int signal_came(const struct flash_run *run)
{
    if (run->hooks && run->hooks->cancel)
        return *run->hooks->cancel ? SIGINT : 0;
    return ed_interrupted();
}

/* A signal stopped the run: say what was done, what the flash holds, how to finish. */
static int stopped(struct flash_run *run, size_t at)
{
    ed_progress_end(&run->bar);
    if (run->phase < ED_PHASE_WRITING)
        plan_regions(run);
    struct ed_flash_stop st = {
        .cli = run->cli, .signal = signal_came(run), .phase = run->phase,
        .region_phase = run->region_phase, .erase_all = run->cli->erase_all,
        .erased_all = run->erased_all, .port = run->s.pc.path[0] ? run->s.pc.path : NULL,
        .regions = run->regions, .count = run->plan.count, .at = at,
    };
    json_object_put(run->error);
    json_object_put(run->interrupted);
    ed_flash_stop_report(&st, &run->error, &run->interrupted);
    run->s.reported_json = false;   /* whatever connect printed, this run's document is this */
    return finish(run, ed_interrupt_exit_status(st.signal), "interrupted", run->plan.count);
}

/* ---- arguments and files ---------------------------------------------------------------- */

/* A word on the flash line that is meant as an address: it starts like a number (a digit,
 * a sign, a blank) and names no file. Such a file can still be given as ./NAME. */
static bool looks_like_address(const char *word)
{
    struct stat st;
    if (!strchr("0123456789+ \t", word[0]) || !word[0])
        return false;
    return stat(word, &st) != 0;
}

static int add_files(struct flash_run *run, int argc, char **argv)
{
    struct ed_cli *cli = run->cli;
    if (argc == 0) {
        ed_cli_error(cli, "'flash' needs a firmware file: %s flash [ADDR] FILE [[ADDR] FILE ...]",
                     cli->prog);
        return ED_EXIT_USAGE;
    }
    /* The whole line's shape first (ADDR FILE, or FILE alone: its address is the one its
     * image says), so a mistake in it is named before any file is opened. */
    for (int i = 0; i < argc;) {
        bool addr_given = looks_like_address(argv[i]);
        uint32_t addr;
        if (addr_given && i + 1 == argc) {
            ed_cli_error(cli, "'%s' is an address with no file after it: 'flash' takes "
                         "ADDR FILE pairs, or files alone (each at the address its image "
                         "says). Example: %s flash 0x1000 firmware.bin", argv[i], cli->prog);
            return ED_EXIT_USAGE;
        }
        if (addr_given && !ed_cli_parse_size(argv[i], &addr)) {
            ed_cli_error(cli, "'%s' is not a flash address (e.g. 0x1000); arguments go as "
                         "ADDR FILE pairs, or files alone", argv[i]);
            return ED_EXIT_USAGE;
        }
        i += addr_given ? 2 : 1;
    }
    for (int i = 0; i < argc;) {
        bool addr_given = looks_like_address(argv[i]);
        uint32_t addr = 0;
        if (addr_given)
            ed_cli_parse_size(argv[i], &addr);
        const char *path = argv[addr_given ? i + 1 : i];
        i += addr_given ? 2 : 1;
        char err[ED_IMAGE_MESSAGE_MAX + ED_IMAGE_FIX_MAX];
        enum ed_flash_input in = ed_flash_plan_add(&run->plan, path, addr_given, addr, err,
                                                   sizeof err);
        if (in == ED_FLASH_INPUT_TOO_MANY) {
            ed_cli_error(cli, "%s", err);
            return ED_EXIT_USAGE;
        }
        if (in == ED_FLASH_INPUT_RAW && !addr_given && argc > 1) {
            /* Among several files, one whose image does not say where it goes. */
            ed_cli_error(cli, "%s is not an image that says where it goes (%s): give its "
                         "address before it (ADDR %s). Nothing was written.", path,
                         run->plan.items[run->plan.count - 1].img.evidence[0]
                             ? run->plan.items[run->plan.count - 1].img.evidence
                             : "no image header", path);
            return ED_EXIT_USAGE;
        }
        if (in == ED_FLASH_INPUT_OK || (in == ED_FLASH_INPUT_RAW && cli->force))
            continue;
        size_t n = strlen(err);
        const struct ed_image_problem *why = &run->plan.rejected;
        if (in == ED_FLASH_INPUT_NOT_FIRMWARE && why->rule) {
            /* What the file is, its fix and command, like every other problem. */
            struct ed_text_style st;
            ed_cli_style(cli, true, &st);
            ed_flash_report_problem(&run->rep, path, why->rule->id, true, false, why->message,
                                    why->fix, why->fix_command);
            ed_cli_error(cli, "%s", why->message);
            ed_render_fix(cli->err, "Fix: ", "  ", why->fix,
                          why->fix_command[0] ? why->fix_command : NULL, &st);
            fprintf(cli->err, "Nothing was written.\n");
        } else {
            ed_cli_error(cli, "%s%s Nothing was written.", err,
                         n && err[n - 1] != '.' ? "." : "");
        }
        set_error(run, "input.unusable", err);
        return ED_EXIT_INPUT;
    }
    return ED_EXIT_OK;
}

/* ---- writing ---------------------------------------------------------------------------- */

static void on_progress(void *ctx, const struct ed_flash_progress *p)
{
    struct flash_run *run = ctx;
    run->region_phase = p->phase;
    if (p->region != run->bar_region) {
        char label[64], name[160];
        ed_progress_end(&run->bar);
        ed_escape_name(base_name(run->regions[p->region].path), name, sizeof name);
        snprintf(label, sizeof label, "%.40s", name);
        ed_progress_start(&run->bar, run->cli->err, run->cli->progress, label, p->region_size);
        run->bar_region = p->region;
    }
    ed_progress_update(&run->bar, p->region_done);
    ed_progress_event(&run->events, ed_progress_event_phase(p->phase), p->region,
                      p->region_done, p->region_size);
    if (run->hooks && run->hooks->progress)
        run->hooks->progress(run->hooks->ctx, p);
}

static void say_region(struct flash_run *run, const struct ed_flash_region *r)
{
    size_t index = (size_t)(r - run->regions);
    char size[32], wrote[32], comp[160] = "", verdict[200], name[400];
    ed_escape_name(base_name(r->path), name, sizeof name);
    ed_session_format_size(r->size, size, sizeof size);
    ed_session_format_size(r->written, wrote, sizeof wrote);
    if (r->compressed && r->written) {
        char c[32];
        ed_session_format_size(r->compressed_size, c, sizeof c);
        if (r->used_libdeflate)
            snprintf(comp, sizeof comp, " (%s compressed: libdeflate -12 %llu bytes, zlib -9 "
                     "%llu%s)", c, (unsigned long long)r->libdeflate_size,
                     (unsigned long long)r->zlib_size,
                     !r->compressed_from_cache ? ""
                     : ed_deflate_warm_made(&run->warm, index) ? ", made while connecting"
                                                                 : ", from the cache");
        else
            snprintf(comp, sizeof comp, " (%s compressed by zlib -9)", c);
    }
    switch (r->verify) {
    case ED_VERIFY_OK: snprintf(verdict, sizeof verdict, "MD5 verified"); break;
    case ED_VERIFY_MISMATCH: snprintf(verdict, sizeof verdict, "MD5 MISMATCH"); break;
    case ED_VERIFY_NONE:
        snprintf(verdict, sizeof verdict, "unverified: the %s ROM cannot compute MD5 (a "
                 "flasher stub can: install espdoctor's stubs, or --stub FILE)",
                 run->s.ld->chip->name);
        break;
    }
    if (r->written == 0)
        ed_session_say(&run->s, "  0x%08x  %s  %s: unchanged, nothing written, %s", r->addr,
                       name, size, verdict);
    else if (r->skipped)
        ed_session_say(&run->s, "  0x%08x  %s  %s: wrote %s%s in %.1f s (the rest was already "
                       "there), %s", r->addr, name, size, wrote, comp,
                       r->seconds, verdict);
    else
        ed_session_say(&run->s, "  0x%08x  %s  %s: wrote %s%s in %.1f s, %s", r->addr,
                       name, size, wrote, comp, r->seconds, verdict);
}

static int report_failure(struct flash_run *run, int rc, size_t at)
{
    struct ed_cli *cli = run->cli;
    const struct ed_flash_region *r = &run->regions[at];
    char why[320], msg[1024], name[400];
    if (rc == ED_E_CANCELLED || signal_came(run))
        return stopped(run, at);
    ed_escape_name(base_name(r->path), name, sizeof name);
    if (rc == ED_E_REFUSED)
        snprintf(why, sizeof why, "refused before writing this region: the loader would "
                 "erase flash outside the regions asked for");
    else if (rc == ED_E_VERIFY)
        snprintf(why, sizeof why, "the flash does not hold what was written (MD5 differs "
                 "after writing, and again after rewriting what differed: the flash chip may "
                 "be failing)");
    else
        ed_session_describe_error(run->s.ld, rc, why, sizeof why);
    snprintf(msg, sizeof msg, "%s: stopped at region %zu of %zu (%s at 0x%x), %u of %u bytes "
             "in place. %s; run the same command again: only what does not verify is "
             "rewritten.", why, at + 1, run->plan.count, name, r->addr, r->done,
             r->size, rc == ED_E_GONE ? "The port vanished and did not come back: plug the "
                                        "board back in"
                                      : "The board is still in its bootloader");
    ed_cli_error(cli, "%s", msg);
    set_error(run, rc == ED_E_VERIFY ? "flash.verify-failed" : rc == ED_E_GONE ? "port.vanished"
                                                                           : "flash.write-failed",
              msg);
    json_object_object_add(run->error, "region", json_object_new_int64((int64_t)at));
    json_object_object_add(run->error, "file", json_object_new_string(r->path));
    json_object_object_add(run->error, "address", json_object_new_int64(r->addr));
    json_object_object_add(run->error, "done", json_object_new_int64(r->done));
    json_object_object_add(run->error, "size", json_object_new_int64(r->size));
    return finish(run, ED_EXIT_FAIL, "failed", at + 1);
}

/* Did region i's file change while it was written? Its size against the size it had when
 * it was checked, its MD5 against the one taken when its write began. Then the file is to
 * blame for what went wrong (a build or a download still writing it), not the board. */
static bool file_changed(const struct ed_flash_region *r, char *why, size_t len)
{
    struct stat st;
    if (fstat(r->fd, &st) != 0 || (uint64_t)st.st_size != r->size) {
        snprintf(why, len, "it was %u bytes when it was checked and is %lld bytes now",
                 r->size, (long long)st.st_size);
        return true;
    }
    uint8_t now[16];
    if (ed_flash_md5_file(r->fd, 0, r->size, now) == ED_OK &&
        memcmp(now, r->file_md5, 16) != 0) {
        snprintf(why, len, "its contents are not what they were when its write began");
        return true;
    }
    return false;
}

static int report_changed(struct flash_run *run, size_t at, const char *how)
{
    const struct ed_flash_region *r = &run->regions[at];
    char name[400], msg[1200];
    ed_escape_name(r->path, name, sizeof name);
    snprintf(msg, sizeof msg, "%s changed while it was being flashed: %s. What reached the "
             "board is not what the file holds now, so nothing is reported as written; the "
             "board is not at fault. Wait until whatever writes the file (a build, a "
             "download) has finished, then run the same command again.", name, how);
    ed_cli_error(run->cli, "%s", msg);
    set_error(run, "input.changed", msg);
    json_object_object_add(run->error, "region", json_object_new_int64((int64_t)at));
    json_object_object_add(run->error, "file", json_object_new_string(r->path));
    return finish(run, ED_EXIT_INPUT, "input-error", at + 1);
}

/* The options of the engine's calls, and a fresh start of the progress shown. */
static struct ed_flash_opts start_regions(struct flash_run *run)
{
    struct ed_cli *cli = run->cli;
    struct ed_flash_opts o = {
        .skip_unchanged = !cli->no_skip, .cancel = ed_interrupt_flag(), .progress = on_progress,
        .progress_ctx = run, .recover = ed_session_recover, .recover_ctx = &run->s,
        .deflate_cache = run->cache_dir[0] ? run->cache_dir : NULL,
    };
    run->bar_region = SIZE_MAX;
    ed_progress_events_init(&run->events, cli->events, "flash");
    /* Under flash --all the caller owns SIGINT and the flag (see board_procs.c). */
    if (run->hooks && run->hooks->cancel)
        o.cancel = run->hooks->cancel;
    run->s.cancel = o.cancel;
    plan_regions(run);
    return o;
}

/* A re-flash of what the board holds, found by the ROM before any stub is uploaded (the
 * ROMs that hash flash): then the stub's upload at 115200 and the baud change would buy
 * nothing. Any trouble here (a failed link) leaves it to the usual path, which recovers. */
static bool unchanged_in_rom(struct flash_run *run)
{
    struct ed_cli *cli = run->cli;
    struct ed_loader *ld = run->s.ld;
    if (cli->no_skip || cli->erase_all || ld->stub || !ed_flash_can_md5(ld))
        return false;
    if (ed_flash_prepare(ld, run->s.flash_size) != ED_OK)
        return false;
    struct ed_flash_opts o = start_regions(run);
    bool same = false;
    int rc = ed_flash_unchanged(ld, run->regions, run->plan.count, &o, &same);
    ed_progress_end(&run->bar);
    if (rc != ED_OK || !same)
        return false;
    run->s.baud = run->s.tp->baud;
    ed_session_note(&run->s, "the ROM loader found every file already in flash (an MD5 "
                    "each): no flasher stub was needed");
    return true;
}

static int write_all(struct flash_run *run)
{
    ed_deflate_warm_wait(&run->warm);
    struct ed_flash_opts o = start_regions(run);
    run->phase = ED_PHASE_WRITING;
    size_t at = 0;
    int rc = ed_flash_write(run->s.ld, run->regions, run->plan.count, &o, &at);
    ed_progress_end(&run->bar);
    if (rc != ED_E_CANCELLED && !signal_came(run)) {
        /* Every region begun was hashed at its start (a hash cut short by a file that
         * shrank is caught by its size first). */
        size_t begun = rc == ED_OK ? run->plan.count : at + 1;
        for (size_t i = 0; i < begun; i++) {
            char how[160];
            if (file_changed(&run->regions[i], how, sizeof how))
                return report_changed(run, i, how);
        }
    }
    if (rc != ED_OK)
        return report_failure(run, rc, at);
    for (size_t i = 0; i < run->plan.count; i++)
        say_region(run, &run->regions[i]);
    return ED_EXIT_OK;
}

static void probe_firmware(struct flash_run *run)
{
    struct ed_fwprobe *fw = calloc(1, sizeof *fw);
    if (!fw)
        return;
    if (run->s.pc.reset_button) {
        /* Its reset lines do nothing: a probe would only watch the ROM wait. */
        char text[300];
        snprintf(text, sizeof text, "not started: this board's auto-reset cannot restart it; "
                 "press %s to run the new firmware", run->s.pc.reset_button);
        ed_session_say(&run->s, "%s.", text);
        json_object *o_json = json_object_new_object();
        json_object_object_add(o_json, "state", NULL);
        json_object_object_add(o_json, "answered", json_object_new_boolean(false));
        json_object_object_add(o_json, "micropython_version", NULL);
        json_object_object_add(o_json, "description", json_object_new_string(text));
        json_object_object_add(o_json, "boot_log", json_object_new_string(""));
        run->firmware = o_json;
        free(fw);
        return;
    }
    ed_session_say(&run->s, "Resetting the board...");
    struct ed_fwprobe_opts o = { .reset = true, .poke = true };
    int rc = ed_fwprobe_run(run->s.tp, &o, fw);
    char text[900];
    if (rc != ED_OK)
        snprintf(text, sizeof text, "could not watch the board boot: %s", ed_strerror(rc));
    else
        ed_fwprobe_describe(fw, text, sizeof text);
    ed_session_say(&run->s, "%s%s%s.", ed_tone_on(run->cli->color, fw->state ==
                                                   ED_FW_MICROPYTHON ? ED_TONE_OK : ED_TONE_WARN),
                   text, ed_tone_off(run->cli->color));
    json_object *o_json = json_object_new_object();
    json_object_object_add(o_json, "state", rc == ED_OK ? json_object_new_string(
                                                              ed_fw_state_key(fw->state))
                                                        : NULL);
    json_object_object_add(o_json, "answered", json_object_new_boolean(fw->answered));
    json_object_object_add(o_json, "micropython_version",
                           fw->version[0] ? json_object_new_string(fw->version) : NULL);
    json_object_object_add(o_json, "description", json_object_new_string(text));
    json_object_object_add(o_json, "boot_log", json_object_new_string_len(
                                                   (const char *)fw->text, (int)fw->text_len));
    run->firmware = o_json;
    free(fw);
}

/* ---- the image header: --flash-mode, --flash-freq, --flash-size ---------------------------- */

/* The part of it the ROM boots when the item sits at the chip's bootloader offset: the
 * bootloader (alone or merged), or an ESP8266 v1 image at 0x0. NULL for any other. */
static const struct ed_image_part *booted_part(const struct ed_flash_item *it,
                                               const struct ed_chip *chip)
{
    const struct ed_image_info *img = &it->img;
    if ((img->kind == ED_IMAGE_BOOTLOADER || img->kind == ED_IMAGE_MERGED) &&
        img->boot.present && it->addr + img->boot.file_offset == chip->bootloader_offset)
        return &img->boot;
    if (img->kind == ED_IMAGE_ESP8266_V1 && img->app.present &&
        it->addr + img->app.file_offset == chip->bootloader_offset)
        return &img->app;
    return NULL;
}

/* Write a patched copy of the booted image instead of the file (the file is not changed). */
static int patch_headers(struct flash_run *run, const struct ed_chip *chip)
{
    struct ed_cli *cli = run->cli;
    struct ed_header_request req = {
        .mode = cli->flash_mode ? ed_header_mode_code(cli->flash_mode) : -1,
        .freq = cli->flash_freq, .size = cli->flash_size,
    };
    if (!ed_header_requested(&req))
        return ED_EXIT_OK;
    for (size_t i = 0; i < run->plan.count; i++) {
        struct ed_flash_item *it = &run->plan.items[i];
        const struct ed_image_part *part = booted_part(it, chip);
        if (!part)
            continue;
        char why[300];
        bool changed;
        int fd = ed_header_patch(it->fd, it->img.file_size, part, chip, &req, &changed, why,
                                 sizeof why);
        if (fd < 0) {
            ed_cli_error(cli, "%s. Nothing was written.", why);
            set_error(run, "flash.refused", why);
            return ED_EXIT_REFUSED;
        }
        close(it->fd);
        it->fd = fd;
        ed_session_note(&run->s, "%s: the image header at 0x%x %s (flash mode, frequency and "
                        "size as asked%s)", base_name(it->path), chip->bootloader_offset,
                        changed ? "is written patched" : "already says so",
                        part->sha_appended ? ", SHA-256 computed again" : "");
        return ED_EXIT_OK;
    }
    ed_session_note(&run->s, "no file goes at the %s's bootloader offset 0x%x as an image: "
                    "--flash-mode, --flash-freq and --flash-size changed nothing",
                    chip->name, chip->bootloader_offset);
    return ED_EXIT_OK;
}

/* ---- the command ------------------------------------------------------------------------ */

static int erase_everything(struct flash_run *run)
{
    char size[32];
    ed_session_format_size(run->s.flash_size ? run->s.flash_size : ED_FLASH_DEFAULT_SIZE, size,
                           sizeof size);
    ed_session_say(&run->s, "Erasing the whole %s flash first (--erase-all)%s...", size,
                   run->s.ld->stub ? "" : "; the ROM erases at about 40 s per MB at worst");
    run->phase = ED_PHASE_ERASING;
    uint32_t whole = run->s.flash_size ? run->s.flash_size : ED_FLASH_DEFAULT_SIZE;
    ed_progress_events_init(&run->events, run->cli->events, "flash");
    ed_progress_event(&run->events, "erase", 0, 0, whole);
    int rc = ed_flash_erase(run->s.ld, true, 0, 0, run->s.flash_size);
    if (signal_came(run))
        return stopped(run, 0);
    if (rc == ED_OK) {
        ed_progress_event(&run->events, "erase", 0, whole, whole);
        run->erased_all = true;
        return ED_EXIT_OK;
    }
    char why[320];
    ed_session_describe_error(run->s.ld, rc, why, sizeof why);
    ed_cli_error(run->cli, "erasing the flash failed: %s. Nothing was written.", why);
    set_error(run, "flash.erase-failed", why);
    return finish(run, ED_EXIT_FAIL, "failed", 0);
}

static void say_board(struct flash_run *run)
{
    struct ed_flash_session *s = &run->s;
    char size[32] = "unknown size", rev[32] = "";
    if (s->flash_size)
        ed_session_format_size(s->flash_size, size, sizeof size);
    if (s->revision_known)
        snprintf(rev, sizeof rev, " (revision v%u.%u)", s->revision / 100, s->revision % 100);
    ed_session_say(s, "%s%s, %s flash, on %s", s->ld->chip->name, rev, size, s->pc.path);
}

static int boot_and_finish(struct flash_run *run);

/* Every file was found in flash by the ROM: nothing to write, each one verified. */
static int unchanged_done(struct flash_run *run)
{
    for (size_t i = 0; i < run->s.note_count; i++)
        ed_session_say(&run->s, "Note: %s.", run->s.notes[i]);
    ed_session_say(&run->s, "Compared with the ROM loader at %u baud:", run->s.baud);
    for (size_t i = 0; i < run->plan.count; i++)
        say_region(run, &run->regions[i]);
    return boot_and_finish(run);
}

static int run_flash(struct flash_run *run, int argc, char **argv)
{
    struct ed_cli *cli = run->cli;
    run->phase = ED_PHASE_FILES;
    int rc = add_files(run, argc, argv);
    if (signal_came(run))
        return stopped(run, 0);
    if (rc != ED_EXIT_OK)
        return finish(run, rc, rc == ED_EXIT_INPUT ? "input-error" : "failed", 0);
    plan_regions(run);
    /* What no board could change: the files' integrity and the regions' layout. */
    size_t hard = 0;
    size_t blocking = ed_flash_plan_check(&run->plan, NULL, 0, ED_IMAGE_REVISION_UNKNOWN, &hard);
    if (run->hooks) {
        /* flash --all: once for all boards, before any of them is contacted. */
        if (blocking && (!cli->force || hard)) {
            ed_flash_report_judge(&run->rep, blocking, hard);
            return finish(run, ED_EXIT_REFUSED, "refused", 0);
        }
        if (run->hooks->files && !run->hooks->files(run->hooks->ctx, &run->plan))
            return finish(run, ED_EXIT_OK, "checked", 0);
    }

    /* Compress the files while the board connects (a stream the write finds ready). */
    if (!ed_deflate_cache_dir(run->cache_dir, sizeof run->cache_dir))
        run->cache_dir[0] = '\0';
    int fds[ED_FLASH_MAX_REGIONS];
    uint32_t sizes[ED_FLASH_MAX_REGIONS];
    for (size_t i = 0; i < run->plan.count; i++) {
        fds[i] = run->regions[i].fd;
        sizes[i] = run->regions[i].size;
    }
    ed_deflate_warm_start(&run->warm, run->cache_dir[0] ? run->cache_dir : NULL, fds, sizes,
                          run->plan.count);

    /* Every other check is made against the board that answers. */
    run->phase = ED_PHASE_CONNECTING;
    rc = ed_session_open(cli, &run->s);
    run->connected = run->s.ld && run->s.ld->chip;
    if (signal_came(run))
        return stopped(run, 0);
    if (rc != ED_EXIT_OK) {
        run->unreached = true;
        ed_flash_report_unchecked(&run->rep);
        if (blocking && (!cli->force || hard) && ed_flash_report_judge(&run->rep, blocking, hard))
            return finish(run, ED_EXIT_REFUSED, "refused", 0);
        return finish(run, rc, "failed", 0);
    }
    say_board(run);
    run->phase = ED_PHASE_CHECKING;
    run->rep.port = run->s.pc.path;
    const struct ed_chip *chip = run->s.ld->chip;
    uint32_t rev = run->s.revision_known ? run->s.revision : ED_IMAGE_REVISION_UNKNOWN;
    /* Who erases is known for sure only once the stub ran (or did not): judged here for
     * --no-stub, and again below if the ROM ends up doing the work anyway. */
    bool esp8266 = strcmp(chip->key, "esp8266") == 0;
    run->plan.esp8266_rom_erase = esp8266 && cli->no_stub;
    blocking = ed_flash_plan_check(&run->plan, chip, run->s.flash_size, rev, &hard);
    if (run->hooks && run->hooks->board &&
        !run->hooks->board(run->hooks->ctx, &run->s, &run->plan)) {
        ed_connect_leave(run->cli, run->s.ld);   /* not this board's image: leave it as it was */
        return finish(run, ED_EXIT_OK, "skipped", 0);
    }
    if (ed_flash_report_judge(&run->rep, blocking, hard)) {
        ed_connect_leave(run->cli, run->s.ld);   /* back to its old firmware, untouched */
        return finish(run, ED_EXIT_REFUSED, "refused", 0);
    }
    if (!run->s.revision_known)
        for (size_t i = 0; i < run->plan.count; i++)
            if (run->plan.items[i].img.boot.has_ext_header ||
                run->plan.items[i].img.app.has_ext_header) {
                ed_session_note(&run->s, "the %s's revision is not read by espdoctor: the "
                                "images' chip-revision ranges were not checked", chip->name);
                break;
            }

    rc = patch_headers(run, chip);
    if (rc != ED_EXIT_OK) {
        ed_connect_leave(cli, run->s.ld);
        return finish(run, rc, "refused", 0);
    }
    if (signal_came(run))
        return stopped(run, 0);
    if (unchanged_in_rom(run))
        return unchanged_done(run);
    if (signal_came(run))
        return stopped(run, 0);
    run->phase = ED_PHASE_STUB;
    rc = ed_session_stub(&run->s);
    if (signal_came(run))
        return stopped(run, 0);
    if (rc == ED_EXIT_OK) {
        run->phase = ED_PHASE_BAUD;
        rc = ed_session_ready(&run->s);
        if (signal_came(run))
            return stopped(run, 0);
    } else {
        set_error(run, rc == ED_EXIT_INPUT ? "stub.unusable" : "stub.upload-failed",
                  ed_cli_last_error(cli));
    }
    if (rc != ED_EXIT_OK)
        return finish(run, rc, rc == ED_EXIT_INPUT ? "input-error" : "failed", 0);
    if (esp8266 && !run->s.ld->stub && !run->plan.esp8266_rom_erase) {
        run->plan.esp8266_rom_erase = true;
        size_t before = blocking;
        blocking = ed_flash_plan_check(&run->plan, chip, run->s.flash_size, rev, &hard);
        if (blocking > before && ed_flash_report_judge(&run->rep, blocking, hard)) {
            ed_connect_leave(run->cli, run->s.ld);
            return finish(run, ED_EXIT_REFUSED, "refused", 0);
        }
    }
    for (size_t i = 0; i < run->s.note_count; i++)
        ed_session_say(&run->s, "Note: %s.", run->s.notes[i]);
    ed_session_say(&run->s, "Writing with the %s at %u baud%s:",
                   run->s.stub_path[0] ? "flasher stub" : "ROM loader", run->s.baud,
                   ed_flash_can_compress(run->s.ld) ? ", compressed" : "");
    if (cli->erase_all && (rc = erase_everything(run)) != ED_EXIT_OK)
        return rc;
    rc = write_all(run);
    if (rc != ED_EXIT_OK)
        return rc;
    return boot_and_finish(run);
}

/* Leave the loader as --after says, watch the firmware start, and say how it went. */
static int boot_and_finish(struct flash_run *run)
{
    struct ed_cli *cli = run->cli;
    run->phase = ED_PHASE_BOOTING;
    if (signal_came(run))
        return stopped(run, run->plan.count);
    int frc = ed_flash_finish(run->s.ld);
    if (frc != ED_OK) {
        char why[320];
        ed_session_describe_error(run->s.ld, frc, why, sizeof why);
        ed_session_note(&run->s, "ending the stub's flash session failed (%s); the data was "
                        "verified before", why);
    }
    if (cli->after == ED_AFTER_NONE)
        ed_session_say(&run->s, "Left in the bootloader (--after no-reset): the new firmware "
                       "starts at the next reset.");
    else
        probe_firmware(run);
    if (signal_came(run))
        return stopped(run, run->plan.count);
    run->flashed = true;
    return finish(run, ED_EXIT_OK, "ok", run->plan.count);
}

/* What this flash teaches the configuration file: the board was used, and, when every
 * region verified by MD5 at a rate the switch chose, the rate that worked. */
static void remember(struct flash_run *run)
{
    bool verified = run->s.baud_learnt && run->plan.count > 0;
    for (size_t i = 0; i < run->plan.count; i++)
        verified = verified && run->regions[i].verify == ED_VERIFY_OK;
    ed_cli_config_remember(run->cli, &run->s.pc, verified, run->s.baud_asked, run->s.baud);
}

int ed_flash_one(struct ed_cli *cli, int argc, char **argv, const struct ed_flash_hooks *hooks)
{
    struct flash_run *run = calloc(1, sizeof *run);
    if (!run) {
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    run->cli = cli;
    run->hooks = hooks;
    run->rep.cli = cli;
    run->rep.plan = &run->plan;
    clock_gettime(CLOCK_MONOTONIC, &run->t0);
    ed_flash_plan_init(&run->plan);
    int rc = run_flash(run, argc, argv);
    if (rc == ED_EXIT_OK && run->flashed)
        remember(run);
    ed_deflate_warm_wait(&run->warm);   /* before the files close */
    /* A board that would not answer gets the doctor; not under --all, where boards are
     * flashed side by side and the summary names the failures. */
    bool diagnose = rc != ED_EXIT_OK && !hooks && !signal_came(run) &&
                    ed_connect_failed(run->s.ld);
    ed_session_close(&run->s, false);
    if (diagnose)
        ed_cli_diagnose(cli, run->s.pc.path);
    if (run->unreached)
        ed_flash_report_say_unchecked(&run->rep);
    if (rc == ED_EXIT_OK && cli->monitor && !hooks)
        rc = ed_monitor_after_flash(cli, &run->s.pc);
    ed_flash_plan_close(&run->plan);
    ed_flash_report_free(&run->rep);
    json_object_put(run->error);
    json_object_put(run->firmware);
    json_object_put(run->interrupted);
    free(run);
    return rc;
}

int cmd_flash(struct ed_cli *cli, int argc, char **argv)
{
    return cli->all ? cmd_flash_all(cli, argc, argv) : ed_flash_one(cli, argc, argv, NULL);
}
