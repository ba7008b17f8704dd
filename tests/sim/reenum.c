/* The USB-OTG device coming and going with the chip (see reenum.h). */
#include "reenum.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WATCH_MS 5
/* What a USB serial driver starts at. */
#define INITIAL_BAUD 9600

static bool any_connected(GPtrArray *clients)
{
    for (guint i = 0; clients && i < clients->len; i++)
        if (umockdev_ioctl_client_get_connected(g_ptr_array_index(clients, i)))
            return true;
    return false;
}

/* Some process still has this tty open (a live one, or a dead one it has not closed). */
static bool pty_in_use(const struct sim_pty *p)
{
    return p && (any_connected(p->clients) || any_connected(p->cut));
}

bool sim_reenum_in_use(const struct sim_reenum *r)
{
    for (size_t i = 0; i < SIM_REENUM_NAMES; i++)
        if (pty_in_use(r->ttys[i].pty))
            return true;
    return false;
}

const char *sim_reenum_tty(const struct sim_reenum *r)
{
    return r->live >= 0 ? r->place.tty : NULL;
}

/* The device left the bus: descriptors fail, the node, the records and the links go. The
 * pty stays (umockdev keeps it for the name), so its holders keep failing. */
static void take_down(struct sim_reenum *r)
{
    struct sim_reenum_tty *t = &r->ttys[r->live];
    sim_host_trace(r->host, "USB-OTG device %04x:%04x leaves the bus: %s is gone",
                   r->model->vid, r->model->pid, r->place.tty);
    sim_pty_vanish(t->pty);
    sim_host_remove_endpoint(r->host, &t->pty->ep);
    if (unlink(t->node) != 0)
        sim_host_trace(r->host, "cannot remove %s: %s", t->node, g_strerror(errno));
    sim_usb_remove_links(r->tb, r->model, &r->setup, &r->place);
    char syspath[256];
    sim_usb_syspath(&r->place, syspath, sizeof syspath);
    umockdev_testbed_remove_device(r->tb, syspath);
    sim_usb_remove_bus_links(r->tb);
    /* umockdev's note on the USB device's node outlives the device: drop it, or the device
     * cannot be added again. */
    char *root = umockdev_testbed_get_root_dir(r->tb);
    char *note = g_strdup_printf("%s/dev/.node/bus_usb_001_%03u", root, r->place.hub_port);
    unlink(note);
    g_free(note);
    g_free(root);
    r->live = -1;
    r->shown = SIM_USB_ABSENT;
}

/* The lowest name nothing holds. */
static int free_name(const struct sim_reenum *r)
{
    for (int i = 0; i < SIM_REENUM_NAMES; i++)
        if (!pty_in_use(r->ttys[i].pty))
            return i;
    return -1;
}

static bool first_life(struct sim_reenum *r, struct sim_reenum_tty *t, GError **err)
{
    char *root = umockdev_testbed_get_root_dir(r->tb);
    snprintf(t->node, sizeof t->node, "%s/dev/%s", root, r->place.tty);
    g_free(root);
    ssize_t n = readlink(t->node, t->target, sizeof t->target - 1);
    if (n <= 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s is not the link to a pty "
                    "that umockdev makes", t->node);
        return false;
    }
    t->target[n] = '\0';
    char devnode[32];
    snprintf(devnode, sizeof devnode, "/dev/%s", r->place.tty);
    t->pty = g_new0(struct sim_pty, 1);
    return sim_pty_start(t->pty, r->host, r->tb, devnode, INITIAL_BAUD, err) &&
           sim_pty_set_node(t->pty, r->node_mode, r->node_uid, r->node_gid, err);
}

static bool bring_up(struct sim_reenum *r, enum sim_usb_device as, GError **err)
{
    int i = free_name(r);
    if (i < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "every ttyACM name of this board "
                    "is still held open");
        return false;
    }
    struct sim_reenum_tty *t = &r->ttys[i];
    r->model = sim_otg_model(r->chip, as == SIM_USB_APP);
    snprintf(r->place.tty, sizeof r->place.tty, "ttyACM%u", t->index);
    r->place.tty_index = t->index;
    struct sim_usb_setup setup = r->setup;
    setup.node_exists = t->pty != NULL;
    if (setup.node_exists) {
        /* umockdev notes a node's numbers from the record's DEVNAME even without N:, and
         * will not write that note over the one from the name's last life. */
        char *root = umockdev_testbed_get_root_dir(r->tb);
        char *note = g_strdup_printf("%s/dev/.node/%s", root, r->place.tty);
        unlink(note);
        g_free(note);
        g_free(root);
    }
    if (!sim_usb_add(r->tb, r->model, &setup, &r->place, err))
        return false;
    if (!t->pty) {
        if (!first_life(r, t, err))
            return false;
    } else {
        if (symlink(t->target, t->node) != 0) {
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot put %s "
                        "back: %s", t->node, g_strerror(errno));
            return false;
        }
        sim_pty_revive(t->pty);
    }
    r->live = i;
    r->shown = as;
    sim_host_trace(r->host, "USB-OTG device %04x:%04x (%s) on hub port %u: /dev/%s",
                   r->model->vid, r->model->pid, r->model->product, r->place.hub_port,
                   r->place.tty);
    return true;
}

static gboolean watch(gpointer data)
{
    struct sim_reenum *r = data;
    enum sim_usb_device now = sim_board_usb_device(r->host->board, sim_host_now(r->host));
    if (now == r->shown)
        return G_SOURCE_CONTINUE;
    if (r->live >= 0)
        take_down(r);
    if (now != SIM_USB_ABSENT) {
        GError *err = NULL;
        if (!bring_up(r, now, &err)) {
            sim_host_trace(r->host, "cannot bring the USB-OTG device back: %s", err->message);
            g_error_free(err);
        }
    }
    r->shown = now;   /* what the board says, even if the testbed could not follow */
    sim_host_pump(r->host);
    return G_SOURCE_CONTINUE;
}

bool sim_reenum_start(struct sim_reenum *r, UMockdevTestbed *tb, struct sim_host *host,
                      const char *chip, const struct sim_usb_setup *setup,
                      const struct sim_usb_place *place, unsigned stride, int node_mode,
                      long uid, long gid, GError **err)
{
    *r = (struct sim_reenum){ .tb = tb, .host = host, .chip = chip, .setup = *setup,
                              .place = *place, .node_mode = node_mode, .node_uid = uid,
                              .node_gid = gid, .shown = SIM_USB_ABSENT, .live = -1 };
    for (unsigned i = 0; i < SIM_REENUM_NAMES; i++)
        r->ttys[i].index = place->tty_index + i * (stride ? stride : 1);
    r->model = sim_otg_model(chip, false);
    enum sim_usb_device now = sim_board_usb_device(host->board, sim_host_now(host));
    if (now != SIM_USB_ABSENT && !bring_up(r, now, err))
        return false;
    r->shown = now;
    r->timer = g_timeout_add(WATCH_MS, watch, r);
    return true;
}

void sim_reenum_stop(struct sim_reenum *r)
{
    if (r->timer)
        g_source_remove(r->timer);
    r->timer = 0;
    for (size_t i = 0; i < SIM_REENUM_NAMES; i++) {
        struct sim_pty *p = r->ttys[i].pty;
        if (!p)
            continue;
        if ((int)i == r->live)
            sim_host_remove_endpoint(r->host, &p->ep);
        sim_pty_stop(p, r->tb);
        g_free(p);
        r->ttys[i].pty = NULL;
    }
    r->live = -1;
}
