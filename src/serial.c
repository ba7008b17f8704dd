/* The local serial port behind struct ed_transport, through libserialport. Modem lines and
 * reads go to the file descriptor directly: libserialport sets DTR and RTS with separate
 * ioctls, and a reset needs both at once (TIOCMSET).
 *
 * On failure ed_serial_open leaves the OS error in errno (ENOTTY: not a serial port). */
#include "espdoctor/transport.h"

#include <errno.h>
#include <libserialport.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/pathlink.h"

struct serial_impl {
    struct sp_port *port;
    int fd;
    bool exclusive;   /* we set TIOCEXCL (and clear it on close) */
};

static struct serial_impl *impl_of(struct ed_transport *t)
{
    return t->impl;
}

/* errno -> status. Once the port is open, EIO/ENXIO/ENODEV mean the device went away. */
static int status_from_errno(int err, bool opened)
{
    switch (err) {
    case ENOENT:
        return ED_E_NOTFOUND;
    case ENODEV:
    case ENXIO:
        return opened ? ED_E_GONE : ED_E_NOTFOUND;
    case EIO:
    case EPIPE:
        return opened ? ED_E_GONE : ED_E_IO;
    case EACCES:
    case EPERM:
        return ED_E_PERM;
    case EBUSY:
    case EWOULDBLOCK:
        return ED_E_BUSY;
    case ENOTTY:
    case EINVAL:
        return ED_E_UNSUPPORTED;
    case ENOMEM:
        return ED_E_NOMEM;
    case ETIMEDOUT:
        return ED_E_TIMEOUT;
    default:
        return ED_E_IO;
    }
}

static int fail_errno(struct ed_transport *t, int err)
{
    t->os_errno = err;
    return status_from_errno(err, true);
}

/* A libserialport call failed: SP_ERR_FAIL carries errno, the others are ours to map. */
static int fail_sp(struct ed_transport *t, enum sp_return rc)
{
    switch (rc) {
    case SP_ERR_FAIL:
        return fail_errno(t, sp_last_error_code() ? sp_last_error_code() : EIO);
    case SP_ERR_MEM:
        return ED_E_NOMEM;
    case SP_ERR_SUPP:
        return ED_E_UNSUPPORTED;
    case SP_ERR_ARG:
        return ED_E_ARG;
    default:
        return ED_E_IO;
    }
}

static uint64_t serial_now_us(struct ed_transport *t)
{
    (void)t;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void serial_sleep_ms(struct ed_transport *t, unsigned ms)
{
    (void)t;
    struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

static int serial_read(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                       unsigned timeout_ms)
{
    struct serial_impl *s = impl_of(t);
    *got = 0;
    if (cap == 0)
        return ED_E_ARG;
    uint64_t deadline = serial_now_us(t) + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        /* SIGINT/SIGTERM: give up the wait, the command says what was done. */
        if (ed_interrupted())
            return ED_E_CANCELLED;
        uint64_t now = serial_now_us(t);
        int wait = now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        int n = poll(&pfd, 1, wait);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno(t, errno);
        }
        if (n == 0)
            return ED_E_TIMEOUT;
        if (pfd.revents & (POLLERR | POLLNVAL))
            return fail_errno(t, EIO);
        ssize_t r = read(s->fd, buf, cap);
        if (r > 0) {
            *got = (size_t)r;
            return ED_OK;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        /* Readable but nothing to read: the tty was hung up (unplugged). */
        if (r == 0 || (pfd.revents & POLLHUP))
            return fail_errno(t, r == 0 ? EIO : errno);
        return fail_errno(t, errno);
    }
}

static int serial_write(struct ed_transport *t, const uint8_t *buf, size_t len)
{
    struct serial_impl *s = impl_of(t);
    /* Generous: twice the time the bytes need on the wire, plus a second. */
    uint32_t baud = t->baud ? t->baud : 9600;
    unsigned timeout_ms = 1000u + (unsigned)((uint64_t)len * 10u * 1000u * 2u / baud);
    enum sp_return rc = sp_blocking_write(s->port, buf, len, timeout_ms);
    if (rc < 0)
        return fail_sp(t, rc);
    if ((size_t)rc < len)
        return ED_E_TIMEOUT;
    rc = sp_drain(s->port);
    if (rc < 0)
        return fail_sp(t, rc);
    return ED_OK;
}

static int serial_set_lines(struct ed_transport *t, bool dtr, bool rts)
{
    struct serial_impl *s = impl_of(t);
    int bits;
    if (ioctl(s->fd, TIOCMGET, &bits) != 0)
        return fail_errno(t, errno);
    bits &= ~(TIOCM_DTR | TIOCM_RTS);
    if (dtr)
        bits |= TIOCM_DTR;
    if (rts)
        bits |= TIOCM_RTS;
    if (ioctl(s->fd, TIOCMSET, &bits) != 0)
        return fail_errno(t, errno);
    return ED_OK;
}

static int serial_set_baud(struct ed_transport *t, uint32_t baud)
{
    struct serial_impl *s = impl_of(t);
    if (baud == 0 || baud > (uint32_t)INT32_MAX)
        return ED_E_ARG;
    enum sp_return rc = sp_drain(s->port);
    if (rc < 0)
        return fail_sp(t, rc);
    rc = sp_set_baudrate(s->port, (int)baud);
    if (rc < 0)
        return fail_sp(t, rc);
    t->baud = baud;
    return ED_OK;
}

static int serial_flush_input(struct ed_transport *t)
{
    enum sp_return rc = sp_flush(impl_of(t)->port, SP_BUF_INPUT);
    return rc < 0 ? fail_sp(t, rc) : ED_OK;
}

static void serial_close(struct ed_transport *t)
{
    struct serial_impl *s = impl_of(t);
    if (s) {
        /* Exclusive mode belongs to the tty, not to our descriptor: another process that
         * keeps the node open (a pty's other user, ModemManager) would keep it after us. */
        if (s->exclusive)
            ioctl(s->fd, TIOCNXCL);
        sp_close(s->port);
        sp_free_port(s->port);
        free(s);
    }
    free(t);
}

static const struct ed_transport_ops serial_ops = {
    .read = serial_read,
    .write = serial_write,
    .set_lines = serial_set_lines,
    .set_baud = serial_set_baud,
    .flush_input = serial_flush_input,
    .close = serial_close,
    .now_us = serial_now_us,
    .sleep_ms = serial_sleep_ms,
};

/* 8N1, no flow control of any kind, at baud. DTR and RTS are left alone here (-1 in a
 * fresh config): they are released afterwards in one atomic step. */
static enum sp_return configure(struct sp_port *port, uint32_t baud)
{
    struct sp_port_config *cfg;
    enum sp_return rc = sp_new_config(&cfg);
    if (rc != SP_OK)
        return rc;
    if ((rc = sp_set_config_baudrate(cfg, (int)baud)) == SP_OK &&
        (rc = sp_set_config_bits(cfg, 8)) == SP_OK &&
        (rc = sp_set_config_parity(cfg, SP_PARITY_NONE)) == SP_OK &&
        (rc = sp_set_config_stopbits(cfg, 1)) == SP_OK &&
        (rc = sp_set_config_xon_xoff(cfg, SP_XONXOFF_DISABLED)) == SP_OK &&
        (rc = sp_set_config_cts(cfg, SP_CTS_IGNORE)) == SP_OK &&
        (rc = sp_set_config_dsr(cfg, SP_DSR_IGNORE)) == SP_OK)
        rc = sp_set_config(port, cfg);
    sp_free_config(cfg);
    return rc;
}

/* What the path is before libserialport is asked: it answers "invalid argument" for
 * anything that is not a tty it knows, which says nothing to a user. */
static int check_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return status_from_errno(errno, false);
    if (!S_ISCHR(st.st_mode)) {
        errno = ENOTTY;
        return ED_E_ARG;
    }
    return ED_OK;
}

