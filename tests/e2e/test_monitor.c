/* `espdoctor monitor` for scripts and IDEs (no terminal on stdin), under espsim: the
 * line copied to stdout with decoded notes on marked lines of their own, or one JSON
 * event per line; --log holds exactly the board's bytes; --eol; Ctrl-]; the ends
 * (--timeout, end of input, the port vanishing for good) and their exit statuses; a port
 * that vanishes and comes back; flash --monitor. The terminal side is test_monitor_pty.c.
 * Every wait is bounded by the helpers (e2e_run, e2e_proc_*), not by Criterion's
 * .timeout: under ASan, Criterion 2.4 leaks a timer when a timed test overlaps a long one
 * in another job, and LeakSanitizer then fails the whole binary. */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e_dir.h"
#include "e2e_proc.h"

static struct e2e_result r;
static struct e2e_proc p;

static void make_dir(void)
{
    scratch_make("monitor");
}

TestSuite(monitor, .init = make_dir, .fini = scratch_remove);

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *at = text; (at = strstr(at, needle)) != NULL; at += strlen(needle))
        n++;
    return n;
}

/* The JSON events of a --json run, in order (every line must be one). */
struct events {
    json_object *all;
    char data[E2E_OUT_MAX];   /* the "data" events' text, joined */
};

static struct events ev;

static void parse_events(const char *out)
{
    ev.all = json_object_new_array();
    ev.data[0] = '\0';
    size_t data_len = 0;
    for (const char *line = out; *line;) {
        const char *nl = strchr(line, '\n');
        cr_assert_not_null(nl, "a last line without its end: %s", line);
        char *text = strndup(line, (size_t)(nl - line));
        json_object *e = json_tokener_parse(text);
        cr_assert(e && json_object_is_type(e, json_type_object), "not a JSON object: %s", text);
        json_object *v;
        cr_assert(json_object_object_get_ex(e, "event", &v), "no event key: %s", text);
        if (strcmp(json_object_get_string(v), "data") == 0) {
            cr_assert(json_object_object_get_ex(e, "text", &v));
            size_t n = (size_t)json_object_get_string_len(v);
            cr_assert_lt(data_len + n, sizeof ev.data);
            memcpy(ev.data + data_len, json_object_get_string(v), n);
            ev.data[data_len += n] = '\0';
        }
        json_object_array_add(ev.all, e);
        free(text);
        line = nl + 1;
    }
    cr_assert_gt(json_object_array_length(ev.all), 0, "no events at all");
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

static const char *str(json_object *o, const char *key)
{
    return json_object_get_string(get(o, key));
}

/* The n-th event named name (and, when kind is given, of that kind), or NULL. */
static json_object *event(const char *name, const char *kind, size_t n)
{
    for (size_t i = 0; i < json_object_array_length(ev.all); i++) {
        json_object *e = json_object_array_get_idx(ev.all, i);
        if (strcmp(str(e, "event"), name) != 0)
            continue;
        if (kind && strcmp(str(e, "kind"), kind) != 0)
            continue;
        if (n-- == 0)
            return e;
    }
    return NULL;
}

static json_object *last_event(void)
{
    return json_object_array_get_idx(ev.all, json_object_array_length(ev.all) - 1);
}

/* ---- a crash loop, decoded inline --------------------------------------------------- */

static void monitor_crash(const char *mode, const char *log)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "crash", "--",
                           e2e_bin("espdoctor"), "monitor", "--reset", "--timeout", "3",
                           mode ? mode : "--no-color", log ? "--log" : NULL, log, NULL };
    e2e_run(&r, argv, 60);
}

