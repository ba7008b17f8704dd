#include "rfc2217.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

/* Telnet (RFC 854) */
#define IAC 255
#define DONT 254
#define DO 253
#define WONT 252
#define WILL 251
#define SB 250
#define SE 240
#define OPT_BINARY 0
#define OPT_SGA 3
#define OPT_COM_PORT 44

/* COM-PORT-OPTION commands, client to server; the server answers with code + 100. */
#define CPO_SIGNATURE 0
#define CPO_SET_BAUDRATE 1
#define CPO_SET_DATASIZE 2
#define CPO_SET_PARITY 3
#define CPO_SET_STOPSIZE 4
#define CPO_SET_CONTROL 5
#define CPO_SET_LINESTATE_MASK 10
#define CPO_SET_MODEMSTATE_MASK 11
#define CPO_PURGE_DATA 12
#define CPO_SERVER 100

enum { ST_DATA, ST_IAC, ST_OPTION, ST_SB, ST_SB_IAC };

static bool option_supported(uint8_t opt)
{
    return opt == OPT_BINARY || opt == OPT_SGA || opt == OPT_COM_PORT;
}

/* ---- output ------------------------------------------------------------------------- */

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data);

static void flush_out(struct sim_rfc2217 *r)
{
    while (r->out_len > 0 && r->conn_fd >= 0) {
        ssize_t n = send(r->conn_fd, r->out, r->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                r->out_len = 0; /* the connection is going away; the reader notices */
            break;
        }
        memmove(r->out, r->out + n, r->out_len - (size_t)n);
        r->out_len -= (size_t)n;
    }
    if (r->out_len > 0 && r->out_watch == 0)
        r->out_watch = g_unix_fd_add(r->conn_fd, G_IO_OUT, on_writable, r);
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd;
    (void)cond;
    struct sim_rfc2217 *r = data;
    r->out_watch = 0;
    flush_out(r);
    if (r->out_len == 0)
        sim_host_pump(r->host);
    return G_SOURCE_REMOVE;
}

static void put(struct sim_rfc2217 *r, const uint8_t *bytes, size_t n)
{
    if (n > sizeof r->out - r->out_len)
        n = sizeof r->out - r->out_len; /* only replies get here when full: a client that
                                           stops reading for 16 KiB loses some of them */
    memcpy(r->out + r->out_len, bytes, n);
    r->out_len += n;
}

static void put_escaped(struct sim_rfc2217 *r, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n && r->out_len + 2 <= sizeof r->out; i++) {
        r->out[r->out_len++] = bytes[i];
        if (bytes[i] == IAC)
            r->out[r->out_len++] = IAC;
    }
}

static void send_option(struct sim_rfc2217 *r, uint8_t verb, uint8_t opt)
{
    uint8_t msg[] = { IAC, verb, opt };
    put(r, msg, sizeof msg);
}

static void send_reply(struct sim_rfc2217 *r, uint8_t cmd, const uint8_t *value, size_t n)
{
    uint8_t head[] = { IAC, SB, OPT_COM_PORT, (uint8_t)(cmd + CPO_SERVER) };
    uint8_t tail[] = { IAC, SE };
    put(r, head, sizeof head);
    put_escaped(r, value, n);
    put(r, tail, sizeof tail);
}

/* Escaping at most doubles the data; keep room for replies on top. */
static size_t tcp_room(struct sim_endpoint *ep)
{
    struct sim_rfc2217 *r = (struct sim_rfc2217 *)ep;
    if (r->out_len + 256 >= sizeof r->out)
        return 0;
    return (sizeof r->out - 256 - r->out_len) / 2;
}

static void tcp_push(struct sim_endpoint *ep, const uint8_t *data, size_t len)
{
    struct sim_rfc2217 *r = (struct sim_rfc2217 *)ep;
    put_escaped(r, data, len);
    flush_out(r);
}

static const struct sim_endpoint_ops tcp_ops = { .room = tcp_room, .push = tcp_push };

/* ---- commands ----------------------------------------------------------------------- */

