/* The RFC 2217 client behind struct ed_transport: a serial port on a Telnet server
 * (ser2net, esp_rfc2217_server, espsim --rfc2217) with baud and DTR/RTS control.
 *
 * Everything the server sends goes through one pump: Telnet commands are answered or
 * recorded, data waits in rx until read. Acknowledgements of SET-BAUDRATE and PURGE-DATA
 * are counted, so a late answer to an earlier request is never taken for the current one.
 * SET-CONTROL answers are not awaited: ser2net sends none when the device refuses the
 * modem ioctls, and waiting would stretch the reset timing by a round trip per edge. */
#include "espdoctor/netport.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "telnet.h"

#define HANDSHAKE_MS 2000u   /* for the server to agree to COM-PORT-OPTION */
#define BAUD_ACK_MS 1000u    /* for SET-BAUDRATE's answer */
#define PURGE_ACK_MS 500u    /* for PURGE-DATA's answer */
#define SEND_MS 5000u        /* for a command to leave */

struct rfc_impl {
    int fd;   /* first: ed_tcp_transport_open connects it */
    struct ed_telnet_decoder dec;
    struct ed_telnet_opts opts;
    uint8_t rx[16384];        /* data received and not yet read: rx[rx_pos..rx_len) */
    size_t rx_pos, rx_len;
    bool dtr, rts;            /* the line state the server was last told */
    unsigned baud_pending;    /* SET-BAUDRATE requests not yet answered */
    uint32_t baud_answer;     /* the server's latest answer */
    unsigned purge_pending;
    bool purge_ignored;       /* the server never answered PURGE-DATA: don't wait again */
    bool gone;                /* the server closed the connection */
};

static struct rfc_impl *impl_of(struct ed_transport *t)
{
    return t->impl;
}

static int fail(struct ed_transport *t, int err, int status)
{
    t->os_errno = err;
    return status;
}

static int ms_left(struct ed_transport *t, uint64_t deadline_us)
{
    uint64_t now = ed_tcp_now_us(t);
    return now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
}

static uint64_t deadline_after(struct ed_transport *t, unsigned ms)
{
    return ed_tcp_now_us(t) + (uint64_t)ms * 1000u;
}

static int send_raw(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    int rc = ed_tcp_send_all(impl_of(t)->fd, buf, len, SEND_MS);
    if (rc == ED_E_GONE)
        impl_of(t)->gone = true;
    return rc == ED_OK ? ED_OK : fail(t, rc == ED_E_GONE ? ECONNRESET : errno, rc);
}

static int send_command(struct ed_transport *t, uint8_t cmd, uint8_t value)
{
    uint8_t msg[ED_RFC2217_MSG_MAX];
    size_t n = ed_rfc2217_command(cmd, &value, 1, msg, sizeof msg);
    return send_raw(t, msg, n);
}

/* A COM-PORT-OPTION message from the server. Notifications (line and modem state, flow
 * control) and the answers nobody waits for are dropped. */
static void on_server_message(struct rfc_impl *r, const uint8_t *sb, size_t len)
{
    if (len < 2 || sb[0] != ED_TN_OPT_COM_PORT)
        return;
    switch (sb[1]) {
    case ED_RFC2217_SERVER + ED_RFC2217_SET_BAUDRATE:
        if (len >= 6 && r->baud_pending > 0) {
            r->baud_pending--;
            r->baud_answer = (uint32_t)sb[2] << 24 | (uint32_t)sb[3] << 16 |
                             (uint32_t)sb[4] << 8 | sb[5];
        }
        break;
    case ED_RFC2217_SERVER + ED_RFC2217_PURGE_DATA:
        if (r->purge_pending > 0 && --r->purge_pending == 0)
            r->rx_pos = r->rx_len = 0;   /* all of it came before the purge */
        break;
    default:
        break;
    }
}

