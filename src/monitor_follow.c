/* Finding the monitored board again (see monitor_follow.h). */
#include "monitor_follow.h"

#include <stdio.h>
#include <string.h>

#include "espdoctor/error.h"

static bool same_serial(const struct ed_port *a, const struct ed_port *b)
{
    return a->serial[0] && strcmp(a->serial, b->serial) == 0;
}

static bool same_path(const struct ed_port *a, const struct ed_port *b)
{
    return a->usb_name[0] && strcmp(a->usb_name, b->usb_name) == 0;
}

/* Another board that was plugged in all along. */
static bool was_there(const struct ed_port *p, const struct ed_port *was,
                      const struct ed_port_list *before)
{
    if (same_path(p, was) || !before)
        return false;
    for (size_t i = 0; i < before->count; i++)
        if (strcmp(before->items[i].devnode, p->devnode) == 0 &&
            same_path(&before->items[i], p))
            return true;
    return false;
}

const struct ed_port *ed_port_refind(const struct ed_port_list *now, const struct ed_port *was,
                                     const struct ed_port_list *before)
{
    const struct ed_port *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < now->count; i++) {
        const struct ed_port *p = &now->items[i];
        if (!p->devnode[0] || was_there(p, was, before))
            continue;
        int score = same_serial(p, was) && same_path(p, was) ? 3
                    : same_serial(p, was)                    ? 2
                    : same_path(p, was)                      ? 1
                                                             : 0;
        if (score > best_score) {
            best = p;
            best_score = score;
        }
    }
    return best;
}

void ed_mon_follow_begin(struct ed_mon_follow *f)
{
    f->before.items = NULL;
    f->before.count = 0;
    if (f->enumerated && ed_ports_enumerate(&f->before) != ED_OK)
        f->before.count = 0;
}

int ed_mon_follow_try(struct ed_mon_follow *f, uint32_t baud, struct ed_transport **tp)
{
    *tp = NULL;
    if (!f->enumerated) {
        int rc = ed_serial_open(f->path, baud, tp);
        return rc == ED_E_GONE || rc == ED_E_IO ? ED_E_NOTFOUND : rc;
    }
    struct ed_port_list now;
    if (ed_ports_enumerate(&now) != ED_OK)
        return ED_E_NOTFOUND;
    const struct ed_port *p = ed_port_refind(&now, &f->was, &f->before);
    int rc = ED_E_NOTFOUND;
    if (p) {
        /* The record outlives the node for a moment (and under umockdev for good): only
         * an open says it is back. */
        rc = ed_serial_open(p->devnode, baud, tp);
        if (rc == ED_OK) {
            f->was = *p;
            snprintf(f->path, sizeof f->path, "%s", p->devnode);
        } else if (rc == ED_E_GONE || rc == ED_E_IO) {
            rc = ED_E_NOTFOUND;
        }
    }
    ed_ports_free(&now);
    return rc;
}

void ed_mon_follow_end(struct ed_mon_follow *f)
{
    ed_ports_free(&f->before);
}
