/* The network transports against a scripted server on 127.0.0.1 (a thread of this test):
 * what goes on the wire for each op, byte for byte, and how the client copes with servers
 * that answer late, never, wrongly, or hang up. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../src/telnet.h"   /* the tests have no -Isrc */
#include "espdoctor/error.h"
#include "espdoctor/netport.h"

#define IAC 255

enum fake_mode {
    FAKE_AGREE,     /* an RFC 2217 server */
    FAKE_REFUSE,    /* says DONT COM-PORT-OPTION */
    FAKE_SILENT,    /* a TCP server that never answers */
    FAKE_CLOSE,     /* accepts and hangs up at once */
    FAKE_RAW,       /* records bytes, no Telnet at all (socket://) */
};

struct fake {
    enum fake_mode mode;
    bool ack_baud, ack_purge;
    uint32_t baud_answer;           /* 0: echo the request */
    const uint8_t *after_purge;     /* sent right after the purge answer */
    size_t after_purge_len;

    int listen_fd, conn_fd;
    unsigned port;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;           /* guards what follows */
    uint8_t raw[8192];
    size_t raw_len;
    uint8_t data[8192];
    size_t data_len;
    uint8_t cmds[256][2];           /* COM-PORT-OPTION command, first value byte */
    uint32_t cmd_value32[256];      /* 4-byte values (SET-BAUDRATE) */
    size_t ncmds;
};

static struct fake fk;

static void fake_send(struct fake *f, const uint8_t *b, size_t n)
{
    cr_assert_eq(send(f->conn_fd, b, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void reply(struct fake *f, uint8_t cmd, const uint8_t *v, size_t n)
{
    uint8_t msg[32];
    size_t len = ed_rfc2217_command((uint8_t)(cmd + ED_RFC2217_SERVER), v, n, msg, sizeof msg);
    fake_send(f, msg, len);
}

static void on_option(struct fake *f, uint8_t verb, uint8_t opt)
{
    uint8_t out[3] = { IAC, 0, opt };
    if (verb == ED_TN_WILL && opt == ED_TN_OPT_COM_PORT)
        out[1] = f->mode == FAKE_AGREE ? ED_TN_DO : ED_TN_DONT;
    else if (verb == ED_TN_WILL)
        out[1] = ED_TN_DO;
    else if (verb == ED_TN_DO)
        out[1] = ED_TN_WILL;
    else
        return;
    fake_send(f, out, 3);
}

static void on_command(struct fake *f, const uint8_t *sb, size_t n)
{
    if (n < 3 || sb[0] != ED_TN_OPT_COM_PORT)
        return;
    pthread_mutex_lock(&f->lock);
    if (f->ncmds < 256) {
        f->cmds[f->ncmds][0] = sb[1];
        f->cmds[f->ncmds][1] = sb[2];
        f->cmd_value32[f->ncmds] = n >= 6 ? (uint32_t)sb[2] << 24 | (uint32_t)sb[3] << 16 |
                                                (uint32_t)sb[4] << 8 | sb[5]
                                          : 0;
        f->ncmds++;
    }
    pthread_mutex_unlock(&f->lock);
    if (sb[1] == ED_RFC2217_SET_BAUDRATE && f->ack_baud) {
        uint32_t b = f->baud_answer ? f->baud_answer : (uint32_t)sb[2] << 24 |
                     (uint32_t)sb[3] << 16 | (uint32_t)sb[4] << 8 | sb[5];
        const uint8_t be[4] = { (uint8_t)(b >> 24), (uint8_t)(b >> 16), (uint8_t)(b >> 8),
                                (uint8_t)b };
        reply(f, sb[1], be, 4);
    } else if (sb[1] == ED_RFC2217_PURGE_DATA && f->ack_purge) {
        uint8_t msg[64];
        size_t len = ed_rfc2217_command(ED_RFC2217_SERVER + ED_RFC2217_PURGE_DATA, sb + 2, 1,
                                        msg, sizeof msg);
        memcpy(msg + len, f->after_purge, f->after_purge_len);
        fake_send(f, msg, len + f->after_purge_len);   /* one segment: order is certain */
    } else if (sb[1] != ED_RFC2217_PURGE_DATA && sb[1] != ED_RFC2217_SET_BAUDRATE) {
        reply(f, sb[1], sb + 2, 1);
    }
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    int c = accept(f->listen_fd, NULL, NULL);
    if (c < 0)
        return NULL;
    if (f->mode == FAKE_CLOSE) {
        close(c);
        return NULL;
    }
    f->conn_fd = c;
    struct ed_telnet_decoder d;
    ed_telnet_decoder_init(&d);
    while (!atomic_load(&f->stop)) {
        struct pollfd p = { .fd = c, .events = POLLIN };
        if (poll(&p, 1, 20) <= 0)
            continue;
        uint8_t buf[4096], data[4096];
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        size_t data_len = 0;
        if ((size_t)n > sizeof f->raw - f->raw_len || (size_t)n > sizeof f->data - f->data_len)
            break;   /* more than any test sends */
        pthread_mutex_lock(&f->lock);
        memcpy(f->raw + f->raw_len, buf, (size_t)n);
        f->raw_len += (size_t)n;
        pthread_mutex_unlock(&f->lock);
        if (f->mode == FAKE_SILENT)
            continue;
        if (f->mode == FAKE_RAW) {
            data_len = (size_t)n;
            memcpy(data, buf, data_len);
        }
        for (size_t at = 0; at < (size_t)n && f->mode != FAKE_RAW;) {
            enum ed_telnet_event ev;
            at += ed_telnet_decode(&d, buf + at, (size_t)n - at, data, &data_len, &ev);
            if (ev == ED_TN_EV_OPTION)
                on_option(f, d.verb, d.option);
            else if (ev == ED_TN_EV_SUBNEG)
                on_command(f, d.sb, d.sb_len);
        }
        pthread_mutex_lock(&f->lock);
        memcpy(f->data + f->data_len, data, data_len);
        f->data_len += data_len;
        pthread_mutex_unlock(&f->lock);
    }
    return NULL;
}

static void fake_start(enum fake_mode mode)
{
    memset(&fk, 0, sizeof fk);
    fk.mode = mode;
    fk.ack_baud = fk.ack_purge = true;
    fk.conn_fd = -1;
    pthread_mutex_init(&fk.lock, NULL);
    fk.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(fk.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fk.listen_fd, 1), 0);
    socklen_t len = sizeof a;
    getsockname(fk.listen_fd, (struct sockaddr *)&a, &len);
    fk.port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&fk.thread, NULL, fake_main, &fk), 0);
}

