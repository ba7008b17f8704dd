/* MicroPython's REPL, for a line typed at its prompt (repl.c says how much of Python). */
#ifndef SIM_BOARD_REPL_H
#define SIM_BOARD_REPL_H

#include <stddef.h>

/* Characters the model keeps of one typed line (MicroPython's readline keeps more). */
#define REPL_LINE_MAX 256

/* What the REPL prints after Enter on `line` (len bytes, no line end), before its next
 * prompt: print()'s output, a bare expression's repr, or a traceback; "\r\n" line ends.
 * Returns its length (out is NUL-terminated and cut to fit cap). */
size_t repl_eval(const char *line, size_t len, char *out, size_t cap);

#endif
