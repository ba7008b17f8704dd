/* The manual page: build/mkman generates it from man/espdoctor.1.in and the program's
 * tables, and the result must list every finding id and refusal id, carry the version,
 * document every command, option and exit status, pass `mandoc -T lint`, and render with
 * man-db's `man -l`. mandoc and man missing is a failure, not a skip. */
#include <criterion/criterion.h>
#include <signal.h>

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "espdoctor/findings.h"
#include "espdoctor/image.h"
#include "../../src/cli.h"   /* enum ed_exit: the tests have no -Isrc */

#define EXEC_FAILED 127

static char work_dir[256];
static char page_path[512];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* $ESPDOCTOR_BUILD (make exports it), else ./build; the source tree is its parent. */
static void build_dir(char *out, size_t size)
{
    const char *build = getenv("ESPDOCTOR_BUILD");
    snprintf(out, size, "%s", build && *build ? build : "build");
}

static void tree_path(const char *rel, char *out, size_t size)
{
    char build[4096];
    build_dir(build, sizeof build);
    snprintf(out, size, "%s/%s", dirname(build), rel);
}

/* Run argv (argv[0] looked up on PATH) with NAME=VALUE settings (a bare NAME unsets it),
 * stdout and stderr into files (NULL: /dev/null). Returns the exit status, EXEC_FAILED if
 * it could not be started, 128 + signal if it was killed. */
static int run(const char *const argv[], const char *const env[], const char *out_path,
               const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) {
        int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
            _exit(EXEC_FAILED);
        for (size_t i = 0; env && env[i]; i++)
            if ((strchr(env[i], '=') ? putenv((char *)env[i]) : unsetenv(env[i])) != 0)
                _exit(EXEC_FAILED);
        execvp(argv[0], (char *const *)argv);
        _exit(EXEC_FAILED);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char *text = NULL;
    size_t len = 0;
    FILE *collected = open_memstream(&text, &len);
    cr_assert_not_null(collected);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, collected);
    fclose(f);
    fclose(collected);
    return text;
}

static void work_file(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", work_dir, name);
}

/* build/mkman TEMPLATE OUTPUT [VERSION]; returns its exit status. */
static int run_mkman(const char *template, const char *output, const char *version,
                     const char *const env[])
{
    char build[4096], mkman[4200], err[512];
    build_dir(build, sizeof build);
    snprintf(mkman, sizeof mkman, "%s/mkman", build);
    cr_assert_eq(access(mkman, X_OK), 0, "%s is not built (make %s)", mkman, mkman);
    work_file("mkman.err", err, sizeof err);
    const char *argv[] = { mkman, template, output, version, NULL };
    return run(argv, env, NULL, err);
}

static void make_page(void)
{
    snprintf(work_dir, sizeof work_dir, "/tmp/espdoctor-man-XXXXXX");
    cr_assert_not_null(mkdtemp(work_dir));
    char template[4200];
    tree_path("man/espdoctor.1.in", template, sizeof template);
    work_file("espdoctor.1", page_path, sizeof page_path);
    int rc = run_mkman(template, page_path, NULL, NULL);
    cr_assert_eq(rc, 0, "mkman %s %s failed (exit %d)", template, page_path, rc);
}