Test(monitor, a_crash_loop_is_decoded_inline_once_while_it_goes_on)
{
    monitor_crash(NULL, NULL);
    cr_assert_eq(r.status, 0, "a timeout is a normal end: %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_geq(count(r.out, "Guru Meditation Error: Core  0 panic'ed"), 2,
                  "the board did not loop:\n%s", r.out);
    static const char *const notes[] = {
        "\n--- reset 0x1 (POWERON_RESET): power-on",
        "\n--- crash: Guru Meditation on core 0 (LoadProhibited)",
        "\n--- backtrace 0x400d2f27 0x400d3a49 0x40088e5d; for source lines: addr2line",
        "\n--- reset 0xc (SW_CPU_RESET): software restart",
        "\n--- crash loop: the firmware crashes at every start",
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
        cr_assert_eq(count(r.out, notes[i]), 1, "%s: not once in\n%s", notes[i], r.out);
    /* Each note right after the line it decodes. */
    cr_assert(strstr(r.out, "Exception was unhandled.\r\n--- crash: "), "%s", r.out);
    cr_assert(strstr(r.out, "0x40088e5d:0x3ffb22a0\r\n--- backtrace "), "%s", r.out);
    cr_assert(strstr(r.err, "--- the time is up (--timeout)"), "%s", r.err);
    cr_assert_null(strchr(r.out, '\033'), "colour on a pipe:\n%s", r.out);
}

Test(monitor, json_events_for_a_crash_loop)
{
    monitor_crash("--json", NULL);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    parse_events(r.out);
    json_object *first = json_object_array_get_idx(ev.all, 0), *end = last_event();
    cr_assert_str_eq(str(first, "event"), "start");
    cr_assert_str_eq(str(first, "port"), "/dev/ttyUSB0");
    cr_assert_eq(json_object_get_int(get(first, "baud")), 115200);
    cr_assert_str_eq(str(get(first, "bridge"), "usb_id"), "10c4:ea60");
    cr_assert(json_object_get_boolean(get(first, "reset")));
    cr_assert_str_eq(str(end, "event"), "end");
    cr_assert_str_eq(str(end, "reason"), "timeout");
    cr_assert_eq(json_object_get_int(get(end, "exit_status")), 0);
    cr_assert_null(get(end, "error"));
    double seconds = json_object_get_double(get(end, "seconds"));
    cr_assert(seconds >= 3.0 && seconds < 3.0 + 2.0 * e2e_time_scale(), "%f s", seconds);
    cr_assert_gt(json_object_get_int64(get(end, "bytes_in")), 1000);
    cr_assert_eq(json_object_get_int64(get(end, "bytes_out")), 0);

    json_object *crash = event("note", "crash", 0), *bt = event("note", "backtrace", 0);
    cr_assert(crash && bt, "%s", r.out);
    cr_assert_null(event("note", "crash", 1), "a repeat was not kept quiet:\n%s", r.out);
    cr_assert_str_eq(str(crash, "reason"), "LoadProhibited");
    cr_assert_eq(json_object_get_int(get(crash, "core")), 0);
    cr_assert_str_eq(str(crash, "level"), "error");
    json_object *addrs = get(bt, "addresses");
    cr_assert_eq(json_object_array_length(addrs), 3);
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(addrs, 0)), "0x400d2f27");
    /* The reset after a crash (the loop may already run when the port opens: the
     * monitor's own reset is then not the first one seen). */
    json_object *rst = NULL;
    for (size_t i = 0; (rst = event("note", "reset", i)) != NULL; i++)
        if (strcmp(str(rst, "cause_name"), "SW_CPU_RESET") == 0)
            break;
    cr_assert_not_null(rst, "no SW_CPU_RESET note:\n%s", r.out);
    cr_assert_eq(json_object_get_int(get(rst, "cause")), 12);
    cr_assert_str_eq(str(rst, "boot_mode"), "flash");
    json_object *loop = event("note", "boot-loop", 0);
    cr_assert_not_null(loop, "%s", r.out);
    cr_assert_str_eq(str(loop, "after"), "crash");
    cr_assert(strstr(ev.data, "Guru Meditation Error"), "%s", ev.data);
    json_object_put(ev.all);
}

/* ---- the log ------------------------------------------------------------------------ */

/* stdout without the note lines: what the board sent. */
static void without_notes(const char *out, char *raw, size_t cap)
{
    size_t n = 0;
    bool line_start = true;
    for (const char *c = out; *c;) {
        if (line_start && strncmp(c, "--- ", 4) == 0) {
            const char *nl = strchr(c, '\n');
            c = nl ? nl + 1 : c + strlen(c);
            continue;
        }
        cr_assert_lt(n + 1, cap);
        raw[n++] = *c;
        line_start = *c == '\n';
        c++;
    }
    raw[n] = '\0';
}

