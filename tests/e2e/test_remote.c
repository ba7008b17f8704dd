/* Ports across the network, end to end:
 * - the real espdoctor against espsim's RFC 2217 server: the reset must travel through
 *   SET-CONTROL (the board is not boot-held), for an ESP32 and an ESP8266;
 * - Debian's ser2net in front of a pty this test plays: socket:// and rfc2217:// carry
 *   every byte value both ways, rfc2217:// changes the pty's speed and purges its input;
 * - ser2net in front of espsim's USB bridge (the way boards are shared in real life):
 *   info through rfc2217:// with a reset, and through socket:// with the BOOT button held;
 * - the errors: nothing listening, a server that is not RFC 2217, a busy server, bad URLs.
 * ser2net is required: these tests fail (they do not skip) without it. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>

#include "e2e_run.h"
#include "espdoctor/error.h"
#include "espdoctor/netport.h"

/* ---- background servers --------------------------------------------------------------- */

struct bg {
    pid_t pid;
    int out_fd;               /* its stdout and stderr */
    char out[16384];
    size_t out_len;
};

static struct bg servers[2];
static int pty_master = -1, pty_slave = -1;
static struct e2e_result r;
static char pidfile[96];

/* A descriptor >= 3 that closes on exec: a test worker may run with 0-2 closed, and then
 * pipe() hands those out. */
static int high_fd(int fd)
{
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    cr_assert_geq(h, 3, "fd %d: %s", fd, strerror(errno));
    close(fd);
    return h;
}

static void bg_start(struct bg *b, const char *const *argv)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    int rd = high_fd(p[0]), wr = high_fd(p[1]);
    int nul = high_fd(open("/dev/null", O_RDONLY));
    memset(b, 0, sizeof *b);
    b->pid = fork();
    cr_assert_geq(b->pid, 0);
    if (b->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive a crashed test */
        dup2(nul, 0);
        dup2(wr, 1);
        dup2(wr, 2);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(wr);
    close(nul);
    b->out_fd = rd;
    fcntl(b->out_fd, F_SETFL, O_NONBLOCK);
}

/* Collect output until `needle` shows up; false after ms. */
static bool bg_wait_for(struct bg *b, const char *needle, int ms)
{
    for (int waited = 0; waited < ms; waited += 20) {
        ssize_t n = read(b->out_fd, b->out + b->out_len, sizeof b->out - 1 - b->out_len);
        if (n > 0) {
            b->out_len += (size_t)n;
            b->out[b->out_len] = '\0';
        }
        if (strstr(b->out, needle))
            return true;
        usleep(20000);
    }
    return false;
}

static void bg_stop(struct bg *b)
{
    if (b->pid <= 0)
        return;
    kill(-b->pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(b->pid, NULL, WNOHANG) == 0; i++)
        usleep(20000);
    if (waitpid(b->pid, NULL, WNOHANG) == 0) {
        kill(-b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
    }
    close(b->out_fd);
    b->pid = 0;
}

static void teardown(void)
{
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++)
        bg_stop(&servers[i]);
    if (pty_master >= 0)
        close(pty_master);
    if (pty_slave >= 0)
        close(pty_slave);
    pty_master = pty_slave = -1;
    if (pidfile[0])
        unlink(pidfile);   /* ser2net leaves it behind when stopped from inside espsim */
}

TestSuite(remote, .fini = teardown, .timeout = 60);

static unsigned unused_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

/* espsim serving a board over RFC 2217 on a free port; returns the port. */
static unsigned espsim_serve(const char *const *board_args)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; board_args[i]; i++)
        argv[n++] = board_args[i];
    argv[n++] = "--rfc2217";
    argv[n++] = "0";
    argv[n] = NULL;
    bg_start(&servers[0], argv);
    cr_assert(bg_wait_for(&servers[0], "\n", 10000) &&
              strstr(servers[0].out, "on rfc2217://127.0.0.1:"),
              "espsim did not start serving: %s", servers[0].out);
    unsigned port = 0;
    sscanf(strstr(servers[0].out, "rfc2217://127.0.0.1:") + 20, "%u", &port);
    cr_assert_gt(port, 0);
    return port;
}

