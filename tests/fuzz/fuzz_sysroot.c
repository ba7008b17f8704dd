/* Fuzz the readers of system records: /proc/locks, /proc/PID/comm and fd links, UUCP lock
 * files, /proc/self/status (who the doctor runs as), /etc/passwd and /etc/group, modules.alias / modules.dep / /proc/modules, brltty's
 * udev rules and espdoctor's own rules file. These readers take a system root, not a
 * buffer, so the input is planted as files under a temporary root and the doctor's checks
 * run against it, as `espdoctor doctor` runs against an odd kernel's /proc.
 *
 * The input is a list of files, each introduced by a line "#### PATH" (PATH one of the
 * planted paths below; others are ignored):
 *
 *     #### /proc/locks
 *     1: FLOCK  ADVISORY  WRITE 812 @DEVINO@ 0 EOF
 *     #### /var/lock/LCK..ttyUSB0
 *            812
 *
 * In the contents, @NODE@ stands for the path of the port under examination (a file in
 * the root), @USBNODE@ for its USB device node, and @DEVINO@ for the port's device and
 * inode as /proc/locks writes them, so that an input can name them although the root
 * moves from run to run. A section "#### acl /dev/ttyUSB0" sets the port's POSIX ACL. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "espdoctor/bridges.h"
#include "espdoctor/doctor.h"
#include "espdoctor/sysroot.h"
#include "espdoctor/udev.h"

#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RELEASE "6.1.0-18-amd64"
#define NODE_REL "/dev/ttyUSB0"
#define USB_NODE_REL "/dev/bus/usb/001/002"
#define SECTION_MARK "#### "
#define ACL_KEY "acl " NODE_REL   /* the node's POSIX ACL in its xattr form */

/* The files an input may plant. A path ending in "/fd/3" is a symbolic link whose target
 * is the first line of the contents. */
static const char *const planted[] = {
    "/proc/locks",
    "/proc/modules",
    "/proc/self/status",
    "/proc/812/comm",
    "/proc/812/fd/3",
    "/proc/4242/comm",
    "/proc/4242/fd/3",
    "/etc/passwd",
    "/etc/group",
    "/var/lock/LCK..ttyUSB0",
    "/run/lock/LCK..ttyUSB0",
    ("/lib/modules/" RELEASE "/modules.alias"),
    ("/lib/modules/" RELEASE "/modules.builtin.alias"),
    ("/lib/modules/" RELEASE "/modules.dep"),
    "/etc/udev/rules.d/85-brltty.rules",
    "/usr/lib/udev/rules.d/85-brltty.rules",
    "/lib/udev/rules.d/85-brltty.rules",
    ("/etc/udev/rules.d/" ED_UDEV_RULES_NAME),
};
#define PLANTED_COUNT (sizeof planted / sizeof planted[0])

/* The temporary root, made once: libFuzzer gives a harness no context to keep it in. */
static char root[256];
static char node_path[512], usb_node_path[512];
static char devino[64];

static void path_of(const char *rel, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s", root, rel);
    require(n > 0 && (size_t)n < len);
}

