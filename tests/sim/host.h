/* The board's one USB port as hosts see it. Several endpoints can reach it (the pty inside
 * the umockdev testbed, an RFC 2217 connection); like a real port they share one set of
 * modem lines and one line speed, and the chip's output goes to every endpoint that has the
 * port open. This file also owns the clock and the front end's part of the trace. */
#ifndef ESPSIM_HOST_H
#define ESPSIM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "board/board.h"

#define SIM_OUTBUF_SIZE 8192
#define SIM_MAX_ENDPOINTS 2

struct sim_endpoint;

struct sim_endpoint_ops {
    /* Bytes of chip output this endpoint can take now. */
    size_t (*room)(struct sim_endpoint *ep);
    /* Take chip output (len <= room) and start writing it out. */
    void (*push)(struct sim_endpoint *ep, const uint8_t *data, size_t len);
};

struct sim_endpoint {
    const struct sim_endpoint_ops *ops;
    const char *label;     /* "/dev/ttyUSB0", "rfc2217" */
    bool open;             /* this endpoint has the port open */
};

struct sim_host {
    struct sim_board *board;
    FILE *trace;           /* shared with the board model; NULL: no trace */
    gint64 start_us;       /* monotonic time the board's clock counts from */
    struct sim_endpoint *endpoints[SIM_MAX_ENDPOINTS];
    size_t endpoint_count;
    unsigned opens;        /* endpoints with the port open */
    bool dtr, rts;
    uint32_t baud;
    uint32_t max_baud;     /* the bridge's highest rate; 0: none (native USB) */
    GSource *timer;        /* wakes the pump at the board's next event */
    uint64_t bytes_out;    /* the hosts wrote to the board */
    uint64_t bytes_in;     /* the board's output the hosts took */
};

void sim_host_init(struct sim_host *h, struct sim_board *board, FILE *trace,
                   uint32_t initial_baud);
void sim_host_cleanup(struct sim_host *h);

/* The board was plugged in ms milliseconds before now (its clock starts that far back). */
void sim_host_backdate(struct sim_host *h, unsigned ms);

/* Microseconds since the host started: the board's "now". */
uint64_t sim_host_now(const struct sim_host *h);

/* One front-end line in the trace ("host: ..."), stamped with the board clock. */
void sim_host_trace(const struct sim_host *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sim_host_add_endpoint(struct sim_host *h, struct sim_endpoint *ep);
/* The endpoint is gone (its tty vanished): closed first if it was open. */
void sim_host_remove_endpoint(struct sim_host *h, struct sim_endpoint *ep);

/* An endpoint opened or closed the port. The first open raises DTR and RTS, as Linux does
 * on open; the last close drops them if hang_up (HUPCL) is set. */
void sim_host_open(struct sim_host *h, struct sim_endpoint *ep);
void sim_host_close(struct sim_host *h, struct sim_endpoint *ep, bool hang_up);

void sim_host_set_lines(struct sim_host *h, bool dtr, bool rts);
void sim_host_set_baud(struct sim_host *h, uint32_t baud);
void sim_host_write(struct sim_host *h, const uint8_t *data, size_t len);

/* Move what the chip has sent by now to the endpoints, then sleep until the board's next
 * event. Endpoints call it again when they have drained their output. */
void sim_host_pump(struct sim_host *h);

#endif
