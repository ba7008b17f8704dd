/* Finding the monitored board again (see monitor_follow.h). */
#include "monitor_follow.h"

#include <stdio.h>
#include <string.h>

#include "espdoctor/error.h"

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
