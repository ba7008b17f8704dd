/* `espdoctor udev show|install|uninstall` through cmd_udev(), under a temporary --root:
 * messages, exit codes, JSON, and the permission error that names sudo. */
#include <criterion/criterion.h>

#include "../../src/cli.h"   /* struct ed_cli, exit codes: the tests have no -Isrc */
#include "espdoctor/udev.h"

#include <ftw.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int cmd_udev(struct ed_cli *cli, int argc, char **argv);

static char root_dir[256];

static void make_root(void)
{
    snprintf(root_dir, sizeof root_dir, "/tmp/espdoctor-udev-cli-XXXXXX");
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

TestSuite(udev_cli, .init = make_root, .fini = remove_root);

/* One run of the command with its output captured. */
struct run {
    int exit_code;
    char *out;
    char *err;
};

struct run_options {
    bool json;
    bool dry_run;
    const char *root;   /* NULL: the temporary root */
};

static struct run run_udev(struct run_options opt, const char *a0, const char *a1)
{
    struct run r = { 0 };
    size_t out_len = 0, err_len = 0;
    struct ed_cli cli;
    memset(&cli, 0, sizeof cli);
    cli.prog = "espdoctor";
    cli.json = opt.json;
    cli.dry_run = opt.dry_run;
    cli.root = opt.root ? opt.root : root_dir;
    cli.out = open_memstream(&r.out, &out_len);
    cli.err = open_memstream(&r.err, &err_len);
    cr_assert(cli.out && cli.err);
    char *argv[3] = { (char *)a0, (char *)a1, NULL };
    int argc = a0 ? (a1 ? 2 : 1) : 0;
    r.exit_code = cmd_udev(&cli, argc, argv);
    fclose(cli.out);
    fclose(cli.err);
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

static void write_group_file(const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/etc", root_dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/etc/group", root_dir);
    write_file(path, text);
}

static void rules_path(char *out, size_t size)
{
    cr_assert(ed_udev_rules_path(root_dir, out, size));
}

Test(udev_cli, show_prints_the_rules_for_the_systems_group)
{
    write_group_file("root:x:0:\nuucp:x:14:\n");
    struct run r = run_udev((struct run_options){ 0 }, "show", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK);
    char *expected = ed_udev_rules_text("uucp");
    cr_expect_str_eq(r.out, expected);
    cr_expect_str_empty(r.err);
    free(expected);
    run_free(&r);
}

Test(udev_cli, show_with_a_group_prints_the_shipped_rules)
{
    struct run r = run_udev((struct run_options){ 0 }, "show", "dialout");
    cr_expect_eq(r.exit_code, ED_EXIT_OK);
    char *expected = ed_udev_rules_text("dialout");
    cr_expect_str_eq(r.out, expected);
    free(expected);
    run_free(&r);
}

Test(udev_cli, show_warns_when_there_is_no_serial_group)
{
    write_group_file("root:x:0:\n");
    struct run r = run_udev((struct run_options){ 0 }, "show", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK);
    cr_expect(strstr(r.err, "neither 'dialout' nor 'uucp'"), "%s", r.err);
    cr_expect(strstr(r.out, "GROUP=\"dialout\""));
    run_free(&r);
}

Test(udev_cli, show_json_tells_whether_the_rules_are_installed)
{
    write_group_file("dialout:x:20:\n");
    struct run r = run_udev((struct run_options){ .json = true }, "show", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK);
    json_object *doc = json_tokener_parse(r.out);
    cr_assert_not_null(doc, "not JSON: %s", r.out);
    json_object *v;
    cr_assert(json_object_object_get_ex(doc, "changed", &v));
    cr_expect_not(json_object_get_boolean(v));
    cr_assert(json_object_object_get_ex(doc, "installed", &v));
    cr_expect_str_eq(json_object_get_string(v), "none");
    cr_assert(json_object_object_get_ex(doc, "rules", &v));
    char *expected = ed_udev_rules_text("dialout");
    cr_expect_str_eq(json_object_get_string(v), expected);
    free(expected);
    json_object_put(doc);
    run_free(&r);

    r = run_udev((struct run_options){ 0 }, "install", NULL);
    run_free(&r);
    r = run_udev((struct run_options){ .json = true }, "show", NULL);
    doc = json_tokener_parse(r.out);
    cr_assert_not_null(doc, "not JSON: %s", r.out);
    cr_assert(json_object_object_get_ex(doc, "installed", &v));
    cr_expect_str_eq(json_object_get_string(v), "same");
    json_object_put(doc);
    run_free(&r);
}

Test(udev_cli, install_then_install_again)
{
    write_group_file("dialout:x:20:\n");
    char path[4096];
    rules_path(path, sizeof path);
    struct run r = run_udev((struct run_options){ 0 }, "install", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    cr_expect(strstr(r.out, "wrote"), "%s", r.out);
    cr_expect(strstr(r.out, path), "%s", r.out);
    cr_expect(strstr(r.out, "not asked to reload"), "%s", r.out);
    cr_expect_eq(access(path, F_OK), 0);
    run_free(&r);

    r = run_udev((struct run_options){ 0 }, "install", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    cr_expect(strstr(r.out, "already installed, nothing changed"), "%s", r.out);
    run_free(&r);
}

Test(udev_cli, install_json)
{
    write_group_file("uucp:x:14:\n");
    struct run r = run_udev((struct run_options){ .json = true }, "install", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    json_object *doc = json_tokener_parse(r.out);
    cr_assert_not_null(doc, "not JSON: %s", r.out);
    json_object *v;
    cr_assert(json_object_object_get_ex(doc, "action", &v));
    cr_expect_str_eq(json_object_get_string(v), "install");
    cr_assert(json_object_object_get_ex(doc, "changed", &v));
    cr_expect(json_object_get_boolean(v));
    cr_assert(json_object_object_get_ex(doc, "group", &v));
    cr_expect_str_eq(json_object_get_string(v), "uucp");
    cr_assert(json_object_object_get_ex(doc, "reload", &v));
    cr_expect_str_eq(json_object_get_string(v), "skipped");
    cr_assert(json_object_object_get_ex(doc, "path", &v));
    char path[4096];
    rules_path(path, sizeof path);
    cr_expect_str_eq(json_object_get_string(v), path);
    json_object_put(doc);
    run_free(&r);

    r = run_udev((struct run_options){ .json = true }, "install", NULL);
    doc = json_tokener_parse(r.out);
    cr_assert_not_null(doc, "not JSON: %s", r.out);
    cr_assert(json_object_object_get_ex(doc, "changed", &v));
    cr_expect_not(json_object_get_boolean(v));
    cr_assert(json_object_object_get_ex(doc, "outcome", &v));
    cr_expect_str_eq(json_object_get_string(v), "unchanged");
    cr_assert(json_object_object_get_ex(doc, "reload", &v));
    cr_expect_str_eq(json_object_get_string(v), "not-needed");
    json_object_put(doc);
    run_free(&r);
}

Test(udev_cli, refuses_a_foreign_file_with_exit_3)
{
    write_group_file("dialout:x:20:\n");
    char path[4096];
    rules_path(path, sizeof path);
    struct run r = run_udev((struct run_options){ 0 }, "install", NULL);
    run_free(&r);
    static const char mine[] = "SUBSYSTEM==\"tty\", GROUP=\"dialout\"\n";
    write_file(path, mine);

    r = run_udev((struct run_options){ 0 }, "install", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_REFUSED);
    cr_expect(strstr(r.err, "not written by espdoctor"), "%s", r.err);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "uninstall", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_REFUSED);
    run_free(&r);

    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "the foreign file is gone");
    char buf[128] = "";
    cr_expect_not_null(fgets(buf, sizeof buf, f));
    fclose(f);
    cr_expect_str_eq(buf, mine);
}

Test(udev_cli, uninstall_removes_then_reports_nothing_to_remove)
{
    write_group_file("dialout:x:20:\n");
    struct run r = run_udev((struct run_options){ 0 }, "install", NULL);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "uninstall", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    cr_expect(strstr(r.out, "removed"), "%s", r.out);
    char path[4096];
    rules_path(path, sizeof path);
    cr_expect_neq(access(path, F_OK), 0);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "uninstall", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK);
    cr_expect(strstr(r.out, "not installed, nothing to remove"), "%s", r.out);
    run_free(&r);
}

Test(udev_cli, dry_run_says_what_it_would_do_and_writes_nothing)
{
    write_group_file("dialout:x:20:\n");
    struct run r = run_udev((struct run_options){ .dry_run = true }, "install", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    cr_expect(strstr(r.out, "would write"), "%s", r.out);
    char path[4096];
    rules_path(path, sizeof path);
    cr_expect_neq(access(path, F_OK), 0, "a dry run wrote %s", path);
    run_free(&r);
}

/* A dry run is honest in every form: JSON names what would happen, not what did. */
Test(udev_cli, dry_run_json_says_would_write_and_would_remove)
{
    write_group_file("dialout:x:20:\n");
    struct run r = run_udev((struct run_options){ .dry_run = true, .json = true }, "install",
                            NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    cr_expect(strstr(r.out, "\"outcome\": \"would-write\""), "%s", r.out);
    cr_expect(strstr(r.out, "\"changed\": false"), "%s", r.out);
    cr_expect_null(strstr(r.out, "\"written\""), "%s", r.out);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "install", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    run_free(&r);
    r = run_udev((struct run_options){ .dry_run = true, .json = true }, "uninstall", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_OK, "%s", r.err);
    cr_expect(strstr(r.out, "\"outcome\": \"would-remove\""), "%s", r.out);
    run_free(&r);
    char path[4096];
    rules_path(path, sizeof path);
    cr_expect_eq(access(path, F_OK), 0, "a dry run removed %s", path);
}

/* What would fail fails in the dry run too, with the same exit code: a root that is not
 * there, and a file where a directory must be. */
Test(udev_cli, dry_run_that_would_fail_exits_1)
{
    char missing[512], blocked[512], file[600];
    snprintf(missing, sizeof missing, "%s/no/such/root", root_dir);
    for (int dry = 1; dry >= 0; dry--) {
        struct run r = run_udev((struct run_options){ .dry_run = dry, .root = missing },
                                "install", NULL);
        cr_expect_eq(r.exit_code, ED_EXIT_FAIL, "%s: exit %d, %s", dry ? "dry run" : "install",
                     r.exit_code, r.err);
        cr_expect(strstr(r.err, "No such file or directory"), "%s", r.err);
        cr_expect_null(strstr(r.out, "would write"), "a dry run that cannot work: %s", r.out);
        run_free(&r);
    }
    snprintf(blocked, sizeof blocked, "%s/blocked", root_dir);
    snprintf(file, sizeof file, "%s/etc", blocked);
    cr_assert_eq(mkdir(blocked, 0755), 0);
    write_file(file, "a file where /etc belongs\n");
    for (int dry = 1; dry >= 0; dry--) {
        struct run r = run_udev((struct run_options){ .dry_run = dry, .json = true,
                                                      .root = blocked }, "install", NULL);
        cr_expect_eq(r.exit_code, ED_EXIT_FAIL, "%s: exit %d, %s", dry ? "dry run" : "install",
                     r.exit_code, r.err);
        cr_expect(strstr(r.out, "\"outcome\": \"failed\""), "%s", r.out);
        cr_expect(strstr(r.err, "Not a directory"), "%s", r.err);
        run_free(&r);
    }
}

Test(udev_cli, usage_errors)
{
    struct run r = run_udev((struct run_options){ 0 }, NULL, NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_USAGE);
    cr_expect(strstr(r.err, "show, install or uninstall"), "%s", r.err);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "remove", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_USAGE);
    cr_expect(strstr(r.err, "'remove'"), "%s", r.err);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "uninstall", "dialout");
    cr_expect_eq(r.exit_code, ED_EXIT_USAGE);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "show", "bad\"group");
    cr_expect_eq(r.exit_code, ED_EXIT_USAGE);
    run_free(&r);
}

