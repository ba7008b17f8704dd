/* What the user types into the monitor: the quit key (Ctrl-], as miniterm and
 * idf_monitor have it), the line end Enter sends, and the terminal's raw mode (every key
 * goes to the board as it is typed; Ctrl-C too). */
#ifndef ESPDOCTOR_MONITOR_INPUT_H
#define ESPDOCTOR_MONITOR_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#define ED_MON_QUIT_KEY 0x1d   /* Ctrl-] */

enum ed_eol { ED_EOL_CR, ED_EOL_LF, ED_EOL_CRLF };

/* "CR", "LF", "CRLF" in any case. False for anything else. */
bool ed_eol_parse(const char *text, enum ed_eol *out);
const char *ed_eol_name(enum ed_eol eol);

struct ed_mon_keys {
    enum ed_eol eol;
    bool after_cr;    /* the last byte was CR: an LF right after it is the same Enter */
};

/* Typed bytes into what the board gets: Enter (CR, LF, or CR LF) becomes eol, all else
 * goes as it is. out holds what comes before the quit key (room for 2 * n bytes).
 * Returns true when the quit key was typed (what follows it is dropped). */
bool ed_mon_keys_translate(struct ed_mon_keys *k, const uint8_t *in, size_t n, uint8_t *out,
                           size_t *out_len);

struct ed_mon_tty {
    int fd;
    bool raw;
    struct termios saved;
};

/* Put the terminal on fd into raw mode (output still turns LF into CR LF). 0, or -1 with
 * errno; t->raw says whether there is something to restore. */
int ed_mon_tty_raw(struct ed_mon_tty *t, int fd);

/* Back to the terminal's own settings, if ed_mon_tty_raw changed them. */
void ed_mon_tty_restore(struct ed_mon_tty *t);

#endif
