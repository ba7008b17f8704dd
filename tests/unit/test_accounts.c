/* The planted root's account files, read with glibc's fgetpwent_r/fgetgrent_r: records
 * longer than the first buffer (1 KiB) are read whole, and the records after them too;
 * comments and blank lines are no records. */
#include "test_check_util.h"

TestSuite(accounts, .init = planted_root_make, .fini = planted_root_remove);

/* "dialout:x:4242:u0000,u0001,...,<last>": a member list of about count * 6 bytes. */
static char *long_group_line(const char *name, unsigned gid, unsigned count, const char *last)
{
    size_t cap = 64 + (size_t)count * 8 + strlen(last);
    char *line = malloc(cap);
    cr_assert_not_null(line);
    int n = snprintf(line, cap, "%s:x:%u:", name, gid);
    for (unsigned i = 0; i < count; i++)
        n += snprintf(line + n, cap - (size_t)n, "u%04u,", i);
    snprintf(line + n, cap - (size_t)n, "%s\n", last);
    return line;
}

Test(accounts, a_member_list_longer_than_a_kibibyte_is_read_whole)
{
    char *dialout = long_group_line("dialout", DIALOUT_GID, 1000, "alice");   /* ~6 KiB */
    cr_assert_gt(strlen(dialout), 4096);
    char text[8192];
    snprintf(text, sizeof text, "root:x:0:\n%splugdev:x:46:alice\n", dialout);
    free(dialout);
    plant_accounts(text);
    struct ed_sysroot s;
    ed_sysroot_init(&s, planted_root);
    cr_assert(ed_sysroot_group_lists_member(&s, DIALOUT_GID, "alice"),
              "alice ends the long member list");
    cr_assert(ed_sysroot_group_lists_member(&s, DIALOUT_GID, "u0999"));
    cr_assert_not(ed_sysroot_group_lists_member(&s, DIALOUT_GID, "bob"));
    char name[64];
    cr_assert(ed_sysroot_group_name(&s, DIALOUT_GID, name, sizeof name));
    cr_assert_str_eq(name, "dialout");
    cr_assert(ed_sysroot_group_name(&s, 46, name, sizeof name), "the record after it");
    cr_assert_str_eq(name, "plugdev");
    cr_assert(ed_sysroot_group_lists_member(&s, 46, "alice"));
}

/* The doctor's view: alice listed (last, after a thousand others) but not in this login's
 * groups must log in again, not be added to the group. */
Test(accounts, the_doctor_finds_alice_at_the_end_of_a_long_list)
{
    char *dialout = long_group_line("dialout", DIALOUT_GID, 1000, "alice");
    plant_accounts(dialout);
    free(dialout);
    plant_credentials(ALICE_UID, ALICE_GID, NULL, 0);
    struct ed_doctor d;
    doctor_read_planted(&d);
    struct ed_port_facts node = port_facts("/dev/ttyUSB0", 0, DIALOUT_GID, 0660, EACCES);
    cr_assert_not(ed_judge_permissions(&d, &node));
    const struct ed_finding *f = expect_first_error(&d.report, "perm.relogin-needed");
    expect_text(f->evidence, "root:dialout");
    ed_report_free(&d.report);
}

Test(accounts, a_long_passwd_record_and_the_ones_after_it)
{
    char gecos[3000];
    memset(gecos, 'g', sizeof gecos - 1);
    gecos[sizeof gecos - 1] = '\0';
    char text[4096];
    snprintf(text, sizeof text,
             "# accounts\n\nroot:x:0:0:root:/root:/bin/sh\n"
             "carol:x:4000:4000:%s:/home/carol:/bin/sh\n"
             "alice:x:4343:4242:Alice:/home/alice:/bin/bash\n", gecos);
    plant("/etc/passwd", text);
    struct ed_sysroot s;
    ed_sysroot_init(&s, planted_root);
    char name[64];
    cr_assert(ed_sysroot_user_name(&s, 4000, name, sizeof name));
    cr_assert_str_eq(name, "carol");
    cr_assert(ed_sysroot_user_name(&s, ALICE_UID, name, sizeof name));
    cr_assert_str_eq(name, "alice");
    gid_t gid = 0;
    cr_assert(ed_sysroot_user_primary_gid(&s, "alice", &gid));
    cr_assert_eq(gid, 4242);
    cr_assert_not(ed_sysroot_user_name(&s, 4444, name, sizeof name),
                  "a planted root has no name services behind it");
    cr_assert_not(ed_sysroot_user_primary_gid(&s, "#", &gid), "a comment is no record");
}

Test(accounts, no_account_files_no_names)
{
    struct ed_sysroot s;
    ed_sysroot_init(&s, planted_root);
    char name[64];
    cr_assert_not(ed_sysroot_user_name(&s, 0, name, sizeof name));
    cr_assert_not(ed_sysroot_group_name(&s, 0, name, sizeof name));
    cr_assert_not(ed_sysroot_group_lists_member(&s, 0, "root"));
}