Test(udev_cli, install_refuses_a_group_the_system_does_not_have)
{
    write_group_file("dialout:x:20:\n");
    struct run r = run_udev((struct run_options){ 0 }, "install", "plugdev");
    cr_expect_eq(r.exit_code, ED_EXIT_USAGE);
    cr_expect(strstr(r.err, "group 'plugdev' is not in"), "%s", r.err);
    char path[4096];
    rules_path(path, sizeof path);
    cr_expect_neq(access(path, F_OK), 0);
    run_free(&r);
}

/* Run the command as an unprivileged user (nobody, when the tests run as root) in a child
 * process, and hand back its exit code and stderr. */
static int run_unprivileged(bool dry_run, char *err, size_t size)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
                               setuid(65534) != 0))
            _exit(100);
        struct run r = run_udev((struct run_options){ .dry_run = dry_run }, "install", NULL);
        if (write(fds[1], r.err, strlen(r.err)) < 0)
            _exit(101);
        _exit(r.exit_code);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while (used + 1 < size && (n = read(fds[0], err + used, size - 1 - used)) > 0)
        used += (size_t)n;
    err[used] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

Test(udev_cli, unwritable_rules_dir_names_sudo)
{
    write_group_file("dialout:x:20:\n");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/etc/udev", root_dir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof dir, "%s/etc/udev/rules.d", root_dir);
    cr_assert_eq(mkdir(dir, 0555), 0);
    cr_assert_eq(chmod(root_dir, 0755), 0);

    char err[2048];
    int code = run_unprivileged(false, err, sizeof err);
    cr_expect_eq(code, ED_EXIT_FAIL, "exit %d: %s", code, err);
    char sudo[512];
    snprintf(sudo, sizeof sudo, "run 'sudo espdoctor udev install --root %s'", root_dir);
    cr_expect(strstr(err, sudo), "%s", err);
    cr_expect(strstr(err, "Permission denied"), "%s", err);

    code = run_unprivileged(true, err, sizeof err);
    cr_expect_eq(code, ED_EXIT_FAIL, "dry run: exit %d: %s", code, err);
    cr_expect(strstr(err, "(dry run) would fail"), "%s", err);
    cr_expect(strstr(err, sudo), "%s", err);
    cr_expect_eq(chmod(dir, 0755), 0);
}

