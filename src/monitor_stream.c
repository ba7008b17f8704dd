/* The monitor's decoder (see monitor_stream.h). */
#include "monitor_stream.h"

#include <string.h>

static const uint8_t prompt[4] = { '>', '>', '>', ' ' };

void ed_mon_stream_init(struct ed_mon_stream *s, ed_mon_emit_fn emit, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->emit = emit;
    s->ctx = ctx;
    s->prompt_due = true;   /* a REPL already running shows its prompt at the first Enter */
}

static void pass(struct ed_mon_stream *s, const uint8_t *data, size_t n)
{
    if (n)
        s->emit(s->ctx, data, n, NULL);
}

/* A byte of the current line, for decoding at its end. */
static void keep(struct ed_mon_stream *s, uint8_t b)
{
    s->line_started = true;
    if (s->line_len < ED_MON_LINE_MAX)
        s->line[s->line_len++] = b;
}

static void release_held(struct ed_mon_stream *s)
{
    uint8_t copy[sizeof s->held];
    size_t n = s->held_len;
    memcpy(copy, s->held, n);
    s->held_len = 0;
    pass(s, copy, n);
}

/* False for a note the board keeps repeating: same text, seen again within
 * ED_MON_REPEAT_MS of the last time. */
static bool fresh(struct ed_mon_stream *s, const struct ed_note *note, uint64_t now_ms)
{
    struct ed_mon_seen *seen = &s->seen[note->kind];
    bool repeat = seen->any && strcmp(seen->text, note->text) == 0 &&
                  now_ms - seen->seen_ms < ED_MON_REPEAT_MS;
    seen->any = true;
    seen->seen_ms = now_ms;
    if (!repeat)
        memcpy(seen->text, note->text, sizeof seen->text);
    return !repeat;
}

static void show(struct ed_mon_stream *s, const struct ed_note *note, uint64_t now_ms)
{
    if (fresh(s, note, now_ms))
        s->emit(s->ctx, NULL, 0, note);
}

/* Keep count of failures and the resets that follow them: two in a row make a loop. */
static void account(struct ed_mon_stream *s, const struct ed_note *note, uint64_t now_ms)
{
    show(s, note, now_ms);
    switch (note->kind) {
    case ED_NOTE_CRASH:
    case ED_NOTE_BROWNOUT:
    case ED_NOTE_NO_FIRMWARE:
        if (!s->failed || note->kind == ED_NOTE_CRASH)
            s->failure = note->kind;
        s->failed = true;
        break;
    case ED_NOTE_RESET:
        s->prompt_due = true;
        if (!s->failed)
            break;
        s->failed = false;
        if (++s->failed_resets == ED_MON_LOOP_RESETS) {
            struct ed_note loop;
            ed_note_boot_loop(&loop, s->failed_resets, s->failure);
            show(s, &loop, now_ms);
        }
        break;
    case ED_NOTE_MICROPYTHON:
        s->prompt_due = true;
        s->failed = false;
        s->failed_resets = 0;
        break;
    default:
        break;
    }
}

static void end_line(struct ed_mon_stream *s, uint64_t now_ms)
{
    size_t len = s->line_len;
    while (len && s->line[len - 1] == '\r')
        len--;
    /* What the user typed at the REPL, echoed back: not the board's own words. */
    bool echo = len >= 4 && (memcmp(s->line, ">>> ", 4) == 0 || memcmp(s->line, "... ", 4) == 0);
    if (!echo) {
        size_t n = ed_notes_from_line(s->line, len, s->scratch,
                                      sizeof s->scratch / sizeof s->scratch[0]);
        for (size_t i = 0; i < n; i++)
            account(s, &s->scratch[i], now_ms);
    }
    s->line_len = 0;
    s->line_started = false;
}

void ed_mon_stream_feed(struct ed_mon_stream *s, const uint8_t *buf, size_t n, uint64_t now_ms)
{
    size_t run = 0;   /* start of the bytes not passed on yet */
    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        if (s->held_len || (s->prompt_due && !s->line_started && b == prompt[0])) {
            if (b == prompt[s->held_len]) {
                pass(s, buf + run, i - run);
                run = i + 1;
                s->held[s->held_len++] = b;
                keep(s, b);
                if (s->held_len == sizeof prompt) {
                    struct ed_note note;
                    ed_note_prompt(&note);
                    s->prompt_due = false;
                    s->emit(s->ctx, NULL, 0, &note);
                    release_held(s);
                }
                continue;
            }
            release_held(s);   /* not a prompt after all; b goes on as usual */
        }
        if (b == '\n') {
            pass(s, buf + run, i + 1 - run);
            run = i + 1;
            end_line(s, now_ms);
        } else {
            keep(s, b);
        }
    }
    pass(s, buf + run, n - run);
}

void ed_mon_stream_flush(struct ed_mon_stream *s)
{
    release_held(s);
}

void ed_mon_stream_restart(struct ed_mon_stream *s)
{
    release_held(s);
    s->line_len = 0;
    s->line_started = false;
    s->prompt_due = true;
}