Test(monitor, the_log_holds_the_boards_bytes_and_nothing_else)
{
    const char *log = scratch_path("board.log");
    FILE *f = fopen(log, "w");
    cr_assert_not_null(f);
    fputs("an earlier session\n", f);
    fclose(f);
    monitor_crash(NULL, log);
    cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
    static char logged[E2E_OUT_MAX], raw[E2E_OUT_MAX];
    f = fopen(log, "rb");
    cr_assert_not_null(f);
    size_t n = fread(logged, 1, sizeof logged - 1, f);
    fclose(f);
    logged[n] = '\0';
    cr_assert_eq(strncmp(logged, "an earlier session\n", 19), 0, "the log was not appended to");
    without_notes(r.out, raw, sizeof raw);
    cr_assert_str_eq(logged + 19, raw, "the log is not the board's stream");
    cr_assert_gt(strlen(raw), 1000);
    cr_assert_null(strstr(logged, "--- "), "a note in the log");
    cr_assert(strstr(r.out, "\n--- crash: "), "no notes on stdout:\n%s", r.out);
}

Test(monitor, a_log_that_cannot_be_written_starts_nothing)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--",
                           e2e_bin("espdoctor"), "monitor", "--timeout", "1", "--log",
                           "/nonexistent-dir/board.log", NULL };
    e2e_run(&r, argv, 30);
    cr_assert_eq(r.status, 6, "%d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "cannot open the log file /nonexistent-dir/board.log"), "%s", r.err);
    cr_assert_null(strstr(r.err, "Monitoring"), "%s", r.err);
    cr_assert_str_eq(r.out, "");
}

/* ---- what is typed: --eol, Ctrl-], end of input --------------------------------------- */

/* Type `typed` into a --json monitor once MicroPython's REPL waits (the board reset
 * first: keys that come while it boots are lost, as on a real board), then end the
 * input. Returns the data that came after the typing began. */
static const char *type_into_repl(const char *eol, const char *typed, size_t len)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--",
                           e2e_bin("espdoctor"), "monitor", "--json", "--reset",
                           eol ? "--eol" : NULL, eol, NULL };
    cr_assert(e2e_proc_start(&p, argv, false, NULL));
    cr_assert(e2e_proc_wait_for(&p, "\"kind\": \"repl-prompt\"", 20, 0), "no prompt:\n%s\n%s",
              p.out_text, p.err_text);
    cr_assert(e2e_proc_wait_for(&p, "\"text\": \">>> \"", 5, 0), "%s", p.out_text);
    e2e_proc_write(&p, typed, len);
    e2e_proc_close_input(&p);
    int status = e2e_proc_finish(&p, 40);
    cr_assert_eq(status, 0, "status %d\n%s\n%s", status, p.out_text, p.err_text);
    parse_events(p.out_text);
    const char *echo = strstr(ev.data, "print(1+1)");
    cr_assert_not_null(echo, "the typed line did not come back:\n%s", ev.data);
    return echo;
}

Test(monitor, enter_as_cr_runs_the_line_and_the_end_of_input_ends_it)
{
    const char *after = type_into_repl(NULL, "print(1+1)\n", 11);
    cr_assert_eq(strncmp(after, "print(1+1)\r\n2\r\n>>> ", 20), 0, "%s", after);
    json_object *end = last_event();
    cr_assert_str_eq(str(end, "reason"), "end-of-input");
    cr_assert_eq(json_object_get_int64(get(end, "bytes_out")), 11);
    json_object_put(ev.all);
}

Test(monitor, eol_lf_sends_lf_which_the_repl_does_not_run)
{
    const char *after = type_into_repl("LF", "print(1+1)\r", 11);
    cr_assert_null(strstr(after, ">>> "), "the REPL ran a line ended by LF:\n%s", after);
    cr_assert_eq(json_object_get_int64(get(last_event(), "bytes_out")), 11);
    json_object_put(ev.all);
}

Test(monitor, eol_crlf_sends_both)
{
    const char *after = type_into_repl("crlf", "print(1+1)\n", 11);
    cr_assert_eq(strncmp(after, "print(1+1)\r\n2\r\n>>> ", 20), 0, "%s", after);
    cr_assert_eq(json_object_get_int64(get(last_event(), "bytes_out")), 12);
    json_object_put(ev.all);
}

Test(monitor, ctrl_close_bracket_leaves_at_once)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--",
                           e2e_bin("espdoctor"), "monitor", "--json", "--timeout", "30", NULL };
    cr_assert(e2e_proc_start(&p, argv, false, NULL));
    e2e_proc_write(&p, "ab\x1d" "cd\r", 6);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(e2e_proc_finish(&p, 25), 0, "%s\n%s", p.out_text, p.err_text);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 15 * e2e_time_scale(), "it waited for the timeout");
    parse_events(p.out_text);
    cr_assert_str_eq(str(last_event(), "reason"), "quit");
    cr_assert_eq(json_object_get_int64(get(last_event(), "bytes_out")), 2, "what follows "
                 "Ctrl-] must not be sent");
    json_object_put(ev.all);
}

