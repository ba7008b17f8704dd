/* The progress bar (see progress.h). */
#include "progress.h"

#include <string.h>
#include <time.h>

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void format_bytes(char *buf, size_t len, double bytes)
{
    if (bytes >= 1024.0 * 1024.0)
        snprintf(buf, len, "%.1f MiB", bytes / (1024.0 * 1024.0));
    else if (bytes >= 1024.0)
        snprintf(buf, len, "%.0f KiB", bytes / 1024.0);
    else
        snprintf(buf, len, "%.0f B", bytes);
}

void ed_progress_format(char *buf, size_t len, const char *label, uint64_t done,
                        uint64_t total, double elapsed_s)
{
    if (done > total)
        done = total;
    unsigned fill = total ? (unsigned)(done * ED_PROGRESS_WIDTH / total) : ED_PROGRESS_WIDTH;
    unsigned percent = total ? (unsigned)(done * 100 / total) : 100;
    char bar[ED_PROGRESS_WIDTH + 1];
    for (unsigned i = 0; i < ED_PROGRESS_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[ED_PROGRESS_WIDTH] = '\0';
    char have[24], all[24], rate[32] = "", left[32] = "";
    format_bytes(have, sizeof have, (double)done);
    format_bytes(all, sizeof all, (double)total);
    if (elapsed_s > 0.2 && done > 0) {
        double per_s = (double)done / elapsed_s;
        char r[24];
        format_bytes(r, sizeof r, per_s);
        snprintf(rate, sizeof rate, "  %s/s", r);
        unsigned secs = (unsigned)((double)(total - done) / per_s + 0.5);
        snprintf(left, sizeof left, "  %u:%02u left", secs / 60, secs % 60);
    }
    snprintf(buf, len, "%s  [%s] %3u%%  %s/%s%s%s", label, bar, percent, have, all, rate, left);
}

void ed_progress_start(struct ed_progress *p, FILE *out, bool on, const char *label,
                       uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->on = on && out;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->start_us = now_us();
}

void ed_progress_update(struct ed_progress *p, uint64_t done)
{
    if (!p->on)
        return;
    uint64_t t = now_us();
    bool final = done >= p->total;
    if (p->drawn && !final && t - p->last_draw_us < ED_PROGRESS_REDRAW_US)
        return;
    if (p->drawn && final && p->last_done == done)
        return;
    if (!p->moved_us && done > 0) {
        p->moved_us = t;
        p->moved_from = done;
    }
    /* Scale the elapsed time so that done / elapsed is the rate since the count moved. */
    double elapsed = 0.0;
    if (p->moved_us && done > p->moved_from && t > p->moved_us)
        elapsed = (double)(t - p->moved_us) / 1e6 * (double)done / (double)(done - p->moved_from);
    char line[256];
    ed_progress_format(line, sizeof line, p->label, done, p->total, elapsed);
    /* Carriage return and erase-to-end-of-line: the bar redraws itself in place. */
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->drawn = true;
    p->last_draw_us = t;
    p->last_done = done;
}

void ed_progress_end(struct ed_progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->drawn = false;
}
