/* Running a program on a terminal, as a person would: stdin, stdout and stderr on one pty
 * of a given width, with an environment of the test's choosing (TERM, COLUMNS, NO_COLOR),
 * and answers typed whenever a question appears on the screen. Header-only, like
 * e2e_run.h. (posix_openpt, not openpty: <pty.h> would find espsim's tests/sim/pty.h.) */
#ifndef ESPDOCTOR_E2E_TTY_H
#define ESPDOCTOR_E2E_TTY_H

#include <criterion/criterion.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "e2e_run.h"

#define E2E_TTY_OUT_MAX (128 * 1024)

struct e2e_tty {
    /* in */
    unsigned short columns;          /* the terminal's width; 0: 80 */
    const char *const *env;          /* "NAME=value" to set, "NAME" to unset; NULL-ended */
    const char *question;            /* when this appears (again), type the next answer */
    const char *const *answers;      /* lines to type, in order; NULL-ended; NULL: none */
    /* out */
    int status;                      /* exit code; 128+N for a signal; -1 timed out */
    size_t asked;                    /* how often the question appeared */
    char out[E2E_TTY_OUT_MAX];       /* everything the terminal showed (\r\n as written) */
};

static inline size_t e2e_tty_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = needle ? strstr(text, needle) : NULL; p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static inline void e2e_tty_run(struct e2e_tty *t, const char *const *argv, int limit_s)
{
    t->status = -1;
    t->asked = 0;
    t->out[0] = '\0';
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0);
    cr_assert(grantpt(master) == 0 && unlockpt(master) == 0);
    struct winsize ws = { .ws_row = 24, .ws_col = t->columns ? t->columns : 80 };
    cr_assert_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
    const char *slave_name = ptsname(master);
    cr_assert_not_null(slave_name);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setsid();
        int slave = open(slave_name, O_RDWR);   /* the controlling terminal */
        if (slave < 0)
            _exit(126);
        struct termios tio;
        if (tcgetattr(slave, &tio) == 0) {
            tio.c_lflag &= ~(tcflag_t)ECHO;   /* the answers are not part of the output */
            tcsetattr(slave, TCSANOW, &tio);
        }
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        close(master);
        for (size_t i = 0; t->env && t->env[i]; i++) {
            const char *eq = strchr(t->env[i], '=');
            if (eq) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(eq - t->env[i]), t->env[i]);
                setenv(name, eq + 1, 1);
            } else {
                unsetenv(t->env[i]);
            }
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    size_t used = 0, typed = 0;
    double limit = limit_s * e2e_time_scale();
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 > limit) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(master);
            return;
        }
        struct pollfd pfd = { master, POLLIN, 0 };
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t got = read(master, t->out + used, sizeof t->out - 1 - used);
        if (got <= 0)
            break;   /* EIO: every writer closed the terminal */
        used += (size_t)got;
        t->out[used] = '\0';
        size_t asked = e2e_tty_count(t->out, t->question);
        if (asked > t->asked) {
            t->asked = asked;
            if (t->answers && t->answers[typed]) {
                char line[128];
                int n = snprintf(line, sizeof line, "%s\n", t->answers[typed++]);
                cr_assert_eq(write(master, line, (size_t)n), n);
            }
        }
    }
    close(master);
    int st;
    waitpid(pid, &st, 0);
    t->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
