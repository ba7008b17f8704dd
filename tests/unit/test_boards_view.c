/* flash --all's progress lines (src/boards_view.c): a terminal gets one line per board
 * redrawn in place; anything else gets a line when a board's state changes and the writers'
 * progress every few seconds, with no escape codes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/boards_view.h"   /* the tests have no -Isrc */

static struct ed_board_line board(const char *port, const char *chip, const char *state)
{
    struct ed_board_line l;
    memset(&l, 0, sizeof l);
    snprintf(l.port, sizeof l.port, "%s", port);
    snprintf(l.chip, sizeof l.chip, "%s", chip);
    snprintf(l.state, sizeof l.state, "%s", state);
    return l;
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

Test(boards_view, a_line_says_where_the_board_is)
{
    char buf[256];
    struct ed_board_line l = board("ttyUSB0", "", "connecting");
    ed_boards_view_format(&l, buf, sizeof buf);
    cr_expect_str_eq(buf, "ttyUSB0  ?         connecting");
    l = board("ttyUSB1", "ESP32", "writing");
    l.bar = true;
    l.done = 512 * 1024;
    l.total = 1024 * 1024;
    ed_boards_view_format(&l, buf, sizeof buf);
    cr_expect_not_null(strstr(buf, "ttyUSB1  ESP32     ["), "%s", buf);
    cr_expect_not_null(strstr(buf, " 50%"), "%s", buf);
    cr_expect_not_null(strstr(buf, "512 KiB/1.0 MiB"), "%s", buf);
    l = board("ttyUSB2", "ESP8266", "skipped");
    l.finished = true;
    l.seconds = 0.84;
    ed_boards_view_format(&l, buf, sizeof buf);
    cr_expect_str_eq(buf, "ttyUSB2  ESP8266   skipped, 0.8 s");
}

Test(boards_view, a_terminal_redraws_the_lines_in_place)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    struct ed_board_line lines[2] = { board("ttyUSB0", "", "connecting"),
                                      board("ttyUSB1", "", "connecting") };
    struct ed_boards_view v;
    cr_assert(ed_boards_view_start(&v, out, ED_VIEW_TERMINAL, 2));
    ed_boards_view_show(&v, lines, 1000000, false);
    snprintf(lines[0].state, sizeof lines[0].state, "preparing");
    ed_boards_view_show(&v, lines, 1010000, false);   /* too soon: not drawn */
    ed_boards_view_show(&v, lines, 1200000, false);
    ed_boards_view_end(&v);
    fclose(out);
    cr_expect_eq(count(text, "\033[2A"), 1, "one move up over the two lines:\n%s", text);
    cr_expect_eq(count(text, "\n"), 4, "two draws of two lines:\n%s", text);
    cr_expect_eq(count(text, "preparing"), 1, "%s", text);
    free(text);
}

Test(boards_view, plain_output_prints_changes_and_now_and_then_the_progress)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    struct ed_board_line lines[2] = { board("ttyUSB0", "ESP32", "writing"),
                                      board("ttyUSB1", "ESP32", "writing") };
    for (size_t i = 0; i < 2; i++) {
        lines[i].bar = true;
        lines[i].total = 1536 * 1024;
    }
    struct ed_boards_view v;
    cr_assert(ed_boards_view_start(&v, out, ED_VIEW_PLAIN, 2));
    uint64_t t = 1000000;
    ed_boards_view_show(&v, lines, t, false);        /* both new: two lines */
    for (int step = 1; step <= 20; step++) {         /* 10 s in half seconds */
        lines[0].done = lines[1].done = (uint64_t)step * 64 * 1024;
        ed_boards_view_show(&v, lines, t + (uint64_t)step * 500000, false);
    }
    lines[1].finished = true;
    lines[1].seconds = 12.5;
    snprintf(lines[1].state, sizeof lines[1].state, "ok");
    ed_boards_view_show(&v, lines, t + 10600000, true);
    ed_boards_view_end(&v);
    fclose(out);
    cr_expect_null(strstr(text, "\033"), "escape codes:\n%s", text);
    cr_expect_eq(count(text, "ttyUSB0 (ESP32): writing"), 3, "at start, at 5 s and 10 s:\n%s",
                 text);
    cr_expect_not_null(strstr(text, "ttyUSB0 (ESP32): writing 41%, 640 of 1536 KiB\n"), "%s",
                       text);
    cr_expect_not_null(strstr(text, "ttyUSB1 (ESP32): ok in 12.5 s\n"), "%s", text);
    free(text);
}

Test(boards_view, off_prints_nothing)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    struct ed_board_line l = board("ttyUSB0", "", "connecting");
    struct ed_boards_view v;
    cr_assert(ed_boards_view_start(&v, out, ED_VIEW_OFF, 1));
    ed_boards_view_show(&v, &l, 1, true);
    ed_boards_view_end(&v);
    fclose(out);
    cr_expect_eq(len, 0);
    free(text);
}