static json_object *run_info(const char *url)
{
    const char *argv[] = { e2e_bin("espdoctor"), "info", "--json", "-p", url, NULL };
    e2e_run(&r, argv, 30);
    return e2e_json_doc(r.out);
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

/* The board was identified, and the winning attempt reset it (no boot button held). */
static void expect_identified(json_object *o, const char *url, const char *chip,
                              const char *mac, bool reset)
{
    cr_assert_eq(r.status, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_assert_not_null(o, "no JSON: %s", r.out);
    cr_assert_str_eq(str(o, "port"), url);
    cr_assert_str_eq(str(o, "chip"), chip);
    cr_assert_str_eq(str(o, "mac"), mac);
    json_object *bridge, *attempts;
    cr_assert(json_object_object_get_ex(o, "bridge", &bridge) && bridge == NULL,
              "a network port has no local USB bridge");
    cr_assert(json_object_object_get_ex(o, "connect", &attempts));
    json_object *last = json_object_array_get_idx(attempts, json_object_array_length(attempts) - 1);
    if (reset)
        cr_assert_str_neq(str(last, "sequence"), "none", "%s", r.out);
    else
        cr_assert_str_eq(str(last, "sequence"), "none", "%s", r.out);
}

static void info_over_espsim(const char *chip_arg, const char *chip, const char *mac)
{
    const char *board[] = { "--chip", chip_arg, "--mac", mac, "--fast", NULL };
    unsigned port = espsim_serve(board);
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%u", port);
    json_object *o = run_info(url);
    expect_identified(o, url, chip, mac, true);
    json_object_put(o);
}

Test(remote, info_resets_an_esp32_through_rfc2217)
{
    info_over_espsim("esp32", "ESP32", "24:0a:c4:aa:bb:21");
}

Test(remote, info_resets_an_esp8266_through_rfc2217)
{
    info_over_espsim("esp8266", "ESP8266", "5c:cf:7f:aa:bb:22");
}

Test(remote, without_the_reset_wiring_rfc2217_fails_like_a_local_port)
{
    const char *board[] = { "--no-autoreset", "--fast", NULL };
    unsigned port = espsim_serve(board);
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%u", port);
    const char *argv[] = { e2e_bin("espdoctor"), "info", "--button-wait", "0", "-p", url,
                           NULL };
    e2e_run(&r, argv, 30);
    cr_assert_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_assert(strstr(r.err, "Hold the BOOT (IO0) button") != NULL, "%s", r.err);
}

Test(remote, a_server_busy_with_another_client)
{
    const char *board[] = { "--fast", NULL };
    unsigned port = espsim_serve(board);
    int holder = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(connect(holder, (struct sockaddr *)&a, sizeof a), 0);
    usleep(100000);
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%u", port);
    const char *argv[] = { e2e_bin("espdoctor"), "info", "-p", url, NULL };
    e2e_run(&r, argv, 30);
    cr_assert_eq(r.status, 5, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "closed it at once") != NULL, "%s", r.err);

    /* A flash's JSON says it too: lock.busy, one client at a time. */
    char image[64];
    snprintf(image, sizeof image, "/tmp/ed_e2e_remote_busy.%d.bin", (int)getpid());
    const char *mk[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "app", "--size",
                         "64K", "-o", image, NULL };
    e2e_run(&r, mk, 30);
    cr_assert_eq(r.status, 0, "mkimage: %s", r.err);
    const char *flash[] = { e2e_bin("espdoctor"), "flash", "--json", "-p", url, "0x10000",
                            image, NULL };
    e2e_run(&r, flash, 30);
    close(holder);
    unlink(image);
    cr_assert_eq(r.status, 5, "exit %d\n%s", r.status, r.err);
    json_object *o = e2e_json_doc(r.out);
    cr_assert_not_null(o, "%s", r.out);
    json_object *err = NULL, *id = NULL, *message = NULL;
    cr_assert(json_object_object_get_ex(o, "error", &err) && err, "%s", r.out);
    cr_assert(json_object_object_get_ex(err, "id", &id));
    cr_assert_str_eq(json_object_get_string(id), "lock.busy");
    cr_assert(json_object_object_get_ex(err, "message", &message));
    cr_assert_not_null(strstr(json_object_get_string(message), "one at a time"), "%s", r.out);
    json_object_put(o);
}

static size_t lines_in(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(remote, nothing_listening_is_one_clear_paragraph)
{
    const char *argv[] = { e2e_bin("espdoctor"), "info", "-p", "socket://127.0.0.1:1", NULL };
    e2e_run(&r, argv, 10);
    cr_assert_eq(r.status, 4, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "nothing listens on 127.0.0.1:1") != NULL, "%s", r.err);
    cr_assert_eq(lines_in(r.err), 1, "one paragraph: %s", r.err);
    cr_assert_str_eq(r.out, "");

    const char *argv2[] = { e2e_bin("espdoctor"), "info", "--json", "-p",
                            "rfc2217://[::1]:1", NULL };
    e2e_run(&r, argv2, 10);
    cr_assert_eq(r.status, 4, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "nothing listens on [::1]:1; is the RFC 2217 server") != NULL,
              "%s", r.err);
}

