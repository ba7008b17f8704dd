/* Which rules files espdoctor wrote: the marker line it puts first, with the version and a
 * checksum of the rest, and the line older versions wrote (see udev_marker.c). Internal
 * to the udev installer. */
#ifndef ESPDOCTOR_UDEV_MARKER_H
#define ESPDOCTOR_UDEV_MARKER_H

#include "espdoctor/udev.h"

#include <stddef.h>

/* The marker line for body (everything after the first line), with its newline, into
 * out (at least ED_UDEV_MARKER_LINE_MAX bytes). */
#define ED_UDEV_MARKER_LINE_MAX 256
void ed_udev_marker_line(const char *body, size_t body_len, char *out, size_t size);

/* What the file's content says about who wrote it; rules (may be NULL) is the text we
 * would write now. data need not be NUL-terminated. */
enum ed_udev_existing ed_udev_classify(const char *data, size_t len, const char *rules);

#endif
