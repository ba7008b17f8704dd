/* Locks family: UUCP lock files (live, stale, binary), planted /proc/locks and /proc fd
 * links, and for real: a pty held with TIOCEXCL (EBUSY for everyone but root, so the
 * probe runs unprivileged) and a pty locked with flock() read from the real /proc/locks. */
#include "test_check_util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#define NO_SUCH_PID 99999999   /* above any pid_max */

TestSuite(check_locks, .init = planted_root_make, .fini = planted_root_remove);

/* A port node under the planted root, with nothing else holding it. */
static void planted_port(struct ed_doctor *d)
{
    doctor_planted(d);
    plant("/dev/ttyUSB0", "");
    planted_path("/dev/ttyUSB0", d->target.devnode, sizeof d->target.devnode);
}

Test(check_locks, stale_uucp_lock_file_is_a_warning_with_the_rm_command)
{
    struct ed_doctor d;
    planted_port(&d);
    char text[16];
    snprintf(text, sizeof text, "%10d\n", NO_SUCH_PID);
    plant("/var/lock/LCK..ttyUSB0", text);
    cr_assert(ed_check_locks(&d), "a stale lock does not stop the doctor");
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "lock.uucp-stale");
    cr_assert_not_null(f);
    expect_text(f->evidence, "PID 99999999");
    cr_assert_str_eq(f->fix_command, "sudo rm /var/lock/LCK..ttyUSB0");
    ed_report_free(&d.report);
}

Test(check_locks, live_uucp_lock_names_the_program)
{
    struct ed_doctor d;
    planted_port(&d);
    plant("/run/lock/LCK..ttyUSB0", "         1\n");
    plant_process(1, "minicom", NULL);
    cr_assert_not(ed_check_locks(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "lock.uucp");
    expect_text(f->evidence, "/run/lock/LCK..ttyUSB0");
    expect_text(f->evidence, "minicom (PID 1)");
    expect_text(f->fix_command, "kill 1");
    ed_report_free(&d.report);
}

Test(check_locks, old_binary_uucp_lock_is_read)
{
    struct ed_doctor d;
    planted_port(&d);
    plant_process(1, "cu", NULL);
    int pid = 1;
    plant("/var/lock/LCK..ttyUSB0", "");
    char path[1024];
    planted_path("/var/lock/LCK..ttyUSB0", path, sizeof path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(&pid, sizeof pid, 1, f), 1);
    fclose(f);
    cr_assert_not(ed_check_locks(&d));
    expect_text(expect_first_error(&d.report, "lock.uucp")->evidence, "cu (PID 1)");
    ed_report_free(&d.report);
}

Test(check_locks, proc_locks_entry_on_the_nodes_inode_names_the_holder)
{
    struct ed_doctor d;
    planted_port(&d);
    struct stat st;
    cr_assert_eq(stat(d.target.devnode, &st), 0);
    char locks[512];
    snprintf(locks, sizeof locks,
             "1: POSIX  ADVISORY  WRITE 501 00:1a:99 0 EOF\n"
             "2: FLOCK  ADVISORY  WRITE 812 %02x:%02x:%llu 0 EOF\n"
             "2: -> FLOCK  ADVISORY  WRITE 913 %02x:%02x:%llu 0 EOF\n",
             major(st.st_dev), minor(st.st_dev), (unsigned long long)st.st_ino,
             major(st.st_dev), minor(st.st_dev), (unsigned long long)st.st_ino);
    plant("/proc/locks", locks);
    plant_process(812, "screen", d.target.devnode);
    plant_process(913, "picocom", NULL);
    cr_assert_not(ed_check_locks(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "lock.flock");
    expect_text(f->evidence, "screen (PID 812)");
    expect_text(f->fix_command, "kill 812");
    cr_assert_eq(d.report.count, 1, "one lock, no waiter, no open-by repeat (%zu findings)",
                 d.report.count);
    ed_report_free(&d.report);
}

Test(check_locks, open_without_a_lock_is_a_warning)
{
    struct ed_doctor d;
    planted_port(&d);
    plant_process(900, "picocom", d.target.devnode);
    cr_assert(ed_check_locks(&d));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "lock.open-by");
    cr_assert_not_null(f);
    expect_text(f->evidence, "picocom (PID 900)");
    ed_report_free(&d.report);
}

/* A pty whose slave anyone may open; the master stays with the test. (<pty.h> is
 * shadowed by tests/sim/pty.h on the include path, hence posix_openpt.) */
struct pty {
    int master;
    char slave[64];
};

static struct pty pty_open(void)
{
    struct pty p;
    p.master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(p.master, 0);
    cr_assert_eq(grantpt(p.master), 0);
    cr_assert_eq(unlockpt(p.master), 0);
    cr_assert_eq(ptsname_r(p.master, p.slave, sizeof p.slave), 0);
    cr_assert_eq(chmod(p.slave, 0666), 0);
    return p;
}

/* A child holding the pty slave open: as `uid` (0: stay root), with TIOCEXCL or flock. */
static pid_t hold(const char *slave, uid_t uid, bool exclusive, bool locked)
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        close(ready[0]);
        if (uid != 0 && !drop_privileges(uid, uid, NULL, 0))
            _exit(2);
        int fd = open(slave, O_RDWR | O_NOCTTY);
        if (fd < 0 || (exclusive && ioctl(fd, TIOCEXCL) != 0) ||
            (locked && flock(fd, LOCK_EX | LOCK_NB) != 0))
            _exit(3);
        send_text(ready[1], "k");
        for (;;)
            pause();
    }
    close(ready[1]);
    char byte = 0;
    cr_assert_eq(read(ready[0], &byte, 1), 1, "the holder did not get the port");
    close(ready[0]);
    return child;
}