Test(remote, malformed_addresses_are_usage_errors)
{
    const char *bad[][2] = {
        { "rfc2217://localhost", "the port is missing" },
        { "socket://localhost:70000", "from 1 to 65535" },
        { "telnet://localhost:23", "rfc2217:// and socket://" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = { e2e_bin("espdoctor"), "info", "-p", bad[i][0], NULL };
        e2e_run(&r, argv, 10);
        cr_assert_eq(r.status, 2, "%s: exit %d %s", bad[i][0], r.status, r.err);
        cr_assert(strstr(r.err, bad[i][1]) != NULL, "%s: %s", bad[i][0], r.err);
    }
}

/* ---- ser2net ---------------------------------------------------------------------------- */

static const char *ser2net_path(void)
{
    static const char *const places[] = { "/usr/sbin/ser2net", "/usr/bin/ser2net",
                                          "/usr/local/sbin/ser2net", "/usr/local/bin/ser2net" };
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
        if (access(places[i], X_OK) == 0)
            return places[i];
    cr_assert_fail("ser2net is not installed (Debian: apt install ser2net); the network "
                   "port tests need it");
    return NULL;
}

/* Wait until something accepts connections on port (the probe closes at once). */
static void wait_listening(unsigned port, const struct bg *b)
{
    for (int i = 0; i < 250; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok) {
            usleep(50000);   /* let ser2net close the device behind the probe */
            return;
        }
        usleep(20000);
    }
    cr_assert_fail("nothing listens on %u: %s", port, b->out);
}

/* ser2net with one connection: accepter "tcp" or "telnet(rfc2217),tcp". With `wrapper`
 * (espsim argv ending in "--"), ser2net runs inside espsim's testbed. */
static unsigned ser2net_start(struct bg *b, const char *accepter, const char *device,
                              const char *const *wrapper)
{
    unsigned port = unused_port();
    static char yaml[512];
    snprintf(yaml, sizeof yaml,
             "connection: &con0#  accepter: %s,127.0.0.1,%u#  connector: serialdev,%s,"
             "115200n81,local#  options:#    kickolduser: false#",
             accepter, port, device);
    const char *argv[32];
    size_t n = 0;
    for (size_t i = 0; wrapper && wrapper[i]; i++)
        argv[n++] = wrapper[i];
    argv[n++] = ser2net_path();
    argv[n++] = "-n";
    argv[n++] = "-d";
    argv[n++] = "-u";
    /* ser2net deletes its pid file on exit: give it one of its own */
    snprintf(pidfile, sizeof pidfile, "%s/espdoctor-test-ser2net-%d-%u.pid",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(),
             port);
    argv[n++] = "-P";
    argv[n++] = pidfile;
    argv[n++] = "-Y";
    argv[n++] = yaml;
    argv[n] = NULL;
    bg_start(b, argv);
    wait_listening(port, b);
    return port;
}