/* --root "" once meant the live /etc (dry runs here, so a regression touches nothing). */
Test(udev_cli, an_empty_root_is_a_usage_error)
{
    static const char *const actions[] = { "show", "install", "uninstall" };
    for (size_t i = 0; i < 3; i++) {
        struct run r = run_udev((struct run_options){ .root = "", .dry_run = true, .json = true },
                                actions[i], NULL);
        cr_expect_eq(r.exit_code, ED_EXIT_USAGE, "%s: exit %d", actions[i], r.exit_code);
        cr_expect(strstr(r.err, "--root \"\" names no directory"), "%s: %s", actions[i], r.err);
        cr_expect_null(strstr(r.out, "/etc/udev/rules.d"), "%s: %s", actions[i], r.out);
        run_free(&r);
    }
}

Test(udev_cli, a_symlinked_directory_below_the_root_is_refused)
{
    write_group_file("dialout:x:20:\n");
    char outside[512], link_at[512];
    snprintf(outside, sizeof outside, "%s/elsewhere", root_dir);
    snprintf(link_at, sizeof link_at, "%s/etc/udev", root_dir);
    cr_assert_eq(mkdir(outside, 0755), 0);
    cr_assert_eq(symlink(outside, link_at), 0);
    struct run r = run_udev((struct run_options){ .json = true }, "install", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_FAIL, "exit %d: %s", r.exit_code, r.err);
    cr_expect(strstr(r.err, "it is a symbolic link"), "%s", r.err);
    cr_expect(strstr(r.err, link_at), "%s", r.err);
    cr_expect(strstr(r.out, "\"outcome\": \"failed\""), "%s", r.out);
    run_free(&r);
    char rules_d[600];
    snprintf(rules_d, sizeof rules_d, "%s/rules.d", outside);
    cr_expect_neq(access(rules_d, F_OK), 0, "install created %s outside the root", rules_d);
}

