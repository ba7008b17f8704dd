/* udev rules: generation from the bridge table, the shipped file, atomic install and
 * uninstall under a temporary root, group detection, and the udevadm reload. */
#include <criterion/criterion.h>

#include "espdoctor/bridges.h"
#include "espdoctor/error.h"
#include "espdoctor/udev.h"
#include "../../src/udev_marker.h"   /* ed_udev_classify: the tests have no -Isrc */

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root_dir[256];

static void make_root(void)
{
    snprintf(root_dir, sizeof root_dir, "/tmp/espdoctor-udev-XXXXXX");
    cr_assert_not_null(mkdtemp(root_dir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void remove_root(void)
{
    nftw(root_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(udev_files, .init = make_root, .fini = remove_root);

static void path_under_root(const char *rest, char *out, size_t size)
{
    snprintf(out, size, "%s%s", root_dir, rest);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        free(text);
        return strdup("");
    }
    return text;
}

static void make_dirs_under_root(void)
{
    char path[512];
    path_under_root("/etc", path, sizeof path);
    cr_assert_eq(mkdir(path, 0755), 0);
    path_under_root("/etc/udev", path, sizeof path);
    cr_assert_eq(mkdir(path, 0755), 0);
    path_under_root("/etc/udev/rules.d", path, sizeof path);
    cr_assert_eq(mkdir(path, 0755), 0);
}

/* The rule lines (not comments, not blank) of a rules text, one at a time. */
static const char *next_rule_line(const char *p, char *line, size_t size)
{
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *next = end ? end + 1 : p + len;
        if (len > 0 && p[0] != '#') {
            cr_assert_lt(len, size);
            memcpy(line, p, len);
            line[len] = '\0';
            return next;
        }
        p = next;
    }
    return NULL;
}

Test(udev_rules, one_tty_rule_and_one_usb_rule_per_bridge)
{
    char *text = ed_udev_rules_text("dialout");
    cr_assert_not_null(text);
    for (size_t i = 0; i < ed_bridge_count; i++) {
        char ids[128];
        snprintf(ids, sizeof ids, "ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\",",
                 ed_bridges[i].vid, ed_bridges[i].pid);
        char usb_ids[128];
        snprintf(usb_ids, sizeof usb_ids, "ATTR{idVendor}==\"%04x\", ATTR{idProduct}==\"%04x\",",
                 ed_bridges[i].vid, ed_bridges[i].pid);
        int tty_rules = 0, usb_rules = 0;
        char line[1024];
        for (const char *p = text; (p = next_rule_line(p, line, sizeof line));) {
            if (strstr(line, ids)) {
                tty_rules++;
                cr_expect(strncmp(line, "SUBSYSTEM==\"tty\",", 17) == 0, "%s", line);
                cr_expect(strstr(line, "TAG+=\"uaccess\""), "%s", line);
                cr_expect(strstr(line, "ENV{ID_MM_DEVICE_IGNORE}=\"1\""), "%s", line);
                cr_expect(strstr(line, "GROUP=\"dialout\""), "%s", line);
                cr_expect(strstr(line, "MODE=\"0660\""), "%s", line);
            }
            if (strstr(line, usb_ids)) {
                usb_rules++;
                cr_expect(strstr(line, "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\""),
                          "%s", line);
                cr_expect(strstr(line, "ENV{ID_MM_DEVICE_IGNORE}=\"1\""), "%s", line);
                cr_expect_null(strstr(line, "uaccess"), "%s", line);
            }
        }
        cr_expect_eq(tty_rules, 1, "%04x:%04x has %d tty rules", ed_bridges[i].vid,
                     ed_bridges[i].pid, tty_rules);
        cr_expect_eq(usb_rules, 1, "%04x:%04x has %d usb rules", ed_bridges[i].vid,
                     ed_bridges[i].pid, usb_rules);
    }
    free(text);
}

Test(udev_rules, no_rule_is_world_writable)
{
    char *text = ed_udev_rules_text("dialout");
    cr_assert_not_null(text);
    char line[1024];
    size_t rules = 0;
    for (const char *p = text; (p = next_rule_line(p, line, sizeof line));) {
        rules++;
        cr_expect_null(strstr(line, "0666"), "%s", line);
        for (const char *m = strstr(line, "MODE"); m; m = strstr(m + 1, "MODE"))
            cr_expect(strncmp(m, "MODE=\"0660\"", 11) == 0, "%s", line);
    }
    cr_expect_eq(rules, 2 * ed_bridge_count);
    free(text);
}

Test(udev_rules, starts_with_the_marker_and_version)
{
    char *text = ed_udev_rules_text("dialout");
    cr_assert_not_null(text);
    char first[256];
    snprintf(first, sizeof first, "%s %s (sha256 of the lines below: ", ED_UDEV_MARKER,
             ESPDOCTOR_VERSION);
    cr_assert(strncmp(text, first, strlen(first)) == 0, "first line: %.100s", text);
    const char *hex = text + strlen(first);
    cr_expect_eq(strspn(hex, "0123456789abcdef"), 64, "%.100s", text);
    static const char tail[] = "): do not edit; `espdoctor udev uninstall` removes it.\n";
    cr_expect(strncmp(hex + 64, tail, strlen(tail)) == 0, "%.200s", text);
    free(text);
}

Test(udev_rules, uses_the_group_it_is_given)
{
    char *text = ed_udev_rules_text("uucp");
    cr_assert_not_null(text);
    cr_expect_null(strstr(text, "dialout"));
    size_t groups = 0;
    for (const char *g = strstr(text, "GROUP=\"uucp\""); g; g = strstr(g + 1, "GROUP=\"uucp\""))
        groups++;
    cr_expect_eq(groups, ed_bridge_count);
    free(text);
}

Test(udev_rules, refuses_names_that_would_break_the_rule)
{
    cr_expect_null(ed_udev_rules_text("dial\"out"));
    cr_expect_null(ed_udev_rules_text(""));
    cr_expect_null(ed_udev_rules_text("-x"));
    cr_expect_null(ed_udev_rules_text("a b"));
    cr_expect_null(ed_udev_rules_text("abcdefghijklmnopqrstuvwxyz0123456"));
    cr_expect(ed_udev_group_name_valid("abcdefghijklmnopqrstuvwxyz012345"));
    cr_expect(ed_udev_group_name_valid("plugdev"));
}

/* The shipped rules/70-espdoctor.rules must be what the table generates today: a bridge
 * added without regenerating the file fails here. The tests run from the source tree;
 * ESPDOCTOR_BUILD (set by make) points at <tree>/build. */
Test(udev_rules, shipped_file_equals_generated)
{
    char tree[4096] = ".";
    const char *build = getenv("ESPDOCTOR_BUILD");
    if (build && *build) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", build);
        snprintf(tree, sizeof tree, "%s", dirname(copy));
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/rules/" ED_UDEV_RULES_NAME, tree);
    char *shipped = read_file(path);
    cr_assert_not_null(shipped, "cannot read %s", path);
    char *generated = ed_udev_rules_text("dialout");
    cr_assert_not_null(generated);
    cr_expect_str_eq(shipped, generated,
                     "%s is stale: regenerate it with 'espdoctor udev show dialout > %s'",
                     path, path);
    free(shipped);
    free(generated);
}

Test(udev_rules, path_under_root)
{
    char path[4096];
    cr_assert(ed_udev_rules_path("/", path, sizeof path));
    cr_expect_str_eq(path, "/etc/udev/rules.d/70-espdoctor.rules");
    cr_assert(ed_udev_rules_path(NULL, path, sizeof path));
    cr_expect_str_eq(path, "/etc/udev/rules.d/70-espdoctor.rules");
    cr_assert(ed_udev_rules_path("/tmp/x//", path, sizeof path));
    cr_expect_str_eq(path, "/tmp/x/etc/udev/rules.d/70-espdoctor.rules");
    cr_expect_not(ed_udev_rules_path("/tmp/x", path, 20));
}

Test(udev_files, install_creates_the_directories_and_the_file)
{
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_WRITTEN);
    cr_expect_eq(r.existing, ED_UDEV_EXISTING_NONE);
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    cr_expect_str_eq(r.path, path);
    char *written = read_file(path);
    cr_assert_not_null(written);
    cr_expect_str_eq(written, rules);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 0644);
    free(written);
    free(rules);
}

Test(udev_files, install_leaves_no_temporary_file_behind)
{
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    char dir[512];
    path_under_root("/etc/udev/rules.d", dir, sizeof dir);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            entries++;
            cr_expect_str_eq(e->d_name, ED_UDEV_RULES_NAME);
        }
    closedir(d);
    cr_expect_eq(entries, 1);
    free(rules);
}

