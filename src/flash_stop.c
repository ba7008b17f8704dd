/* The report of a flash stopped by a signal (see flash_stop.h). */
#include "flash_stop.h"

#include "escape.h"
#include "render.h"

#include "espdoctor/interrupt.h"
#include "espdoctor/shell.h"

#include <stdio.h>
#include <string.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

const char *ed_flash_stop_phase(const struct ed_flash_stop *st)
{
    switch (st->phase) {
    case ED_PHASE_FILES: return "files";
    case ED_PHASE_CONNECTING: return "connecting";
    case ED_PHASE_CHECKING: return "checking";
    case ED_PHASE_STUB: return "stub";
    case ED_PHASE_BAUD: return "baud";
    case ED_PHASE_ERASING: return "erasing";
    case ED_PHASE_WRITING: return st->region_phase ? st->region_phase : "writing";
    case ED_PHASE_BOOTING: return "booting";
    }
    return "?";
}

static const char *while_doing(const struct ed_flash_stop *st)
{
    switch (st->phase) {
    case ED_PHASE_FILES: return "while reading the files";
    case ED_PHASE_CONNECTING: return "while connecting to the board";
    case ED_PHASE_CHECKING: return "while checking the files against the board";
    case ED_PHASE_STUB: return "while uploading the flasher stub";
    case ED_PHASE_BAUD: return "while setting up the line and the flash";
    case ED_PHASE_ERASING: return "while erasing the whole flash (--erase-all)";
    case ED_PHASE_WRITING:
        return st->region_phase && strcmp(st->region_phase, "verifying") == 0
                   ? "while verifying"
               : st->region_phase && strcmp(st->region_phase, "comparing") == 0
                   ? "while comparing the flash with the files"
                   : "while writing";
    case ED_PHASE_BOOTING: return "after writing, while the board was reset";
    }
    return "";
}

/* Did the region in progress change the flash? FLASH_BEGIN erases (a ROM: the whole run
 * at once), so a write that began counts even before its first block. */
static bool current_touched(const struct ed_flash_stop *st)
{
    if (st->phase != ED_PHASE_WRITING || st->at >= st->count)
        return false;
    const struct ed_flash_region *r = &st->regions[st->at];
    return r->written > 0 || r->done > r->skipped ||
           (st->region_phase && strcmp(st->region_phase, "comparing") != 0);
}

/* "unchanged", "partly-erased", "erased", "partly-written", "unverified", "written". */
static const char *flash_state(const struct ed_flash_stop *st, size_t *complete)
{
    *complete = 0;
    if (st->phase == ED_PHASE_WRITING || st->phase == ED_PHASE_BOOTING)
        for (size_t i = 0; i < st->count && (i < st->at || st->phase == ED_PHASE_BOOTING); i++)
            (*complete)++;
    if (st->phase == ED_PHASE_BOOTING)
        return "written";
    if (st->phase == ED_PHASE_ERASING)
        return "partly-erased";
    /* The last region's data all went; only its check was cut short. */
    if (st->phase == ED_PHASE_WRITING && st->at + 1 == st->count && st->region_phase &&
        strcmp(st->region_phase, "verifying") == 0)
        return "unverified";
    if (current_touched(st))
        return "partly-written";
    bool wrote = false;
    for (size_t i = 0; i < *complete; i++)
        wrote = wrote || st->regions[i].written > 0;
    if (st->erased_all)
        return "erased";
    return wrote ? "partly-written" : "unchanged";
}

static void region_text(const struct ed_flash_stop *st, size_t i, char *out, size_t len)
{
    const struct ed_flash_region *r = &st->regions[i];
    char name[200];
    ed_escape_name(base_name(r->path), name, sizeof name);
    int n = snprintf(out, len, "region %zu of %zu (%s at 0x%x): ", i + 1, st->count, name,
                     r->addr);
    if (n < 0 || (size_t)n >= len)
        return;
    bool started = st->phase == ED_PHASE_BOOTING ||
                   (st->phase == ED_PHASE_WRITING && i <= st->at);
    bool finished = st->phase == ED_PHASE_BOOTING || (started && i < st->at);
    if (!started)
        snprintf(out + n, len - (size_t)n, "not started");
    else if (finished)
        snprintf(out + n, len - (size_t)n, "%s%s", r->written ? "written" : "already there",
                 r->verify == ED_VERIFY_OK ? ", verified" : ", not verified");
    else
        snprintf(out + n, len - (size_t)n, "%u of %u bytes in place, not verified", r->done,
                 r->size);
}

/* espdoctor -p PORT flash [options] ADDR FILE ...: the same job, minus an erase that
 * is done. */
