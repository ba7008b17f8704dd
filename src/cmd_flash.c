/* `espdoctor flash [ADDR] FILE [ADDR FILE ...]`: check that each file belongs on this
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
 * command that writes the file is suggested then. A failure or Ctrl-C while writing leaves
 * the board in its bootloader and says how far it got (exit 1 or 130). Under flash --all
 * the checks that need no board run once, before any board is contacted.
 *
 * JSON (--json): one object on stdout at the end, whatever happened (except a failed
 * connect, which prints the connect report instead):
 *   result         "ok", "refused", "input-error", "failed", "interrupted"; "skipped"
 *                  (a board of another chip, under flash --all)
 *   port, bridge, chip, chip_key, flash_size, chip_revision ("v1.0" or null), stub (path or
 *   null), baud (the data phase's), notes [strings]: from the session; null before connect
 *   regions        [{file, address, size, compressed_size (null: written uncompressed),
 *                    written, skipped, seconds, verified (true, false, or null when the
 *                    loader cannot hash flash), baud, md5 (of the file), resent (blocks
 *                    sent again after the loader refused them as damaged), recoveries
 *                    (times the link was brought back while writing it)}]
 *   problems       [{file, id, blocking, forced, message, fix, fix_command}] (a chip
 *                  mismatch first; fix_command null when the fix is an action)
 *   unchecked      [ids of the checks that waited for a board that never answered]
 *   error          null or {message, region (index), file, address, done, size}
 *   firmware       null or {state, answered, micropython_version, description, boot_log}
 *   seconds        the whole command, wall clock */
#include "cli.h"
#include "commands.h"
#include "flash_all.h"
#include "flash_report.h"
#include "flash_session.h"
#include "out.h"
#include "progress.h"
#include "render.h"
#include "wrap.h"

#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/fwprobe.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* Set by SIGINT while writing; the engine polls it between blocks. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

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
    struct ed_progress bar;
    size_t bar_region;
    const struct ed_flash_hooks *hooks;   /* flash --all's; NULL for a plain flash */
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
        json_object_object_add(o, "written", json_object_new_int64(r->written));
        json_object_object_add(o, "skipped", json_object_new_int64(r->skipped));
        json_object_object_add(o, "seconds", json_object_new_double(r->seconds));
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

static int finish(struct flash_run *run, int exit_code, const char *result, size_t regions)
{
    if (run->cli->json && !run->s.reported_json) {
        /* The board session's keys are there whether or not a board answered. */
        json_object *o = ed_session_json(&run->s);
        json_object_object_add(o, "result", json_object_new_string(result));
        json_object_object_add(o, "regions", regions_json(run, regions));
        ed_flash_report_json(&run->rep, o);
        json_object_object_add(o, "error", json_object_get(run->error));
        json_object_object_add(o, "firmware", json_object_get(run->firmware));
        json_object_object_add(o, "seconds", json_object_new_double(elapsed(run)));
        ed_out_json(run->cli->out, o);
    }
    return exit_code;
}

static void set_error(struct flash_run *run, const char *message)
{
    json_object_put(run->error);
    run->error = json_object_new_object();
    json_object_object_add(run->error, "message", json_object_new_string(message));
}

/* ---- arguments and files ---------------------------------------------------------------- */

