/* espdoctor [doctor] end to end, the machine around the board: kernel drivers, brltty and
 * ModemManager, the port's permissions for a user who is not root (e2e_user.h says how that
 * user is had, as root and as an ordinary user), lock holders (UUCP lock files, flock,
 * TIOCEXCL) and USB autosuspend.
 *
 * Lock holders are real processes: this binary itself ("test_doctor_system --hold ..."),
 * started inside the testbed through `env -u BXFI_MAP` so that it does not take itself for
 * one of Criterion's workers. */
#include "doctor_e2e.h"

#include <fcntl.h>
#include <pwd.h>
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

/* The fix's kill command names pid (among the other holders, if any). */
static void expect_kills(const char *fix, int pid)
{
    const char *kill = fix ? strstr(fix, "kill ") : NULL;
    cr_assert_not_null(kill, "no kill command in: %s", fix);
    char list[256], want[24];
    snprintf(list, sizeof list, " %s ", kill + 5);
    snprintf(want, sizeof want, " %d ", pid);
    cr_expect_not_null(strstr(list, want), "the kill command does not name PID %d: %s", pid,
                       fix);
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

/* ---- permissions, for a user the port's mode keeps out ------------------------------- */

/* Built from what the runner has (e2e_user.h):
 *  - as root, espdoctor runs as nobody (setpriv, from a copy in a scratch folder) on a node
 *    crw-rw---- root:dialout, whose mode keeps nobody out for real;
 *  - as an ordinary user, espdoctor runs as the runner on a node of its own whose mode gives
 *    its owner nothing (c---rw----, the runner's group): the open is refused for real, and
 *    the doctor reads nobody's credentials, planted in its system root.
 * Either way the doctor is nobody, and must say what nobody needs. */
struct perm_scenario {
    const char *sim[16];
    const char *as[8];
    char script[512], mode_opt[8], group_opt[24], member_opt[96];
    const char *espdoctor;
    char group[64];    /* the node's group as the doctor names it */
    char node[160];    /* the node as the evidence shows it: "crw-rw---- root:dialout" */
};

static char perm_dir[64];

static void perm_dir_make(void)
{
    snprintf(perm_dir, sizeof perm_dir, "/tmp/ed_e2e_perm.XXXXXX");
    cr_assert_not_null(mkdtemp(perm_dir));
    cr_assert_eq(chmod(perm_dir, 0755), 0);   /* nobody runs its copy of espdoctor */
}

static void perm_dir_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", perm_dir);
    cr_assert_eq(system(cmd), 0);
}

/* The name /etc/passwd gives uid (the planted root copies it), else its number. */
static void user_label(uid_t uid, char *out, size_t len)
{
    snprintf(out, len, "%u", (unsigned)uid);
    FILE *f = fopen("/etc/passwd", "r");
    struct passwd *pw;
    while (f && (pw = fgetpwent(f)) != NULL)
        if (pw->pw_uid == uid) {
            snprintf(out, len, "%s", pw->pw_name);
            break;
        }
    if (f)
        fclose(f);
}

/* in_login: nobody's login has the node's group; listed: /etc/group lists nobody in it. */
static void perm_scenario(struct perm_scenario *s, bool in_login, bool listed)
{
    memset(s, 0, sizeof *s);
    size_t n = 0;
    s->sim[n++] = "--firmware";
    s->sim[n++] = "micropython";
    s->sim[n++] = "--node-mode";
    s->sim[n++] = s->mode_opt;
    s->sim[n++] = "--node-group";
    s->sim[n++] = s->group_opt;
    if (e2e_user_is_root()) {
        snprintf(s->mode_opt, sizeof s->mode_opt, "0660");
        snprintf(s->group_opt, sizeof s->group_opt, "dialout");
        snprintf(s->group, sizeof s->group, "dialout");
        snprintf(s->node, sizeof s->node, "crw-rw---- root:dialout");
        const char *as[] = { E2E_SETPRIV_NOBODY, NULL };
        memcpy(s->as, as, sizeof as);
        if (in_login)
            s->as[3] = "--groups=dialout";
        s->espdoctor = e2e_user_reachable(e2e_bin("espdoctor"), perm_dir);
        cr_assert_not_null(s->espdoctor, "cannot copy espdoctor for nobody into %s: %s",
                           perm_dir, strerror(errno));
    } else {
        gid_t gid = getgid();
        char owner[64], gids[16];
        user_label(getuid(), owner, sizeof owner);
        e2e_user_group_label(gid, s->group, sizeof s->group);
        snprintf(s->mode_opt, sizeof s->mode_opt, in_login ? "0660" : "0060");
        snprintf(s->group_opt, sizeof s->group_opt, "%u", (unsigned)gid);
        snprintf(s->node, sizeof s->node, "%s %s:%s", in_login ? "crw-rw----" : "c---rw----",
                 owner, s->group);
        snprintf(gids, sizeof gids, "%u", (unsigned)gid);
        e2e_user_planted_as(E2E_NOBODY, E2E_NOBODY, in_login ? gids : "", s->script,
                            sizeof s->script, s->as);
    }
    if (listed) {
        snprintf(s->member_opt, sizeof s->member_opt, "%s:nobody", s->group);
        s->sim[n++] = "--group-member";
        s->sim[n++] = s->member_opt;
    }
}

