/* Finding a board again after its USB port re-enumerated (see port_follow.h). */
#include "port_follow.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "espdoctor/error.h"

#define FOLLOW_POLL_MS 50u

static void pause_ms(unsigned ms)
{
    struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* The tty on the USB port `was` was on; one with its serial number first. */
static const struct ed_port *same_board(const struct ed_port_list *list,
                                        const struct ed_port *was)
{
    const struct ed_port *on_port = NULL;
    for (size_t i = 0; i < list->count; i++) {
        const struct ed_port *p = &list->items[i];
        if (!p->devnode[0] || strcmp(p->usb_name, was->usb_name) != 0)
            continue;
        if (was->serial[0] && strcmp(p->serial, was->serial) == 0)
            return p;
        if (!on_port)
            on_port = p;
    }
    return on_port;
}

int ed_port_follow(struct ed_port *port, uint32_t baud, struct ed_transport **tp, char *note,
                   size_t len)
{
    struct ed_port was = *port;
    ed_tp_close(*tp);   /* first: while it stays open, its name stays taken */
    *tp = NULL;
    int rc = ED_E_GONE;
    for (unsigned waited = 0;; waited += FOLLOW_POLL_MS) {
        struct ed_port_list list = { 0 };
        bool found = false;
        if (ed_ports_enumerate(&list) == ED_OK) {
            const struct ed_port *p = same_board(&list, &was);
            if (p) {
                *port = *p;
                found = true;
            }
            ed_ports_free(&list);
        }
        if (found) {
            rc = ed_serial_open(port->devnode, baud, tp);
            if (rc == ED_OK)
                break;
        }
        if (waited >= ED_FOLLOW_WAIT_MS)
            return found ? rc : ED_E_GONE;
        pause_ms(FOLLOW_POLL_MS);
    }
    snprintf(note, len, "%s (%04x:%04x%s%s) came back as %s (%04x:%04x%s%s) on USB port %s",
             was.devnode, was.vid, was.pid, was.serial[0] ? ", serial " : "", was.serial,
             port->devnode, port->vid, port->pid, port->serial[0] ? ", serial " : "",
             port->serial, port->usb_name);
    return ED_OK;
}
