/* espdoctor [doctor] end to end, the machine around the board: kernel drivers, brltty and
 * ModemManager, the port's permissions for a user who is not root, lock holders (UUCP lock
 * files, flock, TIOCEXCL) and USB autosuspend.
 *
 * Lock holders are real processes: this binary itself ("test_doctor_system --hold ..."),
 * started inside the testbed through `env -u BXFI_MAP` so that it does not take itself for
 * one of Criterion's workers. */
#include "doctor_e2e.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

/* ---- the lock holder, run inside the testbed ------------------------------------------ */

/* --hold excl|flock PATH READY_FILE: open PATH, take the lock, write our PID to
 * READY_FILE, then wait to be killed (at most a minute). */
static int hold_main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int fd = open(argv[1], O_RDWR | O_NOCTTY);
    if (fd < 0) {
        fprintf(stderr, "holder: open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int rc = strcmp(argv[0], "excl") == 0 ? ioctl(fd, TIOCEXCL) : flock(fd, LOCK_EX);
    if (rc != 0) {
        fprintf(stderr, "holder: %s: %s\n", argv[0], strerror(errno));
        return 1;
    }
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, argv[2]))
        return 1;
    sleep(60);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--hold") == 0)
        return hold_main(argc - 2, argv + 2);
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}

/* ---- helpers ------------------------------------------------------------------------- */

static const char *self_exe(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    cr_assert(n > 0);
    path[n] = '\0';
    return path;
}

/* The name the kernel gives a process of this program (/proc/PID/comm: 15 characters). */
static void own_comm(char *out, size_t len)
{
    const char *base = strrchr(self_exe(), '/');
    snprintf(out, len, "%.15s", base ? base + 1 : self_exe());
}

/* The number after the first "PID " in text; 0 if none. */
static int pid_after(const char *text)
{
    const char *p = text ? strstr(text, "PID ") : NULL;
    return p ? atoi(p + 4) : 0;
}

/* The fix and its command, as one text (a static copy). */
static const char *fix_of(json_object *doc, const char *id)
{
    static char both[4096];
    json_object *f = doctor_finding(doc, id);
    cr_assert_not_null(f, "no %s", id);
    const char *fix = doctor_str(f, "fix"), *command = doctor_str(f, "fix_command");
    cr_assert_not_null(fix, "%s has no fix", id);
    snprintf(both, sizeof both, "%s %s", fix, command ? command : "");
    return both;
}

static const char *evidence_of(json_object *doc, const char *id)
{
    json_object *f = doctor_finding(doc, id);
    cr_assert_not_null(f, "no %s", id);
    const char *evidence = doctor_str(f, "evidence");
    cr_assert_not_null(evidence, "%s has no evidence", id);
    return evidence;
}

static void expect_in(const char *text, const char *want)
{
    cr_expect(text && strstr(text, want) != NULL, "\"%s\" not in: %s", want, text);
}

/* ---- drivers ------------------------------------------------------------------------- */

Test(doctor_driver, brltty_claimed_the_ch340_through_usbfs)
{
    struct doctor_run run = { .sim = LIST("--bridge", "ch340", "--driver", "usbfs", "--brltty") };
    struct doctor_want want = { .exit = 7, .problem = "driver.claimed-by-userspace",
                                .fix_names = LIST("brltty", "4242") };
    json_object *doc = doctor_check("usbfs + brltty", &run, &want);
    expect_in(evidence_of(doc, "driver.claimed-by-userspace"), "brltty (PID 4242)");
    expect_in(evidence_of(doc, "driver.claimed-by-userspace"), "/dev/bus/usb/001/002");
    doctor_expect_finding(doc, "device.no-tty", "warn");
    cr_assert_null(doctor_verdict(doc, "port"), "there is no port to examine");
    json_object_put(doc);
}

Test(doctor_driver, usbfs_claim_without_a_visible_holder)
{
    struct doctor_run run = { .sim = LIST("--driver", "usbfs") };
    struct doctor_want want = { .exit = 7, .problem = "driver.claimed-by-userspace",
                                .fix_names = LIST("fuser -v /dev/bus/usb/001/002") };
    json_object_put(doctor_check("usbfs, nobody holds it", &run, &want));
}

Test(doctor_driver, missing_cp210x_module)
{
    struct doctor_run run = { .sim = LIST("--driver", "none") };
    struct doctor_want want = { .exit = 7, .problem = "driver.missing",
                                .fix_names = LIST("sudo modprobe cp210x", "not found") };
    json_object *doc = doctor_check("driver none (cp2102)", &run, &want);
    expect_in(evidence_of(doc, "driver.missing"), "usb:v10C4pEA60");
    json_object_put(doc);
}