/* A pty pair: ser2net gets the slave's path, the test is the device on the master. */
static const char *make_pty(void)
{
    static char name[64];
    /* posix_openpt, not openpty: <pty.h> would find espsim's tests/sim/pty.h first */
    pty_master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(pty_master, 0);
    cr_assert_eq(grantpt(pty_master), 0);
    cr_assert_eq(unlockpt(pty_master), 0);
    cr_assert_eq(ptsname_r(pty_master, name, sizeof name), 0);
    pty_slave = open(name, O_RDWR | O_NOCTTY);
    cr_assert_geq(pty_slave, 0);
    struct termios tio;
    tcgetattr(pty_slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(pty_slave, TCSANOW, &tio);
    return name;
}

static void master_read_exactly(uint8_t *buf, size_t n)
{
    size_t have = 0;
    while (have < n) {
        struct pollfd p = { .fd = pty_master, .events = POLLIN };
        cr_assert_gt(poll(&p, 1, 2000), 0, "the device got %zu of %zu bytes", have, n);
        ssize_t got = read(pty_master, buf + have, n - have);
        cr_assert_gt(got, 0);
        have += (size_t)got;
    }
}

static void tp_read_exactly(struct ed_transport *t, uint8_t *buf, size_t n)
{
    size_t have = 0;
    while (have < n) {
        size_t got;
        int rc = ed_tp_read(t, buf + have, n - have, &got, 2000);
        cr_assert_eq(rc, ED_OK, "%s after %zu of %zu bytes", ed_strerror(rc), have, n);
        have += got;
    }
}

/* Every byte value, both ways. */
static void exchange_all_bytes(struct ed_transport *t)
{
    uint8_t all[256], got[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)(255 - i);
    cr_assert_eq(ed_tp_write(t, all, sizeof all), ED_OK);
    master_read_exactly(got, sizeof got);
    cr_assert_arr_eq(got, all, sizeof all, "host to device");
    cr_assert_eq(write(pty_master, all, sizeof all), (ssize_t)sizeof all);
    tp_read_exactly(t, got, sizeof got);
    cr_assert_arr_eq(got, all, sizeof all, "device to host");
}

static speed_t pty_speed(void)
{
    struct termios tio;
    tcgetattr(pty_slave, &tio);
    return cfgetospeed(&tio);
}

Test(remote, socket_through_ser2net_carries_every_byte)
{
    const char *dev = make_pty();
    unsigned port = ser2net_start(&servers[0], "tcp", dev, NULL);
    struct ed_transport *t;
    int rc = ed_socket_open("127.0.0.1", port, 115200, &t);
    cr_assert_eq(rc, ED_OK, "%s: %s", ed_strerror(rc), servers[0].out);
    cr_assert_not(t->has_modem_lines);
    cr_assert_eq(ed_tp_set_lines(t, true, true), ED_E_UNSUPPORTED);
    exchange_all_bytes(t);
    ed_tp_close(t);
}

Test(remote, rfc2217_through_ser2net_sets_the_speed_and_purges)
{
    const char *dev = make_pty();
    unsigned port = ser2net_start(&servers[0], "telnet(rfc2217),tcp", dev, NULL);
    struct ed_transport *t;
    int rc = ed_rfc2217_open("127.0.0.1", port, 115200, &t);
    cr_assert_eq(rc, ED_OK, "%s: %s", ed_strerror(rc), servers[0].out);
    cr_assert_eq(t->baud, 115200);
    cr_assert_eq(pty_speed(), B115200);
    exchange_all_bytes(t);

    cr_assert_eq(ed_tp_set_baud(t, 230400), ED_OK);
    cr_assert_eq(t->baud, 230400);
    cr_assert_eq(pty_speed(), B230400, "ser2net set the device's speed");
    /* ser2net cannot change a pty's DTR/RTS; the request must still go through quietly. */
    cr_assert_eq(ed_tp_set_lines(t, false, true), ED_OK);
    cr_assert_eq(ed_tp_set_lines(t, false, false), ED_OK);

    const uint8_t stale[] = "stale boot log";
    cr_assert_eq(write(pty_master, stale, sizeof stale - 1), (ssize_t)sizeof stale - 1);
    usleep(100000);
    uint64_t t0 = ed_tp_now_us(t);
    cr_assert_eq(ed_tp_flush_input(t), ED_OK);
    cr_assert_lt(ed_tp_now_us(t) - t0, 400000u, "ser2net answers PURGE-DATA");
    const uint8_t fresh[] = { 0xc0, 0xff, 0x01, 0xc0 };
    cr_assert_eq(write(pty_master, fresh, sizeof fresh), (ssize_t)sizeof fresh);
    uint8_t got[sizeof fresh];
    tp_read_exactly(t, got, sizeof got);
    cr_assert_arr_eq(got, fresh, sizeof fresh, "only what came after the purge");
    ed_tp_close(t);
}

Test(remote, rfc2217_to_a_raw_tcp_server_is_explained)
{
    const char *dev = make_pty();
    unsigned port = ser2net_start(&servers[0], "tcp", dev, NULL);
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%u", port);
    const char *argv[] = { e2e_bin("espdoctor"), "info", "-p", url, NULL };
    e2e_run(&r, argv, 20);
    cr_assert_eq(r.status, 5, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "not as an RFC 2217 server") != NULL, "%s", r.err);
    char hint[64];
    snprintf(hint, sizeof hint, "use socket://127.0.0.1:%u", port);
    cr_assert(strstr(r.err, hint) != NULL, "%s", r.err);
}

