#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <glib-unix.h>

#include "loop_lock.h"
#include "ttymode.h"

/* The client may have changed the line settings with tcsetattr(), which bypasses the
 * ioctl handler: look again before anything that depends on them. */
static void refresh_mode(struct sim_pty *p)
{
    struct sim_ttymode mode;
    if (sim_ttymode_get(p->slave, &mode) && mode.baud != 0)
        sim_host_set_baud(p->host, mode.baud);
}

/* ---- chip -> client ----------------------------------------------------------------- */

static gboolean on_master_writable(gint fd, GIOCondition cond, gpointer data);

static void flush_out(struct sim_pty *p)
{
    while (p->out_len > 0) {
        ssize_t n = write(p->master, p->out, p->out_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                p->out_len = 0; /* the pty is gone: nothing will ever read it */
            break;
        }
        memmove(p->out, p->out + n, p->out_len - (size_t)n);
        p->out_len -= (size_t)n;
    }
    if (p->out_len > 0 && p->out_watch == 0)
        p->out_watch = g_unix_fd_add(p->master, G_IO_OUT, on_master_writable, p);
}

static gboolean on_master_writable(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd;
    (void)cond;
    struct sim_pty *p = data;
    p->out_watch = 0;
    flush_out(p);
    if (p->out_len == 0)
        sim_host_pump(p->host);
    return G_SOURCE_REMOVE;
}

static size_t pty_room(struct sim_endpoint *ep)
{
    struct sim_pty *p = (struct sim_pty *)ep;
    return sizeof p->out - p->out_len;
}

static void pty_push(struct sim_endpoint *ep, const uint8_t *data, size_t len)
{
    struct sim_pty *p = (struct sim_pty *)ep;
    memcpy(p->out + p->out_len, data, len);
    p->out_len += len;
    flush_out(p);
}

static const struct sim_endpoint_ops pty_ops = { .room = pty_room, .push = pty_push };

/* ---- client -> chip ----------------------------------------------------------------- */

static gboolean on_master_readable(gint fd, GIOCondition cond, gpointer data)
{
    (void)cond;
    struct sim_pty *p = data;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        refresh_mode(p);
        if (p->deliver)
            p->deliver(p->deliver_ctx, buf, (size_t)n);
        else
            sim_host_write(p->host, buf, (size_t)n);
    }
    return G_SOURCE_CONTINUE;
}

/* ---- who has the device open ---------------------------------------------------------- */

/* umockdev does not notify when a client's socket closes (the client closed the device or
 * exited), but the client object knows: look every few milliseconds while any is open. */
#define CLIENT_POLL_MS 10

/* A real port starts each open with nothing queued from before. */
static void discard_queued(struct sim_pty *p)
{
    p->out_len = 0;
    tcflush(p->slave, TCIOFLUSH);
}

/* A real USB tty is a new tty struct after its last close and after a replug, so the
 * exclusive mode a client set (TIOCEXCL) does not outlive it: Linux frees the tty in
 * release_tty() (drivers/tty/tty_io.c) and tty_reopen() refuses a non-root open only while
 * TTY_EXCLUSIVE is set on a tty still in use. The pty behind the node lives on here, held
 * open by the board, and a cut client's TIOCNXCL fails like a hung-up tty's: clear it. */
static void forget_exclusive(struct sim_pty *p)
{
    if (ioctl(p->slave, TIOCNXCL) != 0)
        sim_host_trace(p->host, "cannot clear exclusive mode: %s", g_strerror(errno));
}

static void last_close(struct sim_pty *p)
{
    forget_exclusive(p);
    struct sim_ttymode mode = { .hang_up = true };
    sim_ttymode_get(p->slave, &mode);
    discard_queued(p);
    sim_host_close(p->host, &p->ep, mode.hang_up);
}

static gboolean poll_clients(gpointer data)
{
    struct sim_pty *p = data;
    for (guint i = p->clients->len; i-- > 0;) {
        UMockdevIoctlClient *client = g_ptr_array_index(p->clients, i);
        if (!umockdev_ioctl_client_get_connected(client))
            g_ptr_array_remove_index_fast(p->clients, i);
    }
    for (guint i = p->cut->len; i-- > 0;)
        if (!umockdev_ioctl_client_get_connected(g_ptr_array_index(p->cut, i)))
            g_ptr_array_remove_index_fast(p->cut, i);
    if (p->clients->len > 0)
        return G_SOURCE_CONTINUE;
    p->client_poll = 0;
    last_close(p);
    return G_SOURCE_REMOVE;
}

/* Every open() of the device inside the testbed connects to the ioctl socket. */
static void client_connected(struct sim_pty *p, UMockdevIoctlClient *client)
{
    if (p->vanished) {
        g_ptr_array_add(p->cut, g_object_ref(client));   /* a dead tty: fails at once */
        return;
    }
    g_ptr_array_add(p->clients, g_object_ref(client));
    if (p->client_poll == 0) {
        discard_queued(p);
        refresh_mode(p);
        sim_host_open(p->host, &p->ep);
        p->client_poll = g_timeout_add(CLIENT_POLL_MS, poll_clients, p);
    }
}