Test(doctor_driver, missing_ftdi_sio_module)
{
    struct doctor_run run = { .sim = LIST("--driver", "none", "--bridge", "ftdi") };
    struct doctor_want want = { .exit = 7, .problem = "driver.missing",
                                .fix_names = LIST("modprobe ftdi_sio") };
    json_object_put(doctor_check("driver none (ftdi)", &run, &want));
}

Test(doctor_driver, module_present_but_not_loaded)
{
    struct doctor_run run = { .sim = LIST("--driver", "unbound") };
    struct doctor_want want = { .exit = 7, .problem = "driver.not-loaded",
                                .fix_names = LIST("sudo modprobe cp210x") };
    json_object_put(doctor_check("driver unbound", &run, &want));
}

/* ---- interference -------------------------------------------------------------------- */

Test(doctor_interference, brltty_rules_match_the_bridge)
{
    struct doctor_run run = { .sim = LIST("--brltty", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 7, .problem = "interference.brltty",
                                .fix_names = LIST("85-brltty.rules", "brltty") };
    json_object *doc = doctor_check("brltty rules", &run, &want);
    expect_in(evidence_of(doc, "interference.brltty"), "PID 4242");
    expect_in(evidence_of(doc, "interference.brltty"), "10c4/ea60");
    json_object_put(doc);
}

Test(doctor_interference, modemmanager_is_a_warning_fixed_by_the_udev_rules)
{
    struct doctor_run run = { .sim = LIST("--modemmanager", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("ModemManager", &run, &want);
    doctor_expect_finding(doc, "interference.modemmanager", "warn");
    expect_in(evidence_of(doc, "interference.modemmanager"), "ModemManager");
    expect_in(evidence_of(doc, "interference.modemmanager"), "4343");
    expect_in(fix_of(doc, "interference.modemmanager"), "espdoctor udev install");
    json_object_put(doc);
    expect_in(doctor_text.out, "[interference.modemmanager]");
}

Test(doctor_interference, modemmanager_leaves_an_ignored_device_alone)
{
    struct doctor_run run = { .sim = LIST("--modemmanager", "--mm-ignore", "--firmware",
                                          "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("ModemManager, device ignored", &run, &want);
    cr_assert_null(doctor_finding(doc, "interference.modemmanager"));
    json_object_put(doc);
}

/* ---- permissions, as nobody ------------------------------------------------------------ */

Test(doctor_permissions, not_in_the_ports_group)
{
    struct doctor_run run = { .sim = LIST("--firmware", "micropython", "--node-mode", "0660",
                                          "--node-group", "dialout"),
                              .as = AS_NOBODY };
    struct doctor_want want = { .exit = 7, .problem = "perm.not-in-group",
                                .fix_names = LIST("usermod -aG dialout nobody") };
    json_object *doc = doctor_check("not in group", &run, &want);
    expect_in(evidence_of(doc, "perm.not-in-group"), "crw-rw---- root:dialout");
    json_object_put(doc);
}

Test(doctor_permissions, added_to_the_group_after_logging_in)
{
    struct doctor_run run = { .sim = LIST("--firmware", "micropython", "--node-mode", "0660",
                                          "--node-group", "dialout", "--group-member",
                                          "dialout:nobody"),
                              .as = AS_NOBODY };
    struct doctor_want want = { .exit = 7, .problem = "perm.relogin-needed",
                                .fix_names = LIST("newgrp dialout", "already in dialout") };
    json_object_put(doctor_check("log in again", &run, &want));
}

Test(doctor_permissions, member_of_the_group_may_use_the_port)
{
    struct doctor_run run = { .sim = LIST("--firmware", "micropython", "--node-mode", "0660",
                                          "--node-group", "dialout"),
                              .as = LIST("setpriv", "--reuid=65534", "--regid=65534",
                                         "--groups=dialout") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("in the group", &run, &want);
    expect_in(evidence_of(doc, "perm.ok"), "group dialout");
    cr_assert_null(doctor_finding(doc, "perm.root"));
    cr_assert_str_eq(doctor_verdict(doc, "micropython"), "v1.24.0");
    json_object_put(doc);
}

/* ---- locks --------------------------------------------------------------------------- */

Test(doctor_locks, uucp_lock_of_a_running_minicom)
{
    struct doctor_run run = { .sim = LIST("--uucp-lock", "live", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 7, .problem = "lock.uucp",
                                .fix_names = LIST("minicom", "kill ") };
    json_object *doc = doctor_check("UUCP lock, live", &run, &want);
    const char *evidence = evidence_of(doc, "lock.uucp");
    expect_in(evidence, "LCK..ttyUSB0");
    int pid = pid_after(evidence);
    cr_assert_gt(pid, 0, "no PID in: %s", evidence);
    char kill_it[32];
    snprintf(kill_it, sizeof kill_it, "kill %d", pid);
    expect_in(fix_of(doc, "lock.uucp"), kill_it);
    json_object_put(doc);
}

Test(doctor_locks, stale_uucp_lock_is_a_warning)
{
    struct doctor_run run = { .sim = LIST("--uucp-lock", "stale", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("UUCP lock, stale", &run, &want);
    doctor_expect_finding(doc, "lock.uucp-stale", "warn");
    expect_in(fix_of(doc, "lock.uucp-stale"), "sudo rm /var/lock/LCK..ttyUSB0");
    json_object_put(doc);
}

static char ready_dir[64];

static void make_ready_dir(void)
{
    snprintf(ready_dir, sizeof ready_dir, "/tmp/ed_e2e_doctor.XXXXXX");
    cr_assert_not_null(mkdtemp(ready_dir));
    cr_assert_eq(chmod(ready_dir, 0777), 0);   /* holders may run as nobody */
}

static void remove_ready_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ready_dir);
    cr_assert_eq(system(cmd), 0);
}

/* A shell line for the testbed: start a holder (as `holder_as`), wait until it holds the
 * port, run "$@" (espdoctor ...) as `doctor_as`, stop the holder. */
static void holder_script(char *out, size_t len, const char *kind, const char *holder_as,
                          const char *doctor_as, const char *ready)
{
    snprintf(out, len,
             "rm -f '%s'; %s env -u BXFI_MAP '%s' --hold %s /dev/ttyUSB0 '%s' & h=$!; i=0; "
             "while [ ! -s '%s' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
             "%s \"$@\"; rc=$?; kill $h; wait $h 2>/dev/null; exit $rc",
             ready, holder_as, self_exe(), kind, ready, ready, doctor_as);
}

static int read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "the holder never got hold of the port (%s)", path);
    int pid = 0;
    cr_assert_eq(fscanf(f, "%d", &pid), 1);
    fclose(f);
    return pid;
}

#define SETPRIV_NOBODY "setpriv --reuid=65534 --regid=65534 --clear-groups"

Test(doctor_locks, flock_holder_is_named_with_its_pid, .init = make_ready_dir,
     .fini = remove_ready_dir)
{
    char ready[128], script[2048], comm[32];
    snprintf(ready, sizeof ready, "%s/ready", ready_dir);
    holder_script(script, sizeof script, "flock", "", "", ready);
    own_comm(comm, sizeof comm);
    struct doctor_run run = { .sim = LIST("--real-proc", "--firmware", "micropython"),
                              .as = LIST("sh", "-c", script, "sh") };
    struct doctor_want want = { .exit = 7, .problem = "lock.flock",
                                .fix_names = LIST(comm, "kill ") };
    json_object *doc = doctor_check("flock holder", &run, &want);
    int pid = read_pid(ready);   /* the --json run's holder */
    char named[64], kill_it[32];
    snprintf(named, sizeof named, "%s (PID %d)", comm, pid);
    snprintf(kill_it, sizeof kill_it, "kill %d", pid);
    expect_in(evidence_of(doc, "lock.flock"), named);
    expect_in(fix_of(doc, "lock.flock"), kill_it);
    json_object_put(doc);
}

/* Root ignores TIOCEXCL: both the holder and the doctor run as nobody. */
Test(doctor_locks, exclusive_holder_makes_the_port_busy, .init = make_ready_dir,
     .fini = remove_ready_dir)
{
    char ready[128], script[2048], comm[32];
    snprintf(ready, sizeof ready, "%s/ready", ready_dir);
    holder_script(script, sizeof script, "excl", SETPRIV_NOBODY, SETPRIV_NOBODY, ready);
    own_comm(comm, sizeof comm);
    struct doctor_run run = { .sim = LIST("--real-proc", "--firmware", "micropython",
                                          "--node-mode", "0666"),
                              .as = LIST("sh", "-c", script, "sh") };
    struct doctor_want want = { .exit = 7, .problem = "lock.busy",
                                .fix_names = LIST(comm, "kill ") };
    json_object *doc = doctor_check("TIOCEXCL holder", &run, &want);
    int pid = read_pid(ready);
    char kill_it[32];
    snprintf(kill_it, sizeof kill_it, "kill %d", pid);
    expect_in(evidence_of(doc, "lock.busy"), "EBUSY");
    expect_in(fix_of(doc, "lock.busy"), kill_it);
    json_object_put(doc);
}

/* ---- power --------------------------------------------------------------------------- */

Test(doctor_power, autosuspend_is_a_warning_with_the_sysfs_fix)
{
    struct doctor_run run = { .sim = LIST("--autosuspend", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("autosuspend", &run, &want);
    doctor_expect_finding(doc, "power.autosuspend", "warn");
    expect_in(fix_of(doc, "power.autosuspend"),
              "echo on | sudo tee /sys/bus/usb/devices/1-2/power/control");
    json_object_put(doc);
}
