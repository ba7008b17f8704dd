/* The serial monitor's loop (see monitor.h). */
#include "monitor.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "espdoctor/error.h"

enum step { STEP_ON, STEP_END, STEP_GONE };

struct loop_state {
    bool input_open;
    uint64_t started_ms, input_closed_ms, last_data_ms;
};

static const char *const end_keys[] = {
    [ED_MON_QUIT] = "quit",
    [ED_MON_TIMEOUT] = "timeout",
    [ED_MON_END_OF_INPUT] = "end-of-input",
    [ED_MON_PORT_GONE] = "port-gone",
    [ED_MON_INTERRUPTED] = "interrupted",
    [ED_MON_IO_ERROR] = "io-error",
    [ED_MON_LOG_ERROR] = "log-error",
};

const char *ed_mon_end_key(enum ed_mon_end end)
{
    return (unsigned)end < sizeof end_keys / sizeof end_keys[0] ? end_keys[end] : "unknown";
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool stopped(const struct ed_monitor_opts *o)
{
    return o->stop && *o->stop;
}

static bool end(struct ed_monitor *m, enum ed_mon_end why)
{
    m->end = why;
    return true;
}

/* Whether the monitor is over before the next round: a signal, the time, or the input
 * ended and the board has had its say. */
static bool over(struct ed_monitor *m, const struct ed_monitor_opts *o,
                 const struct loop_state *st)
{
    if (stopped(o))
        return end(m, ED_MON_INTERRUPTED);
    uint64_t now = now_ms();
    if (o->timeout_ms && now - st->started_ms >= o->timeout_ms)
        return end(m, ED_MON_TIMEOUT);
    if (!st->input_open && !o->timeout_ms) {
        uint64_t since = st->last_data_ms > st->input_closed_ms ? st->last_data_ms
                                                                : st->input_closed_ms;
        if (now - since >= ED_MON_EOF_QUIET_MS)
            return end(m, ED_MON_END_OF_INPUT);
    }
    return false;
}

static bool write_log(struct ed_monitor *m, int fd, const uint8_t *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            m->log_errno = errno;
            return false;
        }
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

/* What the board sent: to the log first (raw), then through the decoder. */
static enum step take_board(struct ed_monitor *m, const struct ed_monitor_opts *o,
                            struct loop_state *st)
{
    uint8_t buf[4096];
    size_t got = 0;
    int rc = ed_tp_read(m->tp, buf, sizeof buf, &got, ED_MON_READ_WAIT_MS);
    if (rc == ED_E_TIMEOUT) {
        ed_mon_stream_flush(&m->stream);
        return STEP_ON;
    }
    if (rc == ED_E_GONE)
        return STEP_GONE;
    if (rc == ED_E_CANCELLED && stopped(o)) {
        m->end = ED_MON_INTERRUPTED;   /* the read gave way to a signal */
        return STEP_END;
    }
    if (rc != ED_OK) {
        m->error = rc;
        m->end = ED_MON_IO_ERROR;
        return STEP_END;
    }
    m->bytes_in += got;
    st->last_data_ms = now_ms();
    if (o->log_fd >= 0 && !write_log(m, o->log_fd, buf, got)) {
        m->end = ED_MON_LOG_ERROR;
        return STEP_END;
    }
    ed_mon_stream_feed(&m->stream, buf, got, st->last_data_ms);
    return STEP_ON;
}

/* What the user typed (waiting at most wait_ms for it): to the board when it is there,
 * dropped while it is away. */
static enum step take_keys(struct ed_monitor *m, const struct ed_monitor_opts *o,
                           struct loop_state *st, unsigned wait_ms)
{
    struct pollfd p = { .fd = o->in_fd, .events = POLLIN };
    if (poll(&p, 1, (int)wait_ms) <= 0)
        return STEP_ON;   /* nothing, or a signal the loop looks at next */
    uint8_t in[256], out[2 * sizeof in];
    ssize_t n = read(o->in_fd, in, sizeof in);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return STEP_ON;
    if (n <= 0) {
        st->input_open = false;
        st->input_closed_ms = now_ms();
        if (o->in_terminal) {   /* the user's terminal went away */
            m->end = ED_MON_END_OF_INPUT;
            return STEP_END;
        }
        return STEP_ON;
    }
    size_t len;
    bool quit = ed_mon_keys_translate(&m->keys, in, (size_t)n, out, &len);
    if (len && m->tp) {   /* what came before the quit key still goes */
        int rc = ed_tp_write(m->tp, out, len);
        if (rc == ED_E_GONE && !quit)
            return STEP_GONE;
        if (rc != ED_OK && rc != ED_E_GONE) {
            m->error = rc;
            m->end = ED_MON_IO_ERROR;
            return STEP_END;
        }
        if (rc == ED_OK)
            m->bytes_out += len;
    }
    if (quit) {
        m->end = ED_MON_QUIT;
        return STEP_END;
    }
    return STEP_ON;
}

/* "USB serial 0001 on USB port 1-2, under any name" or "under the same name". */
static void describe_search(const struct ed_mon_follow *f, char *out, size_t len)
{
    if (!f->enumerated) {
        snprintf(out, len, "under the same name");
        return;
    }
    snprintf(out, len, "%s%s%s%s%s, under any name", f->was.serial[0] ? "USB serial " : "",
             f->was.serial, f->was.serial[0] && f->was.usb_name[0] ? " on " : "",
             f->was.usb_name[0] ? "USB port " : "", f->was.usb_name);
}

static void reconnect_event(struct ed_monitor *m, const char *state, const char *was,
                            const char *wait_key, unsigned ms)
{
    json_object *e = ed_mon_event_new("reconnect");
    const struct ed_mon_follow *f = &m->follow;
    json_object_object_add(e, "state", json_object_new_string(state));
    json_object_object_add(e, "port", json_object_new_string(f->path));
    if (was)
        json_object_object_add(e, "was", json_object_new_string(was));
    json_object_object_add(e, "serial", f->enumerated && f->was.serial[0]
                                            ? json_object_new_string(f->was.serial) : NULL);
    json_object_object_add(e, "usb_path", f->enumerated && f->was.usb_name[0]
                                              ? json_object_new_string(f->was.usb_name) : NULL);
    json_object_object_add(e, wait_key, json_object_new_int64(ms));
    ed_mon_out_event(m->out, e);
}

static void pause_ms(unsigned ms)
{
    struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* The port vanished: close it, wait (bounded) for the board to come back, maybe under
 * another name, and carry on there. */
static enum step follow(struct ed_monitor *m, const struct ed_monitor_opts *o,
                        struct loop_state *st)
{
    ed_mon_stream_flush(&m->stream);
    ed_tp_close(m->tp);   /* first: while it stays open, its name stays taken */
    m->tp = NULL;
    m->error = ED_E_GONE;
    if (!o->follow_ms) {
        m->end = ED_MON_PORT_GONE;
        return STEP_END;
    }
    char was[sizeof m->follow.path], search[200];
    snprintf(was, sizeof was, "%s", m->follow.path);
    describe_search(&m->follow, search, sizeof search);
    ed_mon_follow_begin(&m->follow);
    if (m->out->json)
        reconnect_event(m, "lost", NULL, "wait_ms", o->follow_ms);
    ed_mon_out_say(m->out, "%s vanished; waiting up to %u s for the board to come back (%s)",
                   was, o->follow_ms / 1000, search);
    uint64_t t0 = now_ms();
    enum step result = STEP_END;
    for (;;) {
        int rc = ed_mon_follow_try(&m->follow, o->baud, &m->tp);
        uint64_t now = now_ms();
        if (rc == ED_OK) {
            m->reconnects++;
            m->error = ED_OK;
            if (m->out->json)
                reconnect_event(m, "back", was, "waited_ms", (unsigned)(now - t0));
            if (strcmp(was, m->follow.path) == 0)
                ed_mon_out_say(m->out, "the board is back on %s after %.1f s", was,
                               (double)(now - t0) / 1000.0);
            else
                ed_mon_out_say(m->out, "the board is back, now as %s (was %s), after %.1f s",
                               m->follow.path, was, (double)(now - t0) / 1000.0);
            ed_mon_stream_restart(&m->stream);
            result = STEP_ON;
            break;
        }
        if (rc != ED_E_NOTFOUND)
            m->error = rc;   /* there, but not usable (yet): permission, busy */
        m->time_ran_out = o->timeout_ms && now - st->started_ms >= o->timeout_ms;
        if (now - t0 >= o->follow_ms || m->time_ran_out) {
            m->end = ED_MON_PORT_GONE;
            break;
        }
        if (stopped(o)) {
            m->end = ED_MON_INTERRUPTED;
            break;
        }
        if (!st->input_open) {
            pause_ms(ED_MON_FOLLOW_POLL_MS);
        } else if (take_keys(m, o, st, ED_MON_FOLLOW_POLL_MS) == STEP_END) {
            break;
        }
    }
    ed_mon_follow_end(&m->follow);
    return result;
}

void ed_monitor_run(struct ed_monitor *m, const struct ed_monitor_opts *o)
{
    ed_mon_stream_init(&m->stream, ed_mon_out_emit, m->out);
    m->keys = (struct ed_mon_keys){ .eol = o->eol };
    struct loop_state st = { .input_open = o->in_fd >= 0, .started_ms = now_ms() };
    st.last_data_ms = st.input_closed_ms = st.started_ms;
    for (;;) {
        if (over(m, o, &st))
            break;
        enum step s = m->tp ? take_board(m, o, &st) : STEP_GONE;
        if (s == STEP_ON && st.input_open)
            s = take_keys(m, o, &st, 0);
        if (s == STEP_GONE)
            s = follow(m, o, &st);
        if (s == STEP_END)
            break;
    }
    ed_mon_stream_flush(&m->stream);
    ed_mon_out_finish(m->out);
    m->seconds = (double)(now_ms() - st.started_ms) / 1000.0;
}
