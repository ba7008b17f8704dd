/* espsim end to end: its options, the USB records it builds, and that a real
 * libserialport client inside its testbed drives the board (DTR/RTS, baud, bytes).
 *
 * The client is this binary itself, started by espsim as
 * "test_espsim --espsim-client MODE ...", so that it runs under the testbed's preload. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <libudev.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "espdoctor/slip.h"

#define OUT_CAP 65536

/* ---- running espsim ------------------------------------------------------------------ */

struct result {
    int status;              /* exit status, 128 + signal if killed */
    char out[OUT_CAP];
    char err[OUT_CAP];
};

static const char *build_dir(void)
{
    const char *dir = getenv("ESPDOCTOR_BUILD");
    return dir && *dir ? dir : "build";
}

static void append(char *buf, size_t *len, int fd, bool *open)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) {
        *open = false;
        return;
    }
    size_t room = OUT_CAP - 1 - *len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(buf + *len, tmp, take);
    *len += take;
    buf[*len] = '\0';
}

/* Run build/espsim with args (NULL-terminated), collecting its output; killed after
 * limit_s seconds. */
static void run_espsim(struct result *r, const char *const *args, int limit_s)
{
    char espsim[4096];
    snprintf(espsim, sizeof espsim, "%s/espsim", build_dir());
    const char *argv[64] = { espsim };
    size_t argc = 1;
    for (; args[argc - 1] && argc < 63; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;

    int out[2], err[2];
    cr_assert(pipe(out) == 0 && pipe(err) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        /* Criterion's sandbox marks its workers with BXFI_MAP; the client this binary
         * becomes inside espsim must not look like one. */
        unsetenv("BXFI_MAP");
        execv(espsim, (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", espsim, strerror(errno));
        _exit(126);
    }
    close(out[1]);
    close(err[1]);
    r->out[0] = r->err[0] = '\0';
    size_t out_len = 0, err_len = 0;
    bool out_open = true, err_open = true;
    time_t deadline = time(NULL) + limit_s;
    while ((out_open || err_open) && time(NULL) < deadline) {
        struct pollfd fds[2] = { { out[0], out_open ? POLLIN : 0, 0 },
                                 { err[0], err_open ? POLLIN : 0, 0 } };
        if (poll(fds, 2, 200) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            append(r->out, &out_len, out[0], &out_open);
        if (fds[1].revents)
            append(r->err, &err_len, err[0], &err_open);
    }
    if (out_open || err_open)
        kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(out[0]);
    close(err[0]);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *self_exe(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    cr_assert(n > 0);
    path[n] = '\0';
    return path;
}

/* ---- the client, run inside the testbed -------------------------------------------- */

static int client_list(void)
{
    struct sp_port **ports;
    if (sp_list_ports(&ports) != SP_OK)
        return 1;
    for (int i = 0; ports[i]; i++) {
        int vid = 0, pid = 0;
        if (sp_get_port_transport(ports[i]) != SP_TRANSPORT_USB ||
            sp_get_port_usb_vid_pid(ports[i], &vid, &pid) != SP_OK)
            continue;
        const char *serial = sp_get_port_usb_serial(ports[i]);
        const char *maker = sp_get_port_usb_manufacturer(ports[i]);
        printf("port %s %04x:%04x serial=%s manufacturer=%s product=%s\n",
               sp_get_port_name(ports[i]), vid, pid, serial ? serial : "-",
               maker ? maker : "-", sp_get_port_usb_product(ports[i]));
    }
    sp_free_port_list(ports);

    struct udev *udev = udev_new();
    struct udev_enumerate *en = udev_enumerate_new(udev);
    udev_enumerate_add_match_subsystem(en, "tty");
    udev_enumerate_scan_devices(en);
    struct udev_list_entry *e;
    udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
        struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
        const char *keys[] = { "DEVNAME", "ID_VENDOR_ID", "ID_MODEL_ID", "ID_SERIAL_SHORT",
                               "ID_USB_DRIVER", "ID_BUS", "ID_PATH", "DEVLINKS" };
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const char *v = udev_device_get_property_value(d, keys[k]);
            printf("udev %s=%s\n", keys[k], v ? v : "-");
        }
        struct udev_device *iface =
            udev_device_get_parent_with_subsystem_devtype(d, "usb", "usb_interface");
        const char *driver = iface ? udev_device_get_driver(iface) : NULL;
        printf("udev interface-driver=%s\n", driver ? driver : "-");
        udev_device_unref(d);
    }
    udev_enumerate_unref(en);
    udev_unref(udev);
    return 0;
}

static struct sp_port *client_open(const char *name, int baud)
{
    struct sp_port *port;
    if (sp_get_port_by_name(name, &port) != SP_OK || sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
        fprintf(stderr, "client: cannot open %s: %s\n", name, sp_last_error_message());
        return NULL;
    }
    sp_set_baudrate(port, baud);
    sp_set_bits(port, 8);
    sp_set_parity(port, SP_PARITY_NONE);
    sp_set_stopbits(port, 1);
    sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE);
    return port;
}

/* The classic auto-reset sequence into the bootloader, one line per ioctl (TIOCMBIS/BIC).
 * Between "DTR on" and "RTS off" both lines are briefly released: only the EN delay keeps
 * the chip in reset meanwhile, as on a real board. */
static void classic_reset(struct sp_port *port)
{
    sp_set_dtr(port, SP_DTR_OFF);
    sp_set_rts(port, SP_RTS_ON);
    usleep(100 * 1000);
    sp_set_dtr(port, SP_DTR_ON);
    sp_set_rts(port, SP_RTS_OFF);
    usleep(50 * 1000);
    sp_set_dtr(port, SP_DTR_OFF);
}

static void set_lines(struct sp_port *port, bool dtr, bool rts)
{
    int fd;
    sp_get_port_handle(port, &fd);
    int bits = (dtr ? TIOCM_DTR : 0) | (rts ? TIOCM_RTS : 0);
    ioctl(fd, TIOCMSET, &bits);
}

/* The same with both lines changed at once (TIOCMSET): no timing window. */
static void tight_reset(struct sp_port *port)
{
    set_lines(port, false, true);
    usleep(100 * 1000);
    set_lines(port, true, false);
    usleep(50 * 1000);
    set_lines(port, false, false);
}

static void reset_into_bootloader(struct sp_port *port, const char *style)
{
    if (strcmp(style, "classic") == 0)
        classic_reset(port);
    else
        tight_reset(port);
}

static size_t read_for(struct sp_port *port, uint8_t *buf, size_t cap, unsigned ms)
{
    size_t got = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        int n = sp_blocking_read(port, buf + got, cap - got, 50);
        if (n > 0)
            got += (size_t)n;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (got < cap && (now.tv_sec - start.tv_sec) * 1000 +
                              (now.tv_nsec - start.tv_nsec) / 1000000 < (long)ms);
    return got;
}

/* Reset into the bootloader at baud and print whatever the board says. */
static int client_banner(const char *name, int baud, const char *style)
{
    struct sp_port *port = client_open(name, baud);
    if (!port)
        return 1;
    reset_into_bootloader(port, style);
    uint8_t buf[4096];
    size_t n = read_for(port, buf, sizeof buf, 700);
    fwrite(buf, 1, n, stdout);
    sp_close(port);
    sp_free_port(port);
    return 0;
}

static void send_command(struct sp_port *port, uint8_t op, const uint8_t *data, uint16_t len,
                         const uint8_t checksum[4])
{
    uint8_t frame[64] = { 0x00, op, (uint8_t)len, (uint8_t)(len >> 8) };
    memcpy(frame + 4, checksum, 4);
    memcpy(frame + 8, data, len);
    uint8_t enc[ED_SLIP_ENCODED_MAX(64)];
    size_t n = ed_slip_encode(frame, 8u + len, enc);
    sp_blocking_write(port, enc, n, 1000);
}

/* The first reply frame to op within ms; its value in *value. */
static bool await_reply(struct sp_port *port, uint8_t op, uint32_t *value, unsigned ms)
{
    static struct ed_slip_decoder dec;
    ed_slip_reset(&dec);
    uint8_t buf[512];
    for (unsigned waited = 0; waited < ms; waited += 50) {
        int n = sp_blocking_read(port, buf, sizeof buf, 50);
        for (int i = 0; i < n; i++) {
            if (ed_slip_feed(&dec, buf[i]) != ED_SLIP_FRAME || dec.len < 8 ||
                dec.frame[0] != 0x01 || dec.frame[1] != op)
                continue;
            *value = (uint32_t)dec.frame[4] | (uint32_t)dec.frame[5] << 8 |
                     (uint32_t)dec.frame[6] << 16 | (uint32_t)dec.frame[7] << 24;
            return true;
        }
    }
    return false;
}

/* Reset, SYNC, then read two registers with checksum fields full of bytes a cooked tty
 * would mangle (CR, LF, XON, XOFF, ^C); print the values. */
static int client_regs(const char *name, uint32_t reg_a, uint32_t reg_b)
{
    struct sp_port *port = client_open(name, 115200);
    if (!port)
        return 1;
    tight_reset(port);
    usleep(100 * 1000);
    sp_flush(port, SP_BUF_INPUT);

    uint8_t sync[36] = { 0x07, 0x07, 0x12, 0x20 };
    memset(sync + 4, 0x55, 32);
    const uint8_t no_checksum[4] = { 0 };
    uint32_t value = 0;
    bool synced = false;
    for (int attempt = 0; attempt < 5 && !synced; attempt++) {
        send_command(port, 0x08, sync, sizeof sync, no_checksum);
        synced = await_reply(port, 0x08, &value, 200);
    }
    printf("sync %s\n", synced ? "ok" : "failed");
    if (!synced)
        return 1;
    usleep(100 * 1000);
    sp_flush(port, SP_BUF_INPUT);

    const uint8_t awkward[2][4] = { { 0x0D, 0x0A, 0x11, 0x13 }, { 0x03, 0x13, 0x0A, 0x0D } };
    const uint32_t regs[2] = { reg_a, reg_b };
    for (int i = 0; i < 2; i++) {
        uint8_t addr[4] = { (uint8_t)regs[i], (uint8_t)(regs[i] >> 8),
                            (uint8_t)(regs[i] >> 16), (uint8_t)(regs[i] >> 24) };
        send_command(port, 0x0A, addr, 4, awkward[i]);
        if (!await_reply(port, 0x0A, &value, 1000)) {
            printf("reg %08x no reply\n", regs[i]);
            return 1;
        }
        printf("reg %08x = %08x\n", regs[i], value);
    }
    sp_close(port);
    sp_free_port(port);
    return 0;
}

static int client_main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 1 && strcmp(argv[0], "list") == 0)
        return client_list();
    if (argc >= 4 && strcmp(argv[0], "banner") == 0)
        return client_banner(argv[1], atoi(argv[2]), argv[3]);
    if (argc >= 4 && strcmp(argv[0], "regs") == 0)
        return client_regs(argv[1], (uint32_t)strtoul(argv[2], NULL, 16),
                           (uint32_t)strtoul(argv[3], NULL, 16));
    fprintf(stderr, "client: unknown mode\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--espsim-client") == 0)
        return client_main(argc - 2, argv + 2);
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}

