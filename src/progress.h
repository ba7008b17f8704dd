/* A one-line progress bar on a terminal: bytes, rate and time left. Drawn only when the
 * caller allows it (stderr is a terminal, no --json); otherwise every call does nothing. */
#ifndef ESPDOCTOR_PROGRESS_H
#define ESPDOCTOR_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ED_PROGRESS_WIDTH 24          /* characters of bar */
#define ED_PROGRESS_REDRAW_US 100000u /* at most ten redraws a second */

struct ed_progress {
    FILE *out;
    bool on;
    char label[64];
    uint64_t total;
    uint64_t start_us, last_draw_us;
    uint64_t last_done;
    uint64_t moved_us, moved_from;  /* when and where the count first moved: the rate is
                                       measured from there, not across a slow start (erase) */
    bool drawn;
};

/* Begin a bar for `total` bytes; on = false makes it silent. */
void ed_progress_start(struct ed_progress *p, FILE *out, bool on, const char *label,
                       uint64_t total);
/* Redraw with `done` bytes (rate-limited; the final value is always drawn). */
void ed_progress_update(struct ed_progress *p, uint64_t done);
/* Clear the bar's line, leaving the terminal clean for the next message. */
void ed_progress_end(struct ed_progress *p);

/* The bar's text for these numbers (no escape codes, no newline):
 * "mp.bin  [##########..............]  42%  640 KiB/1.5 MiB  112 KiB/s  0:08 left" */
void ed_progress_format(char *buf, size_t len, const char *label, uint64_t done,
                        uint64_t total, double elapsed_s);

#endif
