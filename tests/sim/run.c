#include "run.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <glib-unix.h>
#include <umockdev.h>

#include "host.h"
#include "pty.h"
#include "rfc2217.h"

#define PRELOAD_LIB "libumockdev-preload.so.0"
/* What a USB serial driver starts at. */
#define INITIAL_BAUD 9600

struct espsim {
    const struct espsim_opts *opts;
    FILE *trace;
    struct sim_board *board;
    struct sim_host host;
    bool host_ready;
    UMockdevTestbed *testbed;
    struct sim_pty pty;
    bool pty_ready;
    struct sim_rfc2217 rfc;
    bool rfc_ready;
    GMainLoop *loop;
    GPid child;
    bool child_running;
    unsigned close_wait_ms;
    int exit_status;
};

static gboolean on_signal(gpointer data, int signo)
{
    struct espsim *s = data;
    if (s->child_running) {
        kill(s->child, signo);   /* it decides; we end when it does */
        return G_SOURCE_CONTINUE;
    }
    s->exit_status = 0;
    g_main_loop_quit(s->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigint(gpointer data) { return on_signal(data, SIGINT); }
static gboolean on_sigterm(gpointer data) { return on_signal(data, SIGTERM); }

/* The exited command's descriptors close asynchronously on the ioctl socket: give them
 * a moment so that the close (and HUPCL) reaches the board and the trace. */
#define CLOSE_GRACE_MS 250
#define CLOSE_POLL_MS 5

static gboolean quit_when_closed(gpointer data)
{
    struct espsim *s = data;
    s->close_wait_ms += CLOSE_POLL_MS;
    if (s->pty_ready && s->pty.clients->len > 0 && s->close_wait_ms < CLOSE_GRACE_MS)
        return G_SOURCE_CONTINUE;
    g_main_loop_quit(s->loop);
    return G_SOURCE_REMOVE;
}

static void on_child_exit(GPid pid, gint status, gpointer data)
{
    struct espsim *s = data;
    s->child_running = false;
    if (WIFEXITED(status))
        s->exit_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        s->exit_status = 128 + WTERMSIG(status);
    else
        s->exit_status = 1;
    sim_host_trace(&s->host, "command exited with status %d", s->exit_status);
    g_spawn_close_pid(pid);
    g_timeout_add(CLOSE_POLL_MS, quit_when_closed, s);
}

/* The command sees the testbed through the preload library and UMOCKDEV_DIR (which the
 * testbed has put into our environment), like umockdev-wrapper sets up. */
static char **command_environment(void)
{
    char **env = g_get_environ();
    const char *old = g_environ_getenv(env, "LD_PRELOAD");
    char *preload = old && *old ? g_strdup_printf(PRELOAD_LIB ":%s", old)
                                : g_strdup(PRELOAD_LIB);
    env = g_environ_setenv(env, "LD_PRELOAD", preload, TRUE);
    g_free(preload);
    return env;
}

static bool start_command(struct espsim *s)
{
    GError *err = NULL;
    char **env = command_environment();
    bool ok = g_spawn_async(NULL, s->opts->command, env,
                            G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                            G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, &s->child, &err);
    g_strfreev(env);
    if (!ok) {
        fprintf(stderr, "espsim: cannot run %s: %s\n", s->opts->command[0], err->message);
        g_error_free(err);
        s->exit_status = 127; /* as a shell reports a command it cannot run */
        return false;
    }
    s->child_running = true;
    g_child_watch_add(s->child, on_child_exit, s);
    return true;
}

static bool start_testbed(struct espsim *s)
{
    GError *err = NULL;
    const struct espsim_opts *o = s->opts;
    s->testbed = umockdev_testbed_new();
    const char *devnode = sim_bridge_devnode(o->bridge);
    if (!sim_usb_add(s->testbed, o->bridge, o->serial[0] ? o->serial : NULL, &err) ||
        !sim_pty_start(&s->pty, &s->host, s->testbed, devnode, INITIAL_BAUD, &err)) {
        fprintf(stderr, "espsim: cannot build the %s testbed: %s\n", o->bridge->name,
                err->message);
        g_error_free(err);
        return false;
    }
    s->pty_ready = true;
    sim_host_trace(&s->host, "%s %04x:%04x on %s", o->bridge->name, o->bridge->vid,
                   o->bridge->pid, devnode);
    return true;
}

static bool start_rfc2217(struct espsim *s)
{
    GError *err = NULL;
    if (!sim_rfc2217_start(&s->rfc, &s->host, (uint16_t)s->opts->rfc2217_port, &err)) {
        fprintf(stderr, "espsim: cannot serve RFC 2217: %s\n", err->message);
        g_error_free(err);
        return false;
    }
    s->rfc_ready = true;
    fprintf(stderr, "espsim: serving %s on rfc2217://127.0.0.1:%u\n",
            sim_board_chip_name(s->board), s->rfc.port);
    sim_host_trace(&s->host, "serving on rfc2217://127.0.0.1:%u", s->rfc.port);
    return true;
}

static bool open_trace(struct espsim *s)
{
    const char *path = s->opts->trace_path;
    if (!path)
        return true;
    if (strcmp(path, "-") == 0) {
        s->trace = stderr;
        return true;
    }
    s->trace = fopen(path, "w");
    if (!s->trace) {
        fprintf(stderr, "espsim: cannot write the trace to %s: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

static void teardown(struct espsim *s)
{
    if (s->child_running) {
        kill(s->child, SIGTERM);
        g_spawn_close_pid(s->child);
    }
    if (s->rfc_ready)
        sim_rfc2217_stop(&s->rfc);
    if (s->pty_ready)
        sim_pty_stop(&s->pty, s->testbed);
    if (s->testbed)
        g_object_unref(s->testbed);
    if (s->host_ready)
        sim_host_cleanup(&s->host);
    if (s->board)
        sim_board_free(s->board);
    if (s->trace && s->trace != stderr)
        fclose(s->trace);
    if (s->loop)
        g_main_loop_unref(s->loop);
}

static bool setup(struct espsim *s)
{
    if (!open_trace(s))
        return false;
    struct sim_board_opts board_opts = s->opts->board;
    board_opts.trace = s->trace;
    char err[256];
    s->board = sim_board_new(&board_opts, err, sizeof err);
    if (!s->board) {
        fprintf(stderr, "espsim: cannot build the board: %s\n", err);
        return false;
    }
    sim_host_init(&s->host, s->board, s->trace, INITIAL_BAUD);
    s->host_ready = true;
    s->loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGINT, on_sigint, s);
    g_unix_signal_add(SIGTERM, on_sigterm, s);

    if (s->opts->command && !start_testbed(s))
        return false;
    if (s->opts->rfc2217_port >= 0 && !start_rfc2217(s))
        return false;
    return !s->opts->command || start_command(s);
}

int espsim_run(const struct espsim_opts *opts)
{
    struct espsim s = { .opts = opts, .exit_status = 1 };
    signal(SIGPIPE, SIG_IGN);
    if (setup(&s)) {
        sim_host_pump(&s.host);
        g_main_loop_run(s.loop);
    }
    teardown(&s);
    return s.exit_status;
}