static void finish_command(const struct ed_flash_stop *st, char *out, size_t len)
{
    const struct ed_cli *cli = st->cli;
    char q[600];
    size_t n = (size_t)snprintf(out, len, "espdoctor");
    if (st->port && n < len)
        n += (size_t)snprintf(out + n, len - n, " -p %s", ed_shell_quote(st->port, q, sizeof q));
    if (n < len)
        n += (size_t)snprintf(out + n, len - n, " flash");
    if (cli->baud && n < len)
        n += (size_t)snprintf(out + n, len - n, " -b %u", cli->baud);
    if (cli->no_stub && n < len)
        n += (size_t)snprintf(out + n, len - n, " --no-stub");
    if (cli->stub && n < len)
        n += (size_t)snprintf(out + n, len - n, " --stub %s", ed_shell_quote(cli->stub, q,
                                                                              sizeof q));
    if (cli->force && n < len)
        n += (size_t)snprintf(out + n, len - n, " --force");
    if (cli->no_skip && n < len)
        n += (size_t)snprintf(out + n, len - n, " --no-skip");
    if (st->erase_all && !st->erased_all && n < len)
        n += (size_t)snprintf(out + n, len - n, " --erase-all");
    for (size_t i = 0; i < st->count && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, " 0x%x %s", st->regions[i].addr,
                              ed_shell_quote(st->regions[i].path, q, sizeof q));
}

static const char *holds_text(const char *state)
{
    if (strcmp(state, "unchanged") == 0)
        return "Nothing was erased or written: the flash holds what it held before.";
    if (strcmp(state, "partly-erased") == 0)
        return "The erase was under way: part or all of the flash is erased, and the board "
               "will not boot until it is flashed.";
    if (strcmp(state, "erased") == 0)
        return "The whole flash was erased, and only the regions marked written hold new "
               "data: the board will not boot until it is flashed.";
    if (strcmp(state, "unverified") == 0)
        return "Everything was sent to the board, but the check that the flash holds it was "
               "cut short: nothing says it is right.";
    if (strcmp(state, "partly-written") == 0)
        return "The flash holds part of the new firmware: the board will not boot it as it "
               "is.";
    return "Every region was written and verified; only watching the board boot was cut "
           "short.";
}

void ed_flash_stop_report(const struct ed_flash_stop *st, json_object **error,
                          json_object **info)
{
    const struct ed_cli *cli = st->cli;
    size_t complete;
    const char *state = flash_state(st, &complete);
    char regions[2048] = "", command[4096], message[4096];
    bool in_region = st->phase == ED_PHASE_WRITING && st->at < st->count;
    if (in_region) {
        const struct ed_flash_region *r = &st->regions[st->at];
        char name[200];
        ed_escape_name(base_name(r->path), name, sizeof name);
        snprintf(regions, sizeof regions, "stopped at region %zu of %zu (%s at 0x%x), %u of "
                 "%u bytes in place", st->at + 1, st->count, name, r->addr, r->done, r->size);
    }
    for (size_t i = 0; i < st->count && (st->phase == ED_PHASE_WRITING ||
                                         st->phase == ED_PHASE_BOOTING); i++) {
        char one[400];
        if (in_region && i == st->at)
            continue;
        region_text(st, i, one, sizeof one);
        size_t n = strlen(regions);
        snprintf(regions + n, sizeof regions - n, "%s%s", n ? "; " : "", one);
    }
    finish_command(st, command, sizeof command);
    bool board = st->phase >= ED_PHASE_CHECKING;
    snprintf(message, sizeof message, "interrupted (%s) %s%s%s. %s%s", ed_interrupt_name(st->signal),
             while_doing(st), regions[0] ? ": " : "", regions, holds_text(state),
             board && st->phase != ED_PHASE_BOOTING ? " The board is still in its bootloader."
                                                    : "");
    const char *fix = st->phase == ED_PHASE_BOOTING
                          ? "Nothing is left to write; run the same command again to see the "
                            "board boot (what verifies is skipped)."
                          : "Run this to finish: only what does not verify is rewritten.";
    ed_cli_error(cli, "%s", message);
    struct ed_text_style ts;
    ed_cli_style(cli, true, &ts);
    ed_render_fix(cli->err, "Fix: ", "  ", fix, command, &ts);

    json_object *e = json_object_new_object();
    json_object_object_add(e, "id", json_object_new_string("run.interrupted"));
    json_object_object_add(e, "message", json_object_new_string(message));
    ed_json_add_fix(e, fix, command);
    if (in_region) {
        const struct ed_flash_region *r = &st->regions[st->at];
        json_object_object_add(e, "region", json_object_new_int64((int64_t)st->at));
        json_object_object_add(e, "file", json_object_new_string(r->path));
        json_object_object_add(e, "address", json_object_new_int64(r->addr));
        json_object_object_add(e, "done", json_object_new_int64(r->done));
        json_object_object_add(e, "size", json_object_new_int64(r->size));
    }
    *error = e;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "signal", json_object_new_string(ed_interrupt_name(st->signal)));
    json_object_object_add(o, "phase", json_object_new_string(ed_flash_stop_phase(st)));
    json_object_object_add(o, "erased", json_object_new_string(
                                            st->erased_all ? "whole-chip"
                                            : st->phase == ED_PHASE_ERASING ? "partly"
                                            : "none"));
    json_object_object_add(o, "flash", json_object_new_string(state));
    json_object_object_add(o, "regions_complete", json_object_new_int64((int64_t)complete));
    json_object_object_add(o, "finish_command", json_object_new_string(command));
    *info = o;
}
