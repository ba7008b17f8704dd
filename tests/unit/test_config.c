/* The configuration file (config.c, config_write.c, config_cli.c): what is parsed and what
 * is kept verbatim, a bad line counted and named by its number, which serial numbers can
 * be keys, the atomic write and its modes, where the file is, the baud rules, and the CLI
 * layer's one warning and its never-failing remember. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/config_cli.h"   /* the tests have no -Isrc */
#include "espdoctor/config.h"
#include "espdoctor/error.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_config.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(config, .init = setup, .fini = teardown);

static const char *in_dir(const char *name)
{
    static char paths[4][160];
    static unsigned next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

static void parse(struct ed_config *c, const char *text)
{
    ed_config_init(c);
    cr_assert_eq(ed_config_parse(c, text, strlen(text)), ED_OK);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* ---- parse and format ---------------------------------------------------------------- */

static const char sample[] =
    "# my boards\n"
    "last = 0002\n"
    "colour = blue\n"
    "\n"
    "[board 0001]\n"
    "port = /dev/ttyUSB0\n"
    "baud = 921600\n"
    "  # the one on the bench\n"
    "nickname = bench\n"
    "[board 0002]\r\n"
    "  port=/dev/ttyUSB1  \n"
    "max_baud = 460800\n"
    "baud = 460800\n"
    "[alias]\n"
    "b = serial=0001\n";

Test(config, parses_known_settings)
{
    struct ed_config c;
    parse(&c, sample);
    cr_assert_str_eq(c.last, "0002");
    cr_assert_eq(c.count, 2);
    const struct ed_config_board *a = ed_config_find(&c, "0001"), *b = ed_config_find(&c, "0002");
    cr_assert(a && b);
    cr_assert_str_eq(a->port, "/dev/ttyUSB0");
    cr_assert_eq(a->baud, 921600);
    cr_assert_eq(a->max_baud, 0);
    cr_assert_str_eq(b->port, "/dev/ttyUSB1");
    cr_assert_eq(b->max_baud, 460800);
    cr_assert_null(ed_config_find(&c, "0003"));
    /* colour, nickname and the [alias] section: understood by nobody here */
    cr_assert_eq(c.problems, 3, "problems %u: %s", c.problems, c.warning);
    ed_config_free(&c);
}

Test(config, round_trip_keeps_unknown_lines_and_is_stable)
{
    struct ed_config c;
    parse(&c, sample);
    char *once = ed_config_format(&c);
    cr_assert_not_null(once);
    static const char *const lines[] = { "# my boards", "colour = blue",
                                         "  # the one on the bench", "nickname = bench",
                                         "[alias]", "b = serial=0001", "last = 0002",
                                         "[board 0001]", "[board 0002]", "max_baud = 460800" };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_expect_not_null(strstr(once, lines[i]), "'%s' is lost:\n%s", lines[i], once);
    /* The unknown setting stays in its own board's section. */
    const char *second = strstr(once, "[board 0002]");
    const char *nick = strstr(once, "nickname = bench");
    cr_assert(second && nick && nick < second, "%s", once);
    struct ed_config again;
    parse(&again, once);
    char *twice = ed_config_format(&again);
    cr_assert_str_eq(twice, once, "a second round trip changes the file");
    cr_assert_eq(again.problems, c.problems);
    free(once);
    free(twice);
    ed_config_free(&c);
    ed_config_free(&again);
}

Test(config, an_empty_config_formats_with_a_header)
{
    struct ed_config c;
    parse(&c, "");
    cr_assert_eq(c.problems, 0);
    char *text = ed_config_format(&c);
    cr_assert(text && text[0] == '#' && strstr(text, "last = \n"), "%s", text);
    free(text);
    ed_config_free(&c);
}

Test(config, a_bad_line_is_counted_with_its_number_and_kept)
{
    struct ed_config c;
    parse(&c, "# ok\nlast = 0001\n[board 0001]\nport = /dev/ttyUSB0\nbaud = fast\n"
              "this is not a setting\nmax_baud = 99\n");
    cr_assert_eq(c.problems, 3, "%u", c.problems);
    cr_assert(strncmp(c.warning, "line 5: ", 8) == 0, "the first one is named: %s", c.warning);
    cr_assert(strstr(c.warning, "baud") && strstr(c.warning, "fast"), "%s", c.warning);
    const struct ed_config_board *b = ed_config_find(&c, "0001");
    cr_assert(b && b->baud == 0 && b->max_baud == 0 && strcmp(b->port, "/dev/ttyUSB0") == 0);
    char *text = ed_config_format(&c);
    cr_assert(strstr(text, "baud = fast\n") && strstr(text, "this is not a setting\n") &&
              strstr(text, "max_baud = 99\n"), "what a person typed is lost:\n%s", text);
    free(text);
    ed_config_free(&c);
}

Test(config, bad_sections_and_a_repeated_board)
{
    struct ed_config c;
    parse(&c, "[board]\n[board  ]\n[board a]b]\n[board 0001]\nbaud = 115200\n"
              "[board 0001]\nport = /dev/ttyUSB3\n");
    cr_assert_eq(c.count, 1);
    const struct ed_config_board *b = ed_config_find(&c, "0001");
    cr_assert(b && b->baud == 115200 && strcmp(b->port, "/dev/ttyUSB3") == 0,
              "the second section is merged into the first");
    cr_assert_eq(c.problems, 4, "%u: %s", c.problems, c.warning);
    cr_assert(strncmp(c.warning, "line 1: ", 8) == 0, "%s", c.warning);
    ed_config_free(&c);

    parse(&c, "last = 00 01\nlast = ]x\n");
    cr_assert_str_eq(c.last, "00 01", "blanks inside a serial number are fine");
    cr_assert_eq(c.problems, 1);
    cr_assert(strncmp(c.warning, "line 2: ", 8) == 0, "%s", c.warning);
    ed_config_free(&c);

    const char nul[] = "last = 0001\nport\0x = 1\n";
    ed_config_init(&c);
    cr_assert_eq(ed_config_parse(&c, nul, sizeof nul - 1), ED_OK);
    cr_assert_eq(c.problems, 1);
    cr_assert(strstr(c.warning, "line 2: ") && strstr(c.warning, "NUL"), "%s", c.warning);
    cr_assert_str_eq(c.last, "0001");
    ed_config_free(&c);
}

Test(config, serial_numbers_that_can_be_keys)
{
    cr_assert(ed_config_serial_ok("0001"));
    cr_assert(ed_config_serial_ok("A50285BI"));
    cr_assert(ed_config_serial_ok("24:0A:C4:00:00:01"));
    cr_assert(ed_config_serial_ok("a b"));
    cr_assert_not(ed_config_serial_ok(""));
    cr_assert_not(ed_config_serial_ok(" 0001"));
    cr_assert_not(ed_config_serial_ok("0001 "));
    cr_assert_not(ed_config_serial_ok("00]1"));
    cr_assert_not(ed_config_serial_ok("00\n1"));
    cr_assert_not(ed_config_serial_ok("00\x7f"));
    char longest[ED_CONFIG_SERIAL_MAX + 1];
    memset(longest, 'x', sizeof longest);
    longest[ED_CONFIG_SERIAL_MAX - 1] = '\0';
    cr_assert(ed_config_serial_ok(longest));
    longest[ED_CONFIG_SERIAL_MAX - 1] = 'x';
    longest[ED_CONFIG_SERIAL_MAX] = '\0';
    cr_assert_not(ed_config_serial_ok(longest));

    struct ed_config c;
    ed_config_init(&c);
    cr_assert_null(ed_config_board(&c, "bad]"));
    cr_assert_null(ed_config_board(&c, NULL));
    for (int i = 0; i < 9; i++) {   /* past the first allocation */
        char s[8];
        snprintf(s, sizeof s, "%04d", i);
        cr_assert_not_null(ed_config_board(&c, s));
    }
    cr_assert_eq(ed_config_board(&c, "0003"), ed_config_find(&c, "0003"), "not added twice");
    cr_assert_eq(c.count, 9);
    ed_config_free(&c);
}

/* ---- read and write ------------------------------------------------------------------ */

Test(config, write_is_atomic_with_modes_0600_and_0700)
{
    const char *path = in_dir("a/b/config");
    struct ed_config c;
    parse(&c, "last = 0001\n[board 0001]\nport = /dev/ttyUSB0\n");
    mode_t old = umask(0);   /* even a careless umask gets private modes */
    char why[512];
    int rc = ed_config_write(&c, path, why, sizeof why);
    umask(old);
    cr_assert_eq(rc, ED_OK, "%s", why);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "file mode %o", st.st_mode & 07777);
    cr_assert_eq(stat(in_dir("a/b"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0700, "folder mode %o", st.st_mode & 07777);
    cr_assert_eq(stat(in_dir("a"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0700, "parent mode %o", st.st_mode & 07777);
    cr_assert(strstr(slurp(path), "[board 0001]\nport = /dev/ttyUSB0\n"), "%s", slurp(path));

    /* Replaced, not rewritten in place: a reader holding the old file keeps the old text,
     * and no temporary is left beside it. */
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    snprintf(c.boards[0].port, sizeof c.boards[0].port, "/dev/ttyUSB7");
    cr_assert_eq(ed_config_write(&c, path, why, sizeof why), ED_OK, "%s", why);
    char old_text[256] = "";
    cr_assert_gt(read(fd, old_text, sizeof old_text - 1), 0);
    close(fd);
    cr_assert(strstr(old_text, "/dev/ttyUSB0") && !strstr(old_text, "ttyUSB7"));
    cr_assert(strstr(slurp(path), "/dev/ttyUSB7"));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", in_dir("a/b"));
    cr_assert_eq(system(cmd), 0, "a temporary was left behind");

    /* An existing folder keeps its own mode. */
    cr_assert_eq(mkdir(in_dir("open"), 0755), 0);
    cr_assert_eq(chmod(in_dir("open"), 0755), 0);
    cr_assert_eq(ed_config_write(&c, in_dir("open/config"), why, sizeof why), ED_OK);
    cr_assert_eq(stat(in_dir("open"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0755);
    ed_config_free(&c);
}

Test(config, a_link_stays_a_link)
{
    struct ed_config c;
    parse(&c, "last = 0001\n");
    spit(in_dir("real"), "last = 0009\n");
    cr_assert_eq(symlink(in_dir("real"), in_dir("config")), 0);
    char why[512];
    cr_assert_eq(ed_config_write(&c, in_dir("config"), why, sizeof why), ED_OK, "%s", why);
    struct stat st;
    cr_assert_eq(lstat(in_dir("config"), &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link was replaced by a file");
    cr_assert(strstr(slurp(in_dir("real")), "last = 0001"), "%s", slurp(in_dir("real")));
    ed_config_free(&c);
}

Test(config, write_failure_says_why)
{
    /* A file where a folder should be (root ignores modes, so not a mode). */
    spit(in_dir("file"), "x");
    struct ed_config c;
    parse(&c, "");
    char why[512];
    int rc = ed_config_write(&c, in_dir("file/sub/config"), why, sizeof why);
    cr_assert_neq(rc, ED_OK);
    cr_assert(strstr(why, "file"), "%s", why);
    cr_assert_eq(access(in_dir("file/sub"), F_OK), -1);
    ed_config_free(&c);
}

Test(config, read_missing_unreadable_and_too_large)
{
    struct ed_config c;
    ed_config_init(&c);
    cr_assert_eq(ed_config_read(&c, in_dir("none")), ED_OK, "missing is empty");
    cr_assert_eq(c.count, 0);
    cr_assert_eq(ed_config_read(&c, dir), ED_E_IO, "a folder");
    cr_assert(strstr(c.warning, "not a regular file"), "%s", c.warning);
    ed_config_free(&c);

    char *big = malloc(ED_CONFIG_FILE_MAX + 2);
    memset(big, '#', ED_CONFIG_FILE_MAX + 1);
    big[ED_CONFIG_FILE_MAX + 1] = '\0';
    spit(in_dir("big"), big);
    free(big);
    ed_config_init(&c);
    cr_assert_eq(ed_config_read(&c, in_dir("big")), ED_E_IO);
    cr_assert(strstr(c.warning, "KiB"), "%s", c.warning);
    ed_config_free(&c);

    spit(in_dir("ok"), sample);
    ed_config_init(&c);
    cr_assert_eq(ed_config_read(&c, in_dir("ok")), ED_OK);
    cr_assert_eq(c.count, 2);
    ed_config_free(&c);
}

/* ---- where ----------------------------------------------------------------------------- */

Test(config, path_precedence)
{
    char path[256];
    setenv("ESPDOCTOR_CONFIG", "/e/espdoctor.conf", 1);
    setenv("XDG_CONFIG_HOME", "/x/config", 1);
    setenv("HOME", "/home/u", 1);
    cr_assert(ed_config_path(path, sizeof path));
    cr_assert_str_eq(path, "/e/espdoctor.conf");
    setenv("ESPDOCTOR_CONFIG", "", 1);
    cr_assert_not(ed_config_path(path, sizeof path), "set empty: no file at all");
    cr_assert_str_eq(path, "");
    unsetenv("ESPDOCTOR_CONFIG");
    cr_assert(ed_config_path(path, sizeof path));
    cr_assert_str_eq(path, "/x/config/espdoctor/config");
    setenv("XDG_CONFIG_HOME", "relative/config", 1);   /* the XDG spec: ignored */
    cr_assert(ed_config_path(path, sizeof path));
    cr_assert_str_eq(path, "/home/u/.config/espdoctor/config");
    unsetenv("XDG_CONFIG_HOME");
    cr_assert(ed_config_path(path, sizeof path));
    cr_assert_str_eq(path, "/home/u/.config/espdoctor/config");
    setenv("HOME", "home", 1);
    cr_assert_not(ed_config_path(path, sizeof path));
    unsetenv("HOME");
    cr_assert_not(ed_config_path(path, sizeof path));
    setenv("XDG_CONFIG_HOME", "/a-rather-long-folder-name", 1);
    cr_assert_not(ed_config_path(path, 20), "too long for the buffer");
    cr_assert_str_eq(path, "");
}

/* ---- the baud rules -------------------------------------------------------------------- */

Test(config, start_baud)
{
    struct ed_config_board b = { .max_baud = 460800 };
    cr_assert_eq(ed_config_start_baud(NULL, 921600), 921600, "no board known");
    cr_assert_eq(ed_config_start_baud(&b, 921600), 460800, "a step down remembered");
    cr_assert_eq(ed_config_start_baud(&b, 230400), 230400, "never above the target");
    b.max_baud = 0;
    cr_assert_eq(ed_config_start_baud(&b, 921600), 921600, "none remembered");
}

Test(config, learn_baud)
{
    struct ed_config_board b = { 0 };
    ed_config_learn_baud(&b, 921600, 921600);
    cr_assert_eq(b.baud, 921600);
    cr_assert_eq(b.max_baud, 0, "no step down: no limit");
    ed_config_learn_baud(&b, 921600, 460800);
    cr_assert_eq(b.baud, 460800);
    cr_assert_eq(b.max_baud, 460800, "a step down is where the next flash starts");
    ed_config_learn_baud(&b, 460800, 460800);
    cr_assert_eq(b.max_baud, 460800, "starting there again changes nothing");
    ed_config_learn_baud(&b, 460800, 230400);
    cr_assert_eq(b.max_baud, 230400, "lower again");
    ed_config_learn_baud(&b, 921600, 921600);
    cr_assert_eq(b.max_baud, 921600, "-b on a better cable raises it");
    cr_assert_eq(b.baud, 921600);
    ed_config_learn_baud(&b, 921600, 0);
    cr_assert_eq(b.baud, 921600, "nothing reached: nothing learnt");
}

/* ---- the CLI layer --------------------------------------------------------------------- */

static char *err_text;
static size_t err_len;

static struct ed_cli cli_for(void)
{
    struct ed_cli cli = { .prog = "espdoctor" };
    cli.err = open_memstream(&err_text, &err_len);
    cr_assert_not_null(cli.err);
    return cli;
}

static struct ed_port_choice board(const char *serial, const char *path)
{
    struct ed_port_choice pc = { .known = true };
    snprintf(pc.path, sizeof pc.path, "%s", path);
    snprintf(pc.info.serial, sizeof pc.info.serial, "%s", serial);
    return pc;
}

static unsigned count(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

Test(config, remember_writes_the_board_and_the_rate)
{
    setenv("ESPDOCTOR_CONFIG", in_dir("cfg/config"), 1);
    struct ed_cli cli = cli_for();
    struct ed_port_choice pc = board("0002", "/dev/ttyUSB1");
    ed_cli_config_remember(&cli, &pc, true, 921600, 460800);
    struct ed_config c;
    cr_assert(ed_cli_config_load(&cli, &c));
    cr_assert_str_eq(c.last, "0002");
    const struct ed_config_board *b = ed_config_find(&c, "0002");
    cr_assert(b && strcmp(b->port, "/dev/ttyUSB1") == 0 && b->baud == 460800 &&
              b->max_baud == 460800);
    cr_assert_eq(ed_cli_config_start_baud(&cli, &pc, 921600), 460800);
    ed_config_free(&c);
    struct stat st;
    cr_assert_eq(stat(in_dir("cfg/config"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);

    /* Unchanged: the file is not written again. */
    struct timespec before = st.st_mtim;
    sleep(1);
    ed_cli_config_remember(&cli, &pc, false, 0, 0);
    cr_assert_eq(stat(in_dir("cfg/config"), &st), 0);
    cr_assert(st.st_mtim.tv_sec == before.tv_sec && st.st_mtim.tv_nsec == before.tv_nsec);

    /* No serial number, or a network port: nothing to key it by. */
    struct ed_port_choice none = board("", "/dev/ttyUSB2"), net = { .known = false };
    ed_cli_config_remember(&cli, &none, false, 0, 0);
    ed_cli_config_remember(&cli, &net, false, 0, 0);
    fclose(cli.err);
    cr_assert_eq(err_len, 0, "%s", err_text);
    free(err_text);
    cr_assert_not(strstr(slurp(in_dir("cfg/config")), "ttyUSB2"));
}

Test(config, a_malformed_file_is_one_warning_and_keeps_its_lines)
{
    setenv("ESPDOCTOR_CONFIG", in_dir("config"), 1);
    spit(in_dir("config"), "last = 0001\nbogus line\n[board 0001]\nbaud = x\n");
    struct ed_cli cli = cli_for();
    struct ed_config c;
    cr_assert(ed_cli_config_load(&cli, &c), "a file with bad lines is still used");
    cr_assert_str_eq(c.last, "0001");
    ed_config_free(&c);
    struct ed_port_choice pc = board("0001", "/dev/ttyUSB0");
    ed_cli_config_remember(&cli, &pc, false, 0, 0);
    cr_assert(ed_cli_config_load(&cli, &c));
    ed_config_free(&c);
    fclose(cli.err);
    cr_assert_eq(count(err_text, "warning"), 1, "one warning per run:\n%s", err_text);
    cr_assert(strstr(err_text, in_dir("config")) && strstr(err_text, "line 2") &&
              strstr(err_text, "and more lines like it"), "%s", err_text);
    free(err_text);
    const char *text = slurp(in_dir("config"));
    cr_assert(strstr(text, "bogus line\n") && strstr(text, "baud = x\n") &&
              strstr(text, "port = /dev/ttyUSB0\n"), "%s", text);
}

Test(config, an_unreadable_file_is_never_overwritten)
{
    setenv("ESPDOCTOR_CONFIG", dir, 1);   /* a folder: cannot be read as the file */
    struct ed_cli cli = cli_for();
    struct ed_port_choice pc = board("0001", "/dev/ttyUSB0");
    ed_cli_config_remember(&cli, &pc, true, 921600, 921600);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    fclose(cli.err);
    cr_assert_eq(count(err_text, "warning"), 1, "%s", err_text);
    cr_assert(strstr(err_text, "not used"), "%s", err_text);
    free(err_text);
}

Test(config, a_file_that_cannot_be_written_is_one_warning)
{
    spit(in_dir("file"), "x");
    setenv("ESPDOCTOR_CONFIG", in_dir("file/config"), 1);   /* its folder is a file */
    struct ed_cli cli = cli_for();
    struct ed_port_choice pc = board("0001", "/dev/ttyUSB0");
    ed_cli_config_remember(&cli, &pc, false, 0, 0);
    ed_cli_config_remember(&cli, &pc, false, 0, 0);
    fclose(cli.err);
    cr_assert_eq(count(err_text, "warning"), 1, "%s", err_text);
    cr_assert(strstr(err_text, "not remembered"), "%s", err_text);
    free(err_text);
}

Test(config, no_config_reads_and_writes_nothing)
{
    setenv("ESPDOCTOR_CONFIG", in_dir("config"), 1);
    spit(in_dir("config"), "last = 0001\n");
    struct ed_cli cli = cli_for();
    cli.no_config = true;
    struct ed_config c;
    cr_assert_not(ed_cli_config_load(&cli, &c));
    cr_assert_str_eq(c.last, "");
    ed_config_free(&c);
    struct ed_port_choice pc = board("0002", "/dev/ttyUSB1");
    ed_cli_config_remember(&cli, &pc, true, 921600, 460800);
    cr_assert_eq(ed_cli_config_start_baud(&cli, &pc, 921600), 921600);
    fclose(cli.err);
    cr_assert_eq(err_len, 0, "%s", err_text);
    free(err_text);
    cr_assert_str_eq(slurp(in_dir("config")), "last = 0001\n");
}
