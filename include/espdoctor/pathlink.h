/* Where a /dev/serial/by-id or by-path link leads, without realpath(): umockdev's
 * testbed serves readlink() for /dev, but its realpath() wrapper overruns the caller's
 * buffer ("stack smashing detected"). The links udev makes point at a node through a
 * relative path ("../../ttyUSB0"), which readlink and plain path arithmetic resolve. */
#ifndef ESPDOCTOR_PATHLINK_H
#define ESPDOCTOR_PATHLINK_H

#include <stdbool.h>
#include <stddef.h>

/* Follow path while it is a symbolic link (at most 16 of them): a relative target is
 * taken from the link's directory, and "." and ".." are resolved by name. out gets the
 * final path (path itself when it is no link). False when a link cannot be read, there
 * are too many, or the result does not fit. Directories on the way are taken as they are
 * named (nothing in /dev/serial is a link to a directory). */
bool ed_path_follow_links(const char *path, char *out, size_t len);

#endif
