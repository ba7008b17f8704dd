/* What a file is when it is not firmware: the usual mistakes are a saved web page, the
 * zip or .elf from a build, a compressed download, or a file cut short. */
#include "image_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool starts_with(const uint8_t *p, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(p, prefix, n) == 0;
}

static bool starts_with_nocase(const uint8_t *p, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower(p[i]) != prefix[i])
            return false;
    return true;
}

static const uint8_t *find_nocase(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (starts_with_nocase(p + i, len - i, needle))
            return p + i;
    return NULL;
}

/* Text: printable ASCII, whitespace, or bytes of UTF-8 sequences; no NULs. */
static bool looks_like_text(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || (c >= 0x20 && c < 0x7F) ||
            c >= 0x80)
            continue;
        return false;
    }
    return true;
}

/* The first few characters as a quoted string, non-printables as dots. */
static void quote_start(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    char text[48];
    size_t n = 0;
    for (size_t i = 0; i < len && n < 40; i++) {
        if (p[i] == '\n' || p[i] == '\r')
            break;
        text[n++] = (p[i] >= 0x20 && p[i] < 0x7F) ? (char)p[i] : '.';
    }
    text[n] = '\0';
    snprintf(out, out_len, "it starts with \"%s\"", text);
}

static void html_title(const uint8_t *p, size_t len, char *evidence, size_t evidence_len)
{
    const uint8_t *t = find_nocase(p, len, "<title");
    if (!t)
        return;
    const uint8_t *gt = memchr(t, '>', len - (size_t)(t - p));
    if (!gt)
        return;
    const uint8_t *start = gt + 1;
    const uint8_t *end = find_nocase(start, len - (size_t)(start - p), "</title");
    if (!end)
        return;
    while (start < end && isspace(*start))
        start++;
    char title[96];
    size_t n = 0;
    for (const uint8_t *c = start; c < end && n + 1 < sizeof title; c++)
        title[n++] = (*c >= 0x20 && *c < 0x7F) ? (char)*c : ' ';
    while (n > 0 && title[n - 1] == ' ')
        n--;
    title[n] = '\0';
    if (n > 0)
        ed_image_appendf(evidence, evidence_len, "; the page title is \"%s\"", title);
}

enum ed_image_kind ed_image_sniff(const uint8_t *head, size_t len, char *evidence,
                                  size_t evidence_len)
{
    evidence[0] = '\0';
    if (len == 0) {
        snprintf(evidence, evidence_len, "the file has 0 bytes");
        return ED_IMAGE_EMPTY;
    }
    if (starts_with(head, len, "PK\x03\x04") || starts_with(head, len, "PK\x05\x06")) {
        snprintf(evidence, evidence_len, "it starts with the zip signature \"PK\"");
        return ED_IMAGE_ZIP;
    }
    if (len >= 2 && head[0] == 0x1F && head[1] == 0x8B) {
        snprintf(evidence, evidence_len, "it starts with the gzip signature 1f 8b");
        return ED_IMAGE_GZIP;
    }
    if (starts_with(head, len, "\x7F" "ELF")) {
        snprintf(evidence, evidence_len, "it starts with the ELF signature 7f 45 4c 46");
        return ED_IMAGE_ELF;
    }

    /* Skip a UTF-8 byte order mark and leading white space before looking for markup. */
    const uint8_t *p = head;
    size_t n = len;
    if (starts_with(p, n, "\xEF\xBB\xBF")) {
        p += 3;
        n -= 3;
    }
    while (n > 0 && isspace(*p)) {
        p++;
        n--;
    }
    if (looks_like_text(head, len)) {
        if (starts_with_nocase(p, n, "<!doctype html") || starts_with_nocase(p, n, "<html") ||
            ((starts_with(p, n, "<") && find_nocase(p, n, "<html")))) {
            quote_start(p, n, evidence, evidence_len);
            html_title(p, n, evidence, evidence_len);
            return ED_IMAGE_HTML;
        }
        quote_start(p, n, evidence, evidence_len);
        return ED_IMAGE_TEXT;
    }
    snprintf(evidence, evidence_len, "its first bytes are");
    for (size_t i = 0; i < len && i < 8; i++)
        ed_image_appendf(evidence, evidence_len, " %02x", head[i]);
    ed_image_appendf(evidence, evidence_len,
                     "; firmware starts with e9 (or ea for an ESP8266 v2 image)");
    return ED_IMAGE_UNKNOWN;
}