/* ser2net sharing espsim's USB bridge: the board's /dev/ttyUSB0 exists only inside the
 * testbed, so ser2net runs there (espsim -- ser2net ...). */
static unsigned ser2net_in_front_of_espsim(const char *accepter, const char *const *board)
{
    const char *wrapper[16];
    size_t n = 0;
    wrapper[n++] = e2e_bin("espsim");
    for (size_t i = 0; board[i]; i++)
        wrapper[n++] = board[i];
    wrapper[n++] = "--";
    wrapper[n] = NULL;
    return ser2net_start(&servers[0], accepter, "/dev/ttyUSB0", wrapper);
}

Test(remote, info_through_ser2net_rfc2217_resets_the_board)
{
    const char *board[] = { "--chip", "esp32", "--mac", "24:0a:c4:aa:bb:23", "--fast", NULL };
    unsigned port = ser2net_in_front_of_espsim("telnet(rfc2217),tcp", board);
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%u", port);
    json_object *o = run_info(url);
    expect_identified(o, url, "ESP32", "24:0a:c4:aa:bb:23", true);
    json_object_put(o);
}

Test(remote, info_through_ser2net_socket_needs_the_boot_button)
{
    const char *board[] = { "--chip", "esp8266", "--mac", "5c:cf:7f:aa:bb:24", "--boot-held",
                            "--fast", NULL };
    unsigned port = ser2net_in_front_of_espsim("tcp", board);
    char url[64];
    snprintf(url, sizeof url, "socket://127.0.0.1:%u", port);
    json_object *o = run_info(url);
    expect_identified(o, url, "ESP8266", "5c:cf:7f:aa:bb:24", false);
    cr_assert(strstr(r.err, "socket:// has no DTR/RTS: espdoctor cannot reset the board; put "
                            "it in download mode by hand (hold BOOT, tap EN)") != NULL,
              "%s", r.err);
    json_object_put(o);
}
