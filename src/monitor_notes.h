/* What one line of the board's console output means, as notes for the monitor: reset
 * cause and boot mode, brown-out, a Guru Meditation and its backtrace, nothing bootable,
 * the MicroPython banner. The decoding itself is the boot-log decoder's (bootlog.h); this
 * file puts its facts into words. */
#ifndef ESPDOCTOR_MONITOR_NOTES_H
#define ESPDOCTOR_MONITOR_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "espdoctor/bootlog.h"

enum ed_note_kind {
    ED_NOTE_RESET,          /* rst:0xN (NAME),boot:0xNN / rst cause:N, boot mode:(N,M) */
    ED_NOTE_BROWNOUT,       /* Brownout detector was triggered */
    ED_NOTE_CRASH,          /* Guru Meditation Error: Core N panic'ed (REASON) */
    ED_NOTE_BACKTRACE,      /* Backtrace: PC:SP ... */
    ED_NOTE_BOOT_LOOP,      /* resets after a failure, again and again (made by the stream) */
    ED_NOTE_NO_FIRMWARE,    /* invalid header: nothing bootable in flash */
    ED_NOTE_FLASH_READ,     /* flash read err */
    ED_NOTE_UNREADABLE,     /* bytes that are not text: wrong line speed? */
    ED_NOTE_MICROPYTHON,    /* MicroPython vX.Y.Z on DATE; BOARD */
    ED_NOTE_PROMPT,         /* MicroPython's ">>> " (made by the stream) */
    ED_NOTE_KIND_COUNT
};

enum ed_note_level { ED_NOTE_INFO, ED_NOTE_WARN, ED_NOTE_ERROR };

#define ED_NOTE_TEXT_MAX 480

struct ed_note {
    enum ed_note_kind kind;
    enum ed_note_level level;
    char text[ED_NOTE_TEXT_MAX];            /* for people, one line */
    char line[160];            /* the board's line it decodes (printable), "" if none */
    struct ed_bootlog facts;   /* that line decoded: the kind's fields come from here */
    unsigned resets;           /* ED_NOTE_BOOT_LOOP: resets after a failure, in a row */
    enum ed_note_kind after;   /* ED_NOTE_BOOT_LOOP: the failure (crash, brown-out, ...) */
};

/* "reset", "brownout", "crash", "backtrace", "boot-loop", "no-firmware",
 * "flash-read-error", "unreadable", "micropython", "repl-prompt" */
const char *ed_note_kind_key(enum ed_note_kind kind);

/* The notes one line of console output (without its line end) gives, at most cap of
 * them, in out. Returns how many. */
size_t ed_notes_from_line(const uint8_t *line, size_t len, struct ed_note *out, size_t cap);

/* The note for MicroPython's REPL prompt. */
void ed_note_prompt(struct ed_note *n);

/* The note for a board that reset `resets` times in a row, each after `after`. */
void ed_note_boot_loop(struct ed_note *n, unsigned resets, enum ed_note_kind after);

#endif
