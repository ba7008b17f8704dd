/* The serial monitor's loop: the board's bytes to the log (raw) and through the decoder
 * to the output, the user's keys to the board, a vanished port followed until it comes
 * back (bounded), and the ways it ends. The command around it is cmd_monitor.c. */
#ifndef ESPDOCTOR_MONITOR_H
#define ESPDOCTOR_MONITOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "monitor_follow.h"
#include "monitor_input.h"
#include "monitor_out.h"
#include "monitor_stream.h"

#define ED_MON_BAUD 115200u          /* what MicroPython and ESP-IDF apps talk at */
#define ED_MON_READ_WAIT_MS 10u      /* the longest a key waits for the board's side */
#define ED_MON_EOF_QUIET_MS 1000u    /* end of input, no timeout: end after this quiet */

enum ed_mon_end {
    ED_MON_QUIT,          /* Ctrl-] */
    ED_MON_TIMEOUT,       /* --timeout ran out */
    ED_MON_END_OF_INPUT,  /* stdin ended (and the board went quiet) */
    ED_MON_PORT_GONE,     /* the port vanished and was not back in time */
    ED_MON_INTERRUPTED,   /* a signal */
    ED_MON_IO_ERROR,      /* the port failed otherwise */
    ED_MON_LOG_ERROR,     /* the log could not be written */
};

/* "quit", "timeout", "end-of-input", "port-gone", "interrupted", "io-error",
 * "log-error" */
const char *ed_mon_end_key(enum ed_mon_end end);

struct ed_monitor_opts {
    uint32_t baud;
    enum ed_eol eol;
    int in_fd;                  /* what the user types; -1: nothing */
    bool in_terminal;           /* in_fd is a terminal: its end ends the monitor at once */
    int log_fd;                 /* the raw log; -1: none */
    unsigned timeout_ms;        /* 0: none */
    unsigned follow_ms;         /* how long a vanished port is waited for; 0: not at all */
    const volatile sig_atomic_t *stop;   /* set by a signal handler; may be NULL */
};

struct ed_monitor {
    struct ed_transport *tp;    /* the open port (replaced when it comes back; NULL if gone) */
    struct ed_mon_follow follow;   /* who the board is: set by the caller */
    struct ed_mon_out *out;
    struct ed_mon_stream stream;
    struct ed_mon_keys keys;
    enum ed_mon_end end;
    int error;                  /* ED_* status of the failure that ended it */
    int log_errno;
    uint64_t bytes_in, bytes_out;
    unsigned reconnects;
    bool time_ran_out;          /* ED_MON_PORT_GONE: --timeout ended the wait for it */
    double seconds;
};

/* Run until one of the ends. m->tp, m->follow and m->out are the caller's to set. */
void ed_monitor_run(struct ed_monitor *m, const struct ed_monitor_opts *o);

#endif
