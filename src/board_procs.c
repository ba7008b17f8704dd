/* One process per board for flash --all (see board_procs.h). */
#include "board_procs.h"

#include "flash_all.h"
#include "out.h"

#include "espdoctor/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What a board's process tells the parent. */
#define FRAME_BOARD 'B'      /* "CHIP\nMAC\nREASON": it answered; a REASON: skipped */
#define FRAME_PROGRESS 'P'   /* "PHASE DONE TOTAL" */
#define FRAME_DOCUMENT 'J'   /* its `flash --json` document */
#define FRAME_MESSAGES 'E'   /* what it wrote on stderr */

#define PROGRESS_EVERY_US 50000u   /* a board reports progress this often at most */
#define WATCH_MS 50                /* the parent redraws at least this often */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- in the board's process ------------------------------------------------------- */

struct child {
    int fd;
    uint64_t last_progress_us;
    char last_phase[ED_VIEW_STATE_MAX];
};

/* The board answered: its chip and MAC, and whether the files are for that chip. */
static bool child_on_board(void *ctx, struct ed_flash_session *s, const struct ed_flash_plan *plan)
{
    struct child *c = ctx;
    char mac[18] = "-";
    uint8_t raw[6];
    if (ed_loader_read_mac(s->ld, raw) == ED_OK)
        ed_format_mac(raw, mac);
    const char *why = "";
    for (size_t i = 0; i < plan->count && !*why; i++)
        for (size_t k = 0; k < plan->items[i].issue_count && !*why; k++)
            if (strcmp(plan->items[i].issues[k].id, "image.wrong-chip") == 0)
                why = plan->items[i].issues[k].message;
    char payload[64 + ED_IMAGE_MESSAGE_MAX];
    int n = snprintf(payload, sizeof payload, "%s\n%s\n%s", s->ld->chip->name, mac, why);
    ed_frame_write(c->fd, FRAME_BOARD, payload, n > 0 ? (size_t)n : 0);
    return !*why;
}

static void child_on_progress(void *ctx, const struct ed_flash_progress *p)
{
    struct child *c = ctx;
    const char *phase = p->phase ? p->phase : "writing";
    uint64_t t = now_us();
    bool news = strcmp(phase, c->last_phase) != 0 || p->total_done >= p->total;
    if (!news && t - c->last_progress_us < PROGRESS_EVERY_US)
        return;
    c->last_progress_us = t;
    snprintf(c->last_phase, sizeof c->last_phase, "%s", phase);
    char payload[64];
    int n = snprintf(payload, sizeof payload, "%s %llu %llu", phase,
                     (unsigned long long)p->total_done, (unsigned long long)p->total);
    ed_frame_write(c->fd, FRAME_PROGRESS, payload, n > 0 ? (size_t)n : 0);
}

/* The board's process: `flash` on its port, everything it says sent to the parent. */
static __attribute__((noreturn)) void run_child(const struct ed_cli *cli, int argc, char **argv,
                                                const struct ed_board_job *job, int fd,
                                                volatile sig_atomic_t *interrupted)
{
    struct ed_cli c = *cli;
    c.port = job->name;
    c.all = false;
    c.json = true;          /* its own document, for the parent's summary */
    c.color = false;
    c.progress = false;
    c.events = NULL;        /* progress goes to the parent in frames, not in the document */
    char *out_text = NULL, *err_text = NULL;
    size_t out_len = 0, err_len = 0;
    FILE *out = open_memstream(&out_text, &out_len);
    FILE *err = open_memstream(&err_text, &err_len);
    int rc = ED_EXIT_FAIL;
    if (out && err) {
        c.out = out;
        c.err = err;
        struct child ch = { .fd = fd };
        struct ed_flash_hooks hooks = { .ctx = &ch, .board = child_on_board,
                                        .progress = child_on_progress, .cancel = interrupted };
        rc = ed_flash_one(&c, argc, argv, &hooks);
    }
    if (out)
        fclose(out);
    if (err)
        fclose(err);
    ed_frame_write(fd, FRAME_DOCUMENT, out_text ? out_text : "", out_text ? out_len : 0);
    ed_frame_write(fd, FRAME_MESSAGES, err_text ? err_text : "", err_text ? err_len : 0);
    free(out_text);
    free(err_text);
    close(fd);
    _exit(rc);   /* not exit(): the parent's stdio buffers and atexit handlers are not ours */
}

/* ---- in the parent ---------------------------------------------------------------- */

static void set_state(struct ed_board_job *job, const char *state)
{
    snprintf(job->line.state, sizeof job->line.state, "%s", state);
}