Test(monitor, a_signal_ends_it_with_130)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--",
                           e2e_bin("espdoctor"), "monitor", "--json", "--timeout", "60", NULL };
    cr_assert(e2e_proc_start(&p, argv, false, NULL));
    cr_assert(e2e_proc_wait_for(&p, "\"event\": \"start\"", 20, 0), "%s", p.err_text);
    kill(p.pid, SIGINT);   /* espsim hands it on to the monitor */
    cr_assert_eq(e2e_proc_finish(&p, 20), 130, "%s\n%s", p.out_text, p.err_text);
    parse_events(p.out_text);
    cr_assert_str_eq(str(last_event(), "reason"), "interrupted");
    cr_assert_eq(json_object_get_int(get(last_event(), "exit_status")), 130);
    json_object_put(ev.all);
}

/* ---- a port that vanishes ------------------------------------------------------------ */

Test(monitor, a_port_that_vanishes_and_comes_back_is_followed)
{
    /* The cable goes after the host's 5th byte and is back 1 s later (same name: the
     * other name of a re-enumeration is espsim's to come; monitor_follow is tested for it). */
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--unplug-at",
                           "5:1000", "--", e2e_bin("espdoctor"), "monitor", "--json",
                           "--timeout", "15", NULL };
    cr_assert(e2e_proc_start(&p, argv, false, NULL));
    e2e_proc_write(&p, "print(1+1)\r", 11);
    cr_assert(e2e_proc_wait_for(&p, "\"state\": \"back\"", 20, 0), "not followed:\n%s\n%s",
              p.out_text, p.err_text);
    size_t mark = p.out_len;
    /* Its banner may come before the port is open again (so on a real board): Enter
     * until the REPL answers, which is noted as a fresh prompt. */
    bool prompted = false;
    for (int i = 0; i < 10 && !prompted; i++) {
        e2e_proc_write(&p, "\r", 1);
        prompted = e2e_proc_wait_for(&p, "\"kind\": \"repl-prompt\"", 1, mark);
    }
    cr_assert(prompted, "no prompt after the return:\n%s", p.out_text + mark);
    e2e_proc_write(&p, "x=1\r", 4);
    cr_assert(e2e_proc_wait_for(&p, "x=1", 10, mark), "typing after the return:\n%s",
              p.out_text + mark);
    e2e_proc_close_input(&p);
    cr_assert_eq(e2e_proc_finish(&p, 40), 0, "%s\n%s", p.out_text, p.err_text);
    parse_events(p.out_text);
    json_object *lost = event("reconnect", NULL, 0), *back = event("reconnect", NULL, 1);
    cr_assert(lost && back, "%s", p.out_text);
    cr_assert_str_eq(str(lost, "state"), "lost");
    cr_assert_str_eq(str(lost, "serial"), "0001");
    cr_assert_str_eq(str(lost, "usb_path"), "1-2");
    cr_assert_str_eq(str(back, "state"), "back");
    cr_assert_str_eq(str(back, "port"), "/dev/ttyUSB0");
    cr_assert_str_eq(str(back, "was"), "/dev/ttyUSB0");
    int64_t waited = json_object_get_int64(get(back, "waited_ms"));
    cr_assert(waited >= 900 && waited < 8000 * e2e_time_scale(), "waited %lld ms",
              (long long)waited);
    json_object *end = last_event();
    cr_assert_str_eq(str(end, "reason"), "timeout");
    cr_assert_eq(json_object_get_int(get(end, "reconnects")), 1);
    json_object_put(ev.all);
}

Test(monitor, a_port_gone_for_good_is_a_failure)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--unplug-at",
                           "5:0", "--", e2e_bin("espdoctor"), "monitor", "--json", NULL };
    cr_assert(e2e_proc_start(&p, argv, false, NULL));
    e2e_proc_write(&p, "print(1+1)\r", 11);
    cr_assert_eq(e2e_proc_finish(&p, 60), 1, "%s\n%s", p.out_text, p.err_text);
    parse_events(p.out_text);
    json_object *end = last_event();
    cr_assert_str_eq(str(end, "reason"), "port-gone");
    cr_assert_eq(json_object_get_int(get(end, "exit_status")), 1);
    cr_assert_str_eq(str(get(end, "error"), "id"), "port.vanished");
    cr_assert(strstr(str(get(end, "error"), "message"), "did not come back within 10 s"));
    double seconds = json_object_get_double(get(end, "seconds"));
    cr_assert(seconds >= 10.0 && seconds < 10.0 + 5.0 * e2e_time_scale(), "%f s", seconds);
    json_object_put(ev.all);
}

