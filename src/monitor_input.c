/* The monitor's keyboard side (see monitor_input.h). */
#include "monitor_input.h"

#include <strings.h>
#include <unistd.h>

static const char *const eol_names[] = {
    [ED_EOL_CR] = "CR", [ED_EOL_LF] = "LF", [ED_EOL_CRLF] = "CRLF",
};

bool ed_eol_parse(const char *text, enum ed_eol *out)
{
    for (size_t i = 0; text && i < sizeof eol_names / sizeof eol_names[0]; i++)
        if (strcasecmp(text, eol_names[i]) == 0) {
            *out = (enum ed_eol)i;
            return true;
        }
    return false;
}

const char *ed_eol_name(enum ed_eol eol)
{
    return (unsigned)eol < sizeof eol_names / sizeof eol_names[0] ? eol_names[eol] : "?";
}

static size_t put_eol(enum ed_eol eol, uint8_t *out)
{
    switch (eol) {
    case ED_EOL_LF: out[0] = '\n'; return 1;
    case ED_EOL_CRLF: out[0] = '\r'; out[1] = '\n'; return 2;
    case ED_EOL_CR: break;
    }
    out[0] = '\r';
    return 1;
}

bool ed_mon_keys_translate(struct ed_mon_keys *k, const uint8_t *in, size_t n, uint8_t *out,
                           size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (b == ED_MON_QUIT_KEY) {
            *out_len = o;
            return true;
        }
        if (b == '\n' && k->after_cr) {
            k->after_cr = false;
            continue;
        }
        k->after_cr = b == '\r';
        if (b == '\r' || b == '\n')
            o += put_eol(k->eol, out + o);
        else
            out[o++] = b;
    }
    *out_len = o;
    return false;
}

int ed_mon_tty_raw(struct ed_mon_tty *t, int fd)
{
    t->fd = fd;
    t->raw = false;
    if (tcgetattr(fd, &t->saved) != 0)
        return -1;
    struct termios raw = t->saved;
    cfmakeraw(&raw);
    /* The board's lines may end in a bare LF: let the terminal still return the carriage. */
    raw.c_oflag |= OPOST | ONLCR;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &raw) != 0)
        return -1;
    t->raw = true;
    return 0;
}

void ed_mon_tty_restore(struct ed_mon_tty *t)
{
    if (t->raw)
        tcsetattr(t->fd, TCSAFLUSH, &t->saved);
    t->raw = false;
}
