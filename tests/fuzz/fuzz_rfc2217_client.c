/* Fuzz the RFC 2217 client (src/transport_rfc2217.c) with what a server sends.
 *
 * A thread plays the server on a loopback socket: it sends the input, closes its side,
 * and reads whatever the client says until the client hangs up. The client runs as the
 * tool uses it: open (Telnet negotiation, COM-PORT-OPTION, baud, 8N1, lines), then reads,
 * the line changes of a reset, a baud change and a purge. Since the server always leaves,
 * every wait ends at once with "connection closed" instead of running into a timeout;
 * one that does is reported. What the client reads must be the serial data the server
 * sent, in order. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/netport.h"

#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opening waits at most 2 s for the server's agreement; a server that has gone is seen at
 * once, so anything near that is a wait that should not have happened. */
#define OPEN_MAX_MS 1500

/* The listening socket, opened once: libFuzzer gives a harness no context to keep it in. */
static int listen_fd = -1;
static unsigned listen_port;

struct server_run {
    const uint8_t *data;
    size_t size;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    require(listen_fd >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    require(bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    require(listen(listen_fd, 4) == 0);
    socklen_t len = sizeof addr;
    require(getsockname(listen_fd, (struct sockaddr *)&addr, &len) == 0);
    listen_port = ntohs(addr.sin_port);
    return 0;
}

/* One connection: send everything, close our side, drain the client until it leaves. */
static void *serve(void *arg)
{
    const struct server_run *run = arg;
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    require(c >= 0);
    size_t done = 0;
    while (done < run->size) {
        ssize_t n = send(c, run->data + done, run->size - done, MSG_NOSIGNAL);
        if (n <= 0)
            break;   /* the client gave up early: that is its right */
        done += (size_t)n;
    }
    shutdown(c, SHUT_WR);
    uint8_t sink[4096];
    while (recv(c, sink, sizeof sink, 0) > 0)
        ;
    close(c);
    return NULL;
}

/* The serial data in what the server sent, by the rules telnet.h states (a subnegotiation
 * cut by IAC and something else ends there, and that IAC starts a command). Written here
 * without the decoder, to check what the transport hands out. Returns its length. */
static size_t serial_data(const uint8_t *in, size_t n, uint8_t *out)
{
    enum { DATA, IAC, OPTION, SB, SB_IAC } st = DATA;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (st == SB_IAC && c != 240 && c != 255)
            st = IAC;   /* read c as the byte after a fresh IAC */
        switch (st) {
        case DATA:
            if (c == 255)
                st = IAC;
            else
                out[o++] = c;
            break;
        case IAC:
            if (c == 255)
                out[o++] = c;
            st = c == 255 ? DATA : c >= 251 ? OPTION : c == 250 ? SB : DATA;
            break;
        case OPTION:
            st = DATA;
            break;
        case SB:
            if (c == 255)
                st = SB_IAC;
            break;
        case SB_IAC:
            st = c == 240 ? DATA : SB;
            break;
        }
    }
    return o;
}

/* What the tool does with an open port, each step until the server is gone. What is read
 * before the first purge must be a run of the serial data the server sent, in order (data
 * from before the port was set up may have been dropped). */
static void use_port(struct ed_transport *t, const uint8_t *expected, size_t expected_len)
{
    uint8_t buf[512], *all = malloc(expected_len + 1);
    require(all != NULL);
    size_t got, total = 0;
    for (int i = 0; i < 64; i++) {
        int rc = ed_tp_read(t, buf, sizeof buf, &got, 50);
        if (rc != ED_OK)
            break;
        require(got > 0 && got <= sizeof buf && total + got <= expected_len);
        memcpy(all + total, buf, got);
        total += got;
    }
    require(total == 0 || memmem(expected, expected_len, all, total) != NULL);
    free(all);
    /* The line changes of a reset, without its waits. */
    ed_tp_set_lines(t, false, true);
    ed_tp_set_lines(t, true, false);
    ed_tp_set_lines(t, false, false);
    ed_tp_set_baud(t, 460800);
    ed_tp_flush_input(t);
    ed_tp_flush_input(t);
    const uint8_t sync[] = { 0xC0, 0x00, 0x08, 0xFF, 0xFF, 0xC0 };
    ed_tp_write(t, sync, sizeof sync);
    ed_tp_read(t, buf, sizeof buf, &got, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *expected = malloc(size + 1);
    require(expected != NULL);
    size_t expected_len = serial_data(data, size, expected);
    struct server_run run = { .data = data, .size = size };
    pthread_t server;
    require(pthread_create(&server, NULL, serve, &run) == 0);
    struct ed_transport *t = NULL;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc = ed_rfc2217_open("127.0.0.1", listen_port, 115200, &t);
    clock_gettime(CLOCK_MONOTONIC, &end);
    require((rc == ED_OK) == (t != NULL));
    /* The server always leaves at once, so no wait may run into its time limit. */
    require((end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000 <
            OPEN_MAX_MS);
    if (t) {
        require(t->baud != 0);
        use_port(t, expected, expected_len);
        ed_tp_close(t);
    }
    require(pthread_join(server, NULL) == 0);
    free(expected);
    return 0;
}