static bool start_one(struct ed_board_job *jobs, size_t i, const struct ed_cli *cli, int argc,
                      char **argv, volatile sig_atomic_t *interrupted)
{
    struct ed_board_job *job = &jobs[i];
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return false;
    fflush(NULL);   /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        for (size_t k = 0; k < i; k++)
            if (jobs[k].fd >= 0)
                close(jobs[k].fd);
        run_child(cli, argc, argv, job, fds[1], interrupted);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return false;
    }
    job->pid = pid;
    job->fd = fds[0];
    job->running = true;
    job->start_us = now_us();
    set_state(job, "connecting");
    return true;
}

static void on_board_frame(struct ed_board_job *job, const char *text, size_t len)
{
    char chip[24] = "", mac[18] = "-";
    const char *end = text + len;
    const char *nl1 = memchr(text, '\n', len);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
    if (!nl1 || !nl2)
        return;
    snprintf(chip, sizeof chip, "%.*s", (int)(nl1 - text), text);
    snprintf(mac, sizeof mac, "%.*s", (int)(nl2 - nl1 - 1), nl1 + 1);
    snprintf(job->line.chip, sizeof job->line.chip, "%s", chip);
    snprintf(job->mac, sizeof job->mac, "%s", mac);
    if (nl2 + 1 < end) {
        job->skipped = true;
        snprintf(job->reason, sizeof job->reason, "%.*s", (int)(end - nl2 - 1), nl2 + 1);
    }
    set_state(job, job->skipped ? "skipping" : "preparing");
}

static void on_progress_frame(struct ed_board_job *job, const char *text, size_t len)
{
    char buf[64], phase[ED_VIEW_STATE_MAX];
    unsigned long long done, total;
    snprintf(buf, sizeof buf, "%.*s", (int)len, text);
    if (sscanf(buf, "%15s %llu %llu", phase, &done, &total) != 3)
        return;
    uint64_t t = now_us();
    struct ed_board_line *l = &job->line;
    set_state(job, phase);
    l->bar = true;
    l->done = done;
    l->total = total;
    if (!job->moved_us && done > 0) {
        job->moved_us = t;
        job->moved_from = done;
    }
    /* As the single progress bar: the rate since the count moved (not across a slow
     * start), as a time that makes done / rate_seconds that rate. */
    l->rate_seconds = 0.0;
    if (job->moved_us && done > job->moved_from && t > job->moved_us)
        l->rate_seconds = (double)(t - job->moved_us) / 1e6 * (double)done /
                          (double)(done - job->moved_from);
}

static void on_frame(struct ed_board_job *job, char type, const uint8_t *data, size_t len)
{
    const char *text = (const char *)data;
    switch (type) {
    case FRAME_BOARD:
        on_board_frame(job, text, len);
        break;
    case FRAME_PROGRESS:
        on_progress_frame(job, text, len);
        break;
    case FRAME_DOCUMENT:
        json_object_put(job->doc);
        job->doc = NULL;
        if (len) {
            json_tokener *tok = json_tokener_new();
            if (tok) {
                job->doc = json_tokener_parse_ex(tok, text, (int)len);
                json_tokener_free(tok);
            }
        }
        break;
    case FRAME_MESSAGES:
        free(job->messages);
        job->messages = strndup(text, len);
        break;
    }
}