static void remove_work_dir(void)
{
    nftw(work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(man, .init = make_page, .fini = remove_work_dir);

/* The page as man-db shows it on an 80-column terminal; man's stderr must stay empty. */
static char *render(void)
{
    char out[512], err[512];
    work_file("man.out", out, sizeof out);
    work_file("man.err", err, sizeof err);
    const char *argv[] = { "man", "-l", page_path, NULL };
    const char *env[] = { "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8",
                          "MAN_KEEP_FORMATTING", NULL };
    int rc = run(argv, env, out, err);
    cr_assert_neq(rc, EXEC_FAILED, "man (man-db) is not installed");
    char *complaints = read_all(err);
    cr_assert_eq(rc, 0, "man -l %s exited %d: %s", page_path, rc, complaints);
    cr_assert_str_empty(complaints, "man -l %s complained: %s", page_path, complaints);
    free(complaints);
    return read_all(out);
}

/* The mdoc spelling of an id on the page: '-' typed as "\-". */
static void roff_id(const char *id, char *out, size_t size)
{
    size_t n = 0;
    for (const char *c = id; *c && n + 3 < size; c++) {
        if (*c == '-')
            out[n++] = '\\';
        out[n++] = *c;
    }
    out[n] = '\0';
}

/* An entry of the generated DIAGNOSTICS list, in the page source and on screen. */
static void expect_listed(const char *source, const char *shown, const char *id,
                          const char *label)
{
    char entry[256], spelled[128];
    roff_id(id, spelled, sizeof spelled);
    snprintf(entry, sizeof entry, "\n.It Sy \\%%%s Pq %s\n", spelled, label);
    cr_expect_not_null(strstr(source, entry), "the page has no entry '%s'", entry + 1);
    char on_screen[256];
    snprintf(on_screen, sizeof on_screen, " %s (%s)\n", id, label);
    cr_expect_not_null(strstr(shown, on_screen), "man -l does not show '%s'", on_screen + 1);
}

Test(man, lists_every_finding_id)
{
    char *source = read_all(page_path), *shown = render();
    cr_assert_gt(ed_diagnosis_count, 0);
    for (size_t i = 0; i < ed_diagnosis_count; i++)
        expect_listed(source, shown, ed_diagnoses[i].id,
                      ed_severity_name(ed_diagnoses[i].severity));
    free(source);
    free(shown);
}

Test(man, lists_every_refusal_id)
{
    char *source = read_all(page_path), *shown = render();
    for (size_t i = 0; i < ED_IMAGE_P_COUNT; i++) {
        const struct ed_image_problem_rule *r = &ed_image_problem_rules[i];
        expect_listed(source, shown, r->id, r->blocking ? "refused" : "warn");
    }
    free(source);
    free(shown);
}

Test(man, carries_the_version_and_no_placeholder)
{
    char *source = read_all(page_path), *shown = render();
    cr_expect_not_null(strstr(source, "\n.Os espdoctor " ESPDOCTOR_VERSION "\n"));
    cr_expect_not_null(strstr(shown, "espdoctor " ESPDOCTOR_VERSION), "no version in the footer");
    cr_expect_null(strstr(source, "@VERSION@"));
    cr_expect_null(strstr(source, "@DATE@"));
    cr_expect_null(strstr(source, "@DIAGNOSTICS@"));
    free(source);
    free(shown);
}

Test(man, takes_the_version_from_the_command_line)
{
    char template[4200], page[512];
    tree_path("man/espdoctor.1.in", template, sizeof template);
    work_file("versioned.1", page, sizeof page);
    cr_assert_eq(run_mkman(template, page, "9.8.7-rc1", NULL), 0);
    char *source = read_all(page);
    cr_expect_not_null(strstr(source, "\n.Os espdoctor 9.8.7-rc1\n"));
    free(source);
}

Test(man, date_follows_source_date_epoch)
{
    char template[4200], page[512];
    tree_path("man/espdoctor.1.in", template, sizeof template);
    work_file("dated.1", page, sizeof page);
    const char *env[] = { "SOURCE_DATE_EPOCH=1732406400", NULL };   /* 2024-11-24 00:00 UTC */
    cr_assert_eq(run_mkman(template, page, NULL, env), 0);
    char *source = read_all(page);
    cr_expect_not_null(strstr(source, "\n.Dd November 24, 2024\n"), "%.200s", source);
    free(source);
}

/* mandoc -T lint at level; returns its exit status, its messages in *messages. */
static int lint(const char *level, char **messages)
{
    char out[512];
    work_file("lint.out", out, sizeof out);
    const char *argv[] = { "mandoc", "-T", "lint", "-W", level, page_path, NULL };
    int rc = run(argv, NULL, out, out);
    cr_assert_neq(rc, EXEC_FAILED, "mandoc is not installed");
    *messages = read_all(out);
    return rc;
}

Test(man, passes_mandoc_lint_at_warning_level)
{
    char *messages;
    int rc = lint("warning", &messages);
    cr_expect_eq(rc, 0, "mandoc -T lint -W warning exited %d", rc);
    cr_expect_str_empty(messages, "mandoc -T lint -W warning:\n%s", messages);
    free(messages);
}

/* Style messages too, except those about other pages missing from this machine (which
 * depend on what else is installed, not on this page). */
Test(man, has_no_style_messages_of_its_own)
{
    char *messages;
    lint("style", &messages);
    for (char *line = strtok(messages, "\n"); line; line = strtok(NULL, "\n")) {
        bool elsewhere = strstr(line, "referenced manual not found") ||
                         strstr(line, "mandoc.db");
        cr_expect(elsewhere, "mandoc -T lint -W style: %s", line);
    }
    free(messages);
}

/* Columns of a UTF-8 line: code points (the page has no wide characters). */
static size_t columns(const char *line, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)line[i] & 0xC0) != 0x80;
    return n;
}

Test(man, renders_with_man_l)
{
    char *shown = render();
    static const char *const sections[] = {
        "NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "JSON OUTPUT", "ENVIRONMENT", "FILES",
        "EXIT STATUS", "EXAMPLES", "DIAGNOSTICS", "SEE ALSO",
    };
    const char *at = shown;
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        char heading[64];
        snprintf(heading, sizeof heading, "\n%s\n", sections[i]);
        const char *found = strstr(at, heading);
        cr_expect_not_null(found, "section %s missing or out of order", sections[i]);
        if (found)
            at = found;
    }
    for (const char *line = shown; *line;) {
        size_t len = strcspn(line, "\n");
        cr_expect_leq(columns(line, len), 80, "line wider than 80 columns: %.*s", (int)len,
                      line);
        line += len + (line[len] == '\n');
    }
    free(shown);
}

/* The EXIT STATUS list, between its heading and the next section. */
static char *exit_status_section(const char *source)
{
    const char *start = strstr(source, "\n.Sh EXIT STATUS\n");
    cr_assert_not_null(start);
    const char *end = strstr(start + 1, "\n.Sh ");
    cr_assert_not_null(end);
    return strndup(start, (size_t)(end - start));
}

