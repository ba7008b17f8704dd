/* Progress as JSON events for an IDE (--json): one line each on cli->events, before the
 * command's document,
 *   {"schema":1, "event":"progress", "command", "phase", "region", "done", "total",
 *    "seconds", "bytes_per_second"}
 * phase: "compare", "write", "verify" (flash), "erase", "read"; region: the index of the
 * region (flash; 0 otherwise); done and total: bytes of that region; seconds: since the
 * phase began; bytes_per_second: done over seconds since the count first moved, a whole
 * number, null until it can be measured. At most ED_PROGRESS_EVENT_EVERY_US apart, except
 * the first of a phase or region and the one where done reaches total, always sent. */
#ifndef ESPDOCTOR_PROGRESS_EVENTS_H
#define ESPDOCTOR_PROGRESS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ED_PROGRESS_EVENT_EVERY_US 250000u   /* four a second at most */

struct ed_progress_events {
    FILE *out;                 /* NULL: every call does nothing */
    const char *command;
    char phase[16];
    size_t region;
    bool started;
    uint64_t phase_us;         /* when this phase of this region began */
    uint64_t moved_us, moved_from;   /* when and where the count first moved */
    uint64_t last_us, last_done;
};

/* Events for `command` on out (cli->events; NULL: none). */
void ed_progress_events_init(struct ed_progress_events *ev, FILE *out, const char *command);

/* done of total bytes of region, in phase (the flash engine's "comparing", "writing",
 * "verifying" are said "compare", "write", "verify"). */
void ed_progress_event(struct ed_progress_events *ev, const char *phase, size_t region,
                       uint64_t done, uint64_t total);

/* The phase word an event uses for the flash engine's phase name. */
const char *ed_progress_event_phase(const char *engine_phase);

#endif