/* ---- a pulled cable ----------------------------------------------------------------- */

static bool is_cut(const struct sim_pty *p, UMockdevIoctlClient *client)
{
    return p->vanished || (p->cut && g_ptr_array_find(p->cut, client, NULL));
}

/* What a hung-up tty answers to a read, a write or an ioctl. */
static gboolean fail_cut(UMockdevIoctlClient *client)
{
    umockdev_ioctl_client_complete(client, -1, EIO);
    return TRUE;
}

void sim_pty_cut_clients(struct sim_pty *p)
{
    for (guint i = 0; i < p->clients->len; i++)
        g_ptr_array_add(p->cut, g_object_ref(g_ptr_array_index(p->clients, i)));
    /* A client waiting in poll() for input wakes, reads, and gets EIO. */
    static const uint8_t wake = 0;
    if (write(p->master, &wake, 1) < 0)
        sim_host_trace(p->host, "cannot wake the readers: %s", g_strerror(errno));
    p->out_len = 0;
}

void sim_pty_vanish(struct sim_pty *p)
{
    sim_pty_cut_clients(p);
    p->vanished = true;
    if (p->in_watch)
        g_source_remove(p->in_watch);
    if (p->out_watch)
        g_source_remove(p->out_watch);
    p->in_watch = p->out_watch = 0;
}

void sim_pty_revive(struct sim_pty *p)
{
    p->vanished = false;
    forget_exclusive(p);
    discard_queued(p);
    sim_host_add_endpoint(p->host, &p->ep);
    if (!p->in_watch)
        p->in_watch = g_unix_fd_add(p->master, G_IO_IN, on_master_readable, p);
}

void sim_pty_replugged(struct sim_pty *p)
{
    forget_exclusive(p);
    discard_queued(p);
}

/* ---- ioctls ------------------------------------------------------------------------- */

static int modem_bits(const struct sim_host *h)
{
    return (h->dtr ? TIOCM_DTR : 0) | (h->rts ? TIOCM_RTS : 0);
}

/* TIOCMGET/SET/BIS/BIC: the int the client points at, in or out. */
static void serve_modem_lines(struct sim_pty *p, UMockdevIoctlClient *client, gulong request)
{
    GError *err = NULL;
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    UMockdevIoctlData *value = umockdev_ioctl_data_resolve(arg, 0, sizeof(int), &err);
    if (!value) {
        g_clear_error(&err);
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        return;
    }
    int *bits = (int *)value->data;
    bool dtr = p->host->dtr, rts = p->host->rts;
    switch (request) {
    case TIOCMGET:
        *bits = modem_bits(p->host);
        break;
    case TIOCMSET:
        dtr = *bits & TIOCM_DTR;
        rts = *bits & TIOCM_RTS;
        break;
    case TIOCMBIS:
        dtr = dtr || (*bits & TIOCM_DTR);
        rts = rts || (*bits & TIOCM_RTS);
        break;
    case TIOCMBIC:
        dtr = dtr && !(*bits & TIOCM_DTR);
        rts = rts && !(*bits & TIOCM_RTS);
        break;
    }
    sim_host_set_lines(p->host, dtr, rts);
    umockdev_ioctl_client_complete(client, 0, 0);
    g_object_unref(value);
}

/* Everything else is what a pty does anyway (termios, termios2 with any baud, TIOCEXCL,
 * FIONREAD, ...): run it on the client's own descriptor, then note what changed. */
static void run_on_client(struct sim_pty *p, UMockdevIoctlClient *client, gulong request)
{
    GError *err = NULL;
    int client_errno = 0;
    int res = umockdev_ioctl_client_execute(client, &client_errno, &err);
    if (err) {
        sim_host_trace(p->host, "ioctl 0x%lx failed in the client: %s", request, err->message);
        g_clear_error(&err);
        umockdev_ioctl_client_complete(client, -1, EIO);
        return;
    }
    if (res < 0 && client_errno != 0)
        sim_host_trace(p->host, "ioctl 0x%lx: %s", request, g_strerror(client_errno));
    umockdev_ioctl_client_complete(client, res, res < 0 ? client_errno : 0);
    refresh_mode(p);
}

static gboolean handle_ioctl(struct sim_pty *p, UMockdevIoctlClient *client)
{
    if (is_cut(p, client))
        return fail_cut(client);
    gulong request = umockdev_ioctl_client_get_request(client);
    refresh_mode(p);
    switch (request) {
    case TIOCMGET:
    case TIOCMSET:
    case TIOCMBIS:
    case TIOCMBIC:
        serve_modem_lines(p, client, request);
        break;
    default:
        run_on_client(p, client, request);
        break;
    }
    return TRUE;
}

