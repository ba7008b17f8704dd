/* `espdoctor monitor` and `flash --monitor`: the board's console on this terminal (raw,
 * Ctrl-] leaves), or copied to stdout for scripts (until --timeout, the end of input, or
 * the port vanishing for good), with what it prints decoded inline. The loop is
 * monitor.c; this is the command around it: the port, the log, the terminal, signals
 * and exit codes. */
#include "cli.h"
#include "commands.h"
#include "connect.h"
#include "monitor.h"
#include "out.h"
#include "portsel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/netport.h"
#include "espdoctor/reset.h"


struct session {
    struct ed_cli *cli;
    const struct ed_port_choice *pc;
    uint32_t baud;
    bool reset;
    int log_fd;
    struct ed_mon_out out;
    struct ed_monitor mon;
    struct ed_monitor_opts opts;
};

static bool is_local(const char *path)
{
    struct ed_port_url url;
    return ed_port_url_parse(path, &url) == ED_OK && url.scheme == ED_PORT_LOCAL;
}

static void say_start(struct session *s)
{
    struct ed_cli *cli = s->cli;
    if (cli->json) {
        json_object *e = ed_mon_event_new("start");
        json_object_object_add(e, "port", json_object_new_string(s->pc->path));
        json_object_object_add(e, "baud", json_object_new_int64(s->baud));
        json_object_object_add(e, "bridge", ed_connect_bridge_json(s->pc));
        json_object_object_add(e, "log", ed_json_str(cli->log_file));
        json_object_object_add(e, "eol", json_object_new_string(ed_eol_name(s->opts.eol)));
        json_object_object_add(e, "reset", json_object_new_boolean(s->reset));
        json_object_object_add(e, "timeout", s->opts.timeout_ms
                                                 ? ed_mon_json_seconds(s->opts.timeout_ms / 1000.0)
                                                 : NULL);
        ed_mon_out_event(&s->out, e);
        return;
    }
    char until[96] = "";
    if (s->opts.timeout_ms)
        snprintf(until, sizeof until, "; stops after %.3g s", s->opts.timeout_ms / 1000.0);
    ed_mon_out_say(&s->out, "Monitoring %s at %u baud; Ctrl-] leaves%s%s%s", s->pc->path,
                   s->baud, until, cli->log_file ? "; raw log: " : "",
                   cli->log_file ? cli->log_file : "");
}

/* Pulse EN as the flasher does after a write, so the boot shows from its first line. */
static void reset_board(struct session *s)
{
    int rc = ed_reset_run(s->mon.tp, ED_SEQ_HARD, 0);
    if (rc == ED_E_UNSUPPORTED)
        ed_mon_out_say(&s->out, "%s has no DTR/RTS lines: the board cannot be reset from "
                       "here (press its EN/RST button)", s->pc->path);
    else if (rc != ED_OK && rc != ED_E_GONE)   /* gone: the loop follows it */
        ed_mon_out_say(&s->out, "resetting the board failed: %s", ed_strerror(rc));
}

static int exit_code(const struct ed_monitor *m)
{
    switch (m->end) {
    case ED_MON_QUIT:
    case ED_MON_TIMEOUT:
    case ED_MON_END_OF_INPUT:
        return ED_EXIT_OK;
    case ED_MON_INTERRUPTED:
        return ed_interrupt_exit_status(ed_interrupted());
    case ED_MON_PORT_GONE:
    case ED_MON_IO_ERROR:
    case ED_MON_LOG_ERROR:
        break;
    }
    return ED_EXIT_FAIL;
}

/* Why it failed, for people and for the end event; "" when it did not. */
static const char *failure(const struct session *s, char *text, size_t len)
{
    const struct ed_monitor *m = &s->mon;
    const struct ed_mon_follow *f = &m->follow;
    text[0] = '\0';
    switch (m->end) {
    case ED_MON_PORT_GONE:
        if (!s->opts.follow_ms)
            snprintf(text, len, "the connection to %s was lost (network ports are not "
                     "followed); run the monitor again once it is back", s->pc->path);
        else if (m->error != ED_E_GONE)
            snprintf(text, len, "%s came back but could not be opened (%s) within %u s; "
                     "run the monitor again", f->path, ed_strerror(m->error),
                     s->opts.follow_ms / 1000);
        else if (m->time_ran_out)
            snprintf(text, len, "%s vanished and was not back when the time ran out "
                     "(--timeout)", f->path);
        else
            snprintf(text, len, "%s vanished and did not come back within %u s; plug the "
                     "board back in and run the monitor again", f->path,
                     s->opts.follow_ms / 1000);
        return "port.vanished";
    case ED_MON_IO_ERROR:
        snprintf(text, len, "reading or writing %s failed: %s", f->path, ed_strerror(m->error));
        return "port.io-error";
    case ED_MON_LOG_ERROR:
        snprintf(text, len, "writing the log %s failed: %s; the monitor stopped so that the "
                 "log has no gap", s->cli->log_file, strerror(m->log_errno));
        return "monitor.log-failed";
    default:
        return NULL;
    }
}