/* ---- options ------------------------------------------------------------------------ */

static struct result r;

Test(espsim_options, help_prints_usage)
{
    run_espsim(&r, (const char *[]){ "--help", NULL }, 10);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "Usage: espsim") && strstr(r.out, "--rfc2217"), "%s", r.out);
}

Test(espsim_options, unknown_bridge_is_a_usage_error)
{
    run_espsim(&r, (const char *[]){ "--bridge", "pl2303", "--", "true", NULL }, 10);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown bridge \"pl2303\"") && strstr(r.err, "cp2102"), "%s",
              r.err);
}

Test(espsim_options, bad_values_are_usage_errors)
{
    const char *bad[][2] = { { "--flash-size", "3MB" }, { "--mac", "24:0A:C4" },
                             { "--chip", "esp31" }, { "--en-delay", "soon" },
                             { "--rfc2217", "70000" }, { "--usb-latency", "-5" },
                             { "--press-boot-at", "soon" }, { "--press-boot-at", "4000:" },
                             { "--press-boot-at", "4000:70000" }, { "--plug-at", "soon" } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_espsim(&r, (const char *[]){ bad[i][0], bad[i][1], "--", "true", NULL }, 10);
        cr_expect_eq(r.status, 2, "%s %s gave %d", bad[i][0], bad[i][1], r.status);
        cr_expect(strstr(r.err, bad[i][1]) != NULL, "the message names the value: %s", r.err);
    }
}

