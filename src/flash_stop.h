/* What `flash` says when SIGINT or SIGTERM stops it (CLI layer): one paragraph on what
 * was done (erased, written, verified, per region), what the flash holds now, and the
 * command that finishes the job; the same as JSON. */
#ifndef ESPDOCTOR_FLASH_STOP_H
#define ESPDOCTOR_FLASH_STOP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "espdoctor/flash.h"

/* Where the flash run was. */
enum ed_flash_phase {
    ED_PHASE_FILES,        /* reading and checking the files: no board yet */
    ED_PHASE_CONNECTING,   /* reaching the ROM loader, identifying the chip */
    ED_PHASE_CHECKING,     /* judging the files against the board */
    ED_PHASE_STUB,         /* uploading the flasher stub */
    ED_PHASE_BAUD,         /* switching speed, attaching the flash */
    ED_PHASE_ERASING,      /* --erase-all in progress */
    ED_PHASE_WRITING,      /* the regions: compare, write, verify */
    ED_PHASE_BOOTING,      /* written and verified; resetting, watching it boot */
};

struct ed_flash_stop {
    const struct ed_cli *cli;
    int signal;
    enum ed_flash_phase phase;
    const char *region_phase;    /* the engine's: "comparing", "writing", "verifying" */
    bool erase_all;              /* --erase-all was asked */
    bool erased_all;             /* and it completed */
    const char *port;            /* the board's port; NULL when none answered */
    const struct ed_flash_region *regions;
    size_t count;
    size_t at;                   /* the region in progress (ED_PHASE_WRITING) */
};

/* "connecting", "checking", "stub", "baud", "erasing", "comparing", "writing",
 * "verifying", "booting", "files". */
const char *ed_flash_stop_phase(const struct ed_flash_stop *st);

/* Print the paragraph and the finishing command on stderr; fill *error (the document's
 * error object: id run.interrupted, message, fix, fix_command, and region, file,
 * address, done, size when a region was in progress) and *info (the "interrupted"
 * object: signal, phase, erased, flash, finish_command). */
void ed_flash_stop_report(const struct ed_flash_stop *st, json_object **error,
                          json_object **info);

#endif
