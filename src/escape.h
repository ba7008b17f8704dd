/* File names in text output: a name may hold a newline or other control characters
 * (any byte but '/' and NUL is allowed), which would split a line or drive the terminal.
 * Such bytes are printed escaped, C style: \n, \t, \r, \xHH. JSON escapes on its own. */
#ifndef ESPDOCTOR_ESCAPE_H
#define ESPDOCTOR_ESCAPE_H

#include <stddef.h>

/* name, control characters escaped, into out (cut short to fit); returns out. */
const char *ed_escape_name(const char *name, char *out, size_t len);

#endif