static void fake_stop(void)
{
    atomic_store(&fk.stop, true);
    shutdown(fk.listen_fd, SHUT_RDWR);
    pthread_join(fk.thread, NULL);
    if (fk.conn_fd >= 0)
        close(fk.conn_fd);
    close(fk.listen_fd);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait (up to 2 s) until the fake has seen `count` commands / `bytes` data bytes. */
static size_t fake_commands(size_t count)
{
    double end = now_s() + 2;
    size_t n;
    do {
        pthread_mutex_lock(&fk.lock);
        n = fk.ncmds;
        pthread_mutex_unlock(&fk.lock);
        if (n >= count)
            break;
        usleep(2000);
    } while (now_s() < end);
    return n;
}

static size_t fake_data(size_t bytes)
{
    double end = now_s() + 2;
    size_t n;
    do {
        pthread_mutex_lock(&fk.lock);
        n = fk.data_len;
        pthread_mutex_unlock(&fk.lock);
        if (n >= bytes)
            break;
        usleep(2000);
    } while (now_s() < end);
    return n;
}

static struct ed_transport *open_agreeing(void)
{
    fake_start(FAKE_AGREE);
    struct ed_transport *t;
    int rc = ed_rfc2217_open("127.0.0.1", fk.port, 115200, &t);
    cr_assert_eq(rc, ED_OK, "open: %s (errno %d)", ed_strerror(rc), errno);
    cr_assert_eq(fake_commands(7), 7, "the opening commands");
    return t;
}

/* Read exactly n bytes (in as many reads as it takes, 1 s each). */
static void read_exactly(struct ed_transport *t, uint8_t *buf, size_t n)
{
    size_t have = 0;
    while (have < n) {
        size_t got;
        int rc = ed_tp_read(t, buf + have, n - have, &got, 1000);
        cr_assert_eq(rc, ED_OK, "read: %s after %zu bytes", ed_strerror(rc), have);
        have += got;
    }
}

Test(rfc2217_client, open_negotiates_sets_8n1_and_releases_both_lines)
{
    struct ed_transport *t = open_agreeing();
    const uint8_t hello[] = { IAC, ED_TN_WILL, 0, IAC, ED_TN_DO, 0, IAC, ED_TN_WILL, 44 };
    cr_assert_arr_eq(fk.raw, hello, sizeof hello);
    const uint8_t want[7][2] = {
        { ED_RFC2217_SET_BAUDRATE, 0 }, { ED_RFC2217_SET_DATASIZE, 8 },
        { ED_RFC2217_SET_PARITY, 1 }, { ED_RFC2217_SET_STOPSIZE, 1 },
        { ED_RFC2217_SET_CONTROL, 1 },
        /* from the (1,1) the server opened with: RTS first, never DTR=0 RTS=1 (reset) */
        { ED_RFC2217_SET_CONTROL, 12 }, { ED_RFC2217_SET_CONTROL, 9 },
    };
    cr_assert_arr_eq(fk.cmds, want, sizeof want);
    cr_assert_eq(fk.cmd_value32[0], 115200);
    cr_assert(t->has_modem_lines);
    cr_assert_eq(t->baud, 115200);
    char name[64];
    snprintf(name, sizeof name, "rfc2217://127.0.0.1:%u", fk.port);
    cr_assert_str_eq(t->name, name);
    ed_tp_close(t);
    fake_stop();
}

/* Apply the SET-CONTROL values the fake received since `from` to (dtr, rts), checking that
 * no state in between holds the chip in reset unless it was asked for. */
static void replay_lines(size_t from, bool *dtr, bool *rts, bool want_dtr, bool want_rts)
{
    size_t n = fake_commands(from + 1);
    bool start_reset = !*dtr && *rts, end_reset = !want_dtr && want_rts;
    for (size_t i = from; i < n; i++) {
        cr_assert_eq(fk.cmds[i][0], ED_RFC2217_SET_CONTROL);
        switch (fk.cmds[i][1]) {
        case 8: *dtr = true; break;
        case 9: *dtr = false; break;
        case 11: *rts = true; break;
        case 12: *rts = false; break;
        default: cr_assert_fail("control value %u", fk.cmds[i][1]);
        }
        if (i + 1 < n)
            cr_assert(!(!*dtr && *rts) || start_reset || end_reset,
                      "a transient reset on the way to DTR=%d RTS=%d", want_dtr, want_rts);
    }
    cr_assert_eq(*dtr, want_dtr);
    cr_assert_eq(*rts, want_rts);
}

Test(rfc2217_client, line_changes_never_pass_through_a_reset)
{
    struct ed_transport *t = open_agreeing();
    bool dtr = false, rts = false;
    static const bool seq[][2] = {
        { 1, 1 }, { 0, 0 }, { 0, 1 }, { 1, 0 }, { 0, 1 }, { 1, 1 }, { 1, 0 }, { 0, 0 },
        { 1, 0 }, { 1, 1 }, { 0, 1 }, { 0, 0 }, { 1, 1 }, { 0, 1 }, { 1, 1 },
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        size_t before = fake_commands(0);
        cr_assert_eq(ed_tp_set_lines(t, seq[i][0], seq[i][1]), ED_OK);
        /* one message per line that changes */
        size_t expect = before + (seq[i][0] != dtr) + (seq[i][1] != rts);
        cr_assert_eq(fake_commands(expect), expect, "step %zu", i);
        replay_lines(before, &dtr, &rts, seq[i][0], seq[i][1]);
    }
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, reset_to_download_changes_dtr_first)
{
    struct ed_transport *t = open_agreeing();
    cr_assert_eq(ed_tp_set_lines(t, false, true), ED_OK);
    cr_assert_eq(ed_tp_set_lines(t, true, false), ED_OK);
    cr_assert_eq(fake_commands(10), 10);
    /* (0,1) -> (1,0): DTR on, then RTS off; the (1,1) between releases both. */
    cr_assert_eq(fk.cmds[7][1], 11);
    cr_assert_eq(fk.cmds[8][1], 8);
    cr_assert_eq(fk.cmds[9][1], 12);
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, data_is_escaped_going_out_and_unescaped_coming_in)
{
    struct ed_transport *t = open_agreeing();
    const uint8_t out[] = { 0xc0, IAC, 0x00, IAC, IAC, '\r', '\n', 0xc0 };
    cr_assert_eq(ed_tp_write(t, out, sizeof out), ED_OK);
    cr_assert_eq(fake_data(sizeof out), sizeof out);
    cr_assert_arr_eq(fk.data, out, sizeof out);
    const uint8_t doubled[] = { 0xc0, IAC, IAC, 0x00, IAC, IAC, IAC, IAC, '\r' };
    cr_assert(memmem(fk.raw, fk.raw_len, doubled, sizeof doubled) != NULL);

    const uint8_t in[] = { 'A', IAC, IAC, 'B', IAC, ED_TN_SB, 44, 107, 0x30, IAC, ED_TN_SE,
                           IAC, ED_TN_SB, 44, 106, 0x60, IAC, ED_TN_SE, IAC, ED_TN_NOP,
                           IAC, ED_TN_WILL, 1, 'C' };
    fake_send(&fk, in, sizeof in);
    uint8_t got[4];
    read_exactly(t, got, sizeof got);
    const uint8_t want[] = { 'A', 0xff, 'B', 'C' };
    cr_assert_arr_eq(got, want, sizeof want);
    size_t n;
    cr_assert_eq(ed_tp_read(t, got, sizeof got, &n, 50), ED_E_TIMEOUT);
    cr_assert_eq(n, 0);
    /* The WILL ECHO was refused. */
    const uint8_t dont_echo[] = { IAC, ED_TN_DONT, 1 };
    cr_assert(memmem(fk.raw, fk.raw_len, dont_echo, sizeof dont_echo) != NULL);
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, set_baud_waits_for_the_servers_answer)
{
    struct ed_transport *t = open_agreeing();
    cr_assert_eq(ed_tp_set_baud(t, 921600), ED_OK);
    cr_assert_eq(t->baud, 921600);
    cr_assert_eq(fk.cmds[7][0], ED_RFC2217_SET_BAUDRATE);
    cr_assert_eq(fk.cmd_value32[7], 921600);

    fk.baud_answer = 115200;    /* the server cannot do 2 Mbaud */
    cr_assert_eq(ed_tp_set_baud(t, 2000000), ED_E_UNSUPPORTED);
    cr_assert_eq(t->baud, 115200, "the speed the server really has");

    fk.ack_baud = false;        /* a server that never answers: a short wait, then on */
    double t0 = now_s();
    cr_assert_eq(ed_tp_set_baud(t, 460800), ED_OK);
    double spent = now_s() - t0;
    cr_assert(spent > 0.9 && spent < 1.5, "waited %.2f s", spent);
    cr_assert_eq(t->baud, 460800);
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, data_that_arrives_during_set_baud_is_kept)
{
    struct ed_transport *t = open_agreeing();
    const uint8_t early[] = { 'e', 'a', 'r', 'l', 'y' };
    fake_send(&fk, early, sizeof early);
    usleep(50000);
    cr_assert_eq(ed_tp_set_baud(t, 74880), ED_OK);
    uint8_t got[5];
    read_exactly(t, got, sizeof got);
    cr_assert_arr_eq(got, early, sizeof early);
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, flush_input_drops_what_came_before_the_purge)
{
    struct ed_transport *t = open_agreeing();
    static const uint8_t fresh[] = { 'f', 'r', 'e', 's', 'h' };
    fk.after_purge = fresh;
    fk.after_purge_len = sizeof fresh;
    const uint8_t stale[] = { 's', 't', 'a', 'l', 'e', IAC, IAC };
    fake_send(&fk, stale, sizeof stale);
    usleep(50000);
    cr_assert_eq(ed_tp_flush_input(t), ED_OK);
    cr_assert_eq(fk.cmds[7][0], ED_RFC2217_PURGE_DATA);
    cr_assert_eq(fk.cmds[7][1], ED_RFC2217_PURGE_RECEIVE);
    uint8_t got[5];
    read_exactly(t, got, sizeof got);
    cr_assert_arr_eq(got, fresh, sizeof fresh);
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, flush_input_without_purge_answers_waits_only_once)
{
    struct ed_transport *t = open_agreeing();
    fk.ack_purge = false;
    const uint8_t stale[] = { 's', 't', 'a', 'l', 'e' };
    fake_send(&fk, stale, sizeof stale);
    usleep(50000);
    double t0 = now_s();
    cr_assert_eq(ed_tp_flush_input(t), ED_OK);
    double first = now_s() - t0;
    fake_send(&fk, stale, sizeof stale);
    usleep(50000);
    t0 = now_s();
    cr_assert_eq(ed_tp_flush_input(t), ED_OK);
    double second = now_s() - t0;
    cr_assert(first > 0.4 && first < 1.0, "first flush %.2f s", first);
    cr_assert(second < 0.1, "second flush %.2f s: the server was known not to answer", second);
    uint8_t got[8];
    size_t n;
    cr_assert_eq(ed_tp_read(t, got, sizeof got, &n, 50), ED_E_TIMEOUT, "nothing stale left");
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, a_server_that_hangs_up_mid_session)
{
    struct ed_transport *t = open_agreeing();
    shutdown(fk.conn_fd, SHUT_RDWR);
    uint8_t b[4];
    size_t n;
    cr_assert_eq(ed_tp_read(t, b, sizeof b, &n, 1000), ED_E_GONE);
    cr_assert_neq(t->os_errno, 0);
    ed_tp_close(t);
    fake_stop();
}

Test(rfc2217_client, refused_com_port_option)
{
    fake_start(FAKE_REFUSE);
    struct ed_transport *t;
    double t0 = now_s();
    cr_assert_eq(ed_rfc2217_open("127.0.0.1", fk.port, 115200, &t), ED_E_UNSUPPORTED);
    cr_assert_eq(errno, EPROTO);
    cr_assert_null(t);
    cr_assert_lt(now_s() - t0, 1.0, "a refusal needs no timeout");
    fake_stop();
}

Test(rfc2217_client, a_server_that_never_speaks_telnet)
{
    fake_start(FAKE_SILENT);
    struct ed_transport *t;
    cr_assert_eq(ed_rfc2217_open("127.0.0.1", fk.port, 115200, &t), ED_E_UNSUPPORTED);
    cr_assert_eq(errno, EPROTO);
    fake_stop();
}

Test(rfc2217_client, a_server_that_hangs_up_at_once_is_busy)
{
    fake_start(FAKE_CLOSE);
    struct ed_transport *t;
    cr_assert_eq(ed_rfc2217_open("127.0.0.1", fk.port, 115200, &t), ED_E_BUSY);
    cr_assert_eq(errno, ECONNRESET);
    fake_stop();
}

static unsigned unused_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(s, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

Test(rfc2217_client, nothing_listening)
{
    struct ed_transport *t;
    cr_assert_eq(ed_rfc2217_open("127.0.0.1", unused_port(), 115200, &t), ED_E_NOTFOUND);
    cr_assert_eq(errno, ECONNREFUSED);
    cr_assert_eq(ed_socket_open("127.0.0.1", unused_port(), 115200, &t), ED_E_NOTFOUND);
    cr_assert_eq(errno, ECONNREFUSED);
    cr_assert_eq(ed_socket_open("", 4000, 115200, &t), ED_E_ARG);
    cr_assert_eq(ed_socket_open("name.invalid", 4000, 115200, &t), ED_E_NOTFOUND);
    cr_assert_eq(errno, ENOENT);
}

Test(socket_client, raw_bytes_both_ways_and_no_modem_lines)
{
    fake_start(FAKE_RAW);
    struct ed_transport *t;
    cr_assert_eq(ed_socket_open("127.0.0.1", fk.port, 115200, &t), ED_OK);
    cr_assert_not(t->has_modem_lines);
    cr_assert_eq(ed_tp_set_lines(t, true, false), ED_E_UNSUPPORTED);
    cr_assert_eq(ed_tp_set_baud(t, 460800), ED_OK);
    cr_assert_eq(t->baud, 460800);
    const uint8_t out[] = { 0xc0, IAC, IAC, 0x00, 0xc0 };
    cr_assert_eq(ed_tp_write(t, out, sizeof out), ED_OK);
    cr_assert_eq(fake_data(sizeof out), sizeof out);
    cr_assert_eq(fk.raw_len, sizeof out, "nothing but the data: no Telnet");
    cr_assert_arr_eq(fk.raw, out, sizeof out);

    const uint8_t stale[] = { 'o', 'l', 'd' };
    fake_send(&fk, stale, sizeof stale);
    usleep(50000);
    cr_assert_eq(ed_tp_flush_input(t), ED_OK);
    const uint8_t in[] = { IAC, ED_TN_WILL, 1, 'x' };
    fake_send(&fk, in, sizeof in);
    uint8_t got[4];
    read_exactly(t, got, sizeof got);
    cr_assert_arr_eq(got, in, sizeof in, "IAC means nothing here");
    shutdown(fk.conn_fd, SHUT_RDWR);
    size_t n;
    cr_assert_eq(ed_tp_read(t, got, sizeof got, &n, 1000), ED_E_GONE);
    ed_tp_close(t);
    fake_stop();
}
