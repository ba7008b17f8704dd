/* Network ports: the address syntax, TCP connect/send shared with the RFC 2217 client, and
 * the raw socket:// transport (data only: no modem lines, the far end owns the speed). */
#include "espdoctor/netport.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"

/* ---- addresses ------------------------------------------------------------------------ */

const char *ed_port_scheme_name(enum ed_port_scheme scheme)
{
    switch (scheme) {
    case ED_PORT_RFC2217: return "rfc2217";
    case ED_PORT_SOCKET: return "socket";
    default: return "local";
    }
}

static int url_problem(struct ed_port_url *url, int status, const char *why)
{
    url->problem = why;
    return status;
}

/* "scheme://": the length of the scheme, or 0 if text does not start with one. */
static size_t scheme_length(const char *text)
{
    size_t n = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    return n > 0 && strncmp(text + n, "://", 3) == 0 ? n : 0;
}

static bool parse_port_number(const char *text, size_t len, unsigned *port)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (unsigned)(text[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = v;
    return true;
}

int ed_port_url_parse(const char *text, struct ed_port_url *url)
{
    memset(url, 0, sizeof *url);
    url->scheme = ED_PORT_LOCAL;
    size_t slen = scheme_length(text);
    if (slen == 0)
        return ED_OK;
    if (slen == 7 && strncasecmp(text, "rfc2217", 7) == 0)
        url->scheme = ED_PORT_RFC2217;
    else if (slen == 6 && strncasecmp(text, "socket", 6) == 0)
        url->scheme = ED_PORT_SOCKET;
    else
        return url_problem(url, ED_E_UNSUPPORTED,
                           "unknown scheme: espdoctor speaks rfc2217:// and socket://");

    const char *p = text + slen + 3;
    size_t len = strlen(p);
    if (len > 0 && p[len - 1] == '/')
        len--;
    const char *host = p, *colon;
    size_t host_len;
    if (len > 0 && *p == '[') {
        const char *close = memchr(p, ']', len);
        if (!close)
            return url_problem(url, ED_E_ARG, "an IPv6 address is missing its ']'");
        host = p + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
        if (colon >= p + len || *colon != ':')
            return url_problem(url, ED_E_ARG, "the port is missing (HOST:PORT)");
    } else {
        colon = memchr(p, ':', len);
        if (!colon)
            return url_problem(url, ED_E_ARG, "the port is missing (HOST:PORT)");
        if (memchr(colon + 1, ':', len - (size_t)(colon + 1 - p)))
            return url_problem(url, ED_E_ARG,
                               "an IPv6 address must be in brackets: [::1]:PORT");
        host_len = (size_t)(colon - p);
    }
    if (host_len == 0)
        return url_problem(url, ED_E_ARG, "the host is missing (HOST:PORT)");
    if (host_len >= sizeof url->host)
        return url_problem(url, ED_E_ARG, "the host name is too long");
    if (memchr(host, '/', host_len) || memchr(host, '?', host_len) ||
        memchr(host, '@', host_len))
        return url_problem(url, ED_E_ARG, "only HOST:PORT may follow the scheme");
    if (!parse_port_number(colon + 1, len - (size_t)(colon + 1 - p), &url->port))
        return url_problem(url, ED_E_ARG, "the port must be a number from 1 to 65535");
    memcpy(url->host, host, host_len);
    url->host[host_len] = '\0';
    return ED_OK;
}

/* ---- TCP -------------------------------------------------------------------------------- */

uint64_t ed_tcp_now_us(struct ed_transport *t)
{
    (void)t;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ed_tcp_sleep_ms(struct ed_transport *t, unsigned ms)
{
    (void)t;
    struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

static int ms_left(uint64_t deadline_us)
{
    uint64_t now = ed_tcp_now_us(NULL);
    return now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
}

static int status_of_connect_error(int err)
{
    switch (err) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRNOTAVAIL:
        return ED_E_NOTFOUND;
    case ETIMEDOUT:
        return ED_E_TIMEOUT;
    case EACCES:
    case EPERM:
        return ED_E_PERM;
    case ENOMEM:
    case ENOBUFS:
        return ED_E_NOMEM;
    default:
        return ED_E_IO;
    }
}

/* One address: 0 and *fd on success, else the errno that stopped it. */
static int connect_one(const struct addrinfo *ai, uint64_t deadline_us, int *fd)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   ai->ai_protocol);
    if (s < 0)
        return errno;
    int err = 0;
    if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno;
        while (err == EINPROGRESS || err == EINTR) {
            struct pollfd pfd = { .fd = s, .events = POLLOUT };
            int n = poll(&pfd, 1, ms_left(deadline_us));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                err = n == 0 ? ETIMEDOUT : errno;
                break;
            }
            socklen_t len = sizeof err;
            if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
    }
    if (err) {
        close(s);
        return err;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fd = s;
    return 0;
}

