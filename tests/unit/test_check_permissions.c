/* Permissions family against a real node (a file owned by root, group "dialout" 4242,
 * mode 0660), checked from a child that dropped root: the real open() must agree with the
 * mode, the ACL and the planted group database. */
#include "test_check_util.h"

#include <pwd.h>
#include <sys/xattr.h>

#define GROUPS_WITH_ALICE "root:x:0:\ndialout:x:4242:bob,alice\nalice:x:4343:\nnogroup:x:65534:\n"
#define GROUPS_WITHOUT_ALICE "root:x:0:\ndialout:x:4242:bob\nalice:x:4343:\nnogroup:x:65534:\n"

TestSuite(check_permissions, .init = planted_root_make, .fini = planted_root_remove);

/* The port: <root>/dev/ttyUSB0 with the given group and mode. */
static void port_node(struct ed_doctor *d, gid_t group, mode_t mode)
{
    require_root();
    plant("/dev/ttyUSB0", "");
    planted_path("/dev/ttyUSB0", d->target.devnode, sizeof d->target.devnode);
    cr_assert_eq(chown(d->target.devnode, 0, group), 0);
    cr_assert_eq(chmod(d->target.devnode, mode), 0);
}

static void alice_with_port(struct ed_doctor *d, const char *group_file)
{
    doctor_planted(d);
    plant_accounts(group_file);
    port_node(d, DIALOUT_GID, 0660);
}

Test(check_permissions, in_group_database_but_not_in_this_login_needs_relogin)
{
    struct ed_doctor d;
    alice_with_port(&d, GROUPS_WITH_ALICE);
    cr_assert_not(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, NULL, 0));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.relogin-needed");
    expect_text(f->evidence, "-rw-rw---- root:dialout");   /* a plain file stands for the node */
    expect_text(f->evidence, "root:dialout");
    expect_text(f->evidence, "Permission denied");
    cr_assert_str_eq(f->fix_command, "newgrp dialout");
    expect_text(f->fix, "no need to add it again");
    ed_report_free(&d.report);
}

Test(check_permissions, primary_group_in_passwd_counts_as_database_membership)
{
    struct ed_doctor d;
    doctor_planted(&d);
    plant("/etc/passwd", "alice:x:4343:4242:Alice:/home/alice:/bin/bash\n");
    plant("/etc/group", GROUPS_WITHOUT_ALICE);
    port_node(&d, DIALOUT_GID, 0660);
    cr_assert_not(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, NULL, 0));
    expect_first_error(&d.report, "perm.relogin-needed");
    ed_report_free(&d.report);
}

Test(check_permissions, not_in_the_group_names_the_nodes_real_group)
{
    struct ed_doctor d;
    doctor_planted(&d);
    plant_accounts("root:x:0:\nuucp:x:4242:bob\nalice:x:4343:\n");
    port_node(&d, DIALOUT_GID, 0660);
    cr_assert_not(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, NULL, 0));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.not-in-group");
    expect_text(f->evidence, "root:uucp");
    cr_assert_str_eq(f->fix_command, "sudo usermod -aG uucp alice");
    expect_text(f->fix, "espdoctor's udev rules");
    ed_report_free(&d.report);
}

Test(check_permissions, member_of_the_group_may_open)
{
    struct ed_doctor d;
    alice_with_port(&d, GROUPS_WITH_ALICE);
    gid_t dialout = DIALOUT_GID;
    d.cred.groups[0] = dialout;
    d.cred.ngroups = 1;
    cr_assert(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, &dialout, 1));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "perm.ok");
    cr_assert_not_null(f);
    expect_text(f->evidence, "through group dialout");
    ed_report_free(&d.report);
}

/* system.posix_acl_access: version 2, then (tag, perm, id) little-endian. */
static void put_acl_entry(unsigned char *at, uint16_t tag, uint16_t perm, uint32_t id)
{
    at[0] = (unsigned char)tag;
    at[1] = (unsigned char)(tag >> 8);
    at[2] = (unsigned char)perm;
    at[3] = (unsigned char)(perm >> 8);
    for (int i = 0; i < 4; i++)
        at[4 + i] = (unsigned char)(id >> (8 * i));
}

