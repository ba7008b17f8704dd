/* Colour and width from the terminfo database (libtinfo) for the terminal on a pty: an
 * xterm-256color entry gives colour, dumb, unset and unknown TERMs none (and an unknown
 * one prints nothing); a terminal that tells no size gets its entry's cols (screen-w:
 * 132, from ncurses-base), after the size it tells and $COLUMNS. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../src/term_caps.h"   /* the tests have no -Isrc */
#include "../../src/wrap.h"

static int master = -1, slave = -1;

/* (openpty's <pty.h> is shadowed by tests/sim/pty.h on the include path.) A new pty
 * tells no size (0 columns). */
static void pty_open(void)
{
    master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0, "posix_openpt: %s", strerror(errno));
    cr_assert_eq(grantpt(master), 0);
    cr_assert_eq(unlockpt(master), 0);
    slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    cr_assert_geq(slave, 0, "open %s: %s", ptsname(master), strerror(errno));
    struct winsize ws;
    cr_assert_eq(ioctl(slave, TIOCGWINSZ, &ws), 0);
    cr_assert_eq(ws.ws_col, 0);
    unsetenv("NO_COLOR");
    unsetenv("COLUMNS");
}

static void pty_close(void)
{
    close(master);
    close(slave);
}

TestSuite(term_caps, .init = pty_open, .fini = pty_close);

/* ed_term_color(slave) with TERM set to term (NULL: unset); what it wrote to stderr goes
 * to *said. */
static bool colour_with(const char *term, char *said, size_t len)
{
    if (term)
        setenv("TERM", term, 1);
    else
        unsetenv("TERM");
    fflush(stderr);
    FILE *capture = tmpfile();
    cr_assert_not_null(capture);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(capture), STDERR_FILENO);
    bool colour = ed_term_color(slave);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(capture);
    size_t n = fread(said, 1, len - 1, capture);
    said[n] = '\0';
    fclose(capture);
    return colour;
}

Test(term_caps, an_xterm_256color_gets_colour)
{
    char said[256];
    cr_assert(colour_with("xterm-256color", said, sizeof said));
    struct ed_term_caps caps;
    cr_assert(ed_term_caps_read(slave, &caps));
    cr_assert_eq(caps.colors, 256);
    cr_assert_str_empty(said);
}

Test(term_caps, dumb_unset_and_unknown_terminals_get_none_and_say_nothing)
{
    char said[256];
    cr_assert_not(colour_with("dumb", said, sizeof said), "dumb has no colors");
    cr_assert_str_empty(said);
    cr_assert_not(colour_with(NULL, said, sizeof said), "TERM unset");
    cr_assert_str_empty(said);
    cr_assert_not(colour_with("unknown-xyz", said, sizeof said), "no such entry");
    cr_assert_str_empty(said, "setupterm printed: %s", said);
    struct ed_term_caps caps;
    cr_assert_not(ed_term_caps_read(slave, &caps));
    cr_assert_eq(caps.colors, -1);
    cr_assert_eq(caps.cols, -1);
    cr_assert_not(colour_with("vt220", said, sizeof said), "vt220 has no colour");
}

Test(term_caps, no_color_and_a_file_get_none)
{
    char said[256];
    setenv("NO_COLOR", "1", 1);
    cr_assert_not(colour_with("xterm-256color", said, sizeof said));
    setenv("NO_COLOR", "", 1);
    cr_assert(colour_with("xterm-256color", said, sizeof said), "an empty NO_COLOR is unset");
    unsetenv("NO_COLOR");
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_not(ed_term_color(fileno(f)), "not a terminal");
    fclose(f);
}

Test(term_caps, width_the_terminal_then_columns_then_its_entry)
{
    setenv("TERM", "screen-w", 1);
    cr_assert_eq(ed_term_width(slave), 132, "screen-w's cols (is ncurses-base installed?)");
    setenv("COLUMNS", "90", 1);
    cr_assert_eq(ed_term_width(slave), 90, "$COLUMNS before the entry");
    struct winsize ws = { .ws_row = 24, .ws_col = 100 };
    cr_assert_eq(ioctl(slave, TIOCSWINSZ, &ws), 0);
    cr_assert_eq(ed_term_width(slave), 100, "the terminal's own size first");
    ws.ws_col = 0;
    ioctl(slave, TIOCSWINSZ, &ws);
    unsetenv("COLUMNS");
    setenv("TERM", "unknown-xyz", 1);
    cr_assert_eq(ed_term_width(slave), ED_WRAP_DEFAULT_WIDTH, "nothing tells: 80");
}