Test(espsim_options, unknown_option_and_nothing_to_do)
{
    run_espsim(&r, (const char *[]){ "--frobnicate", "--", "true", NULL }, 10);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--frobnicate") != NULL, "%s", r.err);
    run_espsim(&r, (const char *[]){ "--fast", NULL }, 10);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "nothing to do") != NULL, "%s", r.err);
}

Test(espsim_options, usb_jtag_needs_a_chip_that_has_it)
{
    run_espsim(&r, (const char *[]){ "--bridge", "usb-jtag", "--chip", "esp32", "--", "true",
                                     NULL }, 10);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "esp32 has none") != NULL, "%s", r.err);
}

Test(espsim_options, press_boot_at_needs_a_board_with_the_buttons)
{
    run_espsim(&r, (const char *[]){ "--bridge", "usb-jtag", "--press-boot-at", "1000", "--",
                                     "true", NULL }, 10);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--press-boot-at") != NULL, "%s", r.err);
    run_espsim(&r, (const char *[]){ "--fast", "--no-autoreset", "--press-boot-at", "1000:800",
                                     "--", "true", NULL }, 10);
    cr_assert_eq(r.status, 0, "%s", r.err);
}

Test(espsim_options, plug_at_is_not_for_usb_otg)
{
    run_espsim(&r, (const char *[]){ "--bridge", "usb-otg", "--plug-at", "100", "--", "true",
                                     NULL }, 10);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--plug-at is not modelled on --bridge usb-otg") != NULL, "%s",
              r.err);
}

