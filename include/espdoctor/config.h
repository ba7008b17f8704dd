/* The configuration file: what espdoctor remembers per board, keyed by the USB serial
 * number (boards without one are not remembered). A human-editable text file:
 *
 *   # comment
 *   last = 0002
 *   [board 0002]
 *   port = /dev/ttyUSB1
 *   baud = 460800
 *   max_baud = 460800
 *
 * Lines it does not understand are kept as they are when the file is written again, and
 * counted as problems (the first one's line number is in the warning); a file that cannot
 * be read or written is never an error for a command. */
#ifndef ESPDOCTOR_CONFIG_H
#define ESPDOCTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ED_CONFIG_SERIAL_MAX 128
#define ED_CONFIG_PORT_MAX 256
#define ED_CONFIG_FILE_MAX (256u * 1024)   /* larger is not ours: read none of it */

struct ed_config_board {
    char serial[ED_CONFIG_SERIAL_MAX];
    char port[ED_CONFIG_PORT_MAX];   /* the port last used; "" unknown */
    uint32_t baud;                   /* the rate the last verified flash ran at; 0 unknown */
    uint32_t max_baud;               /* the rate a step down ended at (a faster one failed):
                                        where the next flash starts; 0 none */
    char *kept;                      /* the section's other lines, verbatim; NULL none */
};

struct ed_config {
    char last[ED_CONFIG_SERIAL_MAX]; /* the board used last; "" none */
    char *kept;                      /* lines before the first section, verbatim */
    char *tail;                      /* sections that are not [board ...], verbatim */
    struct ed_config_board *boards;
    size_t count, cap;
    unsigned problems;               /* lines not understood */
    char warning[320];               /* the first problem, or why the file was not read */
};

void ed_config_init(struct ed_config *c);
void ed_config_free(struct ed_config *c);

/* Read text (len bytes, need not end in NUL) into an initialised c. ED_OK, or ED_E_NOMEM.
 * Bad lines count in c->problems, the first described in c->warning ("line 7: ..."). */
int ed_config_parse(struct ed_config *c, const char *text, size_t len);

/* Read the file at path into an initialised c. A missing file is an empty config (ED_OK);
 * ED_E_IO when it cannot be read or is too large (c->warning says why, c stays empty). */
int ed_config_read(struct ed_config *c, const char *path);

/* c as the file's text (malloc'd, NUL-terminated), or NULL when out of memory. */
char *ed_config_format(const struct ed_config *c);

/* Write c to path atomically: a temporary file in the same folder, then rename; the
 * folder (and a missing parent) made with mode 0700, the file 0600. When path is a
 * symbolic link, the file it points to is replaced and the link kept. ED_OK, or an error
 * with why (may be NULL) saying what failed. */
int ed_config_write(const struct ed_config *c, const char *path, char *why, size_t len);

/* Serialise read, change and write of the file at path among espdoctor processes (the
 * boards of flash --all finish side by side): an flock on the folder holding it, made
 * first when missing, so no lock file is left behind. The descriptor for
 * ed_config_unlock, or -1 when it cannot be had (the caller carries on unlocked). */
int ed_config_lock(const char *path);
void ed_config_unlock(int fd);

/* Whether a serial number can be a key: non-empty, printable, no ']', no blank at
 * either end, shorter than ED_CONFIG_SERIAL_MAX. */
bool ed_config_serial_ok(const char *serial);

/* The board with this serial number, or NULL. */
const struct ed_config_board *ed_config_find(const struct ed_config *c, const char *serial);

/* The same, added when missing; NULL when the serial cannot be a key or out of memory. */
struct ed_config_board *ed_config_board(struct ed_config *c, const char *serial);

/* Where the file is: $ESPDOCTOR_CONFIG, else $XDG_CONFIG_HOME/espdoctor/config, else
 * $HOME/.config/espdoctor/config (relative XDG paths are ignored, as the XDG spec says).
 * False (out "") when there is none: ESPDOCTOR_CONFIG set empty, or no usable HOME. */
bool ed_config_path(char *out, size_t len);

/* The rate a flash with no -b should start at: target, or the remembered max_baud when
 * lower (b may be NULL). */
uint32_t ed_config_start_baud(const struct ed_config_board *b, uint32_t target);

/* What a verified flash teaches: it aimed at asked (after any ceiling) and ran at
 * reached. A step down (reached < asked) makes reached the new max_baud; a rate above the
 * remembered max_baud that worked (-b on a better cable) raises it. baud becomes
 * reached. */
void ed_config_learn_baud(struct ed_config_board *b, uint32_t asked, uint32_t reached);

#endif
