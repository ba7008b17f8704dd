/* A program under test that is talked to while it runs: its stdin written to, its output
 * read as it comes and waited on, through pipes or a pseudo-terminal (a person at a
 * terminal). Header-only, like e2e_run.h, whose wrapper and time scale it honours. */
#ifndef ESPDOCTOR_E2E_PROC_H
#define ESPDOCTOR_E2E_PROC_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "e2e_run.h"

struct e2e_proc {
    pid_t pid;
    bool pty;
    int in;                  /* what the program reads: a pipe, or the pty's master */
    int out, err;            /* its stdout and stderr; with a pty both are `in`, err -1 */
    char out_text[E2E_OUT_MAX];
    char err_text[E2E_OUT_MAX];
    size_t out_len, err_len;
    int status;              /* as e2e_run's: exit code, 128+signal, -1 killed at the limit */
};

static inline void e2e_proc_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Start argv; env holds "NAME=VALUE" to set and "NAME" to unset (NULL-terminated, may be
 * NULL). With pty, stdin, stdout and stderr are one new terminal, its controlling one. */
static inline bool e2e_proc_start(struct e2e_proc *p, const char *const *argv_in, bool pty,
                                  const char *const *env)
{
    memset(p, 0, sizeof *p);
    p->pty = pty;
    p->status = -1;
    const char *wrapped[E2E_ARGV_MAX];
    char words[1024];
    const char *const *argv = e2e_wrap_argv(argv_in, wrapped, E2E_ARGV_MAX, words, sizeof words);
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, master = -1;
    const char *slave_name = NULL;
    if (pty) {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
            !(slave_name = ptsname(master)))
            return false;
    } else if (pipe(in) || pipe(out) || pipe(err)) {
        return false;
    }
    fflush(NULL);
    p->pid = fork();
    if (p->pid < 0)
        return false;
    if (p->pid == 0) {
        if (pty) {
            setsid();
            int slave = open(slave_name, O_RDWR);
            if (slave < 0)
                _exit(127);
            ioctl(slave, TIOCSCTTY, 0);
            dup2(slave, 0), dup2(slave, 1), dup2(slave, 2);
            if (slave > 2)
                close(slave);
            close(master);
        } else {
            setpgid(0, 0);
            dup2(in[0], 0), dup2(out[1], 1), dup2(err[1], 2);
            close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(err[0]),
                close(err[1]);
        }
        for (size_t i = 0; env && env[i]; i++)
            if (strchr(env[i], '='))
                putenv((char *)env[i]);
            else
                unsetenv(env[i]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pty) {
        p->in = p->out = master;
        p->err = -1;
    } else {
        close(in[0]), close(out[1]), close(err[1]);
        p->in = in[1];
        p->out = out[0];
        p->err = err[0];
        e2e_proc_nonblock(p->err);
    }
    e2e_proc_nonblock(p->out);
    return true;
}

/* Take what is there on fd into buf; false at its end (EOF, or EIO on a pty whose
 * program is gone). */
static inline bool e2e_proc_take(int fd, char *buf, size_t *len)
{
    for (;;) {
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        if (n == 0)
            return false;
        size_t room = E2E_OUT_MAX - 1 - *len, take = (size_t)n < room ? (size_t)n : room;
        memcpy(buf + *len, tmp, take);
        *len += take;
        buf[*len] = '\0';
    }
}

/* Read for up to ms; false when the program's output has ended. */
static inline bool e2e_proc_pump(struct e2e_proc *p, int ms)
{
    struct pollfd f[2] = { { p->out, POLLIN, 0 }, { p->err, POLLIN, 0 } };
    poll(f, p->err >= 0 ? 2 : 1, ms);
    bool open = e2e_proc_take(p->out, p->out_text, &p->out_len);
    if (p->err >= 0)
        e2e_proc_take(p->err, p->err_text, &p->err_len);
    return open;
}

/* Wait (up to seconds, times the time scale) until needle shows in the output after
 * offset from; true when it did. */
static inline bool e2e_proc_wait_for(struct e2e_proc *p, const char *needle, double seconds,
                                     size_t from)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double limit = seconds * e2e_time_scale();
    for (;;) {
        if (p->out_len > from && memmem(p->out_text + from, p->out_len - from, needle,
                                        strlen(needle)))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double spent = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (spent > limit || !e2e_proc_pump(p, 50))
            return p->out_len > from && memmem(p->out_text + from, p->out_len - from, needle,
                                               strlen(needle));
    }
}

static inline void e2e_proc_write(struct e2e_proc *p, const char *text, size_t n)
{
    while (n) {
        ssize_t w = write(p->in, text, n);
        if (w <= 0)
            return;
        text += w;
        n -= (size_t)w;
    }
}

/* No more input (a pipe only: a terminal stays). */
static inline void e2e_proc_close_input(struct e2e_proc *p)
{
    if (!p->pty && p->in >= 0) {
        close(p->in);
        p->in = -1;
    }
}

/* Wait for the program to end (up to seconds, scaled; killed then), reading all it
 * prints. Returns its status, -1 if it had to be killed. */
static inline int e2e_proc_finish(struct e2e_proc *p, double seconds)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double limit = seconds * e2e_time_scale();
    int st = 0;
    bool exited = false, killed = false;
    for (;;) {
        bool open = e2e_proc_pump(p, 50);
        if (!exited && waitpid(p->pid, &st, WNOHANG) == p->pid)
            exited = true;
        if (exited && (!open || p->pty)) {
            while (e2e_proc_pump(p, 0) && p->out_len < E2E_OUT_MAX - 1)
                ;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > limit) {
            kill(-p->pid, SIGKILL);   /* its own session or group */
            killed = true;
            if (!exited)
                waitpid(p->pid, &st, 0);
            break;
        }
    }
    if (p->in >= 0 && p->in != p->out)
        close(p->in);
    close(p->out);
    if (p->err >= 0)
        close(p->err);
    p->in = p->out = p->err = -1;
    if (killed)
        p->status = -1;
    else if (WIFEXITED(st))
        p->status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        p->status = 128 + WTERMSIG(st);
    return p->status;
}

#endif