/* Decode raw bytes into rx, answering option negotiation as it comes. */
static int digest(struct ed_transport *t, const uint8_t *in, size_t n)
{
    struct rfc_impl *r = impl_of(t);
    while (n > 0) {
        enum ed_telnet_event ev;
        size_t used = ed_telnet_decode(&r->dec, in, n, r->rx, &r->rx_len, &ev);
        in += used;
        n -= used;
        if (ev == ED_TN_EV_OPTION) {
            uint8_t reply[3];
            if (ed_telnet_answer(&r->opts, r->dec.verb, r->dec.option, reply)) {
                int rc = send_raw(t, reply, sizeof reply);
                if (rc != ED_OK)
                    return rc;
            }
        } else if (ev == ED_TN_EV_SUBNEG && !r->dec.sb_truncated) {
            on_server_message(r, r->dec.sb, r->dec.sb_len);
        }
    }
    return ED_OK;
}

/* Wait up to timeout_ms for bytes from the server and take them in. ED_OK if some came,
 * ED_E_TIMEOUT if none (or rx is full), ED_E_GONE if the server closed. */
static int pump(struct ed_transport *t, unsigned timeout_ms)
{
    struct rfc_impl *r = impl_of(t);
    if (r->gone)
        return fail(t, ECONNRESET, ED_E_GONE);
    if (r->rx_pos == r->rx_len) {
        r->rx_pos = r->rx_len = 0;
    } else if (r->rx_pos > 0) {
        memmove(r->rx, r->rx + r->rx_pos, r->rx_len - r->rx_pos);
        r->rx_len -= r->rx_pos;
        r->rx_pos = 0;
    }
    size_t room = sizeof r->rx - r->rx_len;   /* decoding never makes data longer */
    if (room == 0)
        return ED_E_TIMEOUT;
    uint64_t deadline = deadline_after(t, timeout_ms);
    for (;;) {
        if (ed_interrupted())
            return ED_E_CANCELLED;   /* SIGINT/SIGTERM: the command says what was done */
        struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
        int n = poll(&pfd, 1, ms_left(t, deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(t, errno, ED_E_IO);
        if (n == 0)
            return ED_E_TIMEOUT;
        uint8_t raw[4096];
        ssize_t got = recv(r->fd, raw, room < sizeof raw ? room : sizeof raw, MSG_DONTWAIT);
        if (got > 0)
            return digest(t, raw, (size_t)got);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        r->gone = true;
        return fail(t, got == 0 ? ECONNRESET : errno, ED_E_GONE);
    }
}

/* Pump until *pending drops to zero or the time is up. True if it did. */
static bool await_answers(struct ed_transport *t, const unsigned *pending, unsigned ms,
                          bool drop_data, int *rc)
{
    struct rfc_impl *r = impl_of(t);
    uint64_t deadline = deadline_after(t, ms);
    *rc = ED_OK;
    while (*pending > 0) {
        if (drop_data)
            r->rx_pos = r->rx_len = 0;
        int left = ms_left(t, deadline);
        if (left == 0)
            return false;
        int prc = pump(t, (unsigned)left);
        if (prc == ED_E_TIMEOUT && r->rx_len == sizeof r->rx && !drop_data)
            return false;   /* nobody reads the data: stop waiting rather than drop it */
        if (prc != ED_OK && prc != ED_E_TIMEOUT) {
            *rc = prc;
            return false;
        }
    }
    return true;
}

static int rfc_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                    unsigned timeout_ms)
{
    struct rfc_impl *r = impl_of(t);
    *got = 0;
    if (cap == 0)
        return ED_E_ARG;
    uint64_t deadline = deadline_after(t, timeout_ms);
    while (r->rx_pos == r->rx_len) {
        int rc = pump(t, (unsigned)ms_left(t, deadline));
        if (rc != ED_OK)
            return rc;
        if (r->rx_pos == r->rx_len && ms_left(t, deadline) == 0)
            return ED_E_TIMEOUT;
    }
    size_t n = r->rx_len - r->rx_pos;
    if (n > cap)
        n = cap;
    memcpy(buf, r->rx + r->rx_pos, n);
    r->rx_pos += n;
    *got = n;
    return ED_OK;
}

static int rfc_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    uint8_t escaped[4096];
    while (len > 0) {
        size_t chunk = len < sizeof escaped / 2 ? len : sizeof escaped / 2;
        size_t n = ed_telnet_escape(buf, chunk, escaped);
        int rc = send_raw(t, escaped, n);
        if (rc != ED_OK)
            return rc;
        buf += chunk;
        len -= chunk;
    }
    return ED_OK;
}

