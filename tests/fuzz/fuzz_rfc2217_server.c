/* Fuzz espsim's RFC 2217 server (tests/sim/rfc2217.c) with what a client sends.
 *
 * Each input gets a fresh virtual board served on a loopback port, as `espsim --rfc2217`
 * serves it. A client socket sends the input, closes its sending side and reads the
 * answers until the server drops the connection, while this thread runs the GLib main
 * loop the server lives in. The board runs without its timing model, with the BOOT button
 * held and no auto-reset circuit: the input arrives at once, so a reset through DTR/RTS
 * would swallow it; this way the ROM loader listens from power-on and every data byte
 * reaches its command decoder, which is fuzzed along. A server that never lets go is a
 * hang. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "board/board.h"
#include "host.h"
#include "rfc2217.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BAUD 115200u
#define HANG_US (5 * G_USEC_PER_SEC)

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    require(fd >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    require(rc == 0 || errno == EINPROGRESS);
    return fd;
}

/* Send the input, read the answers, run the server, until it has dropped the client. */
static void converse(struct sim_rfc2217 *rfc, const uint8_t *data, size_t size)
{
    int fd = connect_to(rfc->port);
    size_t sent = 0;
    bool shut = false, accepted = false;
    gint64 start = g_get_monotonic_time();
    while (!(accepted && rfc->conn_fd < 0)) {
        require(g_get_monotonic_time() - start < HANG_US);
        bool busy = g_main_context_iteration(NULL, FALSE);
        accepted = accepted || rfc->conn_fd >= 0;
        if (sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += (size_t)n;
                busy = true;
            }
        } else if (!shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        uint8_t answer[4096];
        while (recv(fd, answer, sizeof answer, MSG_DONTWAIT) > 0)
            busy = true;
        if (!busy) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            poll(&pfd, 1, 1);
        }
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_board_opts opts;
    sim_board_opts_default(&opts);
    opts.fast = true;
    opts.boot_held = true;
    opts.no_autoreset = true;
    opts.flash_size = 64u << 10;   /* small: a fresh flash is filled per input */
    char err[256];
    struct sim_board *board = sim_board_new(&opts, err, sizeof err);
    require(board != NULL);
    struct sim_host host;
    sim_host_init(&host, board, NULL, BAUD);
    struct sim_rfc2217 *rfc = g_new0(struct sim_rfc2217, 1);
    GError *gerr = NULL;
    require(sim_rfc2217_start(rfc, &host, 0, &gerr));
    converse(rfc, data, size);
    sim_rfc2217_stop(rfc);
    g_free(rfc);
    sim_host_cleanup(&host);
    sim_board_free(board);
    /* Let GLib finish what the stop released. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    return 0;
}