Test(check_permissions, uaccess_acl_for_the_user_grants_access)
{
    struct ed_doctor d;
    alice_with_port(&d, GROUPS_WITHOUT_ALICE);
    unsigned char acl[4 + 5 * 8] = { 2, 0, 0, 0 };
    put_acl_entry(acl + 4, 0x01, 6, 0xffffffffu);        /* owner rw */
    put_acl_entry(acl + 12, 0x02, 6, ALICE_UID);         /* user:alice:rw */
    put_acl_entry(acl + 20, 0x04, 6, 0xffffffffu);       /* group rw */
    put_acl_entry(acl + 28, 0x10, 6, 0xffffffffu);       /* mask rw */
    put_acl_entry(acl + 36, 0x20, 0, 0xffffffffu);       /* others none */
    cr_assert_eq(setxattr(d.target.devnode, "system.posix_acl_access", acl, sizeof acl, 0), 0,
                 "setxattr: %s", strerror(errno));
    cr_assert(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, NULL, 0),
              "the kernel honours the ACL, so the open works");
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "perm.ok");
    cr_assert_not_null(f);
    expect_text(f->evidence, "ACL entry for user alice");
    expect_text(f->evidence, "user:alice:rw-");
    ed_report_free(&d.report);
}

Test(check_permissions, overflow_group_means_a_sandbox)
{
    struct ed_doctor d;
    doctor_planted(&d);
    plant_accounts(GROUPS_WITH_ALICE);
    port_node(&d, 65534, 0660);
    cr_assert_not(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, NULL, 0));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.sandboxed");
    expect_text(f->evidence, "nogroup");
    cr_assert_null(strstr(f->fix, "usermod"), "no bogus group advice: %s", f->fix);
    cr_assert_null(f->fix_command, "no command fits a sandbox: %s", f->fix_command);
    ed_report_free(&d.report);
}

/* The credentials claim the group but the process lacks it: as when a security module
 * refuses what the mode allows. Both facts must be reported. */
Test(check_permissions, mode_allows_but_open_refused_reports_both_facts)
{
    struct ed_doctor d;
    alice_with_port(&d, GROUPS_WITH_ALICE);
    d.cred.groups[0] = DIALOUT_GID;
    d.cred.ngroups = 1;
    cr_assert_not(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, NULL, 0));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.denied");
    expect_text(f->evidence, "grants read and write through group dialout");
    expect_text(f->evidence, "open() failed: Permission denied");
    ed_report_free(&d.report);
}

Test(check_permissions, owner_only_node_needs_the_udev_rules_not_a_group)
{
    struct ed_doctor d;
    alice_with_port(&d, GROUPS_WITH_ALICE);
    cr_assert_eq(chown(d.target.devnode, 0, 0), 0);
    cr_assert_eq(chmod(d.target.devnode, 0600), 0);
    cr_assert_not(run_unprivileged(&d, ed_check_permissions, ALICE_UID, ALICE_GID, NULL, 0));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.denied");
    expect_text(f->evidence, "root:root");
    cr_assert_str_eq(f->fix_command, "sudo espdoctor udev install");
    ed_report_free(&d.report);
}

Test(check_permissions, root_is_reported_and_the_check_goes_on)
{
    struct ed_doctor d;
    alice_with_port(&d, GROUPS_WITH_ALICE);
    d.cred.uid = 0;
    d.cred.gid = 0;
    cr_assert(ed_check_permissions(&d));
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
    expect_first_error(&d.report, "port.vanished");
    ed_report_free(&d.report);
}

Test(check_permissions, credentials_of_this_process)
{
    struct ed_credentials c;
    ed_credentials_from_process(&c);
    cr_assert_eq(c.uid, getuid());
    cr_assert_eq(c.gid, getgid());
    cr_assert_eq(c.ngroups, getgroups(0, NULL) < ED_DOCTOR_MAX_GROUPS ? getgroups(0, NULL)
                                                                      : ED_DOCTOR_MAX_GROUPS);
    const struct passwd *pw = getpwuid(getuid());
    cr_assert_not_null(pw);
    cr_assert_str_eq(c.user, pw->pw_name);
}
