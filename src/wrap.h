/* Text for people, fitted to the terminal: paragraphs wrapped at spaces only (a path or a
 * URL longer than the line stays whole), and commands printed alone on their own line,
 * never broken. Part of the CLI layer. */
#ifndef ESPDOCTOR_WRAP_H
#define ESPDOCTOR_WRAP_H

#include <stdio.h>

#define ED_WRAP_DEFAULT_WIDTH 80u
#define ED_WRAP_MIN_WIDTH 40u

/* The width to wrap output on fd to: the terminal's (TIOCGWINSZ), else $COLUMNS, else the
 * terminal's terminfo entry (cols), else 80; never below ED_WRAP_MIN_WIDTH. */
unsigned ed_term_width(int fd);

/* Columns text takes on a terminal: UTF-8 sequences count once, ANSI colour sequences
 * not at all. */
size_t ed_text_columns(const char *text, size_t len);

/* Print text wrapped to width. The first line starts with first, the others with indent
 * (either may hold colour sequences). The text's own newlines start new lines; runs of
 * spaces at a break are dropped. Ends with a newline. */
void ed_wrap(FILE *f, unsigned width, const char *first, const char *indent,
             const char *text);

/* A command alone on its line after indent: never wrapped, whatever the width. */
void ed_print_command(FILE *f, const char *indent, const char *command);

#endif