int ed_tcp_connect(const char *host, unsigned port, unsigned timeout_ms, int *fd)
{
    *fd = -1;
    if (!host || !*host || port == 0 || port > 65535) {
        errno = EINVAL;
        return ED_E_ARG;
    }
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(host, service, &hints, &list);
    if (gai != 0) {
        errno = gai == EAI_MEMORY ? ENOMEM : gai == EAI_SYSTEM && errno ? errno : ENOENT;
        return errno == ENOMEM ? ED_E_NOMEM : ED_E_NOTFOUND;
    }
    uint64_t deadline = ed_tcp_now_us(NULL) + (uint64_t)timeout_ms * 1000u;
    int err = ECONNREFUSED;
    for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        err = connect_one(ai, deadline, fd);
        if (err == 0 || err == ETIMEDOUT)
            break;
    }
    freeaddrinfo(list);
    if (err == 0)
        return ED_OK;
    errno = err;
    return status_of_connect_error(err);
}

int ed_tcp_send_all(int fd, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    uint64_t deadline = ed_tcp_now_us(NULL) + (uint64_t)timeout_ms * 1000u;
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int r = poll(&pfd, 1, ms_left(deadline));
            if (r == 0)
                return ED_E_TIMEOUT;
            if (r < 0 && errno != EINTR)
                return ED_E_IO;
            continue;
        }
        return errno == EPIPE || errno == ECONNRESET ? ED_E_GONE : ED_E_IO;
    }
    return ED_OK;
}

/* ---- socket:// ---------------------------------------------------------------------------- */

struct socket_impl {
    int fd;   /* first: ed_tcp_transport_open connects it */
};

static int socket_fd(struct ed_transport *t)
{
    return ((struct socket_impl *)t->impl)->fd;
}

static int fail(struct ed_transport *t, int err, int status)
{
    t->os_errno = err;
    return status;
}

static int socket_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                       unsigned timeout_ms)
{
    *got = 0;
    if (cap == 0)
        return ED_E_ARG;
    uint64_t deadline = ed_tcp_now_us(t) + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        if (ed_interrupted())
            return ED_E_CANCELLED;   /* SIGINT/SIGTERM: the command says what was done */
        struct pollfd pfd = { .fd = socket_fd(t), .events = POLLIN };
        int n = poll(&pfd, 1, ms_left(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(t, errno, ED_E_IO);
        if (n == 0)
            return ED_E_TIMEOUT;
        ssize_t r = recv(socket_fd(t), buf, cap, MSG_DONTWAIT);
        if (r > 0) {
            *got = (size_t)r;
            return ED_OK;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        return fail(t, r == 0 ? ECONNRESET : errno, ED_E_GONE);
    }
}

static int socket_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    uint32_t baud = t->baud ? t->baud : 9600;
    unsigned timeout_ms = 5000u + (unsigned)((uint64_t)len * 10u * 1000u * 2u / baud);
    int rc = ed_tcp_send_all(socket_fd(t), buf, len, timeout_ms);
    return rc == ED_OK ? ED_OK : fail(t, errno, rc);
}

static int socket_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    (void)t;
    (void)dtr;
    (void)rts;
    return ED_E_UNSUPPORTED;
}

static int socket_set_baud(struct ed_transport *t, uint32_t baud)
{
    if (baud == 0)
        return ED_E_ARG;
    t->baud = baud;
    return ED_OK;
}

/* Only what already arrived can be dropped: the far end keeps its own buffer. */
static int socket_flush_input(struct ed_transport *t)
{
    uint8_t sink[1024];
    for (;;) {
        ssize_t r = recv(socket_fd(t), sink, sizeof sink, MSG_DONTWAIT);
        if (r > 0)
            continue;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return ED_OK;
        return fail(t, r == 0 ? ECONNRESET : errno, ED_E_GONE);
    }
}

static void socket_close(struct ed_transport *t)
{
    struct socket_impl *s = t->impl;
    if (s) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
    }
    free(t);
}

static const struct ed_transport_ops socket_ops = {
    .read = socket_read,
    .write = socket_write,
    .set_lines = socket_set_lines,
    .set_baud = socket_set_baud,
    .flush_input = socket_flush_input,
    .close = socket_close,
    .now_us = ed_tcp_now_us,
    .sleep_ms = ed_tcp_sleep_ms,
};

int ed_tcp_transport_open(const char *scheme, const char *host, unsigned port, uint32_t baud,
                          size_t impl_size, struct ed_transport **out)
{
    *out = NULL;
    if (baud == 0) {
        errno = EINVAL;
        return ED_E_ARG;
    }
    struct ed_transport *t = calloc(1, sizeof *t);
    int *fd = calloc(1, impl_size);
    if (!t || !fd) {
        free(t);
        free(fd);
        errno = ENOMEM;
        return ED_E_NOMEM;
    }
    int rc = ed_tcp_connect(host, port, ED_NET_CONNECT_MS, fd);
    if (rc != ED_OK) {
        int err = errno;
        free(fd);
        free(t);
        errno = err;
        return rc;
    }
    t->impl = fd;
    t->baud = baud;
    bool v6 = strchr(host, ':') != NULL;
    snprintf(t->name, sizeof t->name, "%s://%s%s%s:%u", scheme, v6 ? "[" : "", host,
             v6 ? "]" : "", port);
    *out = t;
    return ED_OK;
}

int ed_socket_open(const char *host, unsigned port, uint32_t baud, struct ed_transport **out)
{
    int rc = ed_tcp_transport_open("socket", host, port, baud, sizeof(struct socket_impl), out);
    if (rc != ED_OK)
        return rc;
    (*out)->ops = &socket_ops;
    (*out)->has_modem_lines = false;
    return ED_OK;
}
