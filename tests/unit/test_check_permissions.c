/* Permissions family on planted facts: the node's owner, group, mode and ACL, the result of
 * the real open(), the credentials (the planted /proc/self/status) and the group database
 * (the planted /etc/group) must together name the right cause. No privileges needed: the
 * facts a real root-owned node and a dropped-privilege open would give are planted. Then
 * the gathering itself, on real files this user owns. */
#include "test_check_util.h"

#include <acl/libacl.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/xattr.h>

#define GROUPS_WITH_ALICE "root:x:0:\ndialout:x:4242:bob,alice\nalice:x:4343:\nnogroup:x:65534:\n"
#define GROUPS_WITHOUT_ALICE "root:x:0:\ndialout:x:4242:bob\nalice:x:4343:\nnogroup:x:65534:\n"
#define PORT "/dev/ttyUSB0"

TestSuite(check_permissions, .init = planted_root_make, .fini = planted_root_remove);

/* alice, with these supplementary groups, and the accounts of group_file. */
static void alice(struct ed_doctor *d, const char *group_file, const gid_t *groups,
                  size_t ngroups)
{
    plant_accounts(group_file);
    plant_credentials(ALICE_UID, ALICE_GID, groups, ngroups);
    doctor_read_planted(d);
}

Test(check_permissions, in_group_database_but_not_in_this_login_needs_relogin)
{
    struct ed_doctor d;
    alice(&d, GROUPS_WITH_ALICE, NULL, 0);
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0660, EACCES);
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.relogin-needed");
    expect_text(f->evidence, "/dev/ttyUSB0 is crw-rw---- root:dialout");
    expect_text(f->evidence, "the group database lists alice in dialout");
    expect_text(f->evidence, "Permission denied");
    cr_assert_str_eq(f->fix_command, "newgrp dialout");
    expect_text(f->fix, "no need to add it again");
    ed_report_free(&d.report);
}

Test(check_permissions, primary_group_in_passwd_counts_as_database_membership)
{
    struct ed_doctor d;
    plant("/etc/passwd", "alice:x:4343:4242:Alice:/home/alice:/bin/bash\n");
    plant("/etc/group", GROUPS_WITHOUT_ALICE);
    plant_credentials(ALICE_UID, ALICE_GID, NULL, 0);
    doctor_read_planted(&d);
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0660, EACCES);
    cr_assert_not(ed_judge_permissions(&d, &node));
    expect_first_error(&d.report, "perm.relogin-needed");
    ed_report_free(&d.report);
}

Test(check_permissions, not_in_the_group_names_the_nodes_real_group)
{
    struct ed_doctor d;
    alice(&d, "root:x:0:\nuucp:x:4242:bob\nalice:x:4343:\n", NULL, 0);
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0660, EACCES);
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.not-in-group");
    expect_text(f->evidence, "root:uucp");
    expect_text(f->evidence, "alice is not in group uucp");
    cr_assert_str_eq(f->fix_command, "sudo usermod -aG uucp alice");
    expect_text(f->fix, "espdoctor's udev rules");
    ed_report_free(&d.report);
}

Test(check_permissions, member_of_the_group_may_open)
{
    struct ed_doctor d;
    const gid_t dialout = DIALOUT_GID;
    alice(&d, GROUPS_WITH_ALICE, &dialout, 1);
    cr_assert_eq(d.cred.ngroups, 1, "the login's groups come from the planted status");
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0660, 0);
    cr_assert(ed_judge_permissions(&d, &node));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "perm.ok");
    cr_assert_not_null(f);
    expect_text(f->evidence, "through group dialout");
    ed_report_free(&d.report);
}

/* owner rw, user:<uid>:<user_perm>, group rw, mask <mask>, others none: udev's uaccess ACL,
 * in acl(5)'s text form. */
static acl_t uaccess_acl(uid_t uid, const char *user_perm, const char *mask)
{
    char text[128];
    snprintf(text, sizeof text, "u::rw-,u:%u:%s,g::rw-,m::%s,o::---", (unsigned)uid,
             user_perm, mask);
    acl_t acl = acl_from_text(text);
    cr_assert_not_null(acl, "acl_from_text(%s): %s", text, strerror(errno));
    return acl;
}

Test(check_permissions, uaccess_acl_for_the_user_grants_access)
{
    struct ed_doctor d;
    alice(&d, GROUPS_WITHOUT_ALICE, NULL, 0);
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0660, 0);
    node.acl = uaccess_acl(ALICE_UID, "rw-", "rw-");
    cr_assert(ed_judge_permissions(&d, &node));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "perm.ok");
    cr_assert_not_null(f);
    expect_text(f->evidence, "ACL entry for user alice");
    expect_text(f->evidence, "user:alice:rw-");
    expect_text(f->evidence, "mask::rw-");
    ed_report_free(&d.report);
    ed_port_facts_release(&node);
}

