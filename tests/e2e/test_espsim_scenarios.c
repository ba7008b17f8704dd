/* espsim's scenarios, as a client inside the testbed sees them: driver states, node
 * permissions, the planted system root, firmware variants, the non-ESP device, --stats.
 *
 * The client is this binary itself ("test_espsim_scenarios --espsim-client MODE ..."),
 * started by espsim through `env -u BXFI_MAP` so that it does not take itself for one of
 * Criterion's workers. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json.h>
#include <libserialport.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "espdoctor/slip.h"
#include "e2e_run.h"

/* ---- the client, run inside the testbed -------------------------------------------- */

static const char *value_or_dash(const char *v)
{
    return v && *v ? v : "-";
}

/* The bridge's USB device, its first interface and every tty, as libudev reads them. */
static int client_udev(void)
{
    struct udev *udev = udev_new();
    struct udev_enumerate *en = udev_enumerate_new(udev);
    udev_enumerate_add_match_subsystem(en, "usb");
    udev_enumerate_add_match_property(en, "DEVTYPE", "usb_device");
    udev_enumerate_scan_devices(en);
    struct udev_list_entry *e;
    udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
        struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
        const char *vid = udev_device_get_sysattr_value(d, "idVendor");
        if (vid && strcmp(vid, "1d6b") != 0) {
            printf("usb %s:%s serial=%s power=%s mm=%s node=%s\n", vid,
                   udev_device_get_sysattr_value(d, "idProduct"),
                   value_or_dash(udev_device_get_sysattr_value(d, "serial")),
                   value_or_dash(udev_device_get_sysattr_value(d, "power/control")),
                   value_or_dash(udev_device_get_property_value(d, "ID_MM_DEVICE_IGNORE")),
                   value_or_dash(udev_device_get_devnode(d)));
            char path[1024];
            snprintf(path, sizeof path, "%s/%s:1.0", udev_device_get_syspath(d),
                     udev_device_get_sysname(d));
            struct udev_device *intf = udev_device_new_from_syspath(udev, path);
            if (intf) {
                printf("iface driver=%s modalias=%s\n",
                       value_or_dash(udev_device_get_driver(intf)),
                       value_or_dash(udev_device_get_sysattr_value(intf, "modalias")));
                udev_device_unref(intf);
            }
        }
        udev_device_unref(d);
    }
    udev_enumerate_unref(en);

    en = udev_enumerate_new(udev);
    udev_enumerate_add_match_subsystem(en, "tty");
    udev_enumerate_scan_devices(en);
    int ttys = 0;
    udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
        struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
        printf("tty %s mm=%s\n", value_or_dash(udev_device_get_property_value(d, "DEVNAME")),
               value_or_dash(udev_device_get_property_value(d, "ID_MM_DEVICE_IGNORE")));
        ttys++;
        udev_device_unref(d);
    }
    printf("ttys %d\n", ttys);
    udev_enumerate_unref(en);
    udev_unref(udev);
    return 0;
}

static int client_stat(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("stat %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("mode=%04o uid=%u gid=%u rdev=%u:%u\n", (unsigned)(st.st_mode & 07777),
           (unsigned)st.st_uid, (unsigned)st.st_gid, major(st.st_rdev), minor(st.st_rdev));
    return 0;
}

/* Open path as uid (with gid as its only group), in a child that drops privileges; without
 * them (an ordinary user) only as itself. */