Test(udev_cli, a_lookalike_marker_is_refused_with_exit_3)
{
    write_group_file("dialout:x:20:\n");
    char path[4096];
    rules_path(path, sizeof path);
    struct run r = run_udev((struct run_options){ 0 }, "install", NULL);
    run_free(&r);
    static const char theirs[] = "# Written by espdoctorate admins\n";
    write_file(path, theirs);
    for (int i = 0; i < 2; i++) {
        r = run_udev((struct run_options){ 0 }, i ? "uninstall" : "install", NULL);
        cr_expect_eq(r.exit_code, ED_EXIT_REFUSED, "%s", r.err);
        cr_expect(strstr(r.err, "not written by espdoctor"), "%s", r.err);
        run_free(&r);
    }
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "the look-alike file is gone");
    char buf[128] = "";
    cr_expect_not_null(fgets(buf, sizeof buf, f));
    fclose(f);
    cr_expect_str_eq(buf, theirs);
}

Test(udev_cli, an_edited_file_of_ours_is_shown_as_edited_and_kept)
{
    write_group_file("dialout:x:20:\n");
    struct run r = run_udev((struct run_options){ 0 }, "install", NULL);
    run_free(&r);
    char path[4096];
    rules_path(path, sizeof path);
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f);
    fputs("# my note\n", f);
    fclose(f);
    r = run_udev((struct run_options){ .json = true }, "show", NULL);
    json_object *doc = json_tokener_parse(r.out);
    cr_assert_not_null(doc, "not JSON: %s", r.out);
    json_object *v;
    cr_assert(json_object_object_get_ex(doc, "installed", &v));
    cr_expect_str_eq(json_object_get_string(v), "edited");
    json_object_put(doc);
    run_free(&r);
    r = run_udev((struct run_options){ 0 }, "uninstall", NULL);
    cr_expect_eq(r.exit_code, ED_EXIT_REFUSED);
    cr_expect(strstr(r.err, "changed since"), "%s", r.err);
    run_free(&r);
    cr_expect_eq(access(path, F_OK), 0, "the edited file was removed");
}
