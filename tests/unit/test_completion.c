/* completion/espdoctor.bash, sourced into a real bash: COMP_LINE, COMP_POINT, COMP_WORDS
 * and COMP_CWORD are set the way bash sets them, _espdoctor runs, COMPREPLY is read back. */
#include <criterion/criterion.h>

#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char work_dir[256];

static void make_work_dir(void)
{
    snprintf(work_dir, sizeof work_dir, "/tmp/espdoctor-completion-XXXXXX");
    cr_assert_not_null(mkdtemp(work_dir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void remove_work_dir(void)
{
    nftw(work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(completion, .init = make_work_dir, .fini = remove_work_dir);

/* The script under test, found from the build directory make exports. */
static void script_path(char *out, size_t size)
{
    char tree[4096] = ".";
    const char *build = getenv("ESPDOCTOR_BUILD");
    if (build && *build) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", build);
        snprintf(tree, sizeof tree, "%s", dirname(copy));
    }
    snprintf(out, size, "%s/completion/espdoctor.bash", tree);
    cr_assert_eq(access(out, R_OK), 0, "cannot read %s", out);
}

/* bash's default COMP_WORDBREAKS, so ':' and '=' split words as in a terminal. */
static const char driver[] =
    "source \"$1\" || exit 90\n"
    "COMP_WORDBREAKS=$' \\t\\n\"\\'><=;|&(:'\n"
    "COMP_LINE=$2\n"
    "COMP_POINT=${#COMP_LINE}\n"
    "read -r -a COMP_WORDS <<<\"$COMP_LINE\"\n"
    "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
    "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
    "if [[ $3 == registered ]]; then complete -p espdoctor; exit; fi\n"
    "_espdoctor espdoctor \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
    "((${#COMPREPLY[@]})) && printf '%s\\n' \"${COMPREPLY[@]}\" | LC_ALL=C sort\n"
    "exit 0\n";

/* Run the driver in work_dir; returns its stdout (malloc'd). */
static char *run_bash(const char *line, const char *mode)
{
    char script[4200];
    script_path(script, sizeof script);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0 || chdir(work_dir) != 0)
            _exit(91);
        execlp("bash", "bash", "--norc", "--noprofile", "-c", driver, "bash", script, line,
               mode, (char *)NULL);
        _exit(92);
    }
    close(fds[1]);
    char *out = NULL;
    size_t len = 0;
    FILE *collected = open_memstream(&out, &len);
    cr_assert_not_null(collected);
    char buf[1024];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, collected);
    fclose(collected);
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "bash failed for '%s'", line);
    return out;
}

static void expect_completions(const char *line, const char *expected)
{
    char *got = run_bash(line, "complete");
    cr_expect_str_eq(got, expected, "completing '%s'", line);
    free(got);
}

Test(completion, is_registered_for_espdoctor)
{
    char *got = run_bash("espdoctor ", "registered");
    cr_expect(strstr(got, "-F _espdoctor") && strstr(got, "espdoctor"), "%s", got);
    free(got);
}

Test(completion, commands)
{
    expect_completions("espdoctor ",
                       "doctor\nerase\nflash\nimage\ninfo\nlist\nmerge\nmonitor\nread\n"
                       "read-mac\n"
                       "udev\n");
    expect_completions("espdoctor mo", "monitor\n");
    expect_completions("espdoctor fl", "flash\n");
    expect_completions("espdoctor -p /dev/ttyUSB0 d", "doctor\n");
}

Test(completion, udev_actions)
{
    expect_completions("espdoctor udev ", "install\nshow\nuninstall\n");
    expect_completions("espdoctor udev --dry-run un", "uninstall\n");
    expect_completions("espdoctor udev --root /tmp i", "install\n");
    expect_completions("espdoctor udev uninstall ", "");
}