Test(espsim_options, sizes_in_every_spelling)
{
    const char *sizes[] = { "4MB", "16M", "2MiB", "4194304", "512K" };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        run_espsim(&r, (const char *[]){ "--fast", "--flash-size", sizes[i], "--", "true",
                                         NULL }, 10);
        cr_expect_eq(r.status, 0, "--flash-size %s: %s", sizes[i], r.err);
    }
}

Test(espsim_options, exit_status_is_the_commands)
{
    run_espsim(&r, (const char *[]){ "--fast", "--", "sh", "-c", "exit 7", NULL }, 10);
    cr_expect_eq(r.status, 7);
    run_espsim(&r, (const char *[]){ "--fast", "--", "sh", "-c", "kill -TERM $$", NULL }, 10);
    cr_expect_eq(r.status, 128 + SIGTERM);
    run_espsim(&r, (const char *[]){ "--fast", "--", "/nonexistent/command", NULL }, 10);
    cr_expect_eq(r.status, 127);
    cr_expect(strstr(r.err, "cannot run /nonexistent/command") != NULL, "%s", r.err);
}

/* ---- the USB records, as libserialport and libudev read them ---------------------- */

struct bridge_case {
    const char *bridge, *port, *line, *driver, *by_id;
};

static void check_bridge(const struct bridge_case *c)
{
    run_espsim(&r, (const char *[]){ "--fast", "--bridge", c->bridge, "--mac",
                                     "24:0A:C4:12:34:56", "--chip",
                                     strcmp(c->bridge, "usb-jtag") == 0 ? "esp32c3" : "esp32",
                                     "--", self_exe(), "--espsim-client", "list", NULL }, 15);
    cr_assert_eq(r.status, 0, "status %d, out: %s\nerr: %s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, c->line) != NULL, "expected \"%s\" in:\n%s", c->line, r.out);
    char want[256];
    snprintf(want, sizeof want, "udev DEVNAME=%s\n", c->port);
    cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
    snprintf(want, sizeof want, "udev ID_USB_DRIVER=%s\n", c->driver);
    cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
    snprintf(want, sizeof want, "udev interface-driver=%s\n", c->driver);
    cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "udev ID_BUS=usb\n") != NULL, "%s", r.out);
    snprintf(want, sizeof want, "DEVLINKS=/dev/serial/by-id/%s ", c->by_id);
    cr_expect(strstr(r.out, want) != NULL, "expected \"%s\" in:\n%s", want, r.out);
}

Test(espsim_usb, cp2102)
{
    check_bridge(&(struct bridge_case){ "cp2102", "/dev/ttyUSB0",
        "port /dev/ttyUSB0 10c4:ea60 serial=0001 manufacturer=Silicon Labs "
        "product=CP2102 USB to UART Bridge Controller", "cp210x",
        "usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_0001-if00-port0" });
}

Test(espsim_usb, ch340)
{
    check_bridge(&(struct bridge_case){ "ch340", "/dev/ttyUSB0",
        "port /dev/ttyUSB0 1a86:7523 serial=- manufacturer=- product=USB Serial", "ch341",
        "usb-1a86_USB_Serial-if00-port0" });
}

Test(espsim_usb, ftdi)
{
    check_bridge(&(struct bridge_case){ "ftdi", "/dev/ttyUSB0",
        "port /dev/ttyUSB0 0403:6001 serial=A50285BI manufacturer=FTDI "
        "product=FT232R USB UART", "ftdi_sio", "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0" });
}

