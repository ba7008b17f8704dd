/* Terminal capabilities from terminfo (see term_caps.h). <term.h> defines a macro for
 * every capability name (columns, lines, bell...), so it stays inside this file. */
#include "term_caps.h"

#include <curses.h>
#include <stdlib.h>
#include <term.h>
#include <unistd.h>

#define MIN_COLORS 8   /* the eight ANSI colours the tones use */

bool ed_term_caps_read(int fd, struct ed_term_caps *caps)
{
    caps->colors = -1;
    caps->cols = -1;
    /* The entry's own cols: the caller asks the terminal and $COLUMNS itself, first. */
    use_env(FALSE);
    int err = 0;
    if (setupterm(NULL, fd, &err) != OK)
        return false;
    caps->colors = tigetnum("colors");   /* -1 absent, -2 not a number: no colour */
    caps->cols = tigetnum("cols");
    del_curterm(cur_term);   /* also clears cur_term: nothing of terminfo stays loaded */
    if (caps->colors < 0)
        caps->colors = -1;
    if (caps->cols <= 0)
        caps->cols = -1;
    return true;
}

bool ed_term_color(int fd)
{
    const char *no_color = getenv("NO_COLOR");
    if ((no_color && *no_color) || !isatty(fd))
        return false;
    struct ed_term_caps caps;
    return ed_term_caps_read(fd, &caps) && caps.colors >= MIN_COLORS;
}