Test(completion, options_for_the_command)
{
    expect_completions("espdoctor flash --e", "--eol\n--erase-all\n");
    expect_completions("espdoctor udev --r", "--root\n");
    expect_completions("espdoctor --ve", "--verbose\n--version\n");
    expect_completions("espdoctor read --no-", "--no-color\n--no-config\n--no-stub\n");
    expect_completions("espdoctor info --no-", "--no-color\n--no-config\n--no-stub\n");
    expect_completions("espdoctor list --no-", "--no-color\n");   /* no board, no file */
    expect_completions("espdoctor erase --f", "");   /* erase has no --force */
    expect_completions("espdoctor list --d", "");
    expect_completions("espdoctor doctor --fl", "--flash\n");
    expect_completions("espdoctor monitor --", "--baud\n--eol\n--help\n--json\n--log\n"
                       "--no-color\n--no-config\n--port\n--quiet\n--reset\n--timeout\n--verbose\n"
                       "--version\n");
    expect_completions("espdoctor flash --mo", "--monitor\n");
    expect_completions("espdoctor flash --all --po", "--port\n--ports\n");
    expect_completions("espdoctor info --ports", "");   /* flash --all's alone */
    expect_completions("espdoctor info --re", "");   /* --reset is the monitor's */
}

Test(completion, monitor_values)
{
    expect_completions("espdoctor monitor --eol ", "CR\nCRLF\nLF\n");
    expect_completions("espdoctor monitor --eol=cr", "");   /* the words are upper case */
    expect_completions("espdoctor flash --monitor --eol C", "CR\nCRLF\n");
    /* --timeout takes its value: what follows is not a command. */
    expect_completions("espdoctor monitor --timeout ", "");
}

Test(completion, chips_and_clusters)
{
    expect_completions("espdoctor info --chip esp32s", "esp32s2\nesp32s3\n");
    expect_completions("espdoctor flash --chip=esp8", "esp8266\n");
    expect_completions("espdoctor erase --ch", "--chip\n");
    expect_completions("espdoctor read --before no", "no-reset\n");
    expect_completions("espdoctor info --after ", "hard-reset\nno-reset\n");
    expect_completions("espdoctor merge --ou", "--output\n");
    expect_completions("espdoctor flash --flash-mode d", "dio\ndout\n");
    expect_completions("espdoctor read-mac --", "--after\n--before\n--button-wait\n"
                       "--chip\n--help\n--json\n--no-color\n--no-config\n--port\n--quiet\n--verbose\n"
                       "--version\n");
    /* -vp takes the next word as the port: the word after it is the command. */
    expect_completions("espdoctor -vp /dev/ttyUSB0 inf", "info\n");
    expect_completions("espdoctor -p/dev/ttyUSB0 inf", "info\n");
}

Test(completion, bauds)
{
    expect_completions("espdoctor -b ", "115200\n1500000\n2000000\n230400\n460800\n921600\n");
    expect_completions("espdoctor flash --baud 9", "921600\n");
    expect_completions("espdoctor --baud=46", "460800\n");
}

/* The ports present on this machine come first; the transport prefixes always. */
Test(completion, ports)
{
    char expected[8192] = "";
    static const char *const patterns[] = { "/dev/serial/by-id/*", "/dev/ttyACM*",
                                            "/dev/ttyUSB*" };
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        glob_t g;
        if (glob(patterns[i], 0, NULL, &g) == 0)
            for (size_t k = 0; k < g.gl_pathc; k++) {
                strncat(expected, g.gl_pathv[k], sizeof expected - strlen(expected) - 2);
                strcat(expected, "\n");
            }
        globfree(&g);
    }
    strncat(expected, "rfc2217://\nsocket://\n", sizeof expected - strlen(expected) - 1);
    expect_completions("espdoctor info -p ", expected);
    expect_completions("espdoctor -p rf", "rfc2217://\n");
    expect_completions("espdoctor --port=so", "socket://\n");
    /* Bash already holds "rfc2217:" as typed; only the rest is the reply. */
    expect_completions("espdoctor flash -p rfc2217:", "//\n");
}

Test(completion, files_for_image_flash_and_stub)
{
    char path[512];
    static const char *const files[] = { "fw.bin", "fw-s3.bin", "notes.txt" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", work_dir, files[i]);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/stubs", work_dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    expect_completions("espdoctor image fw", "fw-s3.bin\nfw.bin\n");
    expect_completions("espdoctor flash -p /dev/ttyUSB0 n", "notes.txt\n");
    expect_completions("espdoctor flash --stub st", "stubs\n");
    expect_completions("espdoctor doctor --flash fw.", "fw.bin\n");
    expect_completions("espdoctor monitor --log no", "notes.txt\n");
    /* --ports FILE takes its file: the word after it is a file, not the command's. */
    expect_completions("espdoctor flash --all --ports no", "notes.txt\n");
    expect_completions("espdoctor flash --all --ports=no", "notes.txt\n");
    expect_completions("espdoctor udev --root ", "stubs\n");
}
