/* Where the monitor's output goes. Text: the board's bytes to stdout exactly as they
 * come, each note on a line of its own marked "--- " (coloured on a terminal), status for
 * people on stderr. --json: one JSON object per line on stdout, each with "schema" first
 * (out.h), the events
 *   {"event":"start", "port", "baud", "bridge", "log", "eol", "reset", "timeout"}
 *   {"event":"data", "text"}                (invalid UTF-8 shown as U+FFFD)
 *   {"event":"note", "kind", "level", "text", "line", ...the kind's own keys}
 *   {"event":"reconnect", "state":"lost"|"back", "port", ...}
 *   {"event":"end", "reason", "exit_status", "port", "bytes_in", "bytes_out",
 *    "reconnects", "seconds", "error"}
 * (the man page, JSON OUTPUT, has every key). */
#ifndef ESPDOCTOR_MONITOR_OUT_H
#define ESPDOCTOR_MONITOR_OUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "monitor_notes.h"

struct ed_mon_out {
    FILE *out, *err;
    bool json, color, quiet;
    bool interactive;          /* stdout and the keyboard are the user's terminal */
    bool at_line_start;        /* the last byte written to out ended a line */
    uint8_t partial[4];        /* --json: the start of a UTF-8 sequence cut by a read */
    size_t partial_len;
};

void ed_mon_out_init(struct ed_mon_out *o, FILE *out, FILE *err);

/* The decoder's ed_mon_emit_fn: ctx is the struct ed_mon_out. */
void ed_mon_out_emit(void *ctx, const uint8_t *data, size_t len, const struct ed_note *note);

/* A line of status for people on stderr ("--- ..."), not with --json or -q. */
void ed_mon_out_say(struct ed_mon_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One JSON event line (--json only); takes ownership of event. */
void ed_mon_out_event(struct ed_mon_out *o, json_object *event);

/* {"schema": N, "event": name} to be filled by the caller. */
json_object *ed_mon_event_new(const char *name);

/* Seconds rounded to milliseconds, as JSON. */
json_object *ed_mon_json_seconds(double seconds);

/* The end: pass on a cut UTF-8 sequence, and end the board's last line on a terminal. */
void ed_mon_out_finish(struct ed_mon_out *o);

#endif