Test(udev_files, second_install_changes_nothing)
{
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    struct stat before, after;
    cr_assert_eq(stat(r.path, &before), 0);
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_UNCHANGED);
    cr_expect_eq(r.existing, ED_UDEV_EXISTING_SAME);
    cr_assert_eq(stat(r.path, &after), 0);
    cr_expect_eq(before.st_ino, after.st_ino, "the file was replaced");
    cr_expect_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
    cr_expect_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    free(rules);
}

/* What espdoctor 0.1.0 and older wrote: the marker line without a checksum, then
 * comments and the two rule shapes. */
static const char legacy_rules[] =
    "# Written by espdoctor 0.0.1: do not edit; `espdoctor udev uninstall` removes it.\n"
    "# udev rules for the USB serial bridges of ESP32/ESP8266 boards\n"
    "\n"
    "# 10c4:ea60 CP2102 (cp210x)\n"
    "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"10c4\", ATTRS{idProduct}==\"ea60\", "
    "TAG+=\"uaccess\", ENV{ID_MM_DEVICE_IGNORE}=\"1\", GROUP=\"uucp\", MODE=\"0660\"\n"
    "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"10c4\", "
    "ATTR{idProduct}==\"ea60\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"\n";

Test(udev_files, install_replaces_an_older_file_of_ours)
{
    make_dirs_under_root();
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    write_file(path, legacy_rules);
    char *rules = ed_udev_rules_text("uucp");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_expect_eq(r.existing, ED_UDEV_EXISTING_OURS);
    cr_expect_eq(r.outcome, ED_UDEV_WRITTEN);
    char *now = read_file(path);
    cr_expect_str_eq(now, rules);
    free(now);
    free(rules);
}

