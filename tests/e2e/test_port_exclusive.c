/* One user of a port at a time: while one espdoctor flashes a board under espsim, a second
 * espdoctor flash and a monitor on the same port are refused with lock.busy naming the
 * first one's PID, and the first one's result, speed and duration are what they are when
 * it runs alone. (Before: the second reset the chip and set 115200 in the middle of the
 * first one's write, which verified after 102 s instead of 12 and still said 921600.)
 *
 * The virtual board's timing model is on (no --fast), so the first flash takes seconds of
 * wire time and the second one starts while it writes. Both durations are printed; the
 * bound on the shared one is loose (a loaded machine), far below what a reset costs. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e_sim.h"

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("exclusive");
}

TestSuite(port_exclusive, .init = make_dir, .fini = scratch_remove, .timeout = 400);

static json_object *json_file(const char *path)
{
    size_t len;
    char *text = sim_slurp(path, &len);
    cr_assert_not_null(text, "%s is missing", path);
    json_object *o = e2e_json_doc(text);   /* the document after the progress lines */
    cr_assert_not_null(o, "%s holds no JSON document:\n%s", path, text);
    free(text);
    return o;
}

static int int_file(const char *path)
{
    size_t len;
    char *text = sim_slurp(path, &len);
    cr_assert_not_null(text, "%s is missing", path);
    int v = atoi(text);
    free(text);
    return v;
}

static char *text_file(const char *path)
{
    size_t len;
    char *text = sim_slurp(path, &len);
    cr_assert_not_null(text, "%s is missing", path);
    return text;
}

/* What a flash that must not have been disturbed reports: ok, verified, no recovery. */
static double expect_clean_flash(json_object *o, const char *which)
{
    const char *doc = json_object_to_json_string(o);
    cr_assert_str_eq(json_object_get_string(sim_get(o, "result")), "ok", "%s: %s", which, doc);
    json_object *reg = json_object_array_get_idx(sim_get(o, "regions"), 0);
    cr_assert(json_object_get_boolean(sim_get(reg, "verified")), "%s: %s", which, doc);
    cr_assert_eq(json_object_get_int(sim_get(reg, "recoveries")), 0, "%s: %s", which, doc);
    return json_object_get_double(sim_get(o, "seconds"));
}

