/* Telnet / RFC 2217 byte codecs (see telnet.h). */
#include "telnet.h"

#include <string.h>

enum { ST_DATA, ST_IAC, ST_OPTION, ST_SB, ST_SB_IAC };

void ed_telnet_decoder_init(struct ed_telnet_decoder *d)
{
    memset(d, 0, sizeof *d);
    d->state = ST_DATA;
}

/* The byte after an IAC outside a subnegotiation. Returns the event it completes. */
static enum ed_telnet_event after_iac(struct ed_telnet_decoder *d, uint8_t c, uint8_t *data,
                                      size_t *data_len)
{
    d->state = ST_DATA;
    switch (c) {
    case ED_TN_IAC:
        data[(*data_len)++] = c;
        return ED_TN_EV_NONE;
    case ED_TN_WILL:
    case ED_TN_WONT:
    case ED_TN_DO:
    case ED_TN_DONT:
        d->verb = c;
        d->state = ST_OPTION;
        return ED_TN_EV_NONE;
    case ED_TN_SB:
        d->sb_len = 0;
        d->sb_truncated = false;
        d->state = ST_SB;
        return ED_TN_EV_NONE;
    default:
        d->command = c;
        return ED_TN_EV_COMMAND;
    }
}

static void sb_append(struct ed_telnet_decoder *d, uint8_t c)
{
    if (d->sb_len < sizeof d->sb)
        d->sb[d->sb_len++] = c;
    else
        d->sb_truncated = true;
}

size_t ed_telnet_decode(struct ed_telnet_decoder *d, const uint8_t *in, size_t n,
                        uint8_t *data, size_t *data_len, enum ed_telnet_event *ev)
{
    *ev = ED_TN_EV_NONE;
    size_t i = 0;
    while (i < n && *ev == ED_TN_EV_NONE) {
        uint8_t c = in[i++];
        switch (d->state) {
        case ST_DATA:
            if (c == ED_TN_IAC)
                d->state = ST_IAC;
            else
                data[(*data_len)++] = c;
            break;
        case ST_IAC:
            *ev = after_iac(d, c, data, data_len);
            break;
        case ST_OPTION:
            d->option = c;
            d->state = ST_DATA;
            *ev = ED_TN_EV_OPTION;
            break;
        case ST_SB:
            if (c == ED_TN_IAC)
                d->state = ST_SB_IAC;
            else
                sb_append(d, c);
            break;
        case ST_SB_IAC:
            if (c == ED_TN_SE) {
                d->state = ST_DATA;
                *ev = ED_TN_EV_SUBNEG;
            } else if (c == ED_TN_IAC) {
                sb_append(d, c);
                d->state = ST_SB;
            } else {
                /* The SE never came: drop the fragment, read IAC c as a command. */
                *ev = after_iac(d, c, data, data_len);
            }
            break;
        default:
            d->state = ST_DATA;
            break;
        }
    }
    return i;
}

size_t ed_telnet_escape(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = in[i];
        if (in[i] == ED_TN_IAC)
            out[o++] = ED_TN_IAC;
    }
    return o;
}

size_t ed_rfc2217_command(uint8_t cmd, const uint8_t *value, size_t n, uint8_t *out,
                          size_t cap)
{
    size_t need = 6 + n;
    for (size_t i = 0; i < n; i++)
        need += value[i] == ED_TN_IAC;
    if (cmd == ED_TN_IAC)
        need++;
    if (need > cap)
        return 0;
    size_t o = 0;
    out[o++] = ED_TN_IAC;
    out[o++] = ED_TN_SB;
    out[o++] = ED_TN_OPT_COM_PORT;
    o += ed_telnet_escape(&cmd, 1, out + o);
    o += ed_telnet_escape(value, n, out + o);
    out[o++] = ED_TN_IAC;
    out[o++] = ED_TN_SE;
    return o;
}

size_t ed_rfc2217_set_baud_msg(uint32_t baud, uint8_t out[ED_RFC2217_MSG_MAX])
{
    const uint8_t be[4] = { (uint8_t)(baud >> 24), (uint8_t)(baud >> 16),
                            (uint8_t)(baud >> 8), (uint8_t)baud };
    return ed_rfc2217_command(ED_RFC2217_SET_BAUDRATE, be, sizeof be, out,
                              ED_RFC2217_MSG_MAX);
}

size_t ed_rfc2217_set_control_msg(uint8_t value, uint8_t out[ED_RFC2217_MSG_MAX])
{
    return ed_rfc2217_command(ED_RFC2217_SET_CONTROL, &value, 1, out, ED_RFC2217_MSG_MAX);
}

static bool acceptable(uint8_t option)
{
    return option == ED_TN_OPT_BINARY || option == ED_TN_OPT_SGA ||
           option == ED_TN_OPT_COM_PORT;
}

static size_t put(uint8_t out[3], uint8_t verb, uint8_t option)
{
    out[0] = ED_TN_IAC;
    out[1] = verb;
    out[2] = option;
    return 3;
}

size_t ed_telnet_request(struct ed_telnet_opts *o, uint8_t verb, uint8_t option,
                         uint8_t out[3])
{
    uint8_t *st = verb == ED_TN_WILL ? &o->us[option] : &o->him[option];
    if (verb != ED_TN_WILL && verb != ED_TN_DO)
        return 0;
    if (*st == ED_TN_ON || *st == ED_TN_ASKED)
        return 0;
    *st = ED_TN_ASKED;
    return put(out, verb, option);
}

/* One side of one option. positive: the peer's WILL (for him) or DO (for us). */
static size_t answer_side(uint8_t *st, bool positive, uint8_t option, uint8_t yes,
                          uint8_t no, uint8_t out[3])
{
    if (positive) {
        if (*st == ED_TN_ON)
            return 0;
        if (!acceptable(option)) {
            *st = ED_TN_OFF;
            return put(out, no, option);
        }
        bool was_asked = *st == ED_TN_ASKED;
        *st = ED_TN_ON;
        return was_asked ? 0 : put(out, yes, option);
    }
    switch (*st) {
    case ED_TN_ON:
        *st = ED_TN_OFF;
        return put(out, no, option);
    case ED_TN_ASKED:
        *st = ED_TN_REFUSED;
        return 0;
    default:
        return 0;
    }
}

size_t ed_telnet_answer(struct ed_telnet_opts *o, uint8_t verb, uint8_t option,
                        uint8_t out[3])
{
    switch (verb) {
    case ED_TN_WILL:
        return answer_side(&o->him[option], true, option, ED_TN_DO, ED_TN_DONT, out);
    case ED_TN_WONT:
        return answer_side(&o->him[option], false, option, ED_TN_DO, ED_TN_DONT, out);
    case ED_TN_DO:
        return answer_side(&o->us[option], true, option, ED_TN_WILL, ED_TN_WONT, out);
    case ED_TN_DONT:
        return answer_side(&o->us[option], false, option, ED_TN_WILL, ED_TN_WONT, out);
    default:
        return 0;
    }
}