Test(udev_files, uninstall_removes_an_older_file_of_ours)
{
    make_dirs_under_root();
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    write_file(path, legacy_rules);
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REMOVED);
    cr_expect_neq(access(path, F_OK), 0);
}

/* An old marker line on a file that also holds rules of someone else's: not ours. */
Test(udev_files, an_older_marker_on_foreign_rules_is_not_ours)
{
    make_dirs_under_root();
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    char text[2048];
    snprintf(text, sizeof text, "%sSUBSYSTEM==\"tty\", RUN+=\"/usr/local/bin/x\"\n",
             legacy_rules);
    write_file(path, text);
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    char *now = read_file(path);
    cr_expect_str_eq(now, text);
    free(now);
}

static const char foreign_rules[] =
    "# my own rules\nSUBSYSTEM==\"tty\", ATTRS{idVendor}==\"10c4\", MODE=\"0660\"\n";

Test(udev_files, install_refuses_to_overwrite_a_foreign_file)
{
    make_dirs_under_root();
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    write_file(path, foreign_rules);
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    cr_expect_eq(r.existing, ED_UDEV_EXISTING_FOREIGN);
    char *now = read_file(path);
    cr_expect_str_eq(now, foreign_rules);
    free(now);
    free(rules);
}

Test(udev_files, a_symlink_is_never_ours)
{
    make_dirs_under_root();
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    cr_assert_eq(symlink("/dev/null", path), 0);
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    char target[64] = "";
    cr_expect_gt(readlink(path, target, sizeof target - 1), 0, "the link was removed");
    cr_expect_str_eq(target, "/dev/null");
    free(rules);
}

Test(udev_files, uninstall_removes_our_file_then_finds_nothing)
{
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REMOVED);
    cr_expect_neq(access(r.path, F_OK), 0, "%s still exists", r.path);
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_ABSENT);
    free(rules);
}

Test(udev_files, uninstall_refuses_a_foreign_file)
{
    make_dirs_under_root();
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    write_file(path, foreign_rules);
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    char *now = read_file(path);
    cr_assert_not_null(now, "the foreign file was removed");
    cr_expect_str_eq(now, foreign_rules);
    free(now);
}

Test(udev_files, dry_run_writes_and_removes_nothing)
{
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, true, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_WRITTEN);
    char etc[512];
    path_under_root("/etc", etc, sizeof etc);
    cr_expect_neq(access(etc, F_OK), 0, "a dry run created %s", etc);

    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_assert_eq(ed_udev_uninstall(root_dir, true, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REMOVED);
    cr_expect_eq(access(r.path, F_OK), 0, "a dry run removed %s", r.path);
    free(rules);
}

