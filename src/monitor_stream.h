/* The monitor's decoder: the board's bytes go through unchanged and as they come, with
 * notes put between them where a line ends (or just before MicroPython's ">>> " prompt,
 * whose four bytes are held back until it is complete). A note the board's output
 * repeats (a crash loop prints the same reset and backtrace every second) is shown once,
 * and the loop itself gets a note. Pure: no I/O, the caller gives the time. */
#ifndef ESPDOCTOR_MONITOR_STREAM_H
#define ESPDOCTOR_MONITOR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor_notes.h"

#define ED_MON_LINE_MAX 512        /* a longer line is decoded by its first bytes */
#define ED_MON_REPEAT_MS 10000u    /* the same note again only after this much quiet */
#define ED_MON_LOOP_RESETS 2u      /* resets after a failure that make a loop */

/* Receives, in order, either data (note NULL) or a note (data NULL, len 0). */
typedef void (*ed_mon_emit_fn)(void *ctx, const uint8_t *data, size_t len,
                               const struct ed_note *note);

struct ed_mon_seen {
    bool any;
    uint64_t seen_ms;               /* when the board last printed it */
    char text[ED_NOTE_TEXT_MAX];
};

struct ed_mon_stream {
    ed_mon_emit_fn emit;
    void *ctx;
    uint8_t line[ED_MON_LINE_MAX];
    size_t line_len;                /* bytes kept of the current line */
    bool line_started;              /* the current line has a byte (kept or not) */
    uint8_t held[4];                /* the start of a possible ">>> " */
    size_t held_len;
    bool prompt_due;                /* the next prompt gets a note */
    struct ed_mon_seen seen[ED_NOTE_KIND_COUNT];
    enum ed_note_kind failure;      /* what went wrong since the last reset line */
    bool failed;
    unsigned failed_resets;         /* resets in a row that followed a failure */
    struct ed_note scratch[4];
};

void ed_mon_stream_init(struct ed_mon_stream *s, ed_mon_emit_fn emit, void *ctx);

/* n bytes from the board, at now_ms (any monotonic clock). */
void ed_mon_stream_feed(struct ed_mon_stream *s, const uint8_t *buf, size_t n, uint64_t now_ms);

/* The board went quiet: pass on what is held back (an incomplete prompt). */
void ed_mon_stream_flush(struct ed_mon_stream *s);

/* The port came back after vanishing: pass on what is held, forget the broken line,
 * expect a fresh boot. */
void ed_mon_stream_restart(struct ed_mon_stream *s);

#endif