static int add_files(struct flash_run *run, int argc, char **argv)
{
    struct ed_cli *cli = run->cli;
    if (argc == 0) {
        ed_cli_error(cli, "'flash' needs a firmware file: %s flash [ADDR] FILE [ADDR FILE ...]",
                     cli->prog);
        return ED_EXIT_USAGE;
    }
    if (argc > 1 && argc % 2) {
        ed_cli_error(cli, "'flash' takes FILE, or ADDR FILE pairs; %d arguments leave one "
                     "without its partner. Example: %s flash 0x1000 firmware.bin", argc,
                     cli->prog);
        return ED_EXIT_USAGE;
    }
    for (int i = 0; i < argc; i += argc == 1 ? 1 : 2) {
        bool addr_given = argc > 1;
        uint32_t addr = 0;
        const char *path = argv[addr_given ? i + 1 : i];
        if (addr_given && !ed_cli_parse_size(argv[i], &addr)) {
            ed_cli_error(cli, "'%s' is not a flash address (e.g. 0x1000); arguments go as "
                         "ADDR FILE pairs", argv[i]);
            return ED_EXIT_USAGE;
        }
        char err[ED_IMAGE_MESSAGE_MAX + ED_IMAGE_FIX_MAX];
        enum ed_flash_input in = ed_flash_plan_add(&run->plan, path, addr_given, addr, err,
                                                   sizeof err);
        if (in == ED_FLASH_INPUT_TOO_MANY) {
            ed_cli_error(cli, "%s", err);
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
        set_error(run, err);
        return ED_EXIT_INPUT;
    }
    return ED_EXIT_OK;
}

/* ---- writing ---------------------------------------------------------------------------- */

static void on_progress(void *ctx, const struct ed_flash_progress *p)
{
    struct flash_run *run = ctx;
    if (p->region != run->bar_region) {
        char label[64];
        ed_progress_end(&run->bar);
        snprintf(label, sizeof label, "%.40s", base_name(run->regions[p->region].path));
        ed_progress_start(&run->bar, run->cli->err, run->cli->progress, label, p->region_size);
        run->bar_region = p->region;
    }
    ed_progress_update(&run->bar, p->region_done);
    if (run->hooks && run->hooks->progress)
        run->hooks->progress(run->hooks->ctx, p);
}

static void say_region(struct flash_run *run, const struct ed_flash_region *r)
{
    char size[32], wrote[32], comp[48] = "", verdict[200];
    ed_session_format_size(r->size, size, sizeof size);
    ed_session_format_size(r->written, wrote, sizeof wrote);
    if (r->compressed && r->written) {
        char c[32];
        ed_session_format_size(r->compressed_size, c, sizeof c);
        snprintf(comp, sizeof comp, " (%s compressed)", c);
    }
    switch (r->verify) {
    case ED_VERIFY_OK: snprintf(verdict, sizeof verdict, "MD5 verified"); break;
    case ED_VERIFY_MISMATCH: snprintf(verdict, sizeof verdict, "MD5 MISMATCH"); break;
    case ED_VERIFY_NONE:
        snprintf(verdict, sizeof verdict, "unverified: the %s ROM cannot compute MD5 (a "
                 "flasher stub can: --stub DIR, or install esptool-js)",
                 run->s.ld->chip->name);
        break;
    }
    if (r->written == 0)
        ed_session_say(&run->s, "  0x%08x  %s  %s: unchanged, nothing written, %s", r->addr,
                       base_name(r->path), size, verdict);
    else if (r->skipped)
        ed_session_say(&run->s, "  0x%08x  %s  %s: wrote %s%s in %.1f s (the rest was already "
                       "there), %s", r->addr, base_name(r->path), size, wrote, comp,
                       r->seconds, verdict);
    else
        ed_session_say(&run->s, "  0x%08x  %s  %s: wrote %s%s in %.1f s, %s", r->addr,
                       base_name(r->path), size, wrote, comp, r->seconds, verdict);
}

static int report_failure(struct flash_run *run, int rc, size_t at)
{
    struct ed_cli *cli = run->cli;
    const struct ed_flash_region *r = &run->regions[at];
    char why[320], msg[768];
    if (rc == ED_E_CANCELLED)
        snprintf(why, sizeof why, "interrupted");
    else if (rc == ED_E_REFUSED)
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
             "rewritten.", why, at + 1, run->plan.count, base_name(r->path), r->addr, r->done,
             r->size, rc == ED_E_GONE ? "The port vanished and did not come back: plug the "
                                        "board back in"
                                      : "The board is still in its bootloader");
    ed_cli_error(cli, "%s", msg);
    set_error(run, msg);
    json_object_object_add(run->error, "region", json_object_new_int64((int64_t)at));
    json_object_object_add(run->error, "file", json_object_new_string(r->path));
    json_object_object_add(run->error, "address", json_object_new_int64(r->addr));
    json_object_object_add(run->error, "done", json_object_new_int64(r->done));
    json_object_object_add(run->error, "size", json_object_new_int64(r->size));
    bool cancelled = rc == ED_E_CANCELLED;
    return finish(run, cancelled ? ED_EXIT_INTERRUPTED : ED_EXIT_FAIL,
                  cancelled ? "interrupted" : "failed", at + 1);
}

