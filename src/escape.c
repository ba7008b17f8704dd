/* Escaping control characters in names for text output (see escape.h). */
#include "escape.h"

#include <stdio.h>
#include <string.h>

const char *ed_escape_name(const char *name, char *out, size_t len)
{
    if (len == 0)
        return out;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        char piece[5];
        if (*p == '\n')
            strcpy(piece, "\\n");
        else if (*p == '\t')
            strcpy(piece, "\\t");
        else if (*p == '\r')
            strcpy(piece, "\\r");
        else if (*p < 0x20 || *p == 0x7f)
            snprintf(piece, sizeof piece, "\\x%02x", *p);
        else
            piece[0] = (char)*p, piece[1] = '\0';
        size_t n = strlen(piece);
        if (o + n >= len)
            break;
        memcpy(out + o, piece, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}
