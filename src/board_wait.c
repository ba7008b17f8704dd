/* Waiting for a board to be plugged in (see board_wait.h). The enumeration is polled, as
 * port_follow.c does after a re-enumeration, rather than a libudev monitor: inside
 * umockdev's testbed a monitor hears nothing of devices added to it (tried: espsim
 * --plug-at adds them, the monitor got no event), and a poll every POLL_MS sees what a
 * monitor would, on real systems and in the testbed alike. */
#include "board_wait.h"

#include "portsel.h"

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/ports.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 150u
#define COUNTDOWN_COLUMNS 72   /* the longest countdown line, blanked at the end */

static unsigned now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned)((unsigned long long)t.tv_sec * 1000u + (unsigned long long)t.tv_nsec / 1000000u);
}

static void pause_ms(unsigned ms)
{
    struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);   /* a signal cuts it short: the loop looks at once */
}

/* What the enumeration shows for what the command wants: a port, or only a bridge's USB
 * device. */
static void look(const struct ed_cli *cli, const struct ed_port_spec *spec, bool *port,
                 bool *usb)
{
    *port = *usb = false;
    struct ed_port_list list;
    if (ed_ports_enumerate(&list) != ED_OK)
        return;
    if (spec->kind == ED_SPEC_USB_ID || spec->kind == ED_SPEC_SERIAL) {
        *port = ed_ports_match(&list, spec, true, NULL, 0) > 0;
        *usb = ed_ports_match(&list, spec, false, NULL, 0) > 0;
    } else {
        struct stat st;
        *port = cli->port ? ed_ports_find(&list, cli->port) != NULL || stat(cli->port, &st) == 0
                          : ed_ports_count_boards(&list) > 0;
        for (size_t i = 0; i < list.count; i++)
            *usb = *usb || list.items[i].bridge != NULL;
    }
    *usb = *usb || *port;
    ed_ports_free(&list);
}

static void show_countdown(const struct ed_cli *cli, bool tty, unsigned left_ms, bool usb)
{
    if (!tty)
        return;
    /* Shorter than any terminal: a line that wraps cannot be written over. */
    fprintf(cli->err, "\r%s: %u s left (Ctrl-C stops)  ",
            usb ? "USB device there, waiting for its port"
                : "Waiting for the board to be plugged in", (left_ms + 999) / 1000);
    fflush(cli->err);
}

int ed_wait_for_board(struct ed_cli *cli, unsigned limit_ms, bool only_when_empty,
                      struct ed_board_wait *w)
{
    memset(w, 0, sizeof *w);
    struct ed_port_spec spec = { .kind = ED_SPEC_PATH };
    if (cli->port) {
        ed_port_spec_parse(cli->port, &spec);
        if (spec.kind == ED_SPEC_URL)
            return ED_EXIT_OK;
    }
    bool port, usb;
    look(cli, &spec, &port, &usb);
    w->port_seen = port;
    w->usb_seen = usb;
    if (port || (usb && only_when_empty) || limit_ms == 0)
        return ED_EXIT_OK;

    bool talk = !cli->json && !cli->quiet;
    bool tty = talk && isatty(fileno(cli->err));
    if (talk && !tty)
        fprintf(cli->err, "%s: waiting up to %u s for %s to be plugged in...\n", cli->prog,
                (limit_ms + 999) / 1000, cli->port ? cli->port : "a board");
    ed_interrupt_install();
    unsigned start = now_ms(), usb_since = usb ? start : 0, shown = ~0u;
    int rc = ED_EXIT_OK;
    for (;;) {
        unsigned elapsed = now_ms() - start;
        if (ed_interrupted()) {
            rc = ed_interrupt_exit_status(ed_interrupted());
            break;
        }
        if (usb && !usb_since) {
            usb_since = now_ms();
            w->appeared_ms = usb_since > start ? usb_since - start : 1;
        }
        if (port || elapsed >= limit_ms ||
            (usb && now_ms() - usb_since >= ED_WAIT_TTY_GRACE_MS))
            break;
        unsigned left = limit_ms - elapsed;
        if (left / 1000 != shown) {
            shown = left / 1000;
            show_countdown(cli, tty, left, usb);
        }
        pause_ms(POLL_MS < left ? POLL_MS : left);
        look(cli, &spec, &port, &usb);
    }
    w->waited_ms = now_ms() - start;
    if (w->waited_ms == 0)
        w->waited_ms = 1;   /* it did watch */
    w->port_seen = port;
    w->usb_seen = usb;
    if (tty)
        fprintf(cli->err, "\r%*s\r", COUNTDOWN_COLUMNS, "");
    if (rc != ED_EXIT_OK && !cli->json)
        fprintf(cli->err, "%s: stopped waiting for the board (%s); nothing was examined.\n",
                cli->prog, ed_interrupt_name(ed_interrupted()));
    ed_interrupt_restore();
    return rc;
}
