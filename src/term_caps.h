/* What the terminal on a descriptor can do, from the terminfo database (libtinfo) for
 * $TERM: colours, and the width its entry gives. Part of the CLI layer. */
#ifndef ESPDOCTOR_TERM_CAPS_H
#define ESPDOCTOR_TERM_CAPS_H

#include <stdbool.h>

struct ed_term_caps {
    int colors;   /* the entry's "colors"; -1 without colour, or with no entry */
    int cols;     /* the entry's "cols"; -1 when it gives none */
};

/* The terminfo entry of $TERM for the terminal on fd. False (caps at -1) when TERM is
 * unset or unknown or there is no database: setupterm is given an error slot, so nothing
 * is printed. */
bool ed_term_caps_read(int fd, struct ed_term_caps *caps);

/* Colour on fd: a terminal whose entry has at least 8 colours, and NO_COLOR unset or
 * empty (no-color.org). TERM=dumb, unset or unknown: no colour. */
bool ed_term_color(int fd);

#endif