static int client_open_as(uid_t uid, gid_t gid, const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        bool as_self = uid == getuid() && gid == getgid();
        if (!as_self && (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
                         setresuid(uid, uid, uid) != 0)) {
            printf("cannot drop privileges: %s\n", strerror(errno));
            _exit(2);
        }
        int fd = open(path, O_RDWR | O_NOCTTY);
        if (fd < 0)
            printf("open %s\n", errno == EACCES ? "EACCES" : strerror(errno));
        else
            printf("open ok\n");
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static struct sp_port *client_port(const char *name, int baud)
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

/* Print what arrives within ms (NUL bytes as '?', so the text stays searchable). */
static void print_for(struct sp_port *port, unsigned ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long spent = 0;
    while (spent < (long)ms) {
        char buf[4096];
        int n = sp_blocking_read(port, buf, sizeof buf, 50);
        for (int i = 0; i < n; i++)
            putchar(buf[i] ? buf[i] : '?');
        clock_gettime(CLOCK_MONOTONIC, &now);
        spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    }
}

/* Hard reset (EN pulse with GPIO0 high: normal boot), then the board's output. */
static int client_boot(const char *name, int baud, unsigned ms)
{
    struct sp_port *port = client_port(name, baud);
    if (!port)
        return 1;
    sp_set_dtr(port, SP_DTR_OFF);
    sp_set_rts(port, SP_RTS_ON);
    usleep(100 * 1000);
    sp_set_rts(port, SP_RTS_OFF);
    print_for(port, ms);
    sp_close(port);
    sp_free_port(port);
    return 0;
}

static int client_listen(const char *name, int baud, unsigned ms)
{
    struct sp_port *port = client_port(name, baud);
    if (!port)
        return 1;
    /* What arrived before our line speed took effect was read at the old one, as a real
     * UART would: drop it, as espdoctor does after setting the speed. */
    usleep(100 * 1000);
    sp_flush(port, SP_BUF_INPUT);
    print_for(port, ms);
    sp_close(port);
    sp_free_port(port);
    return 0;
}

static void send_frame(struct sp_port *port, uint8_t op, const uint8_t *data, uint16_t len)
{
    uint8_t frame[64] = { 0x00, op, (uint8_t)len, (uint8_t)(len >> 8) };
    memcpy(frame + 8, data, len);
    uint8_t enc[ED_SLIP_ENCODED_MAX(64)];
    size_t n = ed_slip_encode(frame, 8u + len, enc);
    sp_blocking_write(port, enc, n, 1000);
}

static bool await_reply(struct sp_port *port, uint8_t op, unsigned ms)
{
    static struct ed_slip_decoder dec;
    ed_slip_reset(&dec);
    uint8_t buf[512];
    for (unsigned waited = 0; waited < ms; waited += 50) {
        int n = sp_blocking_read(port, buf, sizeof buf, 50);
        for (int i = 0; i < n; i++)
            if (ed_slip_feed(&dec, buf[i]) == ED_SLIP_FRAME && dec.len >= 8 &&
                dec.frame[0] == 0x01 && dec.frame[1] == op)
                return true;
    }
    return false;
}

/* A short protocol session: reset into the bootloader, SYNC, one register read. */
static int client_sync(const char *name)
{
    struct sp_port *port = client_port(name, 115200);
    if (!port)
        return 1;
    int bits[] = { TIOCM_RTS, TIOCM_DTR, 0 };
    int fd;
    sp_get_port_handle(port, &fd);
    ioctl(fd, TIOCMSET, &bits[0]);
    usleep(100 * 1000);
    ioctl(fd, TIOCMSET, &bits[1]);
    usleep(50 * 1000);
    ioctl(fd, TIOCMSET, &bits[2]);
    usleep(100 * 1000);
    sp_flush(port, SP_BUF_INPUT);
    uint8_t sync[36] = { 0x07, 0x07, 0x12, 0x20 };
    memset(sync + 4, 0x55, 32);
    bool synced = false;
    for (int i = 0; i < 5 && !synced; i++) {
        send_frame(port, 0x08, sync, sizeof sync);
        synced = await_reply(port, 0x08, 200);
    }
    usleep(50 * 1000);
    sp_flush(port, SP_BUF_INPUT);
    const uint8_t reg[4] = { 0x04, 0xA0, 0xF5, 0x3F };
    send_frame(port, 0x0A, reg, 4);
    bool read = synced && await_reply(port, 0x0A, 1000);
    printf("sync %s, read_reg %s\n", synced ? "ok" : "failed", read ? "ok" : "failed");
    sp_close(port);
    sp_free_port(port);
    return synced && read ? 0 : 1;
}

static int client_main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 1 && strcmp(argv[0], "udev") == 0)
        return client_udev();
    if (argc >= 2 && strcmp(argv[0], "stat") == 0)
        return client_stat(argv[1]);
    if (argc >= 4 && strcmp(argv[0], "open-as") == 0)
        return client_open_as((uid_t)atoi(argv[1]), (gid_t)atoi(argv[2]), argv[3]);
    if (argc >= 4 && strcmp(argv[0], "boot") == 0)
        return client_boot(argv[1], atoi(argv[2]), (unsigned)atoi(argv[3]));
    if (argc >= 4 && strcmp(argv[0], "listen") == 0)
        return client_listen(argv[1], atoi(argv[2]), (unsigned)atoi(argv[3]));
    if (argc >= 2 && strcmp(argv[0], "sync") == 0)
        return client_sync(argv[1]);
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