/* The board's pipe closed: collect its process. */
static void end_job(struct ed_board_job *job)
{
    close(job->fd);
    job->fd = -1;
    int status = 0;
    while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
        continue;
    job->running = false;
    job->seconds = (double)(now_us() - job->start_us) / 1e6;
    if (WIFEXITED(status)) {
        job->exit_code = WEXITSTATUS(status);
    } else {
        job->exit_code = ED_EXIT_FAIL;
        snprintf(job->reason, sizeof job->reason, "its flashing process died (signal %d)",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    job->line.finished = true;
    job->line.bar = false;
    job->line.seconds = job->seconds;
    set_state(job, ed_board_job_result(job));
}

static void read_job(struct ed_board_job *job)
{
    ssize_t n = ed_frame_fill(&job->reader, job->fd);
    char type;
    const uint8_t *data;
    size_t len;
    while (ed_frame_next(&job->reader, &type, &data, &len))
        on_frame(job, type, data, len);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        end_job(job);
}

void ed_board_procs_run(struct ed_board_job *jobs, size_t count, const struct ed_cli *cli,
                        int argc, char **argv, enum ed_view_mode mode,
                        volatile sig_atomic_t *interrupted)
{
    for (size_t i = 0; i < count; i++) {
        jobs[i].fd = -1;
        if (jobs[i].ended) {
            jobs[i].line.finished = true;
            set_state(&jobs[i], "failed");
        } else if (!start_one(jobs, i, cli, argc, argv, interrupted)) {
            jobs[i].exit_code = ED_EXIT_FAIL;
            snprintf(jobs[i].reason, sizeof jobs[i].reason, "could not start a process for "
                     "it: %s", strerror(errno));
            jobs[i].line.finished = true;
            set_state(&jobs[i], "failed");
        }
    }
    struct ed_boards_view view;
    struct pollfd *polls = calloc(count, sizeof *polls);
    struct ed_board_job **polled = calloc(count, sizeof *polled);
    struct ed_board_line *lines = calloc(count, sizeof *lines);
    if (!lines || !ed_boards_view_start(&view, cli->err, mode, count))
        mode = ED_VIEW_OFF;
    bool told = false;
    for (;;) {
        size_t n = 0;
        for (size_t i = 0; i < count; i++)
            if (jobs[i].running && polls && polled) {
                polls[n] = (struct pollfd){ .fd = jobs[i].fd, .events = POLLIN };
                polled[n++] = &jobs[i];
            }
        if (mode != ED_VIEW_OFF) {
            for (size_t i = 0; i < count; i++)
                lines[i] = jobs[i].line;
            ed_boards_view_show(&view, lines, now_us(), n == 0);
        }
        if (n == 0)
            break;
        if (*interrupted && !told) {
            /* Ctrl-C on a terminal reaches them too; a signal sent to this process alone
             * (a test harness, espsim) does not. */
            for (size_t i = 0; i < n; i++)
                kill(polled[i]->pid, SIGINT);
            told = true;
        }
        if (poll(polls, n, WATCH_MS) <= 0)
            continue;
        for (size_t i = 0; i < n; i++)
            if (polls[i].revents)
                read_job(polled[i]);
    }
    if (mode != ED_VIEW_OFF)
        ed_boards_view_end(&view);
    free(lines);
    free(polled);
    free(polls);
    /* Without memory for the poll table nothing was read: still collect the processes. */
    for (size_t i = 0; i < count; i++)
        if (jobs[i].running)
            end_job(&jobs[i]);
}

const char *ed_board_job_result(const struct ed_board_job *job)
{
    json_object *r;
    if (job->skipped)
        return "skipped";
    if (job->doc && json_object_object_get_ex(job->doc, "result", &r) &&
        json_object_is_type(r, json_type_string))
        return json_object_get_string(r);
    if (job->exit_code == ED_EXIT_INTERRUPTED)
        return "interrupted";
    return job->exit_code == ED_EXIT_OK ? "ok" : "failed";
}

/* The first line the board's run wrote on stderr, without the program's name. */
static void first_message(const struct ed_board_job *job, const char *prog, char *out,
                          size_t len)
{
    const char *text = job->messages ? job->messages : "";
    size_t p = strlen(prog);
    if (strncmp(text, prog, p) == 0 && strncmp(text + p, ": ", 2) == 0)
        text += p + 2;
    size_t n = strcspn(text, "\n");
    if (n)
        snprintf(out, len, "%.*s", (int)n, text);
    else
        snprintf(out, len, "exit status %d", job->exit_code);
}

void ed_board_job_message(const struct ed_board_job *job, const char *prog, char *out,
                          size_t len)
{
    out[0] = '\0';
    const char *result = ed_board_job_result(job);
    bool ok = strcmp(result, "ok") == 0;
    if (job->reason[0] && (job->skipped || !ok)) {
        snprintf(out, len, "%s", job->reason);
        return;
    }
    if (ok)
        return;
    json_object *e, *m, *problems;
    if (job->doc && json_object_object_get_ex(job->doc, "error", &e) &&
        json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string)) {
        snprintf(out, len, "%s", json_object_get_string(m));
        return;
    }
    if (job->doc && json_object_object_get_ex(job->doc, "problems", &problems))
        for (size_t i = 0; i < json_object_array_length(problems); i++) {
            json_object *p = json_object_array_get_idx(problems, i), *b;
            if (json_object_object_get_ex(p, "blocking", &b) && json_object_get_boolean(b) &&
                json_object_object_get_ex(p, "message", &m)) {
                snprintf(out, len, "%s", json_object_get_string(m));
                return;
            }
        }
    first_message(job, prog, out, len);
}

void ed_board_job_free(struct ed_board_job *job)
{
    json_object_put(job->doc);
    job->doc = NULL;
    free(job->messages);
    job->messages = NULL;
    ed_frame_reader_free(&job->reader);
}