Test(udev_files, a_root_that_does_not_exist_is_an_error)
{
    char missing[512];
    path_under_root("/no/such/dir", missing, sizeof missing);
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_expect_eq(ed_udev_install(missing, rules, false, &r), ED_E_IO);
    cr_expect_str_eq(r.step, "create directory");
    cr_expect_eq(r.sys_errno, ENOENT);
    free(rules);
}

static void write_group_file(const char *text)
{
    char path[512];
    path_under_root("/etc", path, sizeof path);
    mkdir(path, 0755);
    path_under_root("/etc/group", path, sizeof path);
    write_file(path, text);
}

Test(udev_files, group_uucp_when_there_is_no_dialout)
{
    write_group_file("root:x:0:\ndialoutx:x:5:\nuucp:x:14:\nwheel:x:998:me\n");
    char group[ED_UDEV_GROUP_MAX];
    bool found = false;
    ed_udev_detect_group(root_dir, group, &found);
    cr_expect_str_eq(group, "uucp");
    cr_expect(found);
}

Test(udev_files, group_dialout_preferred)
{
    write_group_file("uucp:x:10:\ndialout:x:20:\n");
    char group[ED_UDEV_GROUP_MAX];
    bool found = false;
    ed_udev_detect_group(root_dir, group, &found);
    cr_expect_str_eq(group, "dialout");
    cr_expect(found);
}

Test(udev_files, group_dialout_but_not_found_without_either)
{
    write_group_file("root:x:0:\nplugdev:x:46:\n");
    char group[ED_UDEV_GROUP_MAX];
    bool found = true;
    ed_udev_detect_group(root_dir, group, &found);
    cr_expect_str_eq(group, "dialout");
    cr_expect_not(found);
    cr_expect(ed_udev_group_exists(root_dir, "plugdev"));
    cr_expect_not(ed_udev_group_exists(root_dir, "plug"));
}

Test(udev_files, group_not_found_without_a_group_file)
{
    char group[ED_UDEV_GROUP_MAX];
    bool found = true;
    ed_udev_detect_group(root_dir, group, &found);
    cr_expect_str_eq(group, "dialout");
    cr_expect_not(found);
}

/* A stand-in udevadm on PATH that logs its arguments and exits with `status`. */
static void fake_udevadm(int status)
{
    char bin[512], script[1024], log[512];
    path_under_root("/bin", bin, sizeof bin);
    cr_assert_eq(mkdir(bin, 0755), 0);
    path_under_root("/udevadm.log", log, sizeof log);
    snprintf(script, sizeof script, "#!/bin/sh\necho \"$*\" >> '%s'\nexit %d\n", log, status);
    char path[600];
    snprintf(path, sizeof path, "%s/udevadm", bin);
    write_file(path, script);
    cr_assert_eq(chmod(path, 0755), 0);
    cr_assert_eq(setenv("PATH", bin, 1), 0);
}

Test(udev_files, reload_runs_udevadm_control_then_trigger)
{
    fake_udevadm(0);
    struct ed_udev_reload_result rr;
    cr_assert_eq(ed_udev_reload(&rr), ED_OK);
    char log[512];
    path_under_root("/udevadm.log", log, sizeof log);
    char *calls = read_file(log);
    cr_assert_not_null(calls);
    cr_expect_str_eq(calls, "control --reload-rules\n"
                            "trigger --action=change --subsystem-match=tty\n");
    free(calls);
    char line[160];
    ed_udev_reload_command(0, line, sizeof line);
    cr_expect_str_eq(line, "udevadm control --reload-rules");
}

Test(udev_files, reload_reports_the_step_that_failed)
{
    fake_udevadm(3);
    struct ed_udev_reload_result rr;
    cr_assert_eq(ed_udev_reload(&rr), ED_E_IO);
    cr_expect_eq(rr.failed_step, 0);
    cr_expect_eq(rr.exit_status, 3);
}

Test(udev_files, reload_without_udevadm_on_path)
{
    cr_assert_eq(setenv("PATH", root_dir, 1), 0);
    struct ed_udev_reload_result rr;
    cr_expect_eq(ed_udev_reload(&rr), ED_E_NOTFOUND);
}

/* A file that starts like espdoctor's marker but is someone else's. */
static const char lookalike_rules[] =
    "# Written by espdoctorate admins: keep\n"
    "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"10c4\", MODE=\"0666\"\n";

