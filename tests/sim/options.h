/* espsim's command line. */
#ifndef ESPSIM_OPTIONS_H
#define ESPSIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "board/board.h"
#include "usbrec.h"

#include <sys/types.h>

#define ESPSIM_MAX_GROUP_MEMBERS 8

enum espsim_uucp_lock { UUCP_LOCK_NONE, UUCP_LOCK_LIVE, UUCP_LOCK_STALE };

/* The tty node's owner, group and mode as stat() shows them; -1: leave the pty's. */
struct espsim_node {
    int mode;
    long uid, gid;
};

/* What goes into the planted system root ($ESPDOCTOR_SYSROOT for the command). */
struct espsim_sysroot {
    const char *dir;            /* --sysroot DIR: plant there and keep it; NULL: a temp dir */
    bool real;                  /* --real-proc: plant nothing, leave ESPDOCTOR_SYSROOT unset */
    bool brltty, modemmanager;
    enum espsim_uucp_lock uucp_lock;
    const char *group_members[ESPSIM_MAX_GROUP_MEMBERS];   /* "GROUP:USER" */
    size_t group_member_count;
};

struct espsim_opts {
    struct sim_board_opts board;
    const struct sim_bridge_model *bridge;
    uint32_t line_max_baud;   /* --line-max: the line's own limit, below the part's; 0 none */
    char chip[16];              /* normalised --chip, board.chip points here */
    struct sim_usb_setup usb;   /* driver state, power/control, ModemManager tag */
    struct espsim_node node;
    struct espsim_sysroot sysroot;
    const char *trace_path;     /* --trace FILE ("-": stderr) */
    const char *stats_path;     /* --stats FILE: the session's figures as JSON at exit */
    int rfc2217_port;           /* -1: no RFC 2217 server; 0: any free port */
    char **command;             /* NULL-terminated; NULL: none */
    bool help;
    long plug_at_ms;            /* --plug-at MS: plugged in MS ms after the start; -1: from
                                   the start */
    bool plug_never;            /* --plug-at never: the host never sees it */
    bool xtal_drift_given;      /* --xtal-drift: only the ESP32 takes it */
    bool usb_app_given;         /* --usb-app, --usb-enum-ms: only with usb-otg */
};

/* Fill opts from argv. False with a one-paragraph reason in err. */
bool espsim_parse_args(int argc, char **argv, struct espsim_opts *opts, char *err,
                       size_t errlen);

void espsim_usage(FILE *out);

/* True if the long option --name (len characters of name, or a unique abbreviation of
 * one, as getopt_long takes it) takes a value. */
bool espsim_option_takes_value(const char *name, size_t len);

#endif
