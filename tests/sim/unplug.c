/* The pulled cable (see unplug.h). umockdev's node for a tty is a symbolic link to the pty
 * behind it: removing the link makes the node vanish for processes in the testbed,
 * putting it back makes it reappear under the same name. */
#include "unplug.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static gboolean replug(gpointer data)
{
    struct sim_unplug *u = data;
    u->replug_timer = 0;
    struct sim_host *h = u->pty->host;
    if (symlink(u->target, u->node) != 0) {
        sim_host_trace(h, "cannot put %s back: %s", u->pty->devnode, g_strerror(errno));
        return G_SOURCE_REMOVE;
    }
    u->out = false;
    sim_pty_replugged(u->pty);
    sim_board_set_power(h->board, true, sim_host_now(h));
    sim_host_trace(h, "cable plugged back in: %s is there again", u->pty->devnode);
    sim_host_pump(h);
    return G_SOURCE_REMOVE;
}

static void pull(struct sim_unplug *u)
{
    struct sim_host *h = u->pty->host;
    u->pulled = u->out = true;
    if (unlink(u->node) != 0)
        sim_host_trace(h, "cannot remove %s: %s", u->node, g_strerror(errno));
    sim_pty_cut_clients(u->pty);
    sim_board_set_power(h->board, false, sim_host_now(h));
    sim_host_trace(h, "fault: cable pulled after %llu bytes from the host: %s is gone%s",
                   (unsigned long long)h->bytes_out, u->pty->devnode,
                   u->replug_ms ? "" : " for good");
    if (u->replug_ms)
        u->replug_timer = g_timeout_add(u->replug_ms, replug, u);
}

/* The pty's delivery: bytes up to the count reach the board, then the cable goes; while
 * it is out nothing does, and once it is back in everything does. */
static void deliver(void *ctx, const uint8_t *data, size_t n)
{
    struct sim_unplug *u = ctx;
    struct sim_host *h = u->pty->host;
    if (u->out)
        return;
    if (u->pulled) {
        sim_host_write(h, data, n);
        return;
    }
    uint64_t left = u->at > h->bytes_out ? u->at - h->bytes_out : 0;
    if (n < left) {
        sim_host_write(h, data, n);
        return;
    }
    if (left)
        sim_host_write(h, data, (size_t)left);
    pull(u);
}

bool sim_unplug_start(struct sim_unplug *u, struct sim_pty *p, UMockdevTestbed *tb,
                      const struct sim_faults *f, GError **err)
{
    *u = (struct sim_unplug){ .pty = p, .at = f->unplug_at, .replug_ms = f->replug_ms };
    char *root = umockdev_testbed_get_root_dir(tb);
    int len = snprintf(u->node, sizeof u->node, "%s%s", root, p->devnode);
    g_free(root);
    ssize_t n = len > 0 && (size_t)len < sizeof u->node
                    ? readlink(u->node, u->target, sizeof u->target - 1)
                    : -1;
    if (n <= 0 || (size_t)n >= sizeof u->target - 1) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "--unplug-at: %s in the testbed is "
                    "not the link to a pty that umockdev makes", p->devnode);
        return false;
    }
    u->target[n] = '\0';
    p->deliver = deliver;
    p->deliver_ctx = u;
    if (u->at == 0)
        pull(u);
    return true;
}

void sim_unplug_stop(struct sim_unplug *u)
{
    if (u->replug_timer)
        g_source_remove(u->replug_timer);
    u->replug_timer = 0;
    if (u->pty) {
        u->pty->deliver = NULL;
        u->pty->deliver_ctx = NULL;
    }
}