Test(espsim_usb, usb_jtag_serial_is_the_mac)
{
    check_bridge(&(struct bridge_case){ "usb-jtag", "/dev/ttyACM0",
        "port /dev/ttyACM0 303a:1001 serial=24:0A:C4:12:34:56 manufacturer=Espressif "
        "product=USB JTAG/serial debug unit", "cdc_acm",
        "usb-Espressif_USB_JTAG_serial_debug_unit_24:0A:C4:12:34:56-if00" });
}

/* ---- the board, driven through the testbed's tty ---------------------------------- */

Test(espsim_board, reset_sequence_enters_download_mode, .timeout = 30)
{
    char trace[] = "/tmp/espsim-trace-XXXXXX";
    int fd = mkstemp(trace);
    cr_assert(fd >= 0);
    close(fd);
    /* A 30 ms EN delay (a bigger capacitor) covers the gap between the classic sequence's
     * separate ioctls even on a loaded machine. */
    run_espsim(&r, (const char *[]){ "--fast", "--en-delay", "30", "--trace", trace, "--",
                                     self_exe(), "--espsim-client", "banner", "/dev/ttyUSB0",
                                     "115200", "classic", NULL }, 20);
    cr_assert_eq(r.status, 0, "status %d\nout: %s\nerr: %s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "boot:0x3 (DOWNLOAD_BOOT") != NULL, "banner: %s", r.out);
    cr_expect(strstr(r.out, "waiting for download") != NULL, "banner: %s", r.out);

    FILE *f = fopen(trace, "r");
    cr_assert(f);
    static char text[OUT_CAP];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(trace);
    cr_expect(strstr(text, "host: /dev/ttyUSB0 opened") != NULL, "%s", text);
    cr_expect(strstr(text, "host: DTR=0 RTS=1") != NULL, "%s", text);
    cr_expect(strstr(text, "host: DTR=1 RTS=0") != NULL, "%s", text);
    cr_expect(strstr(text, "host: baud 115200") != NULL, "%s", text);
    cr_expect(strstr(text, "host: /dev/ttyUSB0 closed") != NULL, "%s", text);
}

Test(espsim_board, no_autoreset_means_no_download_mode, .timeout = 30)
{
    run_espsim(&r, (const char *[]){ "--fast", "--no-autoreset", "--", self_exe(),
                                     "--espsim-client", "banner", "/dev/ttyUSB0", "115200",
                                     "tight", NULL }, 20);
    cr_assert_eq(r.status, 0, "status %d\nout: %s\nerr: %s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "waiting for download") == NULL, "banner: %s", r.out);
}

Test(espsim_board, usb_jtag_port_is_ttyACM0, .timeout = 30)
{
    run_espsim(&r, (const char *[]){ "--fast", "--bridge", "usb-jtag", "--", self_exe(),
                                     "--espsim-client", "banner", "/dev/ttyACM0", "115200",
                                     "tight", NULL }, 20);
    cr_assert_eq(r.status, 0, "status %d\nout: %s\nerr: %s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "waiting for download") != NULL, "banner: %s", r.out);
}

Test(espsim_board, bytes_pass_untouched_both_ways, .timeout = 30)
{
    /* The MAC puts CR, LF, XON, XOFF and ^C into the register values the chip sends. */
    run_espsim(&r, (const char *[]){ "--fast", "--mac", "03:0A:C4:0D:11:13", "--", self_exe(),
                                     "--espsim-client", "regs", "/dev/ttyUSB0", "3ff5a004",
                                     "3ff5a008", NULL }, 20);
    cr_assert_eq(r.status, 0, "out: %s\nerr: %s", r.out, r.err);
    cr_expect(strstr(r.out, "sync ok") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "reg 3ff5a004 = c40d1113") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "reg 3ff5a008 = 0000030a") != NULL, "%s", r.out);
}

Test(espsim_board, esp8266_banner_needs_74880, .timeout = 30)
{
    run_espsim(&r, (const char *[]){ "--fast", "--chip", "esp8266", "--", self_exe(),
                                     "--espsim-client", "banner", "/dev/ttyUSB0", "74880",
                                     "tight", NULL }, 20);
    cr_assert_eq(r.status, 0, "status %d\nout: %s\nerr: %s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "boot mode:(1,") != NULL, "banner at 74880: %s", r.out);

    run_espsim(&r, (const char *[]){ "--fast", "--chip", "esp8266", "--", self_exe(),
                                     "--espsim-client", "banner", "/dev/ttyUSB0", "115200",
                                     "tight", NULL }, 20);
    cr_assert_eq(r.status, 0, "status %d\nout: %s\nerr: %s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "boot mode:") == NULL, "banner at 115200 must be garbage: %s",
              r.out);
}
