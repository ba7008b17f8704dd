/* The monitor's output (see monitor_out.h). */
#include "monitor_out.h"
#include "out.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void ed_mon_out_init(struct ed_mon_out *o, FILE *out, FILE *err)
{
    memset(o, 0, sizeof *o);
    o->out = out;
    o->err = err;
    o->at_line_start = true;
}

json_object *ed_mon_event_new(const char *name)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "schema", json_object_new_int(ED_JSON_SCHEMA));
    json_object_object_add(e, "event", json_object_new_string(name));
    return e;
}

json_object *ed_mon_json_seconds(double seconds)
{
    return ed_json_seconds(seconds);
}

void ed_mon_out_event(struct ed_mon_out *o, json_object *event)
{
    ed_out_json(o->out, event);   /* one line, like every document */
    fflush(o->out);
}

void ed_mon_out_say(struct ed_mon_out *o, const char *fmt, ...)
{
    if (o->json || o->quiet)
        return;
    if (o->interactive && !o->at_line_start) {   /* the same screen: start a line */
        fputc('\n', o->out);
        fflush(o->out);
        o->at_line_start = true;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("--- ", o->err);
    vfprintf(o->err, fmt, ap);
    fputc('\n', o->err);
    va_end(ap);
    fflush(o->err);
}

/* Length of the valid UTF-8 sequence at p (n bytes there), 0 if it is invalid, or -1 if
 * it is valid so far but cut short. RFC 3629: no overlongs, no surrogates, <= U+10FFFF. */
static int utf8_length(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    if (b < 0x80)
        return 1;
    int len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3
              : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (!len)
        return 0;
    uint8_t lo = 0x80, hi = 0xBF;   /* the second byte's range */
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        uint8_t c = p[i];
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF))
            return 0;
    }
    return len;
}

/* The board's bytes as JSON text: invalid UTF-8 becomes U+FFFD; a sequence cut at the
 * end waits for the next read. */
static void data_event(struct ed_mon_out *o, const uint8_t *data, size_t len)
{
    size_t total = o->partial_len + len;
    uint8_t *all = malloc(total ? total : 1);
    char *text = malloc(total * 3 + 1);
    if (!all || !text) {
        free(all);
        free(text);
        return;
    }
    memcpy(all, o->partial, o->partial_len);
    memcpy(all + o->partial_len, data, len);
    o->partial_len = 0;
    size_t t = 0;
    for (size_t i = 0; i < total;) {
        int n = utf8_length(all + i, total - i);
        if (n < 0 && total - i < sizeof o->partial) {
            memcpy(o->partial, all + i, total - i);
            o->partial_len = total - i;
            break;
        }
        if (n <= 0) {
            memcpy(text + t, "\xEF\xBF\xBD", 3);
            t += 3;
            i++;
            continue;
        }
        memcpy(text + t, all + i, (size_t)n);
        t += (size_t)n;
        i += (size_t)n;
    }
    if (t) {
        json_object *e = ed_mon_event_new("data");
        json_object_object_add(e, "text", json_object_new_string_len(text, (int)t));
        ed_mon_out_event(o, e);
    }
    free(all);
    free(text);
}

static const char *level_key(enum ed_note_level level)
{
    return level == ED_NOTE_ERROR ? "error" : level == ED_NOTE_WARN ? "warn" : "info";
}

static json_object *int_or_null(long v)
{
    return v >= 0 ? json_object_new_int64(v) : NULL;
}

/* The keys a note of each kind adds to the event. */
static void note_facts(json_object *e, const struct ed_note *n)
{
    const struct ed_bootlog *f = &n->facts;
    switch (n->kind) {
    case ED_NOTE_RESET: {
        const char *meaning = ed_bootlog_reset_meaning(f);
        int boot = f->esp8266 ? f->esp8266_boot_mode : f->boot_value;
        json_object_object_add(e, "cause", int_or_null(f->reset_cause));
        json_object_object_add(e, "cause_name", ed_json_str(f->reset_name[0] ? f->reset_name
                                                                              : NULL));
        json_object_object_add(e, "meaning", ed_json_str(meaning));
        json_object_object_add(e, "boot_value", int_or_null(boot));
        json_object_object_add(e, "boot_mode", ed_json_str(f->download_mode ? "download"
                                                           : f->flash_boot ? "flash" : NULL));
        break;
    }
    case ED_NOTE_CRASH:
        json_object_object_add(e, "core", int_or_null(f->guru_core));
        json_object_object_add(e, "reason", ed_json_str(f->guru_reason[0] ? f->guru_reason
                                                                          : NULL));
        break;
    case ED_NOTE_BACKTRACE: {
        json_object *addrs = json_object_new_array();
        for (size_t i = 0; i < f->backtrace_count; i++) {
            char a[12];
            snprintf(a, sizeof a, "0x%08x", f->backtrace[i]);
            json_object_array_add(addrs, json_object_new_string(a));
        }
        json_object_object_add(e, "addresses", addrs);
        break;
    }
    case ED_NOTE_BOOT_LOOP:
        json_object_object_add(e, "resets", json_object_new_int64(n->resets));
        json_object_object_add(e, "after", json_object_new_string(ed_note_kind_key(n->after)));
        break;
    case ED_NOTE_MICROPYTHON:
        json_object_object_add(e, "version", ed_json_str(f->micropython_version));
        json_object_object_add(e, "board", ed_json_str(f->micropython_board[0]
                                                           ? f->micropython_board : NULL));
        break;
    default:
        break;
    }
}

static void note_event(struct ed_mon_out *o, const struct ed_note *n)
{
    json_object *e = ed_mon_event_new("note");
    json_object_object_add(e, "kind", json_object_new_string(ed_note_kind_key(n->kind)));
    json_object_object_add(e, "level", json_object_new_string(level_key(n->level)));
    json_object_object_add(e, "text", json_object_new_string(n->text));
    json_object_object_add(e, "line", ed_json_str(n->line[0] ? n->line : NULL));
    note_facts(e, n);
    ed_mon_out_event(o, e);
}

static void note_line(struct ed_mon_out *o, const struct ed_note *n)
{
    enum ed_tone tone = n->level == ED_NOTE_ERROR ? ED_TONE_ERROR
                        : n->level == ED_NOTE_WARN ? ED_TONE_WARN : ED_TONE_INFO;
    if (!o->at_line_start)
        fputc('\n', o->out);
    fprintf(o->out, "%s--- %s%s\n", ed_tone_on(o->color, tone), n->text, ed_tone_off(o->color));
    fflush(o->out);
    o->at_line_start = true;
}

void ed_mon_out_emit(void *ctx, const uint8_t *data, size_t len, const struct ed_note *note)
{
    struct ed_mon_out *o = ctx;
    if (note) {
        if (o->json)
            note_event(o, note);
        else
            note_line(o, note);
        return;
    }
    if (o->json) {
        data_event(o, data, len);
        return;
    }
    fwrite(data, 1, len, o->out);
    fflush(o->out);
    o->at_line_start = data[len - 1] == '\n';
}

void ed_mon_out_finish(struct ed_mon_out *o)
{
    if (o->json && o->partial_len) {
        size_t n = o->partial_len;
        o->partial_len = 0;
        uint8_t bad[sizeof o->partial];
        memset(bad, 0xFF, n);   /* invalid on its own: each becomes U+FFFD */
        data_event(o, bad, n);
    }
    if (!o->json && o->interactive && !o->at_line_start) {
        fputc('\n', o->out);
        fflush(o->out);
        o->at_line_start = true;
    }
}
