/* One progress line per board (see boards_view.h). */
#include "boards_view.h"
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DEFAULT_WIDTH 80u

static unsigned terminal_width(FILE *out)
{
    struct winsize ws;
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return DEFAULT_WIDTH;
}

bool ed_boards_view_start(struct ed_boards_view *v, FILE *out, enum ed_view_mode mode,
                          size_t count)
{
    memset(v, 0, sizeof *v);
    v->out = out;
    v->mode = out ? mode : ED_VIEW_OFF;
    v->count = count;
    v->width = v->mode == ED_VIEW_TERMINAL ? terminal_width(out) : DEFAULT_WIDTH;
    if (v->mode == ED_VIEW_PLAIN) {
        v->last_state = calloc(count ? count : 1, sizeof *v->last_state);
        if (!v->last_state) {
            v->mode = ED_VIEW_OFF;
            return false;
        }
    }
    return true;
}

void ed_boards_view_format(const struct ed_board_line *line, char *buf, size_t len)
{
    char head[96];
    snprintf(head, sizeof head, "%-8s %-8s", line->port, line->chip[0] ? line->chip : "?");
    /* Two spaces after the head, as the bar puts after its label: the columns line up. */
    if (line->finished)
        snprintf(buf, len, "%s  %s, %.1f s", head, line->state, line->seconds);
    else if (line->bar)
        ed_progress_format(buf, len, head, line->done, line->total, line->rate_seconds);
    else
        snprintf(buf, len, "%s  %s", head, line->state);
}

/* Cursor up over the lines drawn before, then each line in place. */
static void draw_terminal(struct ed_boards_view *v, const struct ed_board_line *lines)
{
    if (v->drawn)
        fprintf(v->out, "\033[%zuA", v->count);
    for (size_t i = 0; i < v->count; i++) {
        char text[256];
        ed_boards_view_format(&lines[i], text, sizeof text);
        if (strlen(text) >= v->width)
            text[v->width - 1] = '\0';   /* a wrapped line would break the redraw */
        fprintf(v->out, "\r%s\033[K\n", text);
    }
    fflush(v->out);
    v->drawn = true;
}

static void plain_line(const struct ed_boards_view *v, const struct ed_board_line *l)
{
    char who[96];
    snprintf(who, sizeof who, "%s%s%s%s", l->port, l->chip[0] ? " (" : "", l->chip,
             l->chip[0] ? ")" : "");
    if (l->finished) {
        fprintf(v->out, "%s: %s in %.1f s\n", who, l->state, l->seconds);
    } else if (l->bar && l->total) {
        /* A log line, not a bar: "ttyUSB0 (ESP32): writing 42%, 640 of 1536 KiB" */
        unsigned long long done_kib = (l->done + 512) / 1024, total_kib = (l->total + 512) / 1024;
        fprintf(v->out, "%s: %s %u%%, %llu of %llu KiB\n", who, l->state,
                (unsigned)(l->done * 100 / l->total), done_kib, total_kib);
    } else {
        fprintf(v->out, "%s: %s\n", who, l->state);
    }
}

/* A line for every board whose state changed; the writers' progress now and then. */
static void draw_plain(struct ed_boards_view *v, const struct ed_board_line *lines,
                       uint64_t now_us)
{
    bool period = now_us - v->last_period_us >= ED_VIEW_PLAIN_PERIOD_US;
    for (size_t i = 0; i < v->count; i++) {
        const struct ed_board_line *l = &lines[i];
        bool changed = strcmp(v->last_state[i], l->state) != 0;
        if (changed || (period && l->bar && !l->finished)) {
            plain_line(v, l);
            snprintf(v->last_state[i], sizeof v->last_state[i], "%s", l->state);
        }
    }
    if (period)
        v->last_period_us = now_us;
    fflush(v->out);
}

void ed_boards_view_show(struct ed_boards_view *v, const struct ed_board_line *lines,
                         uint64_t now_us, bool force)
{
    switch (v->mode) {
    case ED_VIEW_OFF:
        return;
    case ED_VIEW_TERMINAL:
        if (!force && v->drawn && now_us - v->last_draw_us < ED_VIEW_REDRAW_US)
            return;
        v->last_draw_us = now_us;
        draw_terminal(v, lines);
        return;
    case ED_VIEW_PLAIN:
        if (!v->drawn) {
            v->last_period_us = now_us;
            v->drawn = true;
        }
        draw_plain(v, lines, now_us);
        return;
    }
}

void ed_boards_view_end(struct ed_boards_view *v)
{
    free(v->last_state);
    v->last_state = NULL;
    v->mode = ED_VIEW_OFF;
}