Test(port_exclusive, a_second_flash_and_a_monitor_get_lock_busy_and_the_first_is_unaffected)
{
    const char *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind",
                                                               "app", "--size", "1M", NULL });
    const char *espdoctor = e2e_bin("espdoctor");
    char script[4096];

    /* Alone. */
    snprintf(script, sizeof script, "'%s' flash --json 0x10000 '%s' > '%s' 2> '%s'", espdoctor,
             img, scratch_path("alone.json"), scratch_path("alone.err"));
    const char *alone_argv[] = { e2e_bin("espsim"), "--chip", "esp32", "--", "sh", "-c",
                                 script, NULL };
    e2e_run(&r, alone_argv, 200);
    cr_assert_eq(r.status, 0, "alone: exit %d\n%s\n%s", r.status, r.out,
                 text_file(scratch_path("alone.err")));
    json_object *alone = json_file(scratch_path("alone.json"));
    double alone_s = expect_clean_flash(alone, "alone");
    int64_t alone_baud = json_object_get_int64(sim_get(alone, "baud"));

    /* With a second flash and a monitor started while it writes. */
    snprintf(script, sizeof script,
             "ed='%s'; img='%s'; d='%s'\n"
             "\"$ed\" flash --json 0x10000 \"$img\" > \"$d/first.json\" 2> \"$d/first.err\" &\n"
             "first=$!; echo $first > \"$d/first.pid\"\n"
             "sleep 2\n"
             "kill -0 $first 2>/dev/null && echo running > \"$d/first.running\"\n"
             "\"$ed\" flash --json 0x10000 \"$img\" > \"$d/second.json\" 2> \"$d/second.err\"\n"
             "echo $? > \"$d/second.rc\"\n"
             "\"$ed\" monitor --timeout 1 > \"$d/monitor.out\" 2> \"$d/monitor.err\" < /dev/null\n"
             "echo $? > \"$d/monitor.rc\"\n"
             "wait $first; echo $? > \"$d/first.rc\"\n",
             espdoctor, img, scratch_dir);
    const char *both_argv[] = { e2e_bin("espsim"), "--chip", "esp32", "--", "sh", "-c", script,
                                NULL };
    e2e_run(&r, both_argv, 300);
    cr_assert_eq(r.status, 0, "espsim: exit %d\n%s\n%s", r.status, r.out, r.err);
    struct stat st;
    cr_assert_eq(stat(scratch_path("first.running"), &st), 0,
                 "the first flash had ended before the second started: nothing was shared");
    int first_pid = int_file(scratch_path("first.pid"));
    char holder[64], kill_it[32];
    snprintf(holder, sizeof holder, "espdoctor (PID %d)", first_pid);
    snprintf(kill_it, sizeof kill_it, "kill %d", first_pid);

    /* The second: refused before it touched the port, the holder named. */
    cr_assert_eq(int_file(scratch_path("second.rc")), 5, "second flash: %s",
                 text_file(scratch_path("second.err")));
    json_object *second = json_file(scratch_path("second.json"));
    json_object *err = sim_get(second, "error");
    cr_assert_not_null(err, "second flash: no error object");
    cr_assert_str_eq(json_object_get_string(sim_get(err, "id")), "lock.busy");
    cr_assert_not_null(strstr(json_object_get_string(sim_get(err, "message")), holder),
                       "%s", json_object_to_json_string(err));
    cr_assert_str_eq(json_object_get_string(sim_get(err, "fix_command")), kill_it);
    json_object_put(second);

    /* The monitor too. */
    cr_assert_eq(int_file(scratch_path("monitor.rc")), 5, "monitor: %s",
                 text_file(scratch_path("monitor.err")));
    char *mon = text_file(scratch_path("monitor.err"));
    cr_assert_not_null(strstr(mon, holder), "monitor: %s", mon);
    free(mon);

    /* The first: the same result, speed and time as alone. */
    cr_assert_eq(int_file(scratch_path("first.rc")), 0, "first flash: %s",
                 text_file(scratch_path("first.err")));
    json_object *first = json_file(scratch_path("first.json"));
    double shared_s = expect_clean_flash(first, "first (shared)");
    cr_assert_eq(json_object_get_int64(sim_get(first, "baud")), alone_baud);
    fprintf(stderr, "port_exclusive: first flash alone %.2f s, with a second flash and a "
            "monitor refused %.2f s (baud %lld both)\n", alone_s, shared_s,
            (long long)alone_baud);
    cr_assert_lt(shared_s, alone_s * 2 + 3, "the first flash took %.2f s shared, %.2f s alone",
                 shared_s, alone_s);
    json_object_put(first);
    json_object_put(alone);
}

/* Every command that opens the board says the same in JSON when the port is held: lock.busy,
 * the holder's PID, and the kill command (info and read-mac said port.unusable and "run the
 * doctor"). The holder is flock(1) on the node; its child, sleep, shares the lock, and the
 * holders are named in /proc's order, the older PID first. */
Test(port_exclusive, every_board_command_names_the_holder_in_json)
{
    const char *commands[] = { "info", "read-mac", "erase", "read 0 16 out.bin", NULL };
    for (size_t i = 0; commands[i]; i++) {
        char script[2048];
        snprintf(script, sizeof script,
                 "d='%s'; flock /dev/ttyUSB0 sleep 5 & echo $! > \"$d/holder.pid\"; sleep 1\n"
                 "cd \"$d\" && '%s' %s --json -p /dev/ttyUSB0 > \"$d/busy.json\" 2> /dev/null\n"
                 "echo $? > \"$d/busy.rc\"; kill %%1; wait\n",
                 scratch_dir, e2e_bin("espdoctor"), commands[i]);
        const char *argv[] = { e2e_bin("espsim"), "--fast", "--", "sh", "-c", script, NULL };
        e2e_run(&r, argv, 60);
        cr_assert_eq(r.status, 0, "%s: espsim exit %d\n%s", commands[i], r.status, r.err);
        cr_expect_eq(int_file(scratch_path("busy.rc")), 5, "%s", commands[i]);
        json_object *o = json_file(scratch_path("busy.json"));
        json_object *err = sim_get(o, "error");
        const char *doc = json_object_to_json_string(o);
        cr_assert(json_object_is_type(err, json_type_object), "%s: %s", commands[i], doc);
        cr_expect_str_eq(json_object_get_string(sim_get(err, "id")), "lock.busy", "%s: %s",
                         commands[i], doc);
        char kill_it[32];
        snprintf(kill_it, sizeof kill_it, "kill %d", int_file(scratch_path("holder.pid")));
        cr_expect_str_eq(json_object_get_string(sim_get(err, "fix_command")), kill_it,
                         "%s: %s", commands[i], doc);
        json_object_put(o);
    }
}
