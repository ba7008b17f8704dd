/* The button watch's words on the terminal (see ed_cli_button_watch in cli.h). The
 * watch itself is espdoctor/button.h; this only shows it and reads Enter. */
#include "cli.h"
#include "out.h"

#include "espdoctor/button.h"
#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PLAIN_TICK_EVERY_S 10u   /* without a terminal: a line this often, not each second */

static void end_line(struct ed_cli_button *ui)
{
    if (ui->line_open)
        fputs("\r\033[K", ui->cli->live);
    ui->line_open = false;
}

static void say(struct ed_cli_button *ui, const char *text)
{
    struct ed_cli *cli = ui->cli;
    end_line(ui);
    fprintf(cli->live, "%s>>> %s%s\n", ed_tone_on(cli->color && ui->terminal, ED_TONE_BOLD),
            text, ed_tone_off(cli->color && ui->terminal));
    fflush(cli->live);
}

static void countdown(struct ed_cli_button *ui, unsigned seconds)
{
    FILE *o = ui->cli->live;
    if (ui->terminal) {
        fprintf(o, "\r\033[K    %u s left%s", seconds,
                ui->keyboard ? " (Enter: try again, Ctrl-C: stop)" : " (Ctrl-C: stop)");
        ui->line_open = true;
    } else if (seconds && seconds % PLAIN_TICK_EVERY_S == 0) {
        fprintf(o, "    %u s left\n", seconds);
    }
    fflush(o);
}

static void on_event(void *ctx, const struct ed_button_status *st)
{
    struct ed_cli_button *ui = ctx;
    char line[400];
    switch (st->event) {
    case ED_BUTTON_ASK:
        snprintf(line, sizeof line, "The auto-reset does not reach download mode: do it by "
                 "hand. Hold %s, press and release %s, then let go of the first. Watching the port "
                 "for %u s...", st->names->boot, st->names->reset,
                 st->seconds_left);
        say(ui, line);
        if (ui->terminal)
            countdown(ui, st->seconds_left);
        break;
    case ED_BUTTON_TICK:
        countdown(ui, st->seconds_left);
        break;
    case ED_BUTTON_RETRY:
        say(ui, "Trying again at once; the wait starts over.");
        countdown(ui, st->seconds_left);
        break;
    case ED_BUTTON_BANNER:
        say(ui, "The download banner appeared: the press worked. Syncing...");
        break;
    case ED_BUTTON_REACHED:
        say(ui, "Download mode reached by the button press; carrying on.");
        break;
    case ED_BUTTON_EXPIRED:
        snprintf(line, sizeof line, "No download banner and no answer: %s and %s were not "
                 "pressed in time (or the board has no such buttons).", st->names->boot,
                 st->names->reset);
        say(ui, line);
        break;
    }
}

/* Enter on the terminal (a line in canonical mode): read it so it is not seen twice. */
static bool enter_pressed(void *ctx)
{
    const struct ed_cli_button *ui = ctx;
    if (!ui->keyboard)
        return false;
    struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
        return false;
    char buf[256];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    return n > 0 && memchr(buf, '\n', (size_t)n) != NULL;
}

void ed_cli_button_prepare(struct ed_cli *cli, struct ed_cli_button *ui,
                           struct ed_button_watch *w)
{
    memset(ui, 0, sizeof *ui);
    ui->cli = cli;
    ui->terminal = isatty(fileno(cli->live)) == 1;
    ui->keyboard = ui->terminal && isatty(STDIN_FILENO) == 1;
    memset(w, 0, sizeof *w);
    w->timeout_ms = cli->button_wait_ms;
    w->on_event = on_event;
    w->enter_pressed = enter_pressed;
    w->ctx = ui;
}

bool ed_cli_button_watch(struct ed_cli *cli, const struct ed_bridge *bridge,
                         struct ed_loader *ld, const char **reset_button)
{
    struct ed_cli_button ui;
    struct ed_button_watch w;
    ed_cli_button_prepare(cli, &ui, &w);
    ed_button_names_for(bridge, ed_button_chip_heard(ld), &w.names);
    int rc = ed_button_watch_run(ld, &w);
    end_line(&ui);
    if (rc == ED_OK)
        *reset_button = w.names.reset;
    return rc == ED_OK;
}
