/* Progress as JSON event lines (see progress_events.h). */
#include "progress_events.h"

#include "out.h"

#include <string.h>
#include <time.h>

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ed_progress_events_init(struct ed_progress_events *ev, FILE *out, const char *command)
{
    memset(ev, 0, sizeof *ev);
    ev->out = out;
    ev->command = command;
}

const char *ed_progress_event_phase(const char *engine_phase)
{
    static const struct { const char *engine, *event; } words[] = {
        { "comparing", "compare" }, { "writing", "write" }, { "verifying", "verify" },
    };
    if (!engine_phase)
        return "write";
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(engine_phase, words[i].engine) == 0)
            return words[i].event;
    return engine_phase;
}

void ed_progress_event(struct ed_progress_events *ev, const char *phase, size_t region,
                       uint64_t done, uint64_t total)
{
    if (!ev->out)
        return;
    uint64_t t = now_us();
    bool fresh = !ev->started || region != ev->region || strcmp(phase, ev->phase) != 0;
    if (fresh) {
        snprintf(ev->phase, sizeof ev->phase, "%s", phase);
        ev->region = region;
        ev->started = true;
        ev->phase_us = t;
        ev->moved_us = 0;
    } else {
        bool last = done >= total && ev->last_done < total;
        if (!last && (t - ev->last_us < ED_PROGRESS_EVENT_EVERY_US || done == ev->last_done))
            return;
    }
    if (!ev->moved_us && done > 0) {
        ev->moved_us = t;
        ev->moved_from = done;
    }
    ev->last_us = t;
    ev->last_done = done;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_int(ED_JSON_SCHEMA));
    json_object_object_add(o, "event", json_object_new_string("progress"));
    json_object_object_add(o, "command", json_object_new_string(ev->command));
    json_object_object_add(o, "phase", json_object_new_string(phase));
    json_object_object_add(o, "region", json_object_new_int64((int64_t)region));
    json_object_object_add(o, "done", json_object_new_int64((int64_t)done));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)total));
    json_object_object_add(o, "seconds", ed_json_seconds((double)(t - ev->phase_us) / 1e6));
    /* Measured from where the count first moved, not across a slow start (an erase). */
    double moving = ev->moved_us && t > ev->moved_us ? (double)(t - ev->moved_us) / 1e6 : 0;
    json_object_object_add(o, "bytes_per_second",
                           moving >= 0.05 && done > ev->moved_from
                               ? ed_json_rate((double)(done - ev->moved_from) / moving)
                               : NULL);
    ed_out_json(ev->out, o);
    fflush(ev->out);
}
