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
#include "loop_lock.h"
#include "plant.h"
#include "plug.h"
#include "pty.h"
#include "reenum.h"
#include "rfc2217.h"
#include "stats.h"
#include "unplug.h"
#include "usbctl.h"

#define PRELOAD_LIB "libumockdev-preload.so.0"
/* What a USB serial driver starts at. */
#define INITIAL_BAUD 9600

/* One board: its model, the port as hosts see it, and its tty in the testbed. */
struct espsim_slot {
    const struct espsim_opts *opts;
    const struct sim_usb_place *place;
    FILE *trace;
    struct sim_board *board;
    struct sim_host host;
    bool host_ready;
    struct sim_pty pty;
    bool pty_ready;
    struct sim_unplug unplug;      /* --unplug-at */
    bool unplug_ready;
    struct sim_reenum reenum;      /* --bridge usb-otg: the tty comes and goes */
    bool reenum_ready;
    struct sim_plug plug;          /* --plug-at: plugged in late, or never */
    bool plug_ready;
    struct sim_usb_setup usb;
    struct sim_usbctl usbctl;      /* the bridge's control endpoint over usbdevfs */
    bool usbctl_ready;
    char usb_serial[32];           /* usb-jtag: the chip's MAC */
    char devnode[32];              /* "/dev/ttyUSB1" */
};

