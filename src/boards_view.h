/* Progress of several boards at once (flash --all), one line per board: on a terminal the
 * lines are redrawn in place; otherwise a line is printed when a board's state changes,
 * and every ED_VIEW_PLAIN_PERIOD_US for the boards that are writing. The caller owns the
 * lines and the locking; the view only prints them. */
#ifndef ESPDOCTOR_BOARDS_VIEW_H
#define ESPDOCTOR_BOARDS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ED_VIEW_REDRAW_US 100000u          /* terminal: ten redraws a second at most */
#define ED_VIEW_PLAIN_PERIOD_US 5000000u   /* plain: progress every five seconds */
#define ED_VIEW_STATE_MAX 16

/* What one board's line shows. */
struct ed_board_line {
    char port[64];              /* "ttyUSB0" */
    char chip[24];              /* "" until the board answered */
    char state[ED_VIEW_STATE_MAX];   /* "connecting", "writing", "ok", "skipped", ... */
    bool bar;                   /* bytes are moving: show done/total */
    uint64_t done, total;
    double rate_seconds;        /* how long the bytes have been moving (for the rate) */
    bool finished;
    double seconds;             /* finished: the board's whole time */
};

enum ed_view_mode { ED_VIEW_OFF, ED_VIEW_TERMINAL, ED_VIEW_PLAIN };

struct ed_boards_view {
    FILE *out;
    enum ed_view_mode mode;
    size_t count;
    unsigned width;             /* terminal columns; lines are cut to fit */
    bool drawn;
    uint64_t last_draw_us, last_period_us;
    char (*last_state)[ED_VIEW_STATE_MAX];   /* plain: the state last printed per board */
};

/* false only when out of memory (the view is then off). */
bool ed_boards_view_start(struct ed_boards_view *v, FILE *out, enum ed_view_mode mode,
                          size_t count);
/* Show lines[0..count) as of now_us (rate-limited; force draws anyway). */
void ed_boards_view_show(struct ed_boards_view *v, const struct ed_board_line *lines,
                         uint64_t now_us, bool force);
void ed_boards_view_end(struct ed_boards_view *v);

/* One board's line, as the terminal view draws it (no escape codes, no newline):
 * "ttyUSB0  ESP32    [#####......]  42%  640 KiB/1.5 MiB  112 KiB/s  0:08 left" */
void ed_boards_view_format(const struct ed_board_line *line, char *buf, size_t len);

#endif
