#include "host.h"

#include <stdarg.h>

/* A bare GSource whose only job is to fire at a ready time (microsecond resolution). */
static gboolean wake_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    g_source_set_ready_time(source, -1);
    return callback ? callback(data) : G_SOURCE_CONTINUE;
}

static GSourceFuncs wake_funcs = { .dispatch = wake_dispatch };

static gboolean on_wake(gpointer data)
{
    sim_host_pump(data);
    return G_SOURCE_CONTINUE;
}

void sim_host_init(struct sim_host *h, struct sim_board *board, FILE *trace,
                   uint32_t initial_baud)
{
    *h = (struct sim_host){ .board = board, .trace = trace, .baud = initial_baud };
    h->start_us = g_get_monotonic_time();
    h->timer = g_source_new(&wake_funcs, sizeof(GSource));
    g_source_set_callback(h->timer, on_wake, h, NULL);
    g_source_set_ready_time(h->timer, -1);
    g_source_attach(h->timer, NULL);
    sim_board_set_host_baud(board, initial_baud, 0);
}

void sim_host_cleanup(struct sim_host *h)
{
    if (h->timer) {
        g_source_destroy(h->timer);
        g_source_unref(h->timer);
        h->timer = NULL;
    }
}

void sim_host_backdate(struct sim_host *h, unsigned ms)
{
    h->start_us -= (gint64)ms * 1000;
}

uint64_t sim_host_now(const struct sim_host *h)
{
    return (uint64_t)(g_get_monotonic_time() - h->start_us);
}

void sim_host_trace(const struct sim_host *h, const char *fmt, ...)
{
    if (!h->trace)
        return;
    uint64_t now = sim_host_now(h);
    fprintf(h->trace, "[%10.6f] host: ", (double)now / 1e6);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(h->trace, fmt, ap);
    va_end(ap);
    fputc('\n', h->trace);
    fflush(h->trace);
}

void sim_host_add_endpoint(struct sim_host *h, struct sim_endpoint *ep)
{
    g_assert(h->endpoint_count < SIM_MAX_ENDPOINTS);
    h->endpoints[h->endpoint_count++] = ep;
}

void sim_host_remove_endpoint(struct sim_host *h, struct sim_endpoint *ep)
{
    sim_host_close(h, ep, true);
    for (size_t i = 0; i < h->endpoint_count; i++) {
        if (h->endpoints[i] != ep)
            continue;
        h->endpoints[i] = h->endpoints[--h->endpoint_count];
        return;
    }
}

void sim_host_open(struct sim_host *h, struct sim_endpoint *ep)
{
    if (ep->open)
        return;
    ep->open = true;
    sim_host_trace(h, "%s opened", ep->label);
    if (h->opens++ == 0) {
        sim_board_host_open(h->board, true, sim_host_now(h));
        sim_host_set_lines(h, true, true);
    }
    sim_host_pump(h);
}

void sim_host_close(struct sim_host *h, struct sim_endpoint *ep, bool hang_up)
{
    if (!ep->open)
        return;
    ep->open = false;
    sim_host_trace(h, "%s closed", ep->label);
    if (--h->opens == 0) {
        if (hang_up)
            sim_host_set_lines(h, false, false);
        sim_board_host_open(h->board, false, sim_host_now(h));
    }
    sim_host_pump(h);
}

void sim_host_set_lines(struct sim_host *h, bool dtr, bool rts)
{
    if (dtr == h->dtr && rts == h->rts)
        return;
    h->dtr = dtr;
    h->rts = rts;
    sim_host_trace(h, "DTR=%d RTS=%d", dtr, rts);
    sim_board_set_lines(h->board, dtr, rts, sim_host_now(h));
    sim_host_pump(h);
}

void sim_host_set_baud(struct sim_host *h, uint32_t baud)
{
    if (baud == h->baud)
        return;
    h->baud = baud;
    uint32_t line = h->max_baud && baud > h->max_baud ? h->max_baud : baud;
    if (line != baud)
        sim_host_trace(h, "baud %u is above what the bridge does: it runs at %u", baud, line);
    else
        sim_host_trace(h, "baud %u", baud);
    sim_board_set_host_baud(h->board, line, sim_host_now(h));
    sim_host_pump(h);
}

void sim_host_write(struct sim_host *h, const uint8_t *data, size_t len)
{
    h->bytes_out += len;
    sim_board_host_write(h->board, data, len, sim_host_now(h));
    sim_host_pump(h);
}

/* Chip output is taken only as fast as the slowest open endpoint drains, so a host that
 * stops reading holds the chip back instead of losing bytes. */
static size_t room_for_output(struct sim_host *h)
{
    size_t room = SIM_OUTBUF_SIZE;
    for (size_t i = 0; i < h->endpoint_count; i++) {
        struct sim_endpoint *ep = h->endpoints[i];
        if (ep->open) {
            size_t r = ep->ops->room(ep);
            if (r < room)
                room = r;
        }
    }
    return room;
}

void sim_host_pump(struct sim_host *h)
{
    uint8_t buf[SIM_OUTBUF_SIZE];
    size_t room;
    bool blocked = false;

    while ((room = room_for_output(h)) > 0) {
        size_t n = sim_board_host_read(h->board, buf, room, sim_host_now(h));
        if (n == 0)
            break;
        h->bytes_in += n;
        for (size_t i = 0; i < h->endpoint_count; i++) {
            struct sim_endpoint *ep = h->endpoints[i];
            if (ep->open)
                ep->ops->push(ep, buf, n);
        }
    }
    if (room == 0)
        blocked = true;

    /* A blocked endpoint calls back when it drains; don't spin on an event in the past. */
    uint64_t now = sim_host_now(h);
    uint64_t next = sim_board_next_event_us(h->board, now);
    if (blocked || next == UINT64_MAX)
        g_source_set_ready_time(h->timer, -1);
    else
        g_source_set_ready_time(h->timer, h->start_us + (gint64)(next > now ? next : now));
}