static void make_parents(const char *rel)
{
    char path[1024];
    path_of(rel, path, sizeof path);
    for (char *slash = strchr(path + strlen(root) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        require(mkdir(path, 0755) == 0 || errno == EEXIST);
        *slash = '/';
    }
}

static void write_file(const char *rel, const char *text, size_t len)
{
    char path[1024];
    path_of(rel, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    require(fd >= 0);
    require(write(fd, text, len) == (ssize_t)len);
    close(fd);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_root(void)
{
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(root, sizeof root, "%s/espdoctor-fuzz-XXXXXX", base);
    require(mkdtemp(root) != NULL);
    atexit(remove_root);
    for (size_t i = 0; i < PLANTED_COUNT; i++)
        make_parents(planted[i]);
    make_parents(NODE_REL);
    make_parents(USB_NODE_REL);
    make_parents("/proc/sys/kernel/osrelease");
    write_file("/proc/sys/kernel/osrelease", RELEASE "\n", strlen(RELEASE) + 1);
    write_file(NODE_REL, "", 0);
    write_file(USB_NODE_REL, "", 0);
    path_of(NODE_REL, node_path, sizeof node_path);
    path_of(USB_NODE_REL, usb_node_path, sizeof usb_node_path);
    struct stat st;
    require(stat(node_path, &st) == 0);
    snprintf(devino, sizeof devino, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
             (unsigned long long)st.st_ino);
    return 0;
}

/* Contents with the tokens replaced; malloc'd, NUL-terminated. */
static char *expand(const uint8_t *text, size_t len, size_t *out_len)
{
    const struct { const char *token, *value; } tokens[] = {
        { "@NODE@", node_path }, { "@USBNODE@", usb_node_path }, { "@DEVINO@", devino },
    };
    size_t longest = strlen(node_path) > strlen(usb_node_path) ? strlen(node_path)
                                                                : strlen(usb_node_path);
    size_t o = 0;
    char *out = malloc(len * (longest + 1) + 1);   /* every byte a token, at worst */
    require(out != NULL);
    for (size_t i = 0; i < len;) {
        size_t t = 0;
        while (t < sizeof tokens / sizeof tokens[0] &&
               (len - i < strlen(tokens[t].token) ||
                memcmp(text + i, tokens[t].token, strlen(tokens[t].token)) != 0))
            t++;
        if (t < sizeof tokens / sizeof tokens[0]) {
            memcpy(out + o, tokens[t].value, strlen(tokens[t].value));
            o += strlen(tokens[t].value);
            i += strlen(tokens[t].token);
        } else {
            out[o++] = (char)text[i++];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static void plant(const char *rel, const uint8_t *text, size_t len)
{
    size_t n;
    char *content = expand(text, len, &n);
    size_t rel_len = strlen(rel);
    if (rel_len > 5 && strcmp(rel + rel_len - 5, "/fd/3") == 0) {
        char path[1024];
        path_of(rel, path, sizeof path);
        content[strcspn(content, "\n")] = '\0';
        require(unlink(path) == 0 || errno == ENOENT);   /* an input may repeat a section */
        if (content[0])
            require(symlink(content, path) == 0 || errno == ENAMETOOLONG);
    } else {
        write_file(rel, content, n);
    }
    free(content);
}

/* The node's ACL: the kernel checks the format and refuses most inputs, which is fine. */
static void plant_acl(const uint8_t *value, size_t len)
{
    removexattr(node_path, "system.posix_acl_access");
    if (len > 0)
        setxattr(node_path, "system.posix_acl_access", value, len, 0);
}

static void clear_root(void)
{
    for (size_t i = 0; i < PLANTED_COUNT; i++) {
        char path[1024];
        path_of(planted[i], path, sizeof path);
        require(unlink(path) == 0 || errno == ENOENT);
    }
    removexattr(node_path, "system.posix_acl_access");
}

/* Split the input at "#### PATH" lines and plant each known PATH. */
static void plant_input(const uint8_t *data, size_t size)
{
    const uint8_t *end = data + size, *p = data;
    const size_t mark = strlen(SECTION_MARK);
    while (p < end) {
        const uint8_t *line_end = memchr(p, '\n', (size_t)(end - p));
        if (!line_end || (size_t)(line_end - p) <= mark || memcmp(p, SECTION_MARK, mark) != 0) {
            p = line_end ? line_end + 1 : end;
            continue;
        }
        char key[128];
        size_t key_len = (size_t)(line_end - p) - mark;
        if (key_len >= sizeof key)
            key_len = sizeof key - 1;
        memcpy(key, p + mark, key_len);
        key[key_len] = '\0';
        /* The contents run to the next section line. */
        const uint8_t *body = line_end + 1, *stop = body;
        while (stop < end && !((stop == body || stop[-1] == '\n') && (size_t)(end - stop) >= mark &&
                               memcmp(stop, SECTION_MARK, mark) == 0))
            stop++;
        if (strcmp(key, ACL_KEY) == 0)
            plant_acl(body, (size_t)(stop - body));
        for (size_t i = 0; i < PLANTED_COUNT; i++)
            if (strcmp(key, planted[i]) == 0)
                plant(planted[i], body, (size_t)(stop - body));
        p = stop;
    }
}

static void doctor_for(struct ed_doctor *d, uint16_t vid, uint16_t pid, const char *driver,
                       bool tty)
{
    memset(d, 0, sizeof *d);
    ed_sysroot_init(&d->sys, root);
    d->cred.uid = 4343;
    d->cred.gid = 4343;
    d->cred.groups[0] = 20;
    d->cred.ngroups = 1;
    snprintf(d->cred.user, sizeof d->cred.user, "alice");
    d->has_target = true;
    struct ed_port *p = &d->target;
    snprintf(p->usb_name, sizeof p->usb_name, "1-1.2");
    p->vid = vid;
    p->pid = pid;
    p->bridge = ed_bridge_lookup(vid, pid);
    snprintf(p->driver, sizeof p->driver, "%s", driver);
    snprintf(p->modalias, sizeof p->modalias,
             "usb:v%04Xp%04Xd0264dcFFdsc00dp00icFFisc00ip00in00", vid, pid);
    snprintf(p->usb_devnode, sizeof p->usb_devnode, "%s", usb_node_path);
    if (tty)
        snprintf(p->devnode, sizeof p->devnode, "%s", node_path);
}

static void check_report(const struct ed_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        require(r->items[i].diag != NULL);
        require(memchr(r->items[i].subject, '\0', sizeof r->items[i].subject) != NULL);
    }
}

/* Each check the doctor runs on a local port, against the planted root. */
static void run_checks(void)
{
    static const struct { bool (*check)(struct ed_doctor *); const char *driver; bool tty; }
        runs[] = {
            { ed_check_driver, "ch341", true },
            { ed_check_driver, "", false },           /* modules.alias, modules.dep */
            { ed_check_driver, "usbfs", false },      /* fd links, comm */
            { ed_check_interference, "ch341", true }, /* udev rules, comm */
            { ed_check_permissions, "ch341", true },  /* passwd, group, ACL */
            { ed_check_locks, "ch341", true },        /* /proc/locks, LCK files, fd links */
        };
    struct ed_doctor *d = malloc(sizeof *d);
    require(d != NULL);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        doctor_for(d, 0x1a86, 0x7523, runs[i].driver, runs[i].tty);
        runs[i].check(d);
        check_report(&d->report);
        ed_report_free(&d->report);
    }
    free(d);
}

static void run_account_lookups(void)
{
    struct ed_sysroot s;
    ed_sysroot_init(&s, root);
    char name[64], release[128], who[256];
    gid_t gid;
    ed_sysroot_user_name(&s, 4343, name, sizeof name);
    ed_sysroot_group_name(&s, 20, name, sizeof name);
    ed_sysroot_user_primary_gid(&s, "alice", &gid);
    ed_sysroot_group_lists_member(&s, 20, "alice");
    ed_sysroot_kernel_release(&s, release, sizeof release);
    const pid_t pids[] = { 812, 4242, 1 };
    ed_sysroot_describe_processes(&s, pids, 3, who, sizeof who);
    struct ed_credentials cred;
    ed_credentials_read(&s, &cred);
    require(cred.ngroups >= 0 && cred.ngroups <= ED_DOCTOR_MAX_GROUPS);
    require(memchr(cred.user, '\0', sizeof cred.user) != NULL);
    char group[ED_UDEV_GROUP_MAX];
    bool found;
    ed_udev_detect_group(root, group, &found);
    require(memchr(group, '\0', sizeof group) != NULL);
}

/* espdoctor's own rules file: ours or foreign, same or older. */
static void run_rules_inspection(void)
{
    char *rules = ed_udev_rules_text("dialout");
    require(rules != NULL);
    enum ed_udev_existing existing;
    int err = 0;
    ed_udev_inspect(root, rules, &existing, &err);
    ed_udev_inspect(root, NULL, &existing, &err);
    free(rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clear_root();
    plant_input(data, size);
    run_checks();
    run_account_lookups();
    run_rules_inspection();
    return 0;
}