/* ---- running espsim ------------------------------------------------------------------ */

static struct e2e_result r;

static const char *self_exe(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    cr_assert(n > 0);
    path[n] = '\0';
    return path;
}

#define MAX_ARGS 48

/* espsim OPTIONS... -- COMMAND... (two NULL-terminated lists); limit in seconds. */
static void espsim(const char *const *opts, const char *const *command, int limit_s)
{
    const char *argv[MAX_ARGS];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; opts[i] && n < MAX_ARGS - 2; i++)
        argv[n++] = opts[i];
    argv[n++] = "--";
    for (size_t i = 0; command[i] && n < MAX_ARGS - 1; i++)
        argv[n++] = command[i];
    argv[n] = NULL;
    e2e_run(&r, argv, limit_s);
}

/* espsim OPTIONS... -- env -u BXFI_MAP <this binary> --espsim-client ARGS... */
static void espsim_client(const char *const *opts, const char *const *client_args, int limit_s)
{
    const char *command[16] = { "env", "-u", "BXFI_MAP", self_exe(), "--espsim-client" };
    size_t n = 5;
    for (size_t i = 0; client_args[i] && n < 15; i++)
        command[n++] = client_args[i];
    command[n] = NULL;
    espsim(opts, command, limit_s);
}

#define OPTS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define CLIENT(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_out(const char *want)
{
    cr_expect(strstr(r.out, want) != NULL, "expected \"%s\" in:\n%s\nstderr: %s", want, r.out,
              r.err);
}

static void expect_not_out(const char *unwanted)
{
    cr_expect(strstr(r.out, unwanted) == NULL, "did not expect \"%s\" in:\n%s", unwanted,
              r.out);
}

/* ---- option errors ------------------------------------------------------------------- */

Test(scenario_options, bad_values_are_usage_errors)
{
    const char *bad[][2] = { { "--driver", "gone" }, { "--firmware", "tasmota" },
                             { "--node-mode", "rw-rw----" }, { "--node-group", "no-such-grp" },
                             { "--node-owner", "no-such-user" }, { "--uucp-lock", "maybe" },
                             { "--group-member", "dialout" }, { "--chip", "esp31" } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        espsim(OPTS(bad[i][0], bad[i][1]), CLIENT("true"), 10);
        cr_expect_eq(r.status, 2, "%s %s gave %d", bad[i][0], bad[i][1], r.status);
        cr_expect(strstr(r.err, bad[i][1]) != NULL, "the message names the value: %s", r.err);
    }
}

Test(scenario_options, combinations_that_make_no_sense)
{
    espsim(OPTS("--real-proc", "--brltty"), CLIENT("true"), 10);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--real-proc") != NULL, "%s", r.err);
    espsim(OPTS("--driver", "none", "--node-mode", "0660"), CLIENT("true"), 10);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "there is none") != NULL, "%s", r.err);
    espsim(OPTS("--chip", "none", "--firmware", "app"), CLIENT("true"), 10);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--firmware app") != NULL, "%s", r.err);
}