/* DTR and RTS travel as two messages, so the server passes through the state between
 * them. RTS asserted alone holds the chip in reset (EN low): never pass through it unless
 * it is where we start or end. Otherwise DTR goes first, as esptool's sequence does. */
static int rfc_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    struct rfc_impl *r = impl_of(t);
    uint8_t dtr_msg = dtr ? ED_RFC2217_DTR_ON : ED_RFC2217_DTR_OFF;
    uint8_t rts_msg = rts ? ED_RFC2217_RTS_ON : ED_RFC2217_RTS_OFF;
    bool dtr_changes = dtr != r->dtr, rts_changes = rts != r->rts;
    bool rts_first = dtr_changes && rts_changes && !dtr && r->rts;
    int rc = ED_OK;
    if (rts_first)
        rc = send_command(t, ED_RFC2217_SET_CONTROL, rts_msg);
    if (rc == ED_OK && dtr_changes)
        rc = send_command(t, ED_RFC2217_SET_CONTROL, dtr_msg);
    if (rc == ED_OK && rts_changes && !rts_first)
        rc = send_command(t, ED_RFC2217_SET_CONTROL, rts_msg);
    if (rc == ED_OK) {
        r->dtr = dtr;
        r->rts = rts;
    }
    return rc;
}

static int rfc_set_baud(struct ed_transport *t, uint32_t baud)
{
    struct rfc_impl *r = impl_of(t);
    if (baud == 0)
        return ED_E_ARG;
    uint8_t msg[ED_RFC2217_MSG_MAX];
    size_t n = ed_rfc2217_set_baud_msg(baud, msg);
    int rc = send_raw(t, msg, n);
    if (rc != ED_OK)
        return rc;
    r->baud_pending++;
    if (!await_answers(t, &r->baud_pending, BAUD_ACK_MS, false, &rc)) {
        if (rc != ED_OK)
            return rc;
        t->baud = baud;   /* no answer in time: some servers never send one */
        return ED_OK;
    }
    if (r->baud_answer != 0 && r->baud_answer != baud) {
        t->baud = r->baud_answer;
        return fail(t, EINVAL, ED_E_UNSUPPORTED);
    }
    t->baud = baud;
    return ED_OK;
}

static int rfc_flush_input(struct ed_transport *t)
{
    struct rfc_impl *r = impl_of(t);
    int rc;
    if (!r->purge_ignored) {
        rc = send_command(t, ED_RFC2217_PURGE_DATA, ED_RFC2217_PURGE_RECEIVE);
        if (rc != ED_OK)
            return rc;
        r->purge_pending++;
        if (!await_answers(t, &r->purge_pending, PURGE_ACK_MS, true, &rc)) {
            if (rc != ED_OK)
                return rc;
            r->purge_ignored = true;
            r->purge_pending = 0;
        }
        return ED_OK;
    }
    /* Without the server's help: drop what has arrived so far. */
    do {
        r->rx_pos = r->rx_len = 0;
        rc = pump(t, 0);
    } while (rc == ED_OK);
    r->rx_pos = r->rx_len = 0;
    return rc == ED_E_TIMEOUT ? ED_OK : rc;
}

static void rfc_close(struct ed_transport *t)
{
    struct rfc_impl *r = t->impl;
    if (r) {
        if (r->fd >= 0)
            close(r->fd);
        free(r);
    }
    free(t);
}

static const struct ed_transport_ops rfc_ops = {
    .read = rfc_read,
    .write = rfc_write,
    .set_lines = rfc_set_lines,
    .set_baud = rfc_set_baud,
    .flush_input = rfc_flush_input,
    .close = rfc_close,
    .now_us = ed_tcp_now_us,
    .sleep_ms = ed_tcp_sleep_ms,
};