int ed_serial_open(const char *path, uint32_t baud, struct ed_transport **out)
{
    *out = NULL;
    if (!path || !*path || baud == 0 || baud > (uint32_t)INT32_MAX) {
        errno = EINVAL;
        return ED_E_ARG;
    }
    int rc = check_path(path);
    if (rc != ED_OK)
        return rc;

    struct ed_transport *t = calloc(1, sizeof *t);
    struct serial_impl *s = calloc(1, sizeof *s);
    if (!t || !s) {
        free(t);
        free(s);
        errno = ENOMEM;
        return ED_E_NOMEM;
    }
    t->ops = &serial_ops;
    t->impl = s;
    t->has_modem_lines = true;
    snprintf(t->name, sizeof t->name, "%s", path);

    /* libserialport finds the port's sysfs record by the node's own name, so a
     * /dev/serial/by-id/... link must be resolved first (by hand: umockdev's realpath()
     * wrapper corrupts the stack). */
    char real[PATH_MAX];
    const char *node = path;
    if (ed_path_follow_links(path, real, sizeof real))
        node = real;
    enum sp_return sp = sp_get_port_by_name(node, &s->port);
    if (sp != SP_OK) {
        /* A character device libserialport cannot place (/dev/null, a pty). */
        free(s);
        free(t);
        errno = sp == SP_ERR_MEM ? ENOMEM : ENOTTY;
        return sp == SP_ERR_MEM ? ED_E_NOMEM : ED_E_ARG;
    }
    sp = sp_open(s->port, SP_MODE_READ_WRITE);
    if (sp != SP_OK) {
        int err = sp == SP_ERR_FAIL ? sp_last_error_code() : EINVAL;
        sp_free_port(s->port);
        free(s);
        free(t);
        errno = err;
        if (sp == SP_ERR_MEM)
            return ED_E_NOMEM;
        int st = status_from_errno(err, false);
        /* An open that works but whose termios/modem ioctls fail: not a serial port. */
        return st == ED_E_UNSUPPORTED ? ED_E_ARG : st;
    }
    s->fd = -1;
    if (sp_get_port_handle(s->port, &s->fd) != SP_OK || s->fd < 0) {
        serial_close(t);
        errno = EBADF;
        return ED_E_IO;
    }
    /* One user of a port at a time, before its speed or lines are touched: a second
     * espdoctor (or monitor) would reset the chip in the middle of the first one's write.
     * flock on the node is what other tools take too and holds against root; TIOCEXCL
     * makes an ordinary user's open fail with EBUSY before it can toggle DTR and RTS. */
    if (flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;   /* EWOULDBLOCK: another holds it (ED_E_BUSY) */
        serial_close(t);
        errno = err;
        return status_from_errno(err, false);
    }
    s->exclusive = ioctl(s->fd, TIOCEXCL) == 0;

    sp = configure(s->port, baud);
    if (sp != SP_OK) {
        int st = fail_sp(t, sp);
        int err = t->os_errno;
        serial_close(t);
        errno = err;
        return st;
    }
    t->baud = baud;

    /* Linux raised DTR and RTS on open (tty_port_open, HUPCL or not). Release both in one
     * step: equal lines keep EN and GPIO0 released, so the chip is neither reset nor held. */
    rc = serial_set_lines(t, false, false);
    if (rc != ED_OK) {
        int err = t->os_errno;
        serial_close(t);
        errno = err;
        return rc == ED_E_UNSUPPORTED ? ED_E_ARG : rc;
    }
    *out = t;
    return ED_OK;
}
