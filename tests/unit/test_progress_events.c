/* Progress events for --json (src/progress_events.c) and the numbers JSON gives (out.c):
 * the first event of a phase and the one that completes it always come, those between at
 * most four a second; seconds to the millisecond, rates whole. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/out.h"   /* the tests have no -Isrc */
#include "../../src/progress_events.h"

static char *text;
static size_t len;

static FILE *open_text(void)
{
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    return f;
}

static size_t lines(void)
{
    size_t n = 0;
    for (const char *c = text; *c; c++)
        n += *c == '\n';
    return n;
}

Test(progress_events, a_burst_gives_the_first_and_the_last)
{
    FILE *f = open_text();
    struct ed_progress_events ev;
    ed_progress_events_init(&ev, f, "flash");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t done = 0; done <= 100000; done += 1000)
        ed_progress_event(&ev, "write", 0, done, 100000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* A loaded machine may pause the loop: each quarter second it took allows one more. */
    size_t quarters = (size_t)((double)(t1.tv_sec - t0.tv_sec) * 4 +
                               (double)(t1.tv_nsec - t0.tv_nsec) / 250e6);
    ed_progress_event(&ev, "write", 0, 100000, 100000);   /* said once, not twice */
    ed_progress_event(&ev, "verify", 0, 100000, 100000);  /* a new phase */
    ed_progress_event(&ev, "write", 1, 0, 5000);          /* a new region */
    fclose(f);
    cr_assert(lines() >= 4 && lines() <= 4 + quarters, "%zu lines:\n%s", lines(), text);
    /* The write's last line has every byte. */
    char *verify = strstr(text, "\"phase\": \"verify\"");
    cr_assert_not_null(verify, "%s", text);
    char *line = verify;
    while (line > text && line[-1] != '\n')
        line--;
    char *last = line - 1;
    while (last > text && last[-1] != '\n')
        last--;
    json_object *o = json_tokener_parse(last), *v;
    cr_assert_not_null(o, "%s", text);
    cr_assert(json_object_object_get_ex(o, "schema", &v) && json_object_get_int(v) == 1);
    cr_assert(json_object_object_get_ex(o, "event", &v));
    cr_assert_str_eq(json_object_get_string(v), "progress");
    cr_assert(json_object_object_get_ex(o, "done", &v) && json_object_get_int64(v) == 100000);
    cr_assert(json_object_object_get_ex(o, "total", &v) && json_object_get_int64(v) == 100000);
    cr_assert(json_object_object_get_ex(o, "command", &v));
    cr_assert_str_eq(json_object_get_string(v), "flash");
    json_object_put(o);
    cr_assert_not_null(strstr(text, "\"phase\": \"verify\""), "%s", text);
    cr_assert_not_null(strstr(text, "\"region\": 1"), "%s", text);
    free(text);
}

Test(progress_events, nowhere_to_go_prints_nothing)
{
    struct ed_progress_events ev;
    ed_progress_events_init(&ev, NULL, "read");
    ed_progress_event(&ev, "read", 0, 10, 10);   /* no crash, nothing to print */
}

Test(progress_events, engine_phases_get_the_event_words)
{
    cr_assert_str_eq(ed_progress_event_phase("comparing"), "compare");
    cr_assert_str_eq(ed_progress_event_phase("writing"), "write");
    cr_assert_str_eq(ed_progress_event_phase("verifying"), "verify");
    cr_assert_str_eq(ed_progress_event_phase(NULL), "write");
}

Test(json_numbers, seconds_to_the_millisecond_rates_whole_and_schema_first)
{
    FILE *f = open_text();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "seconds", ed_json_seconds(23.877974999));
    json_object_object_add(o, "bytes_per_second", ed_json_rate(88645.6));
    ed_out_json(f, o);
    fclose(f);
    cr_assert_str_eq(text, "{ \"schema\": 1, \"seconds\": 23.878, \"bytes_per_second\": 88646 }\n");
    free(text);
}