/* The ACL's mask limits the named entry: user:alice:rw- under mask::r-- grants no write,
 * and alice is not in the group either. */
Test(check_permissions, acl_mask_limits_the_users_entry)
{
    struct ed_doctor d;
    alice(&d, GROUPS_WITHOUT_ALICE, NULL, 0);
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0640, EACCES);
    node.acl = uaccess_acl(ALICE_UID, "rw-", "r--");
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.denied");
    expect_text(f->evidence, "mask::r--");
    ed_report_free(&d.report);
    ed_port_facts_release(&node);
}

Test(check_permissions, overflow_group_means_a_sandbox)
{
    struct ed_doctor d;
    alice(&d, GROUPS_WITH_ALICE, NULL, 0);
    struct ed_port_facts node = port_facts(PORT, 0, 65534, 0660, EACCES);
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.sandboxed");
    expect_text(f->evidence, "nogroup");
    cr_assert_null(strstr(f->fix, "usermod"), "no bogus group advice: %s", f->fix);
    cr_assert_null(f->fix_command, "no command fits a sandbox: %s", f->fix_command);
    ed_report_free(&d.report);
}

/* The login has the group but open() is refused: as when a security module refuses what
 * the mode allows. Both facts must be reported. */
Test(check_permissions, mode_allows_but_open_refused_reports_both_facts)
{
    struct ed_doctor d;
    const gid_t dialout = DIALOUT_GID;
    alice(&d, GROUPS_WITH_ALICE, &dialout, 1);
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0660, EACCES);
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.denied");
    expect_text(f->evidence, "grants read and write through group dialout");
    expect_text(f->evidence, "open() failed: Permission denied");
    ed_report_free(&d.report);
}

Test(check_permissions, owner_only_node_needs_the_udev_rules_not_a_group)
{
    struct ed_doctor d;
    alice(&d, GROUPS_WITH_ALICE, NULL, 0);
    struct ed_port_facts node = port_facts(PORT, 0, 0, 0600, EACCES);
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.denied");
    expect_text(f->evidence, "crw------- root:root");
    cr_assert_str_eq(f->fix_command, "sudo espdoctor udev install");
    ed_report_free(&d.report);
}

Test(check_permissions, root_is_reported_and_the_check_goes_on)
{
    struct ed_doctor d;
    plant_accounts(GROUPS_WITH_ALICE);
    plant_credentials(0, 0, NULL, 0);
    doctor_read_planted(&d);
    cr_assert_str_eq(d.cred.user, "root");
    struct ed_port_facts node = port_facts(PORT, 0, DIALOUT_GID, 0660, 0);
    cr_assert(ed_judge_permissions(&d, &node));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "perm.root");
    cr_assert_not_null(f);
    cr_assert_eq(f->diag->severity, ED_SEV_INFO);
    ed_report_free(&d.report);
}

Test(check_permissions, missing_node_is_reported_as_vanished)
{
    struct ed_doctor d;
    doctor_planted(&d);
    planted_path("/dev/ttyUSB9", d.target.devnode, sizeof d.target.devnode);
    cr_assert_not(ed_check_permissions(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "port.vanished");
    expect_text(f->evidence, "No such file or directory");
    ed_report_free(&d.report);
}

/* ---- the facts gathered, and the credentials read, for real ---------------------------- */

/* A file this user owns, mode 0600, with an ACL entry for uid 4343 (the owner may set it). */
Test(check_permissions, gathering_reads_the_nodes_stat_acl_and_open)
{
    char path[1024];
    plant("/dev/ttyUSB0", "");
    planted_path("/dev/ttyUSB0", path, sizeof path);
    acl_t acl = uaccess_acl(ALICE_UID, "rw-", "rw-");
    cr_assert_eq(acl_set_file(path, ACL_TYPE_ACCESS, acl), 0,
                 "acl_set_file on a file of our own: %s (the filesystem of %s must support "
                 "POSIX ACLs)", strerror(errno), planted_root);
    acl_free(acl);
    struct ed_port_facts f;
    ed_port_facts_gather(path, &f);
    cr_assert_eq(f.stat_errno, 0);
    cr_assert_eq(f.st.st_uid, geteuid());
    cr_assert_not_null(f.acl, "the ACL as stored");
    char *text = acl_to_any_text(f.acl, NULL, ',', TEXT_NUMERIC_IDS);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "user:4343:rw-") != NULL, "the entry for uid 4343: %s", text);
    acl_free(text);
    cr_assert_eq(f.open_errno, 0, "our own file opens: %s", strerror(f.open_errno));
    cr_assert_str_eq(f.path, path);
    ed_port_facts_release(&f);
    cr_assert_null(f.acl, "released");

    planted_path("/dev/ttyUSB9", path, sizeof path);
    ed_port_facts_gather(path, &f);
    cr_assert_eq(f.stat_errno, ENOENT);
}