Test(udev_files, a_lookalike_marker_is_neither_overwritten_nor_deleted)
{
    make_dirs_under_root();
    char path[512];
    path_under_root("/etc/udev/rules.d/70-espdoctor.rules", path, sizeof path);
    write_file(path, lookalike_rules);
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    cr_expect_eq(r.existing, ED_UDEV_EXISTING_FOREIGN);
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    char *now = read_file(path);
    cr_assert_not_null(now, "the look-alike file was removed");
    cr_expect_str_eq(now, lookalike_rules);
    free(now);
    free(rules);
}

/* Our full marker line, with a version, on a file someone changed since: kept. */
Test(udev_files, our_file_edited_since_is_kept)
{
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    FILE *f = fopen(r.path, "a");
    cr_assert_not_null(f);
    fputs("SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"1234\", MODE=\"0660\"\n", f);
    fclose(f);
    char *edited = read_file(r.path);
    cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    cr_expect_eq(r.existing, ED_UDEV_EXISTING_EDITED);
    cr_assert_eq(ed_udev_uninstall(root_dir, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_REFUSED);
    char *now = read_file(r.path);
    cr_assert_not_null(now, "the edited file was removed");
    cr_expect_str_eq(now, edited);
    free(now);
    free(edited);
    free(rules);
}

Test(udev_files, the_checksum_covers_every_byte_after_the_first_line)
{
    char *rules = ed_udev_rules_text("dialout");
    size_t len = strlen(rules);
    cr_expect_eq(ed_udev_classify(rules, len, NULL), ED_UDEV_EXISTING_OURS);
    cr_expect_eq(ed_udev_classify(rules, len, rules), ED_UDEV_EXISTING_SAME);
    char *first_nl = strchr(rules, '\n');
    for (size_t i = (size_t)(first_nl - rules) + 1; i < len; i += 97) {
        rules[i] ^= 1;
        cr_expect_eq(ed_udev_classify(rules, len, NULL), ED_UDEV_EXISTING_EDITED, "byte %zu", i);
        rules[i] ^= 1;
    }
    cr_expect_eq(ed_udev_classify(rules, len - 1, NULL), ED_UDEV_EXISTING_EDITED);
    /* A changed marker line is no marker line at all. */
    rules[3] = 'w';
    cr_expect_eq(ed_udev_classify(rules, len, NULL), ED_UDEV_EXISTING_FOREIGN);
    free(rules);
}

/* The root itself may be a link (resolved once); below it nothing is followed. For each
 * directory of the rules path: make it a link to a tree outside the root that holds a
 * file of ours, then install and uninstall must refuse and leave the outside alone. */
Test(udev_files, a_symlinked_directory_below_the_root_is_refused)
{
    static const char *const parts[] = { "/etc", "/etc/udev", "/etc/udev/rules.d" };
    char *rules = ed_udev_rules_text("dialout");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char inside[512], outside[512], dir[600], link_at[600], target[600], file[700];
        snprintf(inside, sizeof inside, "%s/inside%zu", root_dir, i);
        snprintf(outside, sizeof outside, "%s/outside%zu", root_dir, i);
        cr_assert_eq(mkdir(inside, 0755), 0);
        cr_assert_eq(mkdir(outside, 0755), 0);
        /* outside/etc/udev/rules.d/70-espdoctor.rules, an older file of ours */
        for (size_t j = 0; j < 3; j++) {
            snprintf(dir, sizeof dir, "%s%s", outside, parts[j]);
            cr_assert_eq(mkdir(dir, 0755), 0);
        }
        snprintf(file, sizeof file, "%s/etc/udev/rules.d/70-espdoctor.rules", outside);
        write_file(file, legacy_rules);
        /* inside: the directories above part i, then part i as a link */
        for (size_t j = 0; j < i; j++) {
            snprintf(dir, sizeof dir, "%s%s", inside, parts[j]);
            cr_assert_eq(mkdir(dir, 0755), 0);
        }
        snprintf(link_at, sizeof link_at, "%s%s", inside, parts[i]);
        snprintf(target, sizeof target, "%s%s", outside, parts[i]);
        cr_assert_eq(symlink(target, link_at), 0);

        struct ed_udev_result r;
        for (int dry = 0; dry <= 1; dry++) {
            cr_expect_neq(ed_udev_install(inside, rules, dry, &r), ED_OK, "%s", parts[i]);
            cr_expect_str_eq(r.step_path, link_at);
            cr_expect_eq(r.sys_errno, ELOOP);
            cr_expect_not_null(r.reason);
            cr_expect_neq(ed_udev_uninstall(inside, dry, &r), ED_OK, "%s", parts[i]);
            cr_expect_str_eq(r.step_path, link_at);
        }
        enum ed_udev_existing existing;
        int err;
        cr_expect_neq(ed_udev_inspect(inside, rules, &existing, &err), ED_OK);
        cr_expect_eq(err, ELOOP);
        char *now = read_file(file);
        cr_assert_not_null(now, "%s: the file outside the root was removed", parts[i]);
        cr_expect_str_eq(now, legacy_rules, "%s: the file outside the root changed", parts[i]);
        free(now);
        snprintf(dir, sizeof dir, "%s/etc/udev/rules.d", outside);
        DIR *d = opendir(dir);
        cr_assert_not_null(d);
        int entries = 0;
        for (struct dirent *e; (e = readdir(d));)
            entries += e->d_name[0] != '.';
        closedir(d);
        cr_expect_eq(entries, 1, "%s: something new outside the root", parts[i]);
    }
    free(rules);
}

