/* Locks family: UUCP lock files (live, stale, binary), planted /proc/locks and /proc fd
 * links, an EBUSY open (a holder with TIOCEXCL) as a planted fact (root would not get it),
 * and for real: a pty locked with flock() by a child, read from the real /proc/locks and
 * /proc/PID/fd. No privileges needed. */
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

/* open() failed with EBUSY: the holder found in the planted /proc is named, with the
 * command that ends it; EBUSY alone stops the doctor. */
Test(check_locks, exclusive_holder_gives_ebusy_and_is_named)
{
    struct ed_doctor d;
    planted_port(&d);
    plant_process(812, "minicom", d.target.devnode);
    struct ed_port_facts node = port_facts(d.target.devnode, ALICE_UID, DIALOUT_GID, 0660, EBUSY);
    cr_assert_eq(stat(d.target.devnode, &node.st), 0);
    cr_assert_not(ed_judge_locks(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "lock.busy");
    cr_assert_str_eq(f->subject, d.target.devnode);
    expect_text(f->evidence, "EBUSY");
    expect_text(f->evidence, "minicom (PID 812)");
    expect_text(f->fix_command, "kill 812");
    cr_assert_null(finding(&d.report, "lock.open-by"), "the holder is not repeated as open-by");
    ed_report_free(&d.report);
}

/* Two programs have it open: no file tells which set exclusive mode, so both are named. */
Test(check_locks, exclusive_mode_with_two_holders_names_both)
{
    struct ed_doctor d;
    planted_port(&d);
    plant_process(812, "minicom", d.target.devnode);
    plant_process(913, "screen", d.target.devnode);
    struct ed_port_facts node = port_facts(d.target.devnode, ALICE_UID, DIALOUT_GID, 0660, EBUSY);
    cr_assert_eq(stat(d.target.devnode, &node.st), 0);
    cr_assert_not(ed_judge_locks(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "lock.busy");
    expect_text(f->evidence, "minicom (PID 812)");
    expect_text(f->evidence, "screen (PID 913)");
    expect_text(f->fix, "one of ");
    expect_text(f->fix_command, "kill 812 913");
    cr_assert_eq(d.report.count, 1, "no open-by repeats (%zu findings)", d.report.count);
    ed_report_free(&d.report);
}

/* Another user's holder cannot be seen in /proc: the fix says how to find it. */
Test(check_locks, exclusive_holder_that_cannot_be_seen_gets_fuser)
{
    struct ed_doctor d;
    planted_port(&d);
    struct ed_port_facts node = port_facts(d.target.devnode, 0, DIALOUT_GID, 0660, EBUSY);
    cr_assert_eq(stat(d.target.devnode, &node.st), 0);
    cr_assert_not(ed_judge_locks(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "lock.busy");
    expect_text(f->evidence, "no process");
    expect_text(f->fix_command, "sudo fuser -v");
    ed_report_free(&d.report);
}

/* A pty whose slave this user may open; the master stays with the test. (<pty.h> is
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
    return p;
}

/* A child of the same user holding the pty slave open with flock(LOCK_EX). */
static pid_t hold_locked(const char *slave)
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        close(ready[0]);
        int fd = open(slave, O_RDWR | O_NOCTTY);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 || write(ready[1], "k", 1) != 1)
            _exit(3);
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

Test(check_locks, flock_holder_found_in_the_real_proc_locks, .timeout = 10)
{
    struct pty p = pty_open();
    pid_t holder = hold_locked(p.slave);
    struct ed_doctor d;
    memset(&d, 0, sizeof d);
    ed_sysroot_init(&d.sys, "/");
    ed_credentials_read(&d.sys, &d.cred);
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
    snprintf(pid_text, sizeof pid_text, "kill %d", (int)holder);
    cr_assert_str_eq(f->fix_command, pid_text, "our own process: no sudo (%s)", f->fix_command);
    cr_assert_null(finding(&d.report, "lock.open-by"), "the locker is not repeated as open-by");
    ed_report_free(&d.report);
}
