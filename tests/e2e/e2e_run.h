/* Running the real binaries from end-to-end tests: spawn with a time limit, capture stdout
 * and stderr, and report the exit status. Header-only: each e2e test is its own program. */
#ifndef ESPDOCTOR_E2E_RUN_H
#define ESPDOCTOR_E2E_RUN_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e_fix.h"
#include "e2e_json.h"

#define E2E_OUT_MAX (256 * 1024)

struct e2e_result {
    int status;          /* exit code; 128+N if killed by signal N; -1 if timed out */
    char out[E2E_OUT_MAX];
    char err[E2E_OUT_MAX];
    double seconds;
};

/* The build directory the Makefile exported (ESPDOCTOR_BUILD), else "build". */
static inline const char *e2e_build(void)
{
    const char *b = getenv("ESPDOCTOR_BUILD");
    return b && *b ? b : "build";
}

/* "<build>/<name>" in a static buffer per call site slot (up to 8 live at once). */
static inline const char *e2e_bin(const char *name)
{
    static char slots[8][512];
    static unsigned next;
    char *s = slots[next++ % 8];
    snprintf(s, sizeof slots[0], "%s/%s", e2e_build(), name);
    return s;
}

/* ESPDOCTOR_WRAPPER ("valgrind --leak-check=full ...", words split on spaces) goes in
 * front of every espdoctor these helpers start: the first argument named .../espdoctor,
 * whether it is the command itself or comes after espsim's "--" or setpriv. make
 * check-valgrind sets it. */
#define E2E_ARGV_MAX 128

static inline const char *e2e_wrapper(void)
{
    const char *w = getenv("ESPDOCTOR_WRAPPER");
    return w && *w ? w : NULL;
}

/* Time limits grow by ESPDOCTOR_TIME_SCALE (default 1; 5 while a wrapper is set): a program
 * under valgrind runs many times slower. */
static inline double e2e_time_scale(void)
{
    const char *s = getenv("ESPDOCTOR_TIME_SCALE");
    double k = s && *s ? atof(s) : 0;
    if (k >= 1)
        return k;
    return e2e_wrapper() ? 5.0 : 1.0;
}

static inline bool e2e_is_espdoctor(const char *arg)
{
    const char *slash = strrchr(arg, '/');
    return strcmp(slash ? slash + 1 : arg, "espdoctor") == 0;
}

/* argv with the wrapper's words inserted (into out, up to max entries, words kept in
 * words); argv itself when there is no wrapper or no espdoctor in it. */
static inline const char *const *e2e_wrap_argv(const char *const *argv, const char **out,
                                               size_t max, char *words, size_t words_len)
{
    const char *w = e2e_wrapper();
    if (!w || strlen(w) >= words_len)
        return argv;
    size_t n = 0;
    bool wrapped = false;
    for (size_t i = 0; argv[i]; i++) {
        if (!wrapped && e2e_is_espdoctor(argv[i])) {
            snprintf(words, words_len, "%s", w);
            for (char *save = NULL, *t = strtok_r(words, " ", &save); t && n + 1 < max;
                 t = strtok_r(NULL, " ", &save))
                out[n++] = t;
            wrapped = true;
        }
        if (n + 1 >= max)
            return argv;
        out[n++] = argv[i];
    }
    out[n] = NULL;
    return wrapped ? out : argv;
}

/* A whole file in memory (free it); NULL when it cannot be read. */
static inline uint8_t *e2e_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

/* The two files hold the same bytes. */
static inline bool e2e_same_files(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    uint8_t *x = e2e_slurp(a, &na), *y = e2e_slurp(b, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* text with each line break and the indentation after it made one space: wrapped
 * paragraphs read as their sentences again (a static copy, one per call site slot). */
static inline const char *e2e_flat(const char *text)
{
    static char slots[2][E2E_OUT_MAX];
    static unsigned next;
    char *flat = slots[next++ % 2];
    size_t used = 0;
    for (const char *c = text; *c && used + 1 < E2E_OUT_MAX; c++) {
        if (*c == '\n') {
            while (c[1] == ' ')
                c++;
            flat[used++] = ' ';
            continue;
        }
        flat[used++] = *c;
    }
    flat[used] = '\0';
    return flat;
}

static inline void e2e_drain(int fd, char *buf, size_t *len, bool *open)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN))
            *open = false;
        return;
    }
    size_t room = E2E_OUT_MAX - 1 - *len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(buf + *len, tmp, take);
    *len += take;
    buf[*len] = '\0';
}

/* Run argv (NULL-terminated) with at most limit_s seconds (times e2e_time_scale()); stdin
 * is /dev/null, and the width of a terminal that is not there is the default one
 * (COLUMNS unset: 80). Every fix_command in the JSON it prints is checked (e2e_fix.h), and
 * every line of a --json run's stdout logged for the schema check (e2e_json.h). */
static inline void e2e_run(struct e2e_result *r, const char *const *argv_in, int limit_s)
{
    int out[2], err[2];
    memset(r, 0, sizeof *r);
    r->status = -1;
    const char *wrapped[E2E_ARGV_MAX];
    char words[1024];
    const char *const *argv = e2e_wrap_argv(argv_in, wrapped, E2E_ARGV_MAX, words, sizeof words);
    double limit = limit_s * e2e_time_scale();
    if (pipe(out) || pipe(err))
        return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]); close(err[0]); close(out[1]); close(err[1]);
        freopen("/dev/null", "r", stdin);
        unsetenv("COLUMNS");
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    size_t olen = 0, elen = 0;
    bool oopen = true, eopen = true;
    while (oopen || eopen) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double spent = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (spent > limit) {
            kill(-pid, SIGKILL);
            break;
        }
        struct pollfd p[2] = { { oopen ? out[0] : -1, POLLIN, 0 }, { eopen ? err[0] : -1, POLLIN, 0 } };
        if (poll(p, 2, 200) <= 0)
            continue;
        if (p[0].revents)
            e2e_drain(out[0], r->out, &olen, &oopen);
        if (p[1].revents)
            e2e_drain(err[0], r->err, &elen, &eopen);
    }
    close(out[0]);
    close(err[0]);
    int st;
    bool timed_out = oopen || eopen;
    waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (timed_out)
        r->status = -1;
    else if (WIFEXITED(st))
        r->status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        r->status = 128 + WTERMSIG(st);
    e2e_fix_check_output(r->out, argv_in[0]);
    e2e_json_log_output(r->out, argv_in);
}

#endif
