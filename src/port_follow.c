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

int ed_port_follow(struct ed_port *port, uint32_t baud, struct ed_transport **tp, char *note,
                   size_t len)
{
    struct ed_port was = *port;
    ed_tp_close(*tp);   /* first: while it stays open, its name stays taken */
    *tp = NULL;
    /* The boards plugged in besides it: another one with the same serial is not it. */
    struct ed_port_list before = { 0 };
    if (ed_ports_enumerate(&before) != ED_OK)
        before.count = 0;
    int rc = ED_E_GONE;
    for (unsigned waited = 0;; waited += FOLLOW_POLL_MS) {
        struct ed_port_list list = { 0 };
        bool found = false;
        if (ed_ports_enumerate(&list) == ED_OK) {
            const struct ed_port *p = ed_port_refind(&list, &was, &before);
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
        if (waited >= ED_FOLLOW_WAIT_MS) {
            ed_ports_free(&before);
            return found ? rc : ED_E_GONE;
        }
        pause_ms(FOLLOW_POLL_MS);
    }
    ed_ports_free(&before);
    snprintf(note, len, "%s (%04x:%04x%s%s) came back as %s (%04x:%04x%s%s) on USB port %s",
             was.devnode, was.vid, was.pid, was.serial[0] ? ", serial " : "", was.serial,
             port->devnode, port->vid, port->pid, port->serial[0] ? ", serial " : "",
             port->serial, port->usb_name);
    return ED_OK;
}