static void set_control(struct sim_rfc2217 *r, uint8_t value)
{
    struct sim_host *h = r->host;
    uint8_t answer = value;
    switch (value) {
    case 0: answer = r->flow; break;                 /* ask outbound flow control */
    case 1: case 2: case 3: r->flow = value; break;
    case 4: answer = 6; break;                       /* ask BREAK: never on */
    case 7: answer = h->dtr ? 8 : 9; break;
    case 8: case 9: sim_host_set_lines(h, value == 8, h->rts); break;
    case 10: answer = h->rts ? 11 : 12; break;
    case 11: case 12: sim_host_set_lines(h, h->dtr, value == 11); break;
    case 13: answer = 14; break;                     /* ask inbound flow control: none */
    default: break;                                  /* BREAK on/off, inbound flow: agreed */
    }
    send_reply(r, CPO_SET_CONTROL, &answer, 1);
}

static void set_byte_setting(struct sim_rfc2217 *r, uint8_t cmd, uint8_t *setting, uint8_t v)
{
    if (v != 0)
        *setting = v;
    send_reply(r, cmd, setting, 1);
}

static void handle_subnegotiation(struct sim_rfc2217 *r)
{
    if (r->sb_len < 2 || r->sb[0] != OPT_COM_PORT)
        return;
    uint8_t cmd = r->sb[1];
    const uint8_t *arg = r->sb + 2;
    size_t n = r->sb_len - 2;

    switch (cmd) {
    case CPO_SIGNATURE:
        if (n == 0) {
            const char *sig = "espsim";
            send_reply(r, cmd, (const uint8_t *)sig, strlen(sig));
        }
        break;
    case CPO_SET_BAUDRATE:
        if (n >= 4) {
            uint32_t baud = (uint32_t)arg[0] << 24 | (uint32_t)arg[1] << 16 |
                            (uint32_t)arg[2] << 8 | arg[3];
            if (baud != 0)
                sim_host_set_baud(r->host, baud);
            uint32_t now = r->host->baud;
            uint8_t be[4] = { (uint8_t)(now >> 24), (uint8_t)(now >> 16), (uint8_t)(now >> 8),
                              (uint8_t)now };
            send_reply(r, cmd, be, 4);
        }
        break;
    case CPO_SET_DATASIZE:
        if (n >= 1)
            set_byte_setting(r, cmd, &r->data_size, arg[0]);
        break;
    case CPO_SET_PARITY:
        if (n >= 1)
            set_byte_setting(r, cmd, &r->parity, arg[0]);
        break;
    case CPO_SET_STOPSIZE:
        if (n >= 1)
            set_byte_setting(r, cmd, &r->stop_size, arg[0]);
        break;
    case CPO_SET_CONTROL:
        if (n >= 1)
            set_control(r, arg[0]);
        break;
    case CPO_SET_LINESTATE_MASK:
    case CPO_SET_MODEMSTATE_MASK:
        send_reply(r, cmd, arg, n);
        break;
    case CPO_PURGE_DATA:
        /* 1: what the board sent that the client has not got yet; 2: what the client sent
         * that has not reached the board (nothing waits here). Both: 3. */
        if (n >= 1 && (arg[0] == 1 || arg[0] == 3)) {
            r->out_len = 0;
            sim_host_trace(r->host, "rfc2217 purge");
        }
        send_reply(r, cmd, arg, n >= 1 ? 1 : 0);
        break;
    default:
        break;
    }
}

static void handle_option(struct sim_rfc2217 *r, uint8_t verb, uint8_t opt)
{
    bool ok = option_supported(opt);
    switch (verb) {
    case WILL:
        if (!ok)
            send_option(r, DONT, opt);
        else if (!r->him[opt]) {
            r->him[opt] = true;
            send_option(r, DO, opt);
        }
        break;
    case DO:
        if (!ok)
            send_option(r, WONT, opt);
        else if (!r->us[opt]) {
            r->us[opt] = true;
            send_option(r, WILL, opt);
        }
        break;
    case WONT:
        if (r->him[opt]) {
            r->him[opt] = false;
            send_option(r, DONT, opt);
        }
        break;
    case DONT:
        if (r->us[opt]) {
            r->us[opt] = false;
            send_option(r, WONT, opt);
        }
        break;
    }
}

/* Feed bytes from the client; plain data is collected and written to the board before
 * any command that follows it, so their order holds. */