Test(doctor_permissions, not_in_the_ports_group, .init = perm_dir_make, .fini = perm_dir_remove)
{
    struct perm_scenario s;
    perm_scenario(&s, false, false);
    char usermod[96];
    snprintf(usermod, sizeof usermod, "usermod -aG %s nobody", s.group);
    struct doctor_run run = { .sim = s.sim, .as = s.as, .espdoctor = s.espdoctor };
    struct doctor_want want = { .exit = 7, .problem = "perm.not-in-group",
                                .fix_names = LIST(usermod) };
    json_object *doc = doctor_check("not in group", &run, &want);
    expect_in(evidence_of(doc, "perm.not-in-group"), s.node);
    expect_in(evidence_of(doc, "perm.not-in-group"), "Permission denied");
    json_object_put(doc);
}

/* Not the doctor: a command that opens the port says the same in its JSON error. */
Test(doctor_permissions, info_names_the_missing_group_in_its_error, .init = perm_dir_make,
     .fini = perm_dir_remove)
{
    struct perm_scenario s;
    perm_scenario(&s, false, false);
    struct doctor_run run = { .sim = s.sim, .as = s.as, .espdoctor = s.espdoctor,
                              .args = LIST("info", "-p", "/dev/ttyUSB0") };
    doctor_exec(&doctor_json, &run, true);
    cr_assert_eq(doctor_json.status, 5, "exit %d\n%s\n%s", doctor_json.status,
                 doctor_json.out, doctor_json.err);
    json_object *doc = doctor_parse_first(doctor_json.out);
    cr_assert_not_null(doc, "no JSON: %s", doctor_json.out);
    json_object *err = doctor_get(doc, "error");
    cr_assert_str_eq(doctor_str(err, "id"), "perm.not-in-group", "%s", doctor_json.out);
    char usermod[96];
    snprintf(usermod, sizeof usermod, "sudo usermod -aG %s \"$USER\"", s.group);
    cr_assert_str_eq(doctor_str(err, "fix_command"), usermod, "%s", doctor_json.out);
    json_object_put(doc);
}

Test(doctor_permissions, added_to_the_group_after_logging_in, .init = perm_dir_make,
     .fini = perm_dir_remove)
{
    struct perm_scenario s;
    perm_scenario(&s, false, true);
    char newgrp[80], already[80];
    snprintf(newgrp, sizeof newgrp, "newgrp %s", s.group);
    snprintf(already, sizeof already, "already in %s", s.group);
    struct doctor_run run = { .sim = s.sim, .as = s.as, .espdoctor = s.espdoctor };
    struct doctor_want want = { .exit = 7, .problem = "perm.relogin-needed",
                                .fix_names = LIST(newgrp, already) };
    json_object *doc = doctor_check("log in again", &run, &want);
    expect_in(evidence_of(doc, "perm.relogin-needed"), s.node);
    json_object_put(doc);
}

Test(doctor_permissions, member_of_the_group_may_use_the_port, .init = perm_dir_make,
     .fini = perm_dir_remove)
{
    struct perm_scenario s;
    perm_scenario(&s, true, false);
    char via[80];
    snprintf(via, sizeof via, "through group %s", s.group);
    struct doctor_run run = { .sim = s.sim, .as = s.as, .espdoctor = s.espdoctor };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("in the group", &run, &want);
    expect_in(evidence_of(doc, "perm.ok"), via);
    expect_in(evidence_of(doc, "perm.ok"), s.node);
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

/* A shell line for the testbed: start a holder (the program `holder`, as `holder_as`),
 * wait until it holds the port, run "$@" (espdoctor ...) as `doctor_as`, stop the holder. */
static void holder_script(char *out, size_t len, const char *kind, const char *holder,
                          const char *holder_as, const char *doctor_as, const char *ready)
{
    snprintf(out, len,
             "rm -f '%s'; %s env -u BXFI_MAP '%s' --hold %s /dev/ttyUSB0 '%s' & h=$!; i=0; "
             "while [ ! -s '%s' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
             "%s \"$@\"; rc=$?; kill $h; wait $h 2>/dev/null; exit $rc",
             ready, holder_as, holder, kind, ready, ready, doctor_as);
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
    holder_script(script, sizeof script, "flock", self_exe(), "", "", ready);
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

/* Root ignores TIOCEXCL, so as root both the holder and the doctor run as nobody (from
 * copies nobody can reach); an ordinary user holds the port and runs the doctor itself. */
Test(doctor_locks, exclusive_holder_makes_the_port_busy, .init = make_ready_dir,
     .fini = remove_ready_dir)
{
    char ready[128], script[2048], comm[32];
    snprintf(ready, sizeof ready, "%s/ready", ready_dir);
    const char *as = e2e_user_is_root() ? SETPRIV_NOBODY : "";
    const char *holder = e2e_user_reachable(self_exe(), ready_dir);
    const char *espdoctor = e2e_user_reachable(e2e_bin("espdoctor"), ready_dir);
    cr_assert(holder && espdoctor, "cannot copy the programs for nobody into %s: %s",
              ready_dir, strerror(errno));
    holder_script(script, sizeof script, "excl", holder, as, as, ready);
    own_comm(comm, sizeof comm);
    struct doctor_run run = { .sim = LIST("--real-proc", "--firmware", "micropython",
                                          "--node-mode", "0666"),
                              .as = LIST("sh", "-c", script, "sh"), .espdoctor = espdoctor };
    struct doctor_want want = { .exit = 7, .problem = "lock.busy",
                                .fix_names = LIST(comm, "kill ") };
    json_object *doc = doctor_check("TIOCEXCL holder", &run, &want);
    int pid = read_pid(ready);
    char named[64];
    snprintf(named, sizeof named, "%s (PID %d)", comm, pid);
    expect_in(evidence_of(doc, "lock.busy"), "EBUSY");
    expect_in(evidence_of(doc, "lock.busy"), named);
    expect_kills(fix_of(doc, "lock.busy"), pid);
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
