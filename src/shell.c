/* Quoting words for pasteable commands (see shell.h). */
#include "espdoctor/shell.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool plain(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_-./:,+@%=", c) != NULL;
}

const char *ed_shell_quote(const char *word, char *out, size_t len)
{
    if (len < 3) {
        if (len)
            out[0] = '\0';
        return out;
    }
    bool bare = word[0] != '\0' && word[0] != '-' && word[0] != '=';
    for (const char *c = word; *c && bare; c++)
        bare = plain(*c);
    size_t n = strlen(word);
    if (bare && n < len) {
        memcpy(out, word, n + 1);
        return out;
    }
    size_t used = 0;
    out[used++] = '\'';
    for (const char *c = word; *c; c++) {
        const char *piece = *c == '\'' ? "'\\''" : NULL;
        size_t k = piece ? 4 : 1;
        if (used + k + 2 > len) {
            snprintf(out, len, "''");
            return out;
        }
        if (piece)
            memcpy(out + used, piece, k);
        else
            out[used] = *c;
        used += k;
    }
    out[used++] = '\'';
    out[used] = '\0';
    return out;
}