static void say_end(struct session *s, int code)
{
    struct ed_monitor *m = &s->mon;
    char why[640];
    const char *id = failure(s, why, sizeof why);
    if (s->cli->json) {
        json_object *e = ed_mon_event_new("end");
        json_object_object_add(e, "reason", json_object_new_string(ed_mon_end_key(m->end)));
        json_object_object_add(e, "exit_status", json_object_new_int(code));
        json_object_object_add(e, "port", json_object_new_string(m->follow.path));
        json_object_object_add(e, "bytes_in", json_object_new_int64((int64_t)m->bytes_in));
        json_object_object_add(e, "bytes_out", json_object_new_int64((int64_t)m->bytes_out));
        json_object_object_add(e, "reconnects", json_object_new_int64(m->reconnects));
        json_object_object_add(e, "seconds", ed_mon_json_seconds(m->seconds));
        json_object *err = NULL;
        if (id) {
            err = json_object_new_object();
            json_object_object_add(err, "id", json_object_new_string(id));
            json_object_object_add(err, "message", json_object_new_string(why));
        }
        json_object_object_add(e, "error", err);
        ed_mon_out_event(&s->out, e);
        return;
    }
    if (id) {
        ed_cli_error(s->cli, "%s.", why);
        return;
    }
    static const char *const words[] = {
        [ED_MON_QUIT] = "left the monitor (Ctrl-])",
        [ED_MON_TIMEOUT] = "the time is up (--timeout)",
        [ED_MON_END_OF_INPUT] = "the input ended",
        [ED_MON_INTERRUPTED] = "interrupted",
    };
    if ((size_t)m->end < sizeof words / sizeof words[0] && words[m->end])
        ed_mon_out_say(&s->out, "%s: %llu bytes from the board", words[m->end],
                       (unsigned long long)m->bytes_in);
}

static void setup(struct session *s)
{
    struct ed_cli *cli = s->cli;
    ed_mon_out_init(&s->out, cli->out, cli->err);
    s->out.json = cli->json;
    s->out.color = cli->color;
    s->out.quiet = cli->quiet;
    bool terminal = isatty(STDIN_FILENO);
    s->out.interactive = terminal && !cli->json && isatty(fileno(cli->out));
    s->opts = (struct ed_monitor_opts){
        .baud = s->baud, .eol = ED_EOL_CR, .in_fd = STDIN_FILENO, .in_terminal = terminal,
        .log_fd = s->log_fd, .timeout_ms = cli->timeout_ms, .stop = ed_interrupt_flag(),
        .follow_ms = is_local(s->pc->path) ? ED_MON_FOLLOW_MS : 0,
    };
    if (cli->eol)
        ed_eol_parse(cli->eol, &s->opts.eol);   /* checked when the options were read */
    struct ed_mon_follow *f = &s->mon.follow;
    f->enumerated = s->pc->known && s->pc->info.devnode[0];
    if (f->enumerated)
        f->was = s->pc->info;
    snprintf(f->path, sizeof f->path, "%s", f->enumerated ? s->pc->info.devnode : s->pc->path);
    s->mon.out = &s->out;
}

static int run(struct session *s)
{
    setup(s);
    /* SIGINT, SIGTERM, SIGHUP end it (the shared interrupt module: a flag the loop polls),
     * from before the start event on, so that a signal never ends it without its end. */
    ed_interrupt_install();
    int rc = ed_open_port(s->cli, s->pc, s->baud, &s->mon.tp);
    if (rc != ED_EXIT_OK) {
        ed_interrupt_restore();
        return rc;
    }
    say_start(s);
    if (s->reset)
        reset_board(s);
    struct ed_mon_tty tty = { .fd = -1 };
    /* Raw only for a person at a terminal: keys go to the board as typed, Ctrl-C too. */
    if (s->opts.in_terminal && !s->cli->json && ed_mon_tty_raw(&tty, STDIN_FILENO) != 0)
        ed_mon_out_say(&s->out, "the terminal cannot be put in raw mode (%s): keys go by "
                       "line", strerror(errno));
    ed_monitor_run(&s->mon, &s->opts);
    ed_mon_tty_restore(&tty);
    ed_tp_close(s->mon.tp);
    s->mon.tp = NULL;
    int code = exit_code(&s->mon);
    ed_interrupt_restore();
    say_end(s, code);
    return code;
}

static int monitor(struct ed_cli *cli, const struct ed_port_choice *pc, uint32_t baud,
                   bool reset)
{
    int log_fd = -1;
    if (cli->log_file) {
        /* Appended to: an earlier session's log is never lost. */
        log_fd = open(cli->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) {
            ed_cli_error(cli, "cannot open the log file %s: %s. Nothing was started.",
                         cli->log_file, strerror(errno));
            return ED_EXIT_INPUT;
        }
    }
    struct session *s = calloc(1, sizeof *s);
    if (!s) {
        if (log_fd >= 0)
            close(log_fd);
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    *s = (struct session){ .cli = cli, .pc = pc, .baud = baud, .reset = reset, .log_fd = log_fd };
    int rc = run(s);
    free(s);
    if (log_fd >= 0 && close(log_fd) != 0 && rc == ED_EXIT_OK) {
        ed_cli_error(cli, "writing the log %s failed: %s", cli->log_file, strerror(errno));
        rc = ED_EXIT_FAIL;
    }
    return rc;
}

int ed_monitor_after_flash(struct ed_cli *cli, const struct ed_port_choice *pc)
{
    fflush(cli->out);
    return monitor(cli, pc, ED_MON_BAUD, true);
}

int cmd_monitor(struct ed_cli *cli, int argc, char **argv)
{
    if (argc > 0) {
        ed_cli_error(cli, "'monitor' takes no arguments (got '%s'); name the port with -p.",
                     argv[0]);
        return ED_EXIT_USAGE;
    }
    struct ed_port_choice pc;
    int rc = ed_select_port(cli, &pc);
    if (rc != ED_EXIT_OK)
        return rc;
    return monitor(cli, &pc, cli->baud ? cli->baud : ED_MON_BAUD, cli->reset);
}