static void release(pid_t holder, struct pty *p)
{
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    close(p->master);
}

Test(check_locks, exclusive_holder_gives_ebusy_and_is_named, .timeout = 10)
{
    require_root();
    struct pty p = pty_open();
    pid_t holder = hold(p.slave, ALICE_UID, true, false);
    struct ed_doctor d;
    memset(&d, 0, sizeof d);
    ed_sysroot_init(&d.sys, "/");
    d.has_target = true;
    d.cred.uid = ALICE_UID;
    d.cred.gid = ALICE_GID;
    snprintf(d.target.devnode, sizeof d.target.devnode, "%s", p.slave);
    bool go_on = run_unprivileged(&d, ed_check_locks, ALICE_UID, ALICE_GID, NULL, 0);
    release(holder, &p);
    cr_assert_not(go_on);
    const struct ed_finding *f = expect_first_error(&d.report, "lock.busy");
    cr_assert_str_eq(f->subject, p.slave);
    expect_text(f->evidence, "EBUSY");
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "(PID %d)", (int)holder);
    expect_text(f->evidence, pid_text);
    snprintf(pid_text, sizeof pid_text, "kill %d", (int)holder);
    expect_text(f->fix_command, pid_text);
    ed_report_free(&d.report);
}

Test(check_locks, flock_holder_found_in_the_real_proc_locks, .timeout = 10)
{
    require_root();
    struct pty p = pty_open();
    pid_t holder = hold(p.slave, 0, false, true);
    struct ed_doctor d;
    memset(&d, 0, sizeof d);
    ed_sysroot_init(&d.sys, "/");
    d.has_target = true;
    snprintf(d.target.devnode, sizeof d.target.devnode, "%s", p.slave);
    bool go_on = ed_check_locks(&d);
    release(holder, &p);
    cr_assert_not(go_on);
    const struct ed_finding *f = expect_first_error(&d.report, "lock.flock");
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "(PID %d)", (int)holder);
    expect_text(f->evidence, "FLOCK WRITE");
    expect_text(f->evidence, pid_text);
    cr_assert_null(finding(&d.report, "lock.open-by"), "the locker is not repeated as open-by");
    ed_report_free(&d.report);
}
