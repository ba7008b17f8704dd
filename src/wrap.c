/* Wrapping text to the terminal (see wrap.h). */
#include "wrap.h"
#include "term_caps.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

unsigned ed_term_width(int fd)
{
    struct winsize ws;
    unsigned width = 0;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        width = ws.ws_col;
    if (!width) {
        const char *columns = getenv("COLUMNS");
        char *end;
        unsigned long v = columns && *columns ? strtoul(columns, &end, 10) : 0;
        if (v > 0 && v < 10000 && *end == '\0')
            width = (unsigned)v;
    }
    struct ed_term_caps caps;   /* a terminal that tells no size: its terminfo entry's */
    if (!width && isatty(fd) && ed_term_caps_read(fd, &caps) && caps.cols > 0)
        width = (unsigned)caps.cols;
    if (!width)
        width = ED_WRAP_DEFAULT_WIDTH;
    return width < ED_WRAP_MIN_WIDTH ? ED_WRAP_MIN_WIDTH : width;
}

size_t ed_text_columns(const char *text, size_t len)
{
    size_t cols = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\033') {   /* CSI ... final byte in @..~ */
            i++;
            if (i < len && text[i] == '[')
                while (i + 1 < len && !((unsigned char)text[i + 1] >= 0x40 &&
                                        (unsigned char)text[i + 1] <= 0x7E))
                    i++;
            i++;
            continue;
        }
        if ((c & 0xC0) != 0x80)   /* not a UTF-8 continuation byte */
            cols++;
    }
    return cols;
}

/* Print one input line (no newline in it) wrapped. */
static void wrap_line(FILE *f, unsigned width, const char *lead, const char *indent,
                      const char *line, size_t len)
{
    size_t col = ed_text_columns(lead, strlen(lead));
    size_t indent_cols = ed_text_columns(indent, strlen(indent));
    fputs(lead, f);
    bool line_has_words = false;
    size_t i = 0;
    while (i < len) {
        size_t spaces = 0;
        while (i + spaces < len && line[i + spaces] == ' ')
            spaces++;
        size_t start = i + spaces, end = start;
        while (end < len && line[end] != ' ')
            end++;
        if (start == end)
            break;   /* trailing spaces */
        size_t word_cols = ed_text_columns(line + start, end - start);
        /* Leading spaces of a line are its own indentation: keep them. */
        size_t gap = line_has_words ? spaces : (i == 0 ? spaces : 0);
        if (line_has_words && col + gap + word_cols > width) {
            fputc('\n', f);
            fputs(indent, f);
            col = indent_cols;
            gap = 0;
        }
        for (size_t k = 0; k < gap; k++)
            fputc(' ', f);
        fwrite(line + start, 1, end - start, f);
        col += gap + word_cols;
        line_has_words = true;
        i = end;
    }
    fputc('\n', f);
}

void ed_wrap(FILE *f, unsigned width, const char *first, const char *indent,
             const char *text)
{
    const char *lead = first;
    do {
        size_t n = strcspn(text, "\n");
        wrap_line(f, width, lead, indent, text, n);
        lead = indent;
        text += n;
        if (*text == '\n')
            text++;
    } while (*text);
}

void ed_print_command(FILE *f, const char *indent, const char *command)
{
    fprintf(f, "%s%s\n", indent, command);
}