static int write_all(struct flash_run *run)
{
    struct ed_cli *cli = run->cli;
    for (size_t i = 0; i < run->plan.count; i++) {
        const struct ed_flash_item *it = &run->plan.items[i];
        run->regions[i] = (struct ed_flash_region){
            .path = it->path, .fd = it->fd, .addr = it->addr, .size = (uint32_t)it->img.file_size,
        };
    }
    struct ed_flash_opts o = {
        .skip_unchanged = !cli->no_skip, .cancel = &interrupted, .progress = on_progress,
        .progress_ctx = run, .recover = ed_session_recover, .recover_ctx = &run->s,
    };
    run->bar_region = SIZE_MAX;
    /* Under flash --all the caller owns SIGINT and the flag (see board_procs.c). */
    bool own_sigint = !(run->hooks && run->hooks->cancel);
    struct sigaction sa = { .sa_handler = on_sigint }, old;
    sigemptyset(&sa.sa_mask);
    if (own_sigint) {
        interrupted = 0;
        sigaction(SIGINT, &sa, &old);
    } else {
        o.cancel = run->hooks->cancel;
    }
    run->s.cancel = o.cancel;
    size_t at = 0;
    int rc = ed_flash_write(run->s.ld, run->regions, run->plan.count, &o, &at);
    if (own_sigint)
        sigaction(SIGINT, &old, NULL);
    ed_progress_end(&run->bar);
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

/* ---- the command ------------------------------------------------------------------------ */

static int erase_everything(struct flash_run *run)
{
    char size[32];
    ed_session_format_size(run->s.flash_size ? run->s.flash_size : ED_FLASH_DEFAULT_SIZE, size,
                           sizeof size);
    ed_session_say(&run->s, "Erasing the whole %s flash first (--erase-all)%s...", size,
                   run->s.ld->stub ? "" : "; the ROM erases at about 40 s per MB at worst");
    int rc = ed_flash_erase(run->s.ld, true, 0, 0, run->s.flash_size);
    if (rc == ED_OK)
        return ED_EXIT_OK;
    char why[320];
    ed_session_describe_error(run->s.ld, rc, why, sizeof why);
    ed_cli_error(run->cli, "erasing the flash failed: %s. Nothing was written.", why);
    set_error(run, why);
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

static int run_flash(struct flash_run *run, int argc, char **argv)
{
    struct ed_cli *cli = run->cli;
    int rc = add_files(run, argc, argv);
    if (rc != ED_EXIT_OK)
        return finish(run, rc, rc == ED_EXIT_INPUT ? "input-error" : "failed", 0);
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

    /* Every other check is made against the board that answers. */
    rc = ed_session_open(cli, &run->s);
    run->connected = run->s.ld && run->s.ld->chip;
    if (rc != ED_EXIT_OK) {
        run->unreached = true;
        ed_flash_report_unchecked(&run->rep);
        if (blocking && (!cli->force || hard) && ed_flash_report_judge(&run->rep, blocking, hard))
            return finish(run, ED_EXIT_REFUSED, "refused", 0);
        return finish(run, rc, "failed", 0);
    }
    say_board(run);
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
        ed_loader_hard_reset(run->s.ld);   /* not this board's image: leave it as it was */
        return finish(run, ED_EXIT_OK, "skipped", 0);
    }
    if (ed_flash_report_judge(&run->rep, blocking, hard)) {
        ed_loader_hard_reset(run->s.ld);   /* back to its old firmware, untouched */
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

    if ((rc = ed_session_stub(&run->s)) != ED_EXIT_OK ||
        (rc = ed_session_ready(&run->s)) != ED_EXIT_OK)
        return finish(run, rc, rc == ED_EXIT_INPUT ? "input-error" : "failed", 0);
    if (esp8266 && !run->s.ld->stub && !run->plan.esp8266_rom_erase) {
        run->plan.esp8266_rom_erase = true;
        size_t before = blocking;
        blocking = ed_flash_plan_check(&run->plan, chip, run->s.flash_size, rev, &hard);
        if (blocking > before && ed_flash_report_judge(&run->rep, blocking, hard)) {
            ed_loader_hard_reset(run->s.ld);
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
    int frc = ed_flash_finish(run->s.ld);
    if (frc != ED_OK) {
        char why[320];
        ed_session_describe_error(run->s.ld, frc, why, sizeof why);
        ed_session_note(&run->s, "ending the stub's flash session failed (%s); the data was "
                        "verified before", why);
    }
    probe_firmware(run);
    return finish(run, ED_EXIT_OK, "ok", run->plan.count);
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
    /* A board that would not answer gets the doctor; not under --all, where boards are
     * flashed side by side and the summary names the failures. */
    bool diagnose = rc != ED_EXIT_OK && !hooks && ed_connect_failed(run->s.ld);
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
    free(run);
    return rc;
}

int cmd_flash(struct ed_cli *cli, int argc, char **argv)
{
    return cli->all ? cmd_flash_all(cli, argc, argv) : ed_flash_one(cli, argc, argv, NULL);
}
