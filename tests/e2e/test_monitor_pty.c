/* `espdoctor monitor` as a person uses it: on a terminal (a pseudo-terminal here), under
 * espsim with MicroPython. What is typed reaches the REPL as typed and its answer comes
 * back (print(1+1) gives 2); the decoded notes are marked lines (coloured on a terminal, not with NO_COLOR);
 * Ctrl-] leaves with status 0 and the terminal gets its own settings back. The terminal
 * keeps turning LF into CR LF (ONLCR), so the board's "\r\n" arrives as "\r\r\n". */
#include <criterion/criterion.h>

#include "e2e_proc.h"

static struct e2e_proc p;

static void start_monitor(const char *const *env, const char *extra)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--",
                           e2e_bin("espdoctor"), "monitor", "--reset", extra, NULL };
    cr_assert(e2e_proc_start(&p, argv, true, env), "cannot start espsim on a pty");
    /* The board boots (the reset), MicroPython prints its banner, then its prompt. */
    cr_assert(e2e_proc_wait_for(&p, "\n>>> ", 20, 0), "no prompt on the terminal:\n%s",
              p.out_text);
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *at = text; (at = strstr(at, needle)) != NULL; at += strlen(needle))
        n++;
    return n;
}

Test(monitor_pty, typed_python_reaches_the_repl_and_its_answer_comes_back)
{
    const char *env[] = { "NO_COLOR", NULL };
    start_monitor(env, NULL);
    size_t mark = p.out_len;
    e2e_proc_write(&p, "print(1+1)\r", 11);
    /* The REPL echoes the line as the board received it, ends it, runs it (espsim's
     * MicroPython evaluates it: board/repl.c), prints the answer and prompts again. */
    cr_assert(e2e_proc_wait_for(&p, "print(1+1)\r\r\n", 10, mark),
              "the typed line did not come back:\n%s", p.out_text + mark);
    cr_assert(e2e_proc_wait_for(&p, "print(1+1)\r\r\n2\r\r\n>>> ", 10, mark),
              "no 2 came back:\n%s", p.out_text + mark);
    /* A mistake gets MicroPython's traceback, and the prompt after it. */
    mark = p.out_len;
    e2e_proc_write(&p, "prnt(3)\r", 8);
    cr_assert(e2e_proc_wait_for(&p, "prnt(3)\r\r\nTraceback (most recent call last):\r\r\n"
                                    "  File \"<stdin>\", line 1, in <module>\r\r\n"
                                    "NameError: name 'prnt' isn't defined\r\r\n>>> ", 10, mark),
              "no NameError came back:\n%s", p.out_text + mark);
    /* Ctrl-C is a key for the board in raw mode, not a signal for the monitor. */
    mark = p.out_len;
    e2e_proc_write(&p, "abc\x03", 4);
    cr_assert(e2e_proc_wait_for(&p, "abc\r\r\n>>> ", 10, mark),
              "Ctrl-C did not reach the REPL:\n%s", p.out_text + mark);
    e2e_proc_write(&p, "\x1d", 1);
    int status = e2e_proc_finish(&p, 20);
    cr_assert_eq(status, 0, "Ctrl-] should leave with 0, got %d:\n%s", status, p.out_text);
    cr_assert(strstr(p.out_text, "left the monitor (Ctrl-])"), "%s", p.out_text);
}

Test(monitor_pty, notes_are_marked_lines_coloured_on_a_terminal)
{
    const char *env[] = { "NO_COLOR", "TERM=xterm", NULL };
    start_monitor(env, NULL);
    cr_assert(e2e_proc_wait_for(&p, "\n>>> ", 20, 0), "%s", p.out_text);
    e2e_proc_write(&p, "\x1d", 1);
    cr_assert_eq(e2e_proc_finish(&p, 20), 0, "%s", p.out_text);
    cr_assert(strstr(p.out_text, "\033[36m--- reset 0x1 (POWERON_RESET)"), "%s", p.out_text);
    cr_assert(strstr(p.out_text, "\033[36m--- MicroPython v1.24.0 (Generic ESP32 module "
                                 "with ESP32) started\033[0m"), "%s", p.out_text);
    /* The prompt's note comes before the prompt, the prompt itself once. */
    cr_assert(strstr(p.out_text, "information.\r\r\n\033[36m--- MicroPython's REPL is waiting"),
              "%s", p.out_text);
    cr_assert_eq(count(p.out_text, ">>> "), 1, "%s", p.out_text);
}

Test(monitor_pty, no_colour_with_no_color)
{
    const char *env[] = { "NO_COLOR=1", NULL };
    start_monitor(env, NULL);
    e2e_proc_write(&p, "\x1d", 1);
    cr_assert_eq(e2e_proc_finish(&p, 20), 0, "%s", p.out_text);
    cr_assert(strstr(p.out_text, "--- MicroPython v1.24.0"), "%s", p.out_text);
    cr_assert_null(strchr(p.out_text, '\033'), "colour despite NO_COLOR:\n%s", p.out_text);
}

Test(monitor_pty, the_terminal_gets_its_settings_back)
{
    const char *env[] = { "NO_COLOR", NULL };
    start_monitor(env, NULL);
    struct termios during, after;
    cr_assert_eq(tcgetattr(p.in, &during), 0);
    cr_assert_not(during.c_lflag & (ICANON | ECHO | ISIG), "the monitor runs raw");
    e2e_proc_write(&p, "\x1d", 1);
    /* Read the terminal's settings before the last program on it is gone. */
    cr_assert(e2e_proc_wait_for(&p, "left the monitor", 20, 0), "%s", p.out_text);
    cr_assert_eq(tcgetattr(p.in, &after), 0);
    cr_assert(after.c_lflag & ICANON && after.c_lflag & ECHO && after.c_lflag & ISIG,
              "raw mode left behind: lflag 0x%x", (unsigned)after.c_lflag);
    cr_assert_eq(e2e_proc_finish(&p, 20), 0, "%s", p.out_text);
}

Test(monitor_pty, a_signal_ends_it_and_the_terminal_is_restored)
{
    const char *env[] = { "NO_COLOR", NULL };
    start_monitor(env, NULL);
    kill(p.pid, SIGTERM);   /* espsim hands it on to the monitor */
    cr_assert(e2e_proc_wait_for(&p, "--- interrupted", 20, 0), "%s", p.out_text);
    struct termios after;
    cr_assert_eq(tcgetattr(p.in, &after), 0);
    cr_assert(after.c_lflag & ICANON && after.c_lflag & ECHO, "raw mode left behind");
    cr_assert_eq(e2e_proc_finish(&p, 20), 143, "%s", p.out_text);   /* 128 + SIGTERM */
}
