/* Words for commands a person pastes into a shell: a fix that is a command is printed
 * and put into JSON as exactly that, so every word in it that came from outside (a path,
 * a port, a user name) goes through here. */
#ifndef ESPDOCTOR_SHELL_H
#define ESPDOCTOR_SHELL_H

#include <stddef.h>

/* word as one POSIX shell word: unchanged when it holds only characters no shell treats
 * specially (letters, digits, and _ - . / : , + @ % =), else in single quotes (with ' as
 * '\''). An empty word becomes ''. Returns out; a word that does not fit gives "''" (a
 * harmless empty argument, never a cut-off path). */
const char *ed_shell_quote(const char *word, char *out, size_t len);

#endif
