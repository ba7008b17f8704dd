#include "run.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <glib-unix.h>
#include <umockdev.h>

#include "host.h"
#include "plant.h"
#include "pty.h"
#include "rfc2217.h"
#include "stats.h"

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
    struct sim_usb_setup usb;
    char usb_serial[32];           /* usb-jtag: the chip's MAC */
    struct sim_plant plant;
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
 * testbed has put into our environment), like umockdev-wrapper sets up, and the planted
 * system root through ESPDOCTOR_SYSROOT. */
static char **command_environment(const struct espsim *s)
{
    char **env = g_get_environ();
    env = s->plant.dir ? g_environ_setenv(env, "ESPDOCTOR_SYSROOT", s->plant.dir, TRUE)
                       : g_environ_unsetenv(env, "ESPDOCTOR_SYSROOT");
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
    char **env = command_environment(s);
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

/* A command that drops its privileges must still reach the testbed: its directories
 * readable, the ioctl sockets writable by anyone (umockdev makes them for its owner). */
static int open_up_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_D)
        chmod(path, 0755);
    else if (type == FTW_F && S_ISSOCK(st->st_mode))
        chmod(path, 0777);
    return 0;
}

static void open_up_testbed(UMockdevTestbed *tb)
{
    char *root = umockdev_testbed_get_root_dir(tb);
    chmod(root, 0755);
    char *ioctl_dir = g_strdup_printf("%s/ioctl", root);
    nftw(ioctl_dir, open_up_entry, 16, FTW_PHYS);
    g_free(ioctl_dir);
    g_free(root);
}

static bool start_tty(struct espsim *s, GError **err)
{
    const struct espsim_opts *o = s->opts;
    const char *devnode = sim_bridge_devnode(o->bridge);
    if (!sim_pty_start(&s->pty, &s->host, s->testbed, devnode, INITIAL_BAUD, err))
        return false;
    s->pty_ready = true;
    return sim_pty_set_node(&s->pty, o->node.mode, o->node.uid, o->node.gid, err);
}

static bool start_testbed(struct espsim *s)
{
    GError *err = NULL;
    const struct espsim_opts *o = s->opts;
    s->testbed = umockdev_testbed_new();
    bool has_tty = s->usb.driver == SIM_DRIVER_BOUND;
    if (!sim_usb_add(s->testbed, o->bridge, &s->usb, &err) || (has_tty && !start_tty(s, &err))) {
        fprintf(stderr, "espsim: cannot build the %s testbed: %s\n", o->bridge->name,
                err->message);
        g_error_free(err);
        return false;
    }
    open_up_testbed(s->testbed);
    sim_host_trace(&s->host, "%s %04x:%04x on %s", o->bridge->name, o->bridge->vid,
                   o->bridge->pid, has_tty ? sim_bridge_devnode(o->bridge) : "no tty");
    return true;
}

static bool plant_sysroot(struct espsim *s)
{
    GError *err = NULL;
    if (!sim_plant_build(&s->plant, s->opts, (int)getpid(), &err)) {
        fprintf(stderr, "espsim: cannot plant the system root: %s\n", err->message);
        g_error_free(err);
        return false;
    }
    if (s->plant.dir)
        sim_host_trace(&s->host, "system root %s", s->plant.dir);
    return true;
}

/* The USB side: the usb-jtag serial string is the chip's MAC. */
static void usb_setup(struct espsim *s)
{
    s->usb = s->opts->usb;
    if (s->opts->bridge->cdc_acm) {
        uint8_t m[6];
        sim_board_mac(s->board, m);
        snprintf(s->usb_serial, sizeof s->usb_serial, "%02X:%02X:%02X:%02X:%02X:%02X", m[0],
                 m[1], m[2], m[3], m[4], m[5]);
        s->usb.serial = s->usb_serial;
    }
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

static void write_stats(struct espsim *s)
{
    char err[512];
    if (!s->opts->stats_path || !s->host_ready)
        return;
    if (!sim_stats_write(s->opts->stats_path, &s->host, err, sizeof err)) {
        fprintf(stderr, "espsim: %s\n", err);
        if (s->exit_status == 0)
            s->exit_status = 1;
    }
}

static void teardown(struct espsim *s)
{
    if (s->child_running) {
        kill(s->child, SIGTERM);
        g_spawn_close_pid(s->child);
    }
    write_stats(s);
    sim_plant_remove(&s->plant);
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
    usb_setup(s);
    s->loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGINT, on_sigint, s);
    g_unix_signal_add(SIGTERM, on_sigterm, s);

    if (s->opts->command && (!start_testbed(s) || !plant_sysroot(s)))
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
