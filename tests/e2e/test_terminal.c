/* espdoctor on a terminal, as a person sees it: with several boards the doctor asks which
 * one and examines it, a wrong answer asks again (the doctor and info alike); the text
 * fits an 80-column terminal and never breaks a command; TERM=dumb or unset gets no
 * colour; --help fits 80 columns. */
#include "e2e_tty.h"

#define LIMIT_S 60
#define QUESTION "Which one?"
#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static struct e2e_tty t;

/* espsim OPTIONS -- espdoctor ARGS (at most 16 words in all). */
static void run_on_tty(const char *const *sim, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; sim && sim[i]; i++)
        argv[n++] = sim[i];
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args && args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_tty_run(&t, argv, LIMIT_S);
}

Test(terminal, the_doctor_asks_which_board_and_examines_it)
{
    t = (struct e2e_tty){ .question = QUESTION, .answers = LIST("2"),
                          .env = LIST("TERM=dumb") };
    run_on_tty(LIST("--boards", "2", "--firmware", "micropython"), NULL);
    cr_assert_eq(t.status, 0, "exit %d:\n%s", t.status, t.out);
    cr_assert_eq(t.asked, 1, "asked %zu times:\n%s", t.asked, t.out);
    cr_expect(strstr(t.out, "1) /dev/ttyUSB0") && strstr(t.out, "2) /dev/ttyUSB1"), "%s",
              t.out);
    cr_expect(strstr(e2e_flat(t.out), "Ready: ESP32 on /dev/ttyUSB1") != NULL,
              "the chosen board was not examined:\n%s", t.out);
    cr_expect_null(strstr(t.out, "[device.several]"), "it asked, so several is no finding:\n%s",
                   t.out);
}

Test(terminal, a_wrong_answer_asks_again, .timeout = 120)
{
    t = (struct e2e_tty){ .question = QUESTION, .answers = LIST("7", "one", "1"),
                          .env = LIST("TERM=dumb") };
    run_on_tty(LIST("--boards", "2", "--firmware", "micropython"), NULL);
    cr_assert_eq(t.status, 0, "doctor: exit %d:\n%s", t.status, t.out);
    cr_assert_eq(t.asked, 3, "doctor: asked %zu times:\n%s", t.asked, t.out);
    cr_expect(strstr(t.out, "'7' is not one of the numbers 1 to 2.") != NULL, "%s", t.out);
    cr_expect(strstr(e2e_flat(t.out), "Ready: ESP32 on /dev/ttyUSB0") != NULL, "%s", t.out);

    t = (struct e2e_tty){ .question = QUESTION, .answers = LIST("3", "2"),
                          .env = LIST("TERM=dumb") };
    run_on_tty(LIST("--boards", "2", "--fast"), LIST("info"));
    cr_assert_eq(t.status, 0, "info: exit %d:\n%s", t.status, t.out);
    cr_assert_eq(t.asked, 2, "info: asked %zu times:\n%s", t.asked, t.out);
    cr_expect(strstr(t.out, "ESP32 on /dev/ttyUSB1") != NULL, "%s", t.out);

    /* An empty answer still cancels, without examining anything. */
    t = (struct e2e_tty){ .question = QUESTION, .answers = LIST(""),
                          .env = LIST("TERM=dumb") };
    run_on_tty(LIST("--boards", "2", "--fast"), LIST("info"));
    cr_expect_eq(t.status, 2, "cancelled: exit %d:\n%s", t.status, t.out);
}

/* The text of a problem with long fixes on an 80-column terminal: no line wider than 80
 * but a command or a single word, and each command whole on its own line. */
Test(terminal, eighty_columns_never_break_a_command)
{
    t = (struct e2e_tty){ .columns = 80, .env = LIST("TERM=dumb") };
    run_on_tty(LIST("--driver", "usbfs", "--brltty", "--bridge", "ch340"), NULL);
    cr_assert_eq(t.status, 7, "exit %d:\n%s", t.status, t.out);
    cr_expect(strstr(t.out, "\r\n      sudo systemctl mask --now brltty-udev.service "
                            "brltty.service\r\n") != NULL,
              "the command is not whole on its line:\n%s", t.out);
    for (const char *line = t.out; *line;) {
        size_t n = strcspn(line, "\r\n"), cols = 0;
        for (size_t i = 0; i < n; i++)
            cols += ((unsigned char)line[i] & 0xC0) != 0x80;
        const char *text = line + strspn(line, " ");
        bool command = strncmp(text, "sudo ", 5) == 0 || strncmp(text, "espdoctor ", 10) == 0;
        cr_expect(cols <= 80 || command, "a line wider than 80 columns: %.*s", (int)n, line);
        line += n;
        line += strspn(line, "\r\n");
    }
}

static bool coloured(const char *term)
{
    t = (struct e2e_tty){ .env = term ? (const char *const[]){ term, "NO_COLOR", NULL }
                                      : LIST("TERM", "NO_COLOR") };
    run_on_tty(LIST("--firmware", "brownout"), NULL);
    cr_assert_eq(t.status, 7, "exit %d:\n%s", t.status, t.out);
    return strstr(t.out, "\033[") != NULL;
}

Test(terminal, no_colour_for_a_dumb_terminal_or_none)
{
    cr_expect(coloured("TERM=xterm-256color"), "an xterm gets colour:\n%s", t.out);
    cr_expect_not(coloured("TERM=dumb"), "TERM=dumb got colour:\n%s", t.out);
    cr_expect_not(coloured(NULL), "no TERM got colour:\n%s", t.out);
}

Test(terminal, help_fits_80_columns)
{
    for (unsigned short width = 80; width <= 200; width += 120) {
        t = (struct e2e_tty){ .columns = width, .env = LIST("TERM=dumb") };
        const char *argv[] = { e2e_bin("espdoctor"), "--help", NULL };
        e2e_tty_run(&t, argv, LIMIT_S);
        cr_assert_eq(t.status, 0, "exit %d", t.status);
        size_t lines = 0;
        for (const char *line = t.out; *line;) {
            size_t n = strcspn(line, "\r\n");
            cr_expect_leq(n, 80, "a --help line of %zu columns (terminal %u): %.*s", n, width,
                          (int)n, line);
            lines++;
            line += n;
            line += strspn(line, "\r\n");
        }
        cr_expect_gt(lines, 20, "%s", t.out);
    }
}