Test(udev_files, a_root_that_is_a_link_is_followed_once)
{
    char real[512], link_at[512];
    snprintf(real, sizeof real, "%s/real", root_dir);
    snprintf(link_at, sizeof link_at, "%s/link", root_dir);
    cr_assert_eq(mkdir(real, 0755), 0);
    cr_assert_eq(symlink(real, link_at), 0);
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_assert_eq(ed_udev_install(link_at, rules, false, &r), ED_OK);
    cr_expect_eq(r.outcome, ED_UDEV_WRITTEN);
    char path[700];
    snprintf(path, sizeof path, "%s/etc/udev/rules.d/70-espdoctor.rules", real);
    cr_expect_eq(access(path, F_OK), 0);
    free(rules);
}

/* "" once meant the live system's /etc. Checked with dry runs, so that a regression
 * cannot touch the real /etc. */
Test(udev_files, an_empty_root_is_refused)
{
    char *rules = ed_udev_rules_text("dialout");
    struct ed_udev_result r;
    cr_expect_eq(ed_udev_install("", rules, true, &r), ED_E_ARG);
    cr_expect_eq(ed_udev_uninstall("", true, &r), ED_E_ARG);
    char path[4096];
    cr_expect_not(ed_udev_rules_path("", path, sizeof path));
    enum ed_udev_existing existing;
    int err;
    cr_expect_eq(ed_udev_inspect("", rules, &existing, &err), ED_E_ARG);
    free(rules);
}

/* Two uninstalls at once: the one that finds the file gone reports "absent", not an
 * error. Many rounds, so that the two often meet between the look and the unlink. */
Test(udev_files, two_concurrent_uninstalls_both_succeed, .timeout = 60)
{
    char *rules = ed_udev_rules_text("dialout");
    int removed_total = 0;
    for (int round = 0; round < 200; round++) {
        struct ed_udev_result r;
        cr_assert_eq(ed_udev_install(root_dir, rules, false, &r), ED_OK);
        int gate[2];
        cr_assert_eq(pipe(gate), 0);
        pid_t pids[2];
        for (int k = 0; k < 2; k++) {
            pids[k] = fork();
            cr_assert_geq(pids[k], 0);
            if (pids[k] == 0) {
                close(gate[1]);
                char go;
                if (read(gate[0], &go, 1) != 0)
                    _exit(100);
                struct ed_udev_result mine;
                int rc = ed_udev_uninstall(root_dir, false, &mine);
                if (rc != ED_OK)
                    _exit(1);
                _exit(mine.outcome == ED_UDEV_REMOVED ? 10 : mine.outcome == ED_UDEV_ABSENT
                                                             ? 11 : 2);
            }
        }
        close(gate[0]);
        close(gate[1]);   /* both children start now */
        int removed = 0;
        for (int k = 0; k < 2; k++) {
            int status;
            cr_assert_eq(waitpid(pids[k], &status, 0), pids[k]);
            cr_assert(WIFEXITED(status));
            int code = WEXITSTATUS(status);
            cr_assert(code == 10 || code == 11, "round %d: an uninstall failed (exit %d)",
                      round, code);
            removed += code == 10;
        }
        cr_assert_eq(removed, 1, "round %d: %d uninstalls say they removed it", round,
                     removed);
        removed_total += removed;
    }
    cr_expect_eq(removed_total, 200);
    free(rules);
}
