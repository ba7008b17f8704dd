/* The board's tty inside the umockdev testbed (/dev/ttyUSB0 or /dev/ttyACM0). The testbed
 * makes it a pty; this endpoint pumps bytes through the pty master and serves the ioctls a
 * pty lacks (the modem lines) from an ioctl handler, so programs run inside the testbed see
 * a real USB serial port. */
#ifndef ESPSIM_PTY_H
#define ESPSIM_PTY_H

#include <stdbool.h>

#include <umockdev.h>

#include "host.h"

struct sim_pty {
    struct sim_endpoint ep;
    struct sim_host *host;
    int master;              /* the board's end */
    int slave;               /* held open so the master never hangs up between clients */
    guint in_watch, out_watch, client_poll;
    UMockdevIoctlBase *ioctl;
    GPtrArray *clients;      /* UMockdevIoctlClient: opens of the device inside the testbed */
    GPtrArray *cut;          /* clients whose cable was pulled: everything they do fails */
    bool vanished;           /* the device is gone for good: every client fails */
    /* Hands the host's bytes to the board (NULL: sim_host_write); unplug.h's stops them
     * where the cable is pulled. */
    void (*deliver)(void *ctx, const uint8_t *data, size_t n);
    void *deliver_ctx;
    uint8_t out[SIM_OUTBUF_SIZE];
    size_t out_len;
    char devnode[32];
};

/* devnode must already exist in the testbed (an N: line). */
bool sim_pty_start(struct sim_pty *p, struct sim_host *host, UMockdevTestbed *tb,
                   const char *devnode, uint32_t baud, GError **err);
void sim_pty_stop(struct sim_pty *p, UMockdevTestbed *tb);

/* The cable is pulled: every open of the device so far fails from now on (reads, writes
 * and ioctls give EIO, as a hung-up tty does), and a reader blocked in poll() wakes. */
void sim_pty_cut_clients(struct sim_pty *p);
/* The tty's device left the bus for good: cut the clients and stop moving bytes (the pty
 * itself stays until sim_pty_stop, so that its holders keep failing as on a dead tty). */
void sim_pty_vanish(struct sim_pty *p);
/* The device is back under the same name: new opens work again (the old ones stay dead). */
void sim_pty_revive(struct sim_pty *p);
/* The cable is back: nothing queued from before reaches the next open. */
void sim_pty_replugged(struct sim_pty *p);

/* Give the node the owner, group and mode stat() shows inside the testbed (that of the pty
 * behind it); -1 leaves one as it is. */
bool sim_pty_set_node(struct sim_pty *p, int mode, long uid, long gid, GError **err);

#endif
