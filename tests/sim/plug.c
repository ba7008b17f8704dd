/* The cable that goes in late (see plug.h). */
#include "plug.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* umockdev's notes on a device's node outlive the device, and keep it from being added
 * again: drop them (reenum.c does the same). */
static void drop_note(UMockdevTestbed *tb, const char *name)
{
    char *root = umockdev_testbed_get_root_dir(tb);
    char *note = g_strdup_printf("%s/dev/.node/%s", root, name);
    unlink(note);
    g_free(note);
    g_free(root);
}

static gboolean plug_in(gpointer data)
{
    struct sim_plug *pl = data;
    pl->timer = 0;
    sim_host_trace(pl->host, "cable plugged in");
    if (pl->pty) {
        drop_note(pl->tb, pl->place->tty);
        if (symlink(pl->target, pl->node) != 0) {
            sim_host_trace(pl->host, "cannot put %s back: %s", pl->node, g_strerror(errno));
            return G_SOURCE_REMOVE;
        }
        sim_pty_revive(pl->pty);
    }
    struct sim_usb_setup setup = pl->setup;
    setup.node_exists = pl->pty != NULL;
    GError *err = NULL;
    if (!sim_usb_add(pl->tb, pl->model, &setup, pl->place, &err)) {
        sim_host_trace(pl->host, "cannot plug the board in: %s", err->message);
        g_error_free(err);
        return G_SOURCE_REMOVE;
    }
    sim_board_set_power(pl->host->board, true, sim_host_now(pl->host));
    sim_host_trace(pl->host, "%s %04x:%04x on hub port %u, %s", pl->model->name,
                   pl->model->vid, pl->model->pid, pl->place->hub_port,
                   pl->pty ? pl->pty->devnode : "no tty");
    sim_host_pump(pl->host);
    return G_SOURCE_REMOVE;
}

bool sim_plug_start(struct sim_plug *pl, UMockdevTestbed *tb, struct sim_host *host,
                    struct sim_pty *pty, const struct sim_bridge_model *m,
                    const struct sim_usb_setup *setup, const struct sim_usb_place *place,
                    long at_ms, GError **err)
{
    *pl = (struct sim_plug){ .tb = tb, .host = host, .pty = pty, .model = m,
                             .setup = *setup, .place = place };
    if (pty) {
        char *root = umockdev_testbed_get_root_dir(tb);
        snprintf(pl->node, sizeof pl->node, "%s%s", root, pty->devnode);
        g_free(root);
        ssize_t n = readlink(pl->node, pl->target, sizeof pl->target - 1);
        if (n <= 0 || (size_t)n >= sizeof pl->target - 1) {
            g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "--plug-at: %s in the "
                        "testbed is not the link to a pty that umockdev makes", pty->devnode);
            return false;
        }
        pl->target[n] = '\0';
        sim_pty_vanish(pty);
        sim_host_remove_endpoint(host, &pty->ep);
        unlink(pl->node);
    }
    sim_usb_remove_links(tb, m, setup, place);
    char syspath[256];
    sim_usb_syspath(place, syspath, sizeof syspath);
    umockdev_testbed_remove_device(tb, syspath);
    sim_usb_remove_bus_links(tb);
    char bus_note[32];
    snprintf(bus_note, sizeof bus_note, "bus_usb_001_%03u", place->hub_port);
    drop_note(tb, bus_note);
    sim_board_set_power(host->board, false, sim_host_now(host));
    if (at_ms < 0) {
        sim_host_trace(host, "%s not plugged in (and never will be)", m->name);
        return true;
    }
    sim_host_trace(host, "%s not plugged in yet: in %ld ms", m->name, at_ms);
    pl->timer = g_timeout_add((guint)at_ms, plug_in, pl);
    return true;
}

void sim_plug_stop(struct sim_plug *pl)
{
    if (pl->timer)
        g_source_remove(pl->timer);
    pl->timer = 0;
}
