/* The board on a TCP port, as an RFC 2217 (Telnet COM-PORT-OPTION) server: one client at
 * a time; its connection is the port being open; SET-BAUDRATE and SET-CONTROL (DTR, RTS)
 * reach the board; 0xFF in data is doubled both ways. */
#ifndef ESPSIM_RFC2217_H
#define ESPSIM_RFC2217_H

#include <stdbool.h>
#include <stdint.h>

#include "host.h"

#define RFC2217_SB_MAX 64

struct sim_rfc2217 {
    struct sim_endpoint ep;
    struct sim_host *host;
    int listen_fd, conn_fd;
    uint16_t port;
    guint listen_watch, conn_watch, out_watch;
    /* Telnet parser */
    int state;
    uint8_t verb;                 /* WILL/WONT/DO/DONT being read */
    uint8_t sb[RFC2217_SB_MAX];
    size_t sb_len;
    bool him[256], us[256];       /* options enabled on the client's and on our side */
    /* serial settings the client may ask back */
    uint8_t data_size, parity, stop_size, flow;
    /* to the client: escaped data and replies, in order */
    uint8_t out[2 * SIM_OUTBUF_SIZE + 256];
    size_t out_len;
};

/* Listen on 127.0.0.1:port (0: any free port; r->port tells which). */
bool sim_rfc2217_start(struct sim_rfc2217 *r, struct sim_host *host, uint16_t port,
                       GError **err);
void sim_rfc2217_stop(struct sim_rfc2217 *r);

#endif