Test(man, documents_every_exit_status)
{
    static const int codes[] = {
        ED_EXIT_OK, ED_EXIT_FAIL, ED_EXIT_USAGE, ED_EXIT_REFUSED, ED_EXIT_NODEV,
        ED_EXIT_PORT, ED_EXIT_INPUT, ED_EXIT_PROBLEM, ED_EXIT_INTERRUPTED,
        128 + SIGTERM, 128 + SIGHUP,   /* espdoctor/interrupt.h: 128 + the signal */
    };
    char *source = read_all(page_path);
    char *section = exit_status_section(source);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char item[32];
        snprintf(item, sizeof item, "\n.It %d\n", codes[i]);
        cr_expect_not_null(strstr(section, item), "exit status %d is not documented", codes[i]);
    }
    free(section);
    free(source);
}

/* Every command and option `espdoctor --help` lists is on the page. */
Test(man, documents_every_command_and_option)
{
    char build[4096], prog[4200], out[512];
    build_dir(build, sizeof build);
    snprintf(prog, sizeof prog, "%s/espdoctor", build);
    work_file("help.out", out, sizeof out);
    const char *argv[] = { prog, "--help", NULL };
    cr_assert_eq(run(argv, NULL, out, NULL), 0, "%s --help failed", prog);
    char *help = read_all(out), *source = read_all(page_path);
    enum { NONE, COMMANDS, OPTIONS } part = NONE;
    size_t commands = 0, options = 0;
    for (char *line = strtok(help, "\n"); line; line = strtok(NULL, "\n")) {
        if (strcmp(line, "Commands:") == 0 || strcmp(line, "Options:") == 0) {
            part = line[0] == 'C' ? COMMANDS : OPTIONS;
            continue;
        }
        if (strncmp(line, "  ", 2) != 0) {
            part = NONE;
            continue;
        }
        if (strspn(line, " ") > 6)
            continue;   /* the wrapped rest of an entry's text */
        char word[64], wanted[160], spelled[128];
        if (part == COMMANDS && sscanf(line, " %63[a-z]", word) == 1) {
            commands++;
            snprintf(wanted, sizeof wanted, "Cm %s", word);
            cr_expect_not_null(strstr(source, wanted), "command '%s' is not on the page", word);
        }
        const char *dashes = part == OPTIONS ? strstr(line, "--") : NULL;
        if (dashes && sscanf(dashes + 2, "%63[a-z-]", word) == 1) {
            options++;
            roff_id(word, spelled, sizeof spelled);
            snprintf(wanted, sizeof wanted, "Fl \\-%s", spelled);
            cr_expect_not_null(strstr(source, wanted), "option --%s is not on the page", word);
        }
        const char *flag = line + strspn(line, " ");
        if (part == OPTIONS && flag[0] == '-' && flag[1] != '-' && flag[2] == ',') {
            snprintf(wanted, sizeof wanted, "Fl %c", flag[1]);
            cr_expect_not_null(strstr(source, wanted), "option -%c is not on the page", flag[1]);
        }
    }
    cr_expect_gt(commands, 0, "no commands found in --help:\n%s", help);
    cr_expect_gt(options, 0, "no options found in --help");
    free(help);
    free(source);
}

/* An option dash in running text must be "\-" (ASCII when copied and searched), never a
 * '-' that roff may set as a hyphen: no text line has a word starting with a bare '-'. */
Test(man, option_dashes_are_minus_signs)
{
    char *source = read_all(page_path);
    for (char *line = strtok(source, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '.')
            continue;
        for (const char *c = line; *c; c++) {
            bool word_start = c == line || c[-1] == ' ' || c[-1] == '(' ||
                              (c - line >= 2 && c[-1] == '%' && c[-2] == '\\');
            cr_expect(!(word_start && *c == '-'), "bare option dash in: %s", line);
        }
    }
    free(source);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static void expect_refused_template(const char *text)
{
    char template[512], page[512], tmp[600];
    work_file("bad.1.in", template, sizeof template);
    work_file("bad.1", page, sizeof page);
    snprintf(tmp, sizeof tmp, "%s.tmp", page);
    write_file(template, text);
    cr_expect_eq(run_mkman(template, page, NULL, NULL), 1);
    cr_expect_neq(access(page, F_OK), 0, "a page was written from a bad template");
    cr_expect_neq(access(tmp, F_OK), 0, "the temporary file was left behind");
}

Test(man, mkman_needs_the_placeholder_once)
{
    expect_refused_template(".Dd @DATE@\n.Dt ESPDOCTOR 1\n.Sh DIAGNOSTICS\n");
    expect_refused_template(".Sh DIAGNOSTICS\n.\\\" @DIAGNOSTICS@\n.\\\" @DIAGNOSTICS@\n");
}

Test(man, mkman_reports_a_missing_template)
{
    char template[512], page[512];
    work_file("no-such.1.in", template, sizeof template);
    work_file("never.1", page, sizeof page);
    cr_expect_eq(run_mkman(template, page, NULL, NULL), 1);
    cr_expect_neq(access(page, F_OK), 0);
}
