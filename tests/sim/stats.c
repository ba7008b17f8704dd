#include "stats.h"

#include <errno.h>
#include <string.h>

#include <json.h>

static void put(json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

bool sim_stats_write(const char *path, const struct sim_host *h, char *err, size_t errlen)
{
    struct sim_board_stats st;
    sim_board_get_stats(h->board, &st);
    json_object *o = json_object_new_object();
    put(o, "host_bytes_in", h->bytes_in);
    put(o, "host_bytes_out", h->bytes_out);
    put(o, "commands", st.commands);
    put(o, "blocks_written", st.blocks_written);
    put(o, "flash_busy_us", st.flash_busy_ns / 1000);
    put(o, "wire_us", st.wire_ns / 1000);
    put(o, "latency_us", st.latency_ns / 1000);
    put(o, "model_min_us", st.model_min_ns / 1000);
    put(o, "model_min_flash_us", st.model_min_flash_ns / 1000);
    json_object_object_add(o, "timing_model",
                           json_object_new_string(sim_board_timing(h->board) ? SIM_TIMING_MODEL
                                                                             : "off"));
    const char *stub = sim_board_stub_package(h->board);
    json_object_object_add(o, "stub", stub ? json_object_new_string(stub) : NULL);
    json_object_object_add(o, "flash_chip",
                           json_object_new_string(sim_board_flash_chip(h->board)));
    bool ok = true;
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0) {
        snprintf(err, errlen, "cannot write the statistics to %s: %s", path, strerror(errno));
        ok = false;
    }
    if (f && fclose(f) != 0 && ok) {
        snprintf(err, errlen, "cannot write the statistics to %s: %s", path, strerror(errno));
        ok = false;
    }
    json_object_put(o);
    return ok;
}