static void parse(struct sim_rfc2217 *r, const uint8_t *in, size_t n)
{
    uint8_t data[4096];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        switch (r->state) {
        case ST_DATA:
            if (c == IAC)
                r->state = ST_IAC;
            else
                data[len++] = c;
            break;
        case ST_IAC:
            r->state = ST_DATA;
            if (c == IAC) {
                data[len++] = c;
                break;
            }
            if (len) {
                sim_host_write(r->host, data, len);
                len = 0;
            }
            if (c == WILL || c == WONT || c == DO || c == DONT) {
                r->verb = c;
                r->state = ST_OPTION;
            } else if (c == SB) {
                r->sb_len = 0;
                r->state = ST_SB;
            }
            break;
        case ST_OPTION:
            handle_option(r, r->verb, c);
            r->state = ST_DATA;
            break;
        case ST_SB:
            if (c == IAC)
                r->state = ST_SB_IAC;
            else if (r->sb_len < sizeof r->sb)
                r->sb[r->sb_len++] = c;
            break;
        case ST_SB_IAC:
            if (c == SE) {
                handle_subnegotiation(r);
                r->state = ST_DATA;
            } else {
                if (c == IAC && r->sb_len < sizeof r->sb)
                    r->sb[r->sb_len++] = c;
                r->state = ST_SB;
            }
            break;
        }
    }
    if (len)
        sim_host_write(r->host, data, len);
    flush_out(r);
}

/* ---- connections -------------------------------------------------------------------- */

static void drop_connection(struct sim_rfc2217 *r)
{
    if (r->conn_watch)
        g_source_remove(r->conn_watch);
    if (r->out_watch)
        g_source_remove(r->out_watch);
    r->conn_watch = r->out_watch = 0;
    if (r->conn_fd >= 0)
        close(r->conn_fd);
    r->conn_fd = -1;
    r->out_len = 0;
    /* Like ser2net closing the device: HUPCL drops DTR and RTS. */
    sim_host_close(r->host, &r->ep, true);
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    (void)cond;
    struct sim_rfc2217 *r = data;
    uint8_t buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
        parse(r, buf, (size_t)n);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    sim_host_trace(r->host, "rfc2217 client left");
    r->conn_watch = 0;
    drop_connection(r);
    return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    (void)cond;
    struct sim_rfc2217 *r = data;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return G_SOURCE_CONTINUE;
    if (r->conn_fd >= 0) {
        /* The port is in use, as a real one would be. */
        close(c);
        return G_SOURCE_CONTINUE;
    }
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    r->conn_fd = c;
    r->state = ST_DATA;
    memset(r->him, 0, sizeof r->him);
    memset(r->us, 0, sizeof r->us);
    r->data_size = 8;
    r->parity = 1;
    r->stop_size = 1;
    r->flow = 1;
    r->conn_watch = g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, r);
    sim_host_open(r->host, &r->ep);
    return G_SOURCE_CONTINUE;
}

static bool fail_errno(GError **err, const char *what)
{
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", what,
                g_strerror(errno));
    return false;
}

bool sim_rfc2217_start(struct sim_rfc2217 *r, struct sim_host *host, uint16_t port,
                       GError **err)
{
    *r = (struct sim_rfc2217){ .host = host, .listen_fd = -1, .conn_fd = -1 };
    r->ep = (struct sim_endpoint){ .ops = &tcp_ops, .label = "rfc2217 client" };

    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (r->listen_fd < 0)
        return fail_errno(err, "socket");
    int one = 1;
    setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(r->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        char what[64];
        snprintf(what, sizeof what, "cannot listen on 127.0.0.1:%u", port);
        return fail_errno(err, what);
    }
    if (listen(r->listen_fd, 4) != 0)
        return fail_errno(err, "listen");
    socklen_t len = sizeof addr;
    if (getsockname(r->listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return fail_errno(err, "getsockname");
    r->port = ntohs(addr.sin_port);
    sim_host_add_endpoint(host, &r->ep);
    r->listen_watch = g_unix_fd_add(r->listen_fd, G_IO_IN, on_accept, r);
    return true;
}

void sim_rfc2217_stop(struct sim_rfc2217 *r)
{
    if (r->conn_fd >= 0)
        drop_connection(r);
    if (r->listen_watch)
        g_source_remove(r->listen_watch);
    r->listen_watch = 0;
    if (r->listen_fd >= 0)
        close(r->listen_fd);
    r->listen_fd = -1;
}