/* Offer COM-PORT-OPTION and BINARY; wait for the server to take COM-PORT-OPTION. */
static int handshake(struct ed_transport *t)
{
    struct rfc_impl *r = impl_of(t);
    uint8_t req[9];
    size_t n = 0;
    n += ed_telnet_request(&r->opts, ED_TN_WILL, ED_TN_OPT_BINARY, req + n);
    n += ed_telnet_request(&r->opts, ED_TN_DO, ED_TN_OPT_BINARY, req + n);
    n += ed_telnet_request(&r->opts, ED_TN_WILL, ED_TN_OPT_COM_PORT, req + n);
    int rc = send_raw(t, req, n);
    if (rc != ED_OK)
        return rc;
    uint64_t deadline = deadline_after(t, HANDSHAKE_MS);
    while (r->opts.us[ED_TN_OPT_COM_PORT] == ED_TN_ASKED) {
        /* Data from before the port is set up answers nothing, and a full rx would stop
         * us reading the server's agreement behind it. */
        if (r->rx_len == sizeof r->rx)
            r->rx_pos = r->rx_len = 0;
        int left = ms_left(t, deadline);
        rc = left ? pump(t, (unsigned)left) : ED_E_TIMEOUT;
        if (rc == ED_E_GONE)
            return fail(t, ECONNRESET, ED_E_BUSY);
        if (rc == ED_E_TIMEOUT && left == 0)
            return fail(t, EPROTO, ED_E_UNSUPPORTED);
        if (rc != ED_OK && rc != ED_E_TIMEOUT)
            return rc;
    }
    if (r->opts.us[ED_TN_OPT_COM_PORT] != ED_TN_ON)
        return fail(t, EPROTO, ED_E_UNSUPPORTED);
    return ED_OK;
}

/* 8N1 without flow control at baud, then both lines released. */
static int configure(struct ed_transport *t, uint32_t baud)
{
    struct rfc_impl *r = impl_of(t);
    static const uint8_t settings[][2] = {
        { ED_RFC2217_SET_DATASIZE, 8 },
        { ED_RFC2217_SET_PARITY, ED_RFC2217_PARITY_NONE },
        { ED_RFC2217_SET_STOPSIZE, ED_RFC2217_STOPSIZE_1 },
        { ED_RFC2217_SET_CONTROL, ED_RFC2217_FLOW_NONE },
    };
    uint8_t msg[ED_RFC2217_MSG_MAX];
    int rc = send_raw(t, msg, ed_rfc2217_set_baud_msg(baud, msg));
    if (rc != ED_OK)
        return rc;
    r->baud_pending++;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0] && rc == ED_OK; i++)
        rc = send_command(t, settings[i][0], settings[i][1]);
    /* The server raised both lines when it opened the device, as Linux does. */
    r->dtr = r->rts = true;
    if (rc == ED_OK)
        rc = rfc_set_lines(t, false, false);
    if (rc != ED_OK)
        return rc;
    t->baud = baud;
    if (await_answers(t, &r->baud_pending, BAUD_ACK_MS, false, &rc) && r->baud_answer)
        t->baud = r->baud_answer;
    return rc;
}

int ed_rfc2217_open(const char *host, unsigned port, uint32_t baud, struct ed_transport **out)
{
    struct ed_transport *t;
    *out = NULL;
    int rc = ed_tcp_transport_open("rfc2217", host, port, baud, sizeof(struct rfc_impl), &t);
    if (rc != ED_OK)
        return rc;
    struct rfc_impl *r = t->impl;
    t->ops = &rfc_ops;
    t->has_modem_lines = true;
    ed_telnet_decoder_init(&r->dec);
    rc = handshake(t);
    if (rc == ED_OK)
        rc = configure(t, baud);
    if (rc != ED_OK) {
        int err = t->os_errno;
        rfc_close(t);
        errno = err;
        return rc;
    }
    *out = t;
    return ED_OK;
}