struct espsim {
    const struct espsim_opts *opts;    /* the session's: board 0's */
    struct espsim_slot slots[ESPSIM_MAX_BOARDS];
    size_t slot_count;
    UMockdevTestbed *testbed;
    struct sim_rfc2217 rfc;
    bool rfc_ready;
    GMainLoop *loop;
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

static bool any_port_open(const struct espsim *s)
{
    for (size_t i = 0; i < s->slot_count; i++)
        if ((s->slots[i].pty_ready && s->slots[i].pty.clients->len > 0) ||
            (s->slots[i].reenum_ready && sim_reenum_in_use(&s->slots[i].reenum)))
            return true;
    return false;
}

/* The command's end concerns every board: it goes into each one's trace. */
static void trace_exit(const struct espsim *s)
{
    for (size_t i = 0; i < s->slot_count; i++)
        if (s->slots[i].host_ready)
            sim_host_trace(&s->slots[i].host, "command exited with status %d", s->exit_status);
}

static gboolean quit_when_closed(gpointer data)
{
    struct espsim *s = data;
    s->close_wait_ms += CLOSE_POLL_MS;
    if (any_port_open(s) && s->close_wait_ms < CLOSE_GRACE_MS)
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
    trace_exit(s);
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

static bool start_tty(struct espsim *s, struct espsim_slot *slot, GError **err)
{
    const struct espsim_opts *o = slot->opts;
    if (!sim_pty_start(&slot->pty, &slot->host, s->testbed, slot->devnode, INITIAL_BAUD, err))
        return false;
    slot->pty_ready = true;
    if (o->board.faults.unplug) {
        if (!sim_unplug_start(&slot->unplug, &slot->pty, s->testbed, &o->board.faults, err))
            return false;
        slot->unplug_ready = true;
    }
    return sim_pty_set_node(&slot->pty, o->node.mode, o->node.uid, o->node.gid, err);
}

/* A board on its own USB-OTG: the records come and go with the chip (reenum.c). It was
 * plugged in a moment before the command starts, so that its first port is there. */
#define OTG_PLUGGED_BEFORE_MS 1000

static bool add_otg_board(struct espsim *s, struct espsim_slot *slot)
{
    GError *err = NULL;
    const struct espsim_opts *o = slot->opts;
    sim_host_backdate(&slot->host, OTG_PLUGGED_BEFORE_MS);
    unsigned acm_boards = 0;
    for (size_t i = 0; i < s->slot_count; i++)
        acm_boards += s->slots[i].opts->bridge->cdc_acm;
    if (!sim_reenum_start(&slot->reenum, s->testbed, &slot->host, o->chip, &slot->usb,
                          slot->place, acm_boards, o->node.mode, o->node.uid, o->node.gid,
                          &err)) {
        fprintf(stderr, "espsim: cannot build the usb-otg testbed: %s\n", err->message);
        g_error_free(err);
        return false;
    }
    slot->reenum_ready = true;
    sim_host_trace(&slot->host, "usb-otg on hub port %u: %s", slot->place->hub_port,
                   sim_reenum_tty(&slot->reenum) ? sim_reenum_tty(&slot->reenum)
                                                 : "nothing on the bus yet");
    return true;
}

/* The board's USB records and tty in the testbed. */
static bool put_on_usb(struct espsim *s, struct espsim_slot *slot)
{
    GError *err = NULL;
    const struct espsim_opts *o = slot->opts;
    bool has_tty = slot->usb.driver == SIM_DRIVER_BOUND;
    if (!sim_usb_add(s->testbed, o->bridge, &slot->usb, slot->place, &err) ||
        (o->bridge->max_baud &&   /* a USB-UART part; the chip's own USB has no vendor part */
         !(slot->usbctl_ready = sim_usbctl_start(&slot->usbctl, s->testbed, o->bridge,
                                                 slot->place->hub_port, &slot->host, &err))) ||
        (has_tty && !start_tty(s, slot, &err))) {
        fprintf(stderr, "espsim: cannot build the %s testbed: %s\n", o->bridge->name,
                err->message);
        g_error_free(err);
        return false;
    }
    sim_host_trace(&slot->host, "%s %04x:%04x%s%s on hub port %u, %s", o->bridge->name,
                   o->bridge->vid, o->bridge->pid, slot->usb.serial ? " serial " : "",
                   slot->usb.serial ? slot->usb.serial : "", slot->place->hub_port,
                   has_tty ? slot->devnode : "no tty");
    return true;
}

static bool add_board(struct espsim *s, struct espsim_slot *slot)
{
    const struct espsim_opts *o = slot->opts;
    if (o->board.link == SIM_LINK_USB_OTG)
        return add_otg_board(s, slot);
    if (!put_on_usb(s, slot))
        return false;
    if (o->plug_at_ms < 0 && !o->plug_never)
        return true;
    /* --plug-at: made as if plugged in, then taken out until the cable goes in (plug.h). */
    GError *err = NULL;
    struct sim_pty *tty = slot->pty_ready ? &slot->pty : NULL;
    if (!sim_plug_start(&slot->plug, s->testbed, &slot->host, tty, o->bridge, &slot->usb,
                        slot->place, o->plug_never ? -1 : o->plug_at_ms, &err)) {
        fprintf(stderr, "espsim: %s\n", err->message);
        g_error_free(err);
        return false;
    }
    slot->plug_ready = true;
    return true;
}

static bool start_testbed(struct espsim *s)
{
    GError *err = NULL;
    s->testbed = umockdev_testbed_new();
    if (!sim_usb_add_hub(s->testbed, &err)) {
        fprintf(stderr, "espsim: cannot build the testbed: %s\n", err->message);
        g_error_free(err);
        return false;
    }
    for (size_t i = 0; i < s->slot_count; i++)
        if (!add_board(s, &s->slots[i]))
            return false;
    open_up_testbed(s->testbed);
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
        for (size_t i = 0; i < s->slot_count; i++)
            sim_host_trace(&s->slots[i].host, "system root %s", s->plant.dir);
    return true;
}

/* The USB side: the usb-jtag serial string is the chip's MAC. */
static void usb_setup(struct espsim_slot *slot)
{
    slot->usb = slot->opts->usb;
    snprintf(slot->devnode, sizeof slot->devnode, "/dev/%s", slot->place->tty);
    if (slot->opts->board.link == SIM_LINK_USB_SERIAL_JTAG) {
        uint8_t m[6];
        sim_board_mac(slot->board, m);
        snprintf(slot->usb_serial, sizeof slot->usb_serial, "%02X:%02X:%02X:%02X:%02X:%02X",
                 m[0], m[1], m[2], m[3], m[4], m[5]);
        slot->usb.serial = slot->usb_serial;
    }
}

/* RFC 2217 serves board 0, the only one (boards.c refuses it with several). */
static bool start_rfc2217(struct espsim *s)
{
    GError *err = NULL;
    struct espsim_slot *slot = &s->slots[0];
    if (!sim_rfc2217_start(&s->rfc, &slot->host, (uint16_t)s->opts->rfc2217_port, &err)) {
        fprintf(stderr, "espsim: cannot serve RFC 2217: %s\n", err->message);
        g_error_free(err);
        return false;
    }
    s->rfc_ready = true;
    fprintf(stderr, "espsim: serving %s on rfc2217://127.0.0.1:%u\n",
            sim_board_chip_name(slot->board), s->rfc.port);
    sim_host_trace(&slot->host, "serving on rfc2217://127.0.0.1:%u", s->rfc.port);
    return true;
}

static bool open_trace(struct espsim_slot *slot)
{
    const char *path = slot->opts->trace_path;
    if (!path)
        return true;
    if (strcmp(path, "-") == 0) {
        slot->trace = stderr;
        return true;
    }
    slot->trace = fopen(path, "w");
    if (!slot->trace) {
        fprintf(stderr, "espsim: cannot write the trace to %s: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

static void write_stats(struct espsim *s, struct espsim_slot *slot)
{
    char err[512];
    if (!slot->opts->stats_path || !slot->host_ready)
        return;
    if (!sim_stats_write(slot->opts->stats_path, &slot->host, err, sizeof err)) {
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
    for (size_t i = 0; i < s->slot_count; i++)
        write_stats(s, &s->slots[i]);
    sim_plant_remove(&s->plant);
    if (s->rfc_ready)
        sim_rfc2217_stop(&s->rfc);
    for (size_t i = 0; i < s->slot_count; i++) {
        if (s->slots[i].plug_ready)
            sim_plug_stop(&s->slots[i].plug);
        if (s->slots[i].unplug_ready)
            sim_unplug_stop(&s->slots[i].unplug);
        if (s->slots[i].reenum_ready)
            sim_reenum_stop(&s->slots[i].reenum);
        if (s->slots[i].pty_ready)
            sim_pty_stop(&s->slots[i].pty, s->testbed);
        if (s->slots[i].usbctl_ready)
            sim_usbctl_stop(&s->slots[i].usbctl, s->testbed);
    }
    if (s->testbed)
        g_object_unref(s->testbed);
    for (size_t i = 0; i < s->slot_count; i++) {
        struct espsim_slot *slot = &s->slots[i];
        if (slot->host_ready)
            sim_host_cleanup(&slot->host);
        if (slot->board)
            sim_board_free(slot->board);
        if (slot->trace && slot->trace != stderr)
            fclose(slot->trace);
    }
    if (s->loop)
        g_main_loop_unref(s->loop);
}

static bool make_board(struct espsim *s, struct espsim_slot *slot)
{
    if (!open_trace(slot))
        return false;
    struct sim_board_opts board_opts = slot->opts->board;
    board_opts.trace = slot->trace;
    char err[256];
    slot->board = sim_board_new(&board_opts, err, sizeof err);
    if (!slot->board) {
        if (s->slot_count > 1)
            fprintf(stderr, "espsim: cannot build board %zu: %s\n", (size_t)(slot - s->slots),
                    err);
        else
            fprintf(stderr, "espsim: cannot build the board: %s\n", err);
        return false;
    }
    sim_host_init(&slot->host, slot->board, slot->trace, INITIAL_BAUD);
    slot->host.max_baud = slot->opts->bridge->max_baud;
    if (slot->opts->line_max_baud && slot->host.max_baud &&
        slot->opts->line_max_baud < slot->host.max_baud)
        slot->host.max_baud = slot->opts->line_max_baud;   /* native USB has no line rate */
    slot->host_ready = true;
    usb_setup(slot);
    return true;
}

static bool setup(struct espsim *s)
{
    for (size_t i = 0; i < s->slot_count; i++)
        if (!make_board(s, &s->slots[i]))
            return false;
    s->loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGINT, on_sigint, s);
    g_unix_signal_add(SIGTERM, on_sigterm, s);

    if (s->opts->command && (!start_testbed(s) || !plant_sysroot(s)))
        return false;
    if (s->opts->rfc2217_port >= 0 && !start_rfc2217(s))
        return false;
    return !s->opts->command || start_command(s);
}

int espsim_run(const struct espsim_board_set *set)
{
    struct espsim *s = g_new0(struct espsim, 1);
    s->opts = &set->boards[0];
    s->exit_status = 1;
    s->slot_count = set->count;
    for (size_t i = 0; i < set->count; i++) {
        s->slots[i].opts = &set->boards[i];
        s->slots[i].place = &set->places[i];
    }
    signal(SIGPIPE, SIG_IGN);
    sim_loop_lock_install();   /* before the command starts: its ioctls wait for the loop */
    if (setup(s)) {
        for (size_t i = 0; i < s->slot_count; i++)
            sim_host_pump(&s->slots[i].host);
        g_main_loop_run(s->loop);
    }
    sim_loop_lock_release();
    teardown(s);
    int status = s->exit_status;
    g_free(s);
    return status;
}