Test(monitor, gone_for_good_says_so_in_words)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--unplug-at",
                           "5:0", "--", e2e_bin("espdoctor"), "monitor", NULL };
    cr_assert(e2e_proc_start(&p, argv, false, NULL));
    e2e_proc_write(&p, "print(1+1)\r", 11);
    cr_assert_eq(e2e_proc_finish(&p, 60), 1, "%s\n%s", p.out_text, p.err_text);
    cr_assert(strstr(p.err_text, "--- /dev/ttyUSB0 vanished; waiting up to 10 s for the board "
                                 "to come back (USB serial 0001 on USB port 1-2, under any "
                                 "name)"), "%s", p.err_text);
    cr_assert(strstr(p.err_text, "espdoctor: /dev/ttyUSB0 vanished and did not come back "
                                 "within 10 s"), "%s", p.err_text);
}

Test(monitor, a_port_pulled_before_it_is_opened)
{
    const char *argv[] = { e2e_bin("espsim"), "--firmware", "micropython", "--unplug-at",
                           "0:0", "--", e2e_bin("espdoctor"), "monitor", NULL };
    e2e_run(&r, argv, 30);
    cr_assert_eq(r.status, 4, "%d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "/dev/ttyUSB0 does not exist"), "%s", r.err);
}

/* ---- flash --monitor and the options --------------------------------------------------- */

Test(monitor, flash_then_monitor)
{
    const char *img = scratch_path("mp.bin"), *flash = scratch_path("flash.bin");
    const char *mk[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "merged", "--size",
                         "96K", "--micropython", "v1.24.0", "-o", img, NULL };
    e2e_run(&r, mk, 60);
    cr_assert_eq(r.status, 0, "mkimage: %s", r.err);
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--flash", flash, "--",
                           e2e_bin("espdoctor"), "flash", "--no-stub", "--no-color",
                           "--monitor", "--timeout", "3", img, NULL };
    e2e_run(&r, argv, 150);
    cr_assert_eq(r.status, 0, "%d\n%s\n%s", r.status, r.out, r.err);
    const char *verified = strstr(r.out, "MD5 verified");
    cr_assert_not_null(verified, "%s", r.out);
    const char *banner = strstr(verified, "\n--- MicroPython v1.24.0");
    cr_assert_not_null(banner, "no monitor after the flash:\n%s", r.out);
    cr_assert(strstr(banner, "\n--- reset 0x1 (POWERON_RESET)") ||
              strstr(verified, "\n--- reset 0x1 (POWERON_RESET)"), "%s", r.out);
    cr_assert(strstr(r.err, "--- Monitoring /dev/ttyUSB0 at 115200 baud"), "%s", r.err);
}

static void expect_usage(const char *const *argv, const char *words)
{
    e2e_run(&r, argv, 20);
    cr_assert_eq(r.status, 2, "%s: %d\n%s", argv[1], r.status, r.err);
    cr_assert(strstr(r.err, words), "wanted '%s' in:\n%s", words, r.err);
}

Test(monitor, wrong_options_are_usage_errors)
{
    const char *d = e2e_bin("espdoctor");
    expect_usage((const char *[]){ d, "monitor", "--eol", "LFCR", NULL }, "CR, LF or CRLF");
    expect_usage((const char *[]){ d, "monitor", "--timeout", "0", NULL }, "above 0");
    expect_usage((const char *[]){ d, "monitor", "--timeout", "-3", NULL }, "above 0");
    expect_usage((const char *[]){ d, "monitor", "--timeout", "2s", NULL }, "seconds");
    expect_usage((const char *[]){ d, "monitor", "extra", NULL }, "takes no arguments");
    expect_usage((const char *[]){ d, "flash", "--log", "x.log", "fw.bin", NULL },
                 "needs --monitor");
    expect_usage((const char *[]){ d, "flash", "--all", "--monitor", "fw.bin", NULL },
                 "cannot follow --all");
    expect_usage((const char *[]){ d, "info", "--reset", NULL }, "does not apply to 'info'");
    expect_usage((const char *[]){ d, "monitor", "--monitor", NULL },
                 "does not apply to 'monitor'");
}
