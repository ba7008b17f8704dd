/* Recognising espdoctor's own rules file.
 *
 * The first line says who wrote it, with the version and the SHA-256 of the rest of the
 * file:
 *   # Written by espdoctor 0.2.0 (sha256 of the lines below: 3f..): do not edit; ...
 * A file is ours only if that line is there in full and the checksum matches: a file that
 * merely starts the same way ("# Written by espdoctorate admins") is someone else's, and
 * so is one of ours that someone has edited since (their change is kept: install and
 * uninstall refuse, and say so).
 *
 * Older versions wrote "# Written by espdoctor VERSION: do not edit; `espdoctor udev
 * uninstall` removes it." and no checksum. Such a file counts as ours only if that line
 * is there in full and every other line is a comment, blank, or one of the two rule
 * shapes espdoctor has always generated (a tty rule and a usb_device rule for one
 * VID:PID, with a valid group): replacing or removing it can then take nothing from
 * anyone. Anything else in it makes it someone else's. */
#include "udev_marker.h"

#include <sha2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MARKER_VERSION_MAX 32
static const char checksum_intro[] = " (sha256 of the lines below: ";
static const char marker_tail[] = "): do not edit; `espdoctor udev uninstall` removes it.";
static const char legacy_tail[] = ": do not edit; `espdoctor udev uninstall` removes it.";

/* The line we write must be one we recognise, whole. */
_Static_assert(sizeof ESPDOCTOR_VERSION - 1 <= MARKER_VERSION_MAX, "version too long");
_Static_assert(sizeof ED_UDEV_MARKER + 1 + MARKER_VERSION_MAX + sizeof checksum_intro +
                   2 * SHA256_DIGEST_LENGTH + sizeof marker_tail + 1 <= ED_UDEV_MARKER_LINE_MAX,
               "marker line buffer too small");

static void sha256_hex(const char *data, size_t len, char hex[SHA256_DIGEST_STRING_LENGTH])
{
    SHA2_CTX ctx;
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256Init(&ctx);
    SHA256Update(&ctx, (const uint8_t *)data, len);
    SHA256Final(digest, &ctx);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

void ed_udev_marker_line(const char *body, size_t body_len, char *out, size_t size)
{
    char hex[SHA256_DIGEST_STRING_LENGTH];
    sha256_hex(body, body_len, hex);
    snprintf(out, size, "%s %s%s%s%s\n", ED_UDEV_MARKER, ESPDOCTOR_VERSION, checksum_intro,
             hex, marker_tail);
}

/* Skip "prefix" at *p (within end); false if it is not there. */
static bool skip(const char **p, const char *end, const char *prefix)
{
    size_t n = strlen(prefix);
    if ((size_t)(end - *p) < n || memcmp(*p, prefix, n) != 0)
        return false;
    *p += n;
    return true;
}

/* A version as espdoctor prints them: 1 to 32 of [0-9A-Za-z.+~-], starting with a digit. */
static bool skip_version(const char **p, const char *end)
{
    const char *v = *p;
    if (v >= end || *v < '0' || *v > '9')
        return false;
    while (v < end && ((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') ||
                       (*v >= 'A' && *v <= 'Z') || *v == '.' || *v == '+' || *v == '~' ||
                       *v == '-'))
        v++;
    if (v - *p > MARKER_VERSION_MAX)
        return false;
    *p = v;
    return true;
}

/* Exactly `digits` lowercase hex digits (copied to copy, NUL-terminated, if not NULL). */
static bool skip_hex(const char **p, const char *end, size_t digits, char *copy)
{
    if ((size_t)(end - *p) < digits)
        return false;
    for (size_t i = 0; i < digits; i++) {
        const char c = (*p)[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        if (copy)
            copy[i] = c;
    }
    if (copy)
        copy[digits] = '\0';
    *p += digits;
    return true;
}

/* One rule line in either shape espdoctor generates (see ed_udev_rules_text). */
static bool is_generated_rule(const char *p, const char *end)
{
    static const char *const shapes[][4] = {
        { "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"", "\", ATTRS{idProduct}==\"",
          "\", TAG+=\"uaccess\", ENV{ID_MM_DEVICE_IGNORE}=\"1\", GROUP=\"",
          "\", MODE=\"0660\"" },
        { "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"",
          "\", ATTR{idProduct}==\"", "\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"", NULL },
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const char *q = p;
        if (!skip(&q, end, shapes[s][0]) || !skip_hex(&q, end, 4, NULL) ||
            !skip(&q, end, shapes[s][1]) || !skip_hex(&q, end, 4, NULL) ||
            !skip(&q, end, shapes[s][2]))
            continue;
        if (shapes[s][3]) {
            char group[ED_UDEV_GROUP_MAX];
            size_t n = 0;
            while (q + n < end && q[n] != '"' && n < sizeof group - 1)
                n++;
            memcpy(group, q, n);
            group[n] = '\0';
            q += n;
            if (!ed_udev_group_name_valid(group) || !skip(&q, end, shapes[s][3]))
                continue;
        }
        if (q == end)
            return true;
    }
    return false;
}

/* Everything after an old marker line: comments, blank lines and generated rules only. */
static bool legacy_body_is_generated(const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        if (line_end > p && *p != '#' && !is_generated_rule(p, line_end))
            return false;
        p = nl ? nl + 1 : end;
    }
    return true;
}

enum ed_udev_existing ed_udev_classify(const char *data, size_t len, const char *rules)
{
    const char *end = data + len;
    const char *nl = memchr(data, '\n', len);
    if (!nl || memchr(data, '\0', len))
        return ED_UDEV_EXISTING_FOREIGN;
    const char *p = data;
    if (!skip(&p, nl, ED_UDEV_MARKER " ") || !skip_version(&p, nl))
        return ED_UDEV_EXISTING_FOREIGN;
    const char *body = nl + 1;
    if (skip(&p, nl, legacy_tail) && p == nl)
        return legacy_body_is_generated(body, end) ? ED_UDEV_EXISTING_OURS
                                                   : ED_UDEV_EXISTING_FOREIGN;
    char written[SHA256_DIGEST_STRING_LENGTH], actual[SHA256_DIGEST_STRING_LENGTH];
    if (!skip(&p, nl, checksum_intro) ||
        !skip_hex(&p, nl, SHA256_DIGEST_STRING_LENGTH - 1, written) ||
        !skip(&p, nl, marker_tail) || p != nl)
        return ED_UDEV_EXISTING_FOREIGN;
    sha256_hex(body, (size_t)(end - body), actual);
    if (strcmp(written, actual) != 0)
        return ED_UDEV_EXISTING_EDITED;
    if (rules && strlen(rules) == len && memcmp(rules, data, len) == 0)
        return ED_UDEV_EXISTING_SAME;
    return ED_UDEV_EXISTING_OURS;
}