/* A real node with a named group entry, read back through libacl: the entry (not the
 * node's own group, root) grants alice read and write because her login has the group. */
Test(check_permissions, a_named_group_entry_read_from_the_node_grants_access)
{
    char path[1024];
    plant("/dev/ttyUSB0", "");
    planted_path("/dev/ttyUSB0", path, sizeof path);
    acl_t acl = acl_from_text("u::rw-,g::---,g:4242:rw-,m::rw-,o::---");
    cr_assert_not_null(acl);
    cr_assert_eq(acl_set_file(path, ACL_TYPE_ACCESS, acl), 0, "acl_set_file: %s",
                 strerror(errno));
    acl_free(acl);
    struct ed_doctor d;
    const gid_t dialout = DIALOUT_GID;
    alice(&d, GROUPS_WITH_ALICE, &dialout, 1);
    struct ed_port_facts node;
    ed_port_facts_gather(path, &node);
    cr_assert_not_null(node.acl);
    cr_assert(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = finding(&d.report, "perm.ok");
    cr_assert_not_null(f);
    expect_text(f->evidence, "through ACL entry for group dialout");
    expect_text(f->evidence, "group:dialout:rw- mask::rw-");
    ed_report_free(&d.report);
    ed_port_facts_release(&node);
}

/* The same entry under a mask of r--, on a node whose open is refused: no access through
 * it, and the evidence shows both the entry and the mask. */
Test(check_permissions, the_mask_limits_a_named_group_entry)
{
    struct ed_doctor d;
    const gid_t dialout = DIALOUT_GID;
    alice(&d, GROUPS_WITH_ALICE, &dialout, 1);
    struct ed_port_facts node = port_facts(PORT, 0, 0, 0640, EACCES);
    node.acl = acl_from_text("u::rw-,g::---,g:4242:rw-,m::r--,o::---");
    cr_assert_not_null(node.acl);
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.denied");
    expect_text(f->evidence, "group:dialout:rw- mask::r--");
    cr_assert_str_eq(f->fix_command, "sudo espdoctor udev install");
    ed_report_free(&d.report);
    ed_port_facts_release(&node);
}

/* A node with no ACL beyond its mode gathers none: the mode alone speaks. */
Test(check_permissions, a_node_without_an_acl_gathers_none)
{
    char path[1024];
    plant("/dev/ttyUSB0", "");
    planted_path("/dev/ttyUSB0", path, sizeof path);
    struct ed_port_facts node;
    ed_port_facts_gather(path, &node);
    cr_assert_eq(node.stat_errno, 0);
    cr_assert_null(node.acl, "no extended ACL on a fresh file");
    ed_port_facts_release(&node);
}

Test(check_permissions, credentials_of_this_process)
{
    struct ed_sysroot real;
    ed_sysroot_init(&real, "/");
    struct ed_credentials c;
    ed_credentials_read(&real, &c);
    cr_assert_eq(c.uid, getuid());
    cr_assert_eq(c.gid, getgid());
    gid_t groups[ED_DOCTOR_MAX_GROUPS];
    int n = getgroups(ED_DOCTOR_MAX_GROUPS, groups);
    cr_assert_eq(c.ngroups, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(c.groups[i], groups[i], "group %d", i);
    const struct passwd *pw = getpwuid(getuid());
    cr_assert_not_null(pw);
    cr_assert_str_eq(c.user, pw->pw_name);
}

Test(check_permissions, planted_status_gives_the_credentials)
{
    const gid_t groups[] = { 4242, 27, 100 };
    plant_accounts(GROUPS_WITH_ALICE);
    plant_credentials(ALICE_UID, ALICE_GID, groups, 3);
    struct ed_doctor d;
    doctor_read_planted(&d);
    cr_assert_eq(d.cred.uid, ALICE_UID);
    cr_assert_eq(d.cred.gid, ALICE_GID);
    cr_assert_eq(d.cred.ngroups, 3);
    cr_assert_eq(d.cred.groups[0], 4242);
    cr_assert_eq(d.cred.groups[2], 100);
    cr_assert_str_eq(d.cred.user, "alice");
}

/* A planted root that does not describe this process stands for the process itself. */
Test(check_permissions, root_without_status_means_this_process)
{
    plant("/etc/passwd", "someone:x:1:1::/:/bin/sh\n");
    plant("/proc/locks", "");
    struct ed_doctor d;
    doctor_read_planted(&d);
    cr_assert_eq(d.cred.uid, getuid());
    cr_assert_eq(d.cred.gid, getgid());
    cr_assert_eq(d.cred.ngroups, getgroups(0, NULL));
    plant("/proc/self/status", "Name:\tx\nUid:\tnot a number\n");
    doctor_read_planted(&d);
    cr_assert_eq(d.cred.uid, getuid(), "a status without ids is no description");
}