/* Reads and writes go to the pty itself; only look at the line settings first. */
static gboolean handle_read_or_write(struct sim_pty *p, UMockdevIoctlClient *client)
{
    if (is_cut(p, client))
        return fail_cut(client);
    refresh_mode(p);
    return FALSE;
}

/* umockdev emits these on its own worker thread: each runs under the loop lock. */
static void on_client_connected(UMockdevIoctlBase *base, UMockdevIoctlClient *client,
                                gpointer data)
{
    (void)base;
    sim_loop_enter();
    client_connected(data, client);
    sim_loop_leave();
}

static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer data)
{
    (void)base;
    sim_loop_enter();
    gboolean handled = handle_ioctl(data, client);
    sim_loop_leave();
    return handled;
}

static gboolean on_read_or_write(UMockdevIoctlBase *base, UMockdevIoctlClient *client,
                                 gpointer data)
{
    (void)base;
    sim_loop_enter();
    gboolean handled = handle_read_or_write(data, client);
    sim_loop_leave();
    return handled;
}

/* ---- setup -------------------------------------------------------------------------- */

static bool fail_errno(GError **err, const char *what, const char *devnode)
{
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s %s: %s", what, devnode,
                g_strerror(errno));
    return false;
}

bool sim_pty_start(struct sim_pty *p, struct sim_host *host, UMockdevTestbed *tb,
                   const char *devnode, uint32_t baud, GError **err)
{
    *p = (struct sim_pty){ .host = host, .master = -1, .slave = -1 };
    g_strlcpy(p->devnode, devnode, sizeof p->devnode);
    p->ep = (struct sim_endpoint){ .ops = &pty_ops, .label = p->devnode };

    p->master = umockdev_testbed_get_dev_fd(tb, devnode);
    if (p->master < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s has no pty in the testbed",
                    devnode);
        return false;
    }
    char slave_name[64];
    if (ptsname_r(p->master, slave_name, sizeof slave_name) != 0)
        return fail_errno(err, "cannot find the pty behind", devnode);
    p->slave = open(slave_name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (p->slave < 0)
        return fail_errno(err, "cannot open the pty behind", devnode);
    if (!sim_ttymode_init(p->slave, baud))
        return fail_errno(err, "cannot set the line mode of", devnode);
    int flags = fcntl(p->master, F_GETFL);
    if (flags < 0 || fcntl(p->master, F_SETFL, flags | O_NONBLOCK) != 0)
        return fail_errno(err, "cannot make non-blocking:", devnode);

    p->clients = g_ptr_array_new_with_free_func(g_object_unref);
    p->cut = g_ptr_array_new_with_free_func(g_object_unref);
    p->ioctl = umockdev_ioctl_base_new();
    g_signal_connect(p->ioctl, "handle-ioctl", G_CALLBACK(on_ioctl), p);
    g_signal_connect(p->ioctl, "handle-read", G_CALLBACK(on_read_or_write), p);
    g_signal_connect(p->ioctl, "handle-write", G_CALLBACK(on_read_or_write), p);
    g_signal_connect(p->ioctl, "client-connected", G_CALLBACK(on_client_connected), p);
    if (!umockdev_testbed_attach_ioctl(tb, devnode, p->ioctl, err))
        return false;

    sim_host_add_endpoint(host, &p->ep);
    p->in_watch = g_unix_fd_add(p->master, G_IO_IN, on_master_readable, p);
    return true;
}

bool sim_pty_set_node(struct sim_pty *p, int mode, long uid, long gid, GError **err)
{
    if ((uid >= 0 || gid >= 0) &&
        fchown(p->slave, uid >= 0 ? (uid_t)uid : (uid_t)-1, gid >= 0 ? (gid_t)gid : (gid_t)-1))
        return fail_errno(err, "cannot change the owner of", p->devnode);
    if (mode >= 0 && fchmod(p->slave, (mode_t)mode) != 0)
        return fail_errno(err, "cannot change the mode of", p->devnode);
    return true;
}

void sim_pty_stop(struct sim_pty *p, UMockdevTestbed *tb)
{
    if (p->in_watch)
        g_source_remove(p->in_watch);
    if (p->out_watch)
        g_source_remove(p->out_watch);
    if (p->client_poll)
        g_source_remove(p->client_poll);
    p->in_watch = p->out_watch = p->client_poll = 0;
    if (p->clients)
        g_ptr_array_unref(p->clients);
    p->clients = NULL;
    if (p->cut)
        g_ptr_array_unref(p->cut);
    p->cut = NULL;
    if (p->ioctl) {
        umockdev_testbed_detach_ioctl(tb, p->devnode, NULL);
        g_object_unref(p->ioctl);
        p->ioctl = NULL;
    }
    if (p->slave >= 0)
        close(p->slave);
    p->slave = -1;
    /* The master belongs to the testbed. */
}