Test(scenario_options, help_names_every_scenario_option)
{
    espsim(OPTS("--help"), CLIENT("true"), 10);
    cr_assert_eq(r.status, 0);
    const char *names[] = { "--driver", "--node-mode", "--node-group", "--node-owner",
                            "--sysroot", "--real-proc", "--brltty", "--modemmanager",
                            "--mm-ignore", "--uucp-lock", "--group-member", "--autosuspend",
                            "--firmware", "--stats", "none:" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_expect(strstr(r.out, names[i]) != NULL, "%s missing from --help", names[i]);
}

/* ---- the USB side ------------------------------------------------------------------- */

Test(scenario_usb, bound_bridge_defaults)
{
    espsim_client(OPTS("--fast"), CLIENT("udev"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("usb 10c4:ea60 serial=0001 power=on mm=- node=/dev/bus/usb/001/002\n");
    expect_out("iface driver=cp210x modalias=usb:v10C4pEA60d0100dc00dsc00dp00icFFisc00ip00in00\n");
    expect_out("tty /dev/ttyUSB0 mm=-\n");
    expect_out("ttys 1\n");
}

Test(scenario_usb, driver_none_has_the_device_but_no_driver_and_no_tty)
{
    espsim_client(OPTS("--fast", "--driver", "none", "--bridge", "ftdi"), CLIENT("udev"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("usb 0403:6001 serial=A50285BI");
    expect_out("iface driver=- modalias=usb:v0403p6001d0600dc00dsc00dp00icFFiscFFipFFin00\n");
    expect_out("ttys 0\n");
}

Test(scenario_usb, driver_usbfs_claims_the_interface)
{
    espsim_client(OPTS("--fast", "--driver", "usbfs", "--bridge", "ch340"), CLIENT("udev"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("usb 1a86:7523 serial=-");
    expect_out("iface driver=usbfs modalias=usb:v1A86p7523d0264dcFFdsc00dp00icFFisc01ip02in00\n");
    expect_out("ttys 0\n");
}

Test(scenario_usb, autosuspend_and_modemmanager_tag)
{
    espsim_client(OPTS("--fast", "--autosuspend", "--mm-ignore"), CLIENT("udev"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("power=auto mm=1 ");
    expect_out("tty /dev/ttyUSB0 mm=1\n");
}

Test(scenario_usb, usb_jtag_serial_is_the_chips_own_mac)
{
    espsim_client(OPTS("--fast", "--bridge", "usb-jtag"), CLIENT("udev"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("usb 303a:1001 serial=58:CF:79:12:34:56 ");   /* the ESP32-C3's default */
    expect_out("tty /dev/ttyACM0 ");
}

/* ---- the node's permissions ------------------------------------------------------------ */

/* Root gives the node to anyone; an ordinary user, to itself and its own group. */
Test(scenario_node, stat_shows_the_given_owner_group_and_mode)
{
    char owner[16], group[16], want[96];
    snprintf(owner, sizeof owner, "%u", geteuid() == 0 ? 0u : (unsigned)getuid());
    snprintf(group, sizeof group, "%u", geteuid() == 0 ? 20u : (unsigned)getgid());
    espsim_client(OPTS("--fast", "--node-mode", "0660", "--node-group", group, "--node-owner",
                       owner), CLIENT("stat", "/dev/ttyUSB0"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    snprintf(want, sizeof want, "mode=0660 uid=%s gid=%s rdev=188:0\n", owner, group);
    expect_out(want);
}

/* The mode is enforced on open, for real. As root: nobody, outside group 20, is refused and,
 * in it, gets in. An ordinary user has no one else to be: its own node refuses it under
 * 0060 and lets it in under 0600. */
Test(scenario_node, the_nodes_mode_is_enforced_on_open)
{
    bool root = geteuid() == 0;
    char uid[16], gid[16], in_gid[16];
    snprintf(uid, sizeof uid, "%u", root ? 65534u : (unsigned)getuid());
    snprintf(gid, sizeof gid, "%u", root ? 65534u : (unsigned)getgid());
    snprintf(in_gid, sizeof in_gid, "%s", root ? "20" : gid);
    espsim_client(OPTS("--fast", "--node-mode", root ? "0660" : "0060", "--node-group",
                       root ? "20" : gid), CLIENT("open-as", uid, gid, "/dev/ttyUSB0"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("open EACCES\n");
    espsim_client(OPTS("--fast", "--node-mode", root ? "0660" : "0600", "--node-group",
                       root ? "20" : gid), CLIENT("open-as", uid, in_gid, "/dev/ttyUSB0"), 15);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("open ok\n");
}

/* ---- the planted system root --------------------------------------------------------- */

static void in_sysroot(const char *const *opts, const char *script)
{
    espsim(opts, CLIENT("sh", "-c", script), 15);
    cr_assert_eq(r.status, 0, "status %d\n%s\n%s", r.status, r.out, r.err);
}

Test(scenario_sysroot, modules_alias_lacks_the_module_only_when_it_is_missing)
{
    const char *script = "grep -c ' cp210x$' \"$ESPDOCTOR_SYSROOT/lib/modules/$(uname -r)/"
                         "modules.alias\" || true; grep -c ' ch341$' \"$ESPDOCTOR_SYSROOT/lib/"
                         "modules/$(uname -r)/modules.alias\"";
    in_sysroot(OPTS("--fast", "--driver", "none"), script);
    cr_expect(strncmp(r.out, "0\n", 2) == 0, "cp210x must be missing: %s", r.out);
    in_sysroot(OPTS("--fast", "--driver", "unbound"), script);
    cr_expect(strncmp(r.out, "0\n", 2) != 0, "cp210x must be there: %s", r.out);
    espsim_client(OPTS("--fast", "--driver", "unbound"), CLIENT("udev"), 15);
    expect_out("iface driver=- ");
    expect_out("ttys 0\n");
}

Test(scenario_sysroot, brltty_runs_matches_and_holds_the_device)
{
    in_sysroot(OPTS("--fast", "--bridge", "ch340", "--driver", "usbfs", "--brltty"),
               "cat $ESPDOCTOR_SYSROOT/proc/4242/comm; "
               "grep -h PRODUCT $ESPDOCTOR_SYSROOT/usr/lib/udev/rules.d/85-brltty.rules; "
               "readlink $ESPDOCTOR_SYSROOT/proc/4242/fd/7");
    expect_out("brltty\n");
    expect_out("ENV{PRODUCT}==\"1a86/7523/*\", ENV{BRLTTY_BRAILLE_DRIVER}=\"bm\"");
    expect_out("/dev/bus/usb/001/002\n");
}

Test(scenario_sysroot, modemmanager_runs)
{
    in_sysroot(OPTS("--fast", "--modemmanager"), "cat $ESPDOCTOR_SYSROOT/proc/4343/comm");
    cr_expect_str_eq(r.out, "ModemManager\n");
}

Test(scenario_sysroot, uucp_lock_live_and_stale)
{
    const char *script = "f=$ESPDOCTOR_SYSROOT/var/lock/LCK..ttyUSB0; od -c $f | head -1; "
                         "pid=$(tr -d ' \\n' < $f); if kill -0 $pid 2>/dev/null; then echo alive; "
                         "else echo dead; fi; cat $ESPDOCTOR_SYSROOT/proc/$pid/comm "
                         "2>/dev/null || echo no-process";
    in_sysroot(OPTS("--fast", "--uucp-lock", "live"), script);
    expect_out("alive\nminicom\n");
    in_sysroot(OPTS("--fast", "--uucp-lock", "stale"), script);
    expect_out("dead\nno-process\n");
    /* Ten characters, right-aligned, and a newline. */
    in_sysroot(OPTS("--fast", "--uucp-lock", "stale"),
               "wc -c < $ESPDOCTOR_SYSROOT/var/lock/LCK..ttyUSB0");
    cr_expect_str_eq(r.out, "11\n");
}

Test(scenario_sysroot, group_member_is_added_to_the_planted_group_file)
{
    in_sysroot(OPTS("--fast", "--group-member", "dialout:nobody"),
               "grep '^dialout:' $ESPDOCTOR_SYSROOT/etc/group; "
               "cmp /etc/passwd $ESPDOCTOR_SYSROOT/etc/passwd && echo same-passwd");
    cr_expect(strstr(r.out, "dialout:") && strstr(r.out, "nobody\n"), "%s", r.out);
    expect_out("same-passwd\n");
}

Test(scenario_sysroot, temporary_root_is_removed_a_given_one_kept)
{
    in_sysroot(OPTS("--fast"), "echo $ESPDOCTOR_SYSROOT");
    char path[512];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    cr_assert(path[0] == '/', "%s", r.out);
    cr_expect_neq(access(path, F_OK), 0, "%s is still there", path);

    char kept[] = "/tmp/espsim-kept-XXXXXX";
    cr_assert_not_null(mkdtemp(kept));
    in_sysroot(OPTS("--fast", "--sysroot", kept), "echo $ESPDOCTOR_SYSROOT");
    cr_expect(strstr(r.out, kept) != NULL, "%s", r.out);
    char passwd[600];
    snprintf(passwd, sizeof passwd, "%s/etc/passwd", kept);
    cr_expect_eq(access(passwd, F_OK), 0);
    char cleanup[700];
    snprintf(cleanup, sizeof cleanup, "rm -rf '%s'", kept);
    cr_expect_eq(system(cleanup), 0);
}

Test(scenario_sysroot, real_proc_leaves_it_unset)
{
    setenv("ESPDOCTOR_SYSROOT", "/somewhere/else", 1);
    in_sysroot(OPTS("--fast", "--real-proc"), "echo \"[${ESPDOCTOR_SYSROOT-unset}]\"");
    unsetenv("ESPDOCTOR_SYSROOT");
    cr_expect_str_eq(r.out, "[unset]\n");
}

/* ---- firmware, read through libserialport after a hard reset ---------------------- */

Test(scenario_firmware, app_says_hello, .timeout = 30)
{
    espsim_client(OPTS("--firmware", "app"), CLIENT("boot", "/dev/ttyUSB0", "115200", "1500"),
                  20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("I (64) cpu_start: Pro cpu start user code\r\n");
    expect_out("Hello from espsim app\r\n");
}

Test(scenario_firmware, micropython_banner, .timeout = 30)
{
    espsim_client(OPTS("--firmware", "micropython"),
                  CLIENT("boot", "/dev/ttyUSB0", "115200", "800"), 20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module with ESP32\r\n");
    expect_out(">>> ");
}

Test(scenario_firmware, esp8266_micropython_banner, .timeout = 30)
{
    espsim_client(OPTS("--chip", "esp8266", "--firmware", "micropython"),
                  CLIENT("boot", "/dev/ttyUSB0", "115200", "800"), 20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("MicroPython v1.24.0 on 2024-10-25; ESP module with ESP8266\r\n");
}

Test(scenario_firmware, crash_loops, .timeout = 30)
{
    espsim_client(OPTS("--firmware", "crash"), CLIENT("boot", "/dev/ttyUSB0", "115200", "1200"),
                  20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was "
               "unhandled.\r\n");
    expect_out("Backtrace: 0x");
    expect_out("Rebooting...\r\n");
    expect_out("rst:0xc (SW_CPU_RESET)");
}

Test(scenario_firmware, brownout_loops, .timeout = 30)
{
    espsim_client(OPTS("--firmware", "brownout"),
                  CLIENT("boot", "/dev/ttyUSB0", "115200", "1000"), 20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("Brownout detector was triggered\r\n");
    expect_out("rst:0xf (RTCWDT_BROWN_OUT_RESET)");
    expect_not_out("Hello from espsim app");
}

Test(scenario_firmware, blank_is_the_invalid_header_loop, .timeout = 30)
{
    espsim_client(OPTS("--fast"), CLIENT("boot", "/dev/ttyUSB0", "115200", "500"), 20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("invalid header: 0xffffffff\r\n");
}

/* ---- not an ESP ---------------------------------------------------------------------- */

Test(scenario_textdev, text_at_9600_garbage_at_115200, .timeout = 30)
{
    espsim_client(OPTS("--chip", "none"), CLIENT("boot", "/dev/ttyUSB0", "9600", "800"), 20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    expect_out("$GPGGA,");
    expect_not_out("ets ");
    espsim_client(OPTS("--chip", "none"), CLIENT("listen", "/dev/ttyUSB0", "115200", "600"), 20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    cr_expect(strlen(r.out) > 0, "garbage, not silence");
    expect_not_out("GPGGA");
}

/* ---- statistics ------------------------------------------------------------------------ */

static uint64_t json_u64(json_object *o, const char *key)
{
    json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\"", key);
    return (uint64_t)json_object_get_int64(v);
}

Test(scenario_stats, a_short_session_is_counted, .timeout = 30)
{
    char path[] = "/tmp/espsim-stats-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    espsim_client(OPTS("--stats", path), CLIENT("sync", "/dev/ttyUSB0"), 20);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    json_object *o = json_object_from_file(path);
    unlink(path);
    cr_assert_not_null(o, "the statistics are not JSON");
    uint64_t commands = json_u64(o, "commands");
    cr_expect(commands >= 2 && commands <= 6, "commands %llu", (unsigned long long)commands);
    cr_expect_geq(json_u64(o, "host_bytes_out"), 46 + 14);
    cr_expect_gt(json_u64(o, "host_bytes_in"), 8 * 14);
    cr_expect_eq(json_u64(o, "blocks_written"), 0);
    uint64_t wire = json_u64(o, "wire_us"), latency = json_u64(o, "latency_us");
    cr_expect_gt(wire, 0);
    cr_expect_eq(latency, commands * 1000);
    cr_expect_geq(json_u64(o, "model_min_us"), wire + latency);
    cr_expect_eq(json_u64(o, "flash_busy_us"), 0);
    cr_expect_eq(json_u64(o, "model_min_flash_us"), 0);
    json_object_put(o);
}
