/* espsim serving several boards at once (--boards N, --board I:KEY=VALUE,...): each board
 * its own tty, USB port, serial number, MAC and flash file, all reachable at the same time;
 * per-board options reach only their board; option errors are usage errors. The clients
 * are the real espdoctor (list, info) run inside the testbed. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <sys/stat.h>

#include "e2e_run.h"
#include "e2e_dir.h"

#define LIMIT_S 60

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("boards");
}

/* build/espsim ARGS... (NULL-terminated), with "ESPDOCTOR" standing for build/espdoctor. */
static void run_sim(const char *const *args)
{
    const char *argv[48];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = strcmp(args[i], "ESPDOCTOR") == 0 ? e2e_bin("espdoctor") : args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

static const char *port_field(json_object *ports, size_t i, const char *key)
{
    json_object *p = json_object_array_get_idx(ports, i);
    cr_assert_not_null(p, "no port %zu", i);
    return json_object_get_string(get(p, key));
}

Test(espsim_boards, each_board_has_its_own_port_serial_and_usb_place)
{
    run_sim((const char *[]){ "--boards", "3", "--", "ESPDOCTOR", "list", "--json", NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    json_object *doc = e2e_json_doc(r.out);
    cr_assert_not_null(doc, "%s", r.out);
    json_object *ports = get(doc, "ports");
    cr_assert_eq(json_object_array_length(ports), 3, "%s", r.out);
    const char *serials[] = { "0001", "0002", "0003" };
    for (size_t i = 0; i < 3; i++) {
        char node[32], usb[8], by_id[160];
        snprintf(node, sizeof node, "/dev/ttyUSB%zu", i);
        snprintf(usb, sizeof usb, "1-%zu", i + 2);
        snprintf(by_id, sizeof by_id, "/dev/serial/by-id/usb-Silicon_Labs_CP2102_USB_to_UART_"
                 "Bridge_Controller_%s-if00-port0", serials[i]);
        cr_expect_str_eq(port_field(ports, i, "port"), node);
        cr_expect_str_eq(port_field(ports, i, "serial"), serials[i]);
        cr_expect_str_eq(port_field(ports, i, "usb_path"), usb);
        cr_expect_str_eq(port_field(ports, i, "by_id"), by_id);
        cr_expect_str_eq(port_field(ports, i, "driver"), "cp210x");
    }
    json_object_put(doc);
}

Test(espsim_boards, the_nodes_and_links_are_there)
{
    run_sim((const char *[]){ "--boards", "2", "--", "sh", "-c",
                              "stat -c '%t:%T' /dev/ttyUSB0 /dev/ttyUSB1 && "
                              "readlink /dev/serial/by-path/*", NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.out, "bc:0\nbc:1\n"), "major:minor (hex) not 188:0, 188:1:\n%s",
                       r.out);
    cr_expect_not_null(strstr(r.out, "../../ttyUSB0\n../../ttyUSB1\n"), "%s", r.out);
}

/* All boards answer at once, each with its own chip and MAC. */
Test(espsim_boards, every_board_answers_at_the_same_time_with_its_own_mac, .init = make_dir,
     .fini = scratch_remove)
{
    char script[1024];
    snprintf(script, sizeof script,
             "for i in 0 1 2; do %s info --json -p /dev/ttyUSB$i > %s/info$i.json & done; wait",
             e2e_bin("espdoctor"), scratch_dir);
    run_sim((const char *[]){ "--boards", "3", "--board", "2:chip=esp8266", "--", "sh", "-c",
                              script, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    const char *chips[] = { "ESP32", "ESP32", "ESP8266" };
    const char *macs[] = { "24:0a:c4:12:34:56", "24:0a:c4:12:34:57", "5c:cf:7f:12:34:58" };
    for (size_t i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/info%zu.json", scratch_dir, i);
        json_object *o = json_object_from_file(path);
        cr_assert_not_null(o, "board %zu gave no JSON", i);
        cr_expect_str_eq(json_object_get_string(get(o, "chip")), chips[i], "board %zu", i);
        cr_expect_str_eq(json_object_get_string(get(o, "mac")), macs[i], "board %zu", i);
        json_object_put(o);
    }
}

Test(espsim_boards, per_board_files_and_an_explicit_one, .init = make_dir, .fini = scratch_remove)
{
    char base[128], own[128];
    snprintf(base, sizeof base, "%s/flash", scratch_dir);
    snprintf(own, sizeof own, "1:flash=%s/own.bin,flash-size=2MB", scratch_dir);
    run_sim((const char *[]){ "--boards", "3", "--fast", "--flash", base, "--board", own, "--",
                              "true", NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    const char *names[] = { "flash.0", "own.bin", "flash.2" };
    const long sizes[] = { 4 << 20, 2 << 20, 4 << 20 };
    for (size_t i = 0; i < 3; i++) {
        char path[160];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", scratch_dir, names[i]);
        cr_expect_eq(stat(path, &st), 0, "%s is missing", path);
        cr_expect_eq(st.st_size, sizes[i], "%s has %ld bytes", path, (long)st.st_size);
    }
    char path[160];
    struct stat st;
    snprintf(path, sizeof path, "%s/flash.1", scratch_dir);
    cr_expect_neq(stat(path, &st), 0, "board 1 took the shared name as well");
}

Test(espsim_boards, a_mixed_tray_of_bridges)
{
    run_sim((const char *[]){ "--boards", "3", "--board", "1:bridge=ftdi", "--board",
                              "2:bridge=usb-jtag,chip=esp32c3", "--", "ESPDOCTOR", "list",
                              "--json", NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    json_object *doc = e2e_json_doc(r.out);
    cr_assert_not_null(doc, "%s", r.out);
    json_object *ports = get(doc, "ports");
    cr_assert_eq(json_object_array_length(ports), 3, "%s", r.out);
    cr_expect_str_eq(port_field(ports, 1, "usb_id"), "0403:6001");
    cr_expect_str_eq(port_field(ports, 1, "port"), "/dev/ttyUSB1");
    /* The USB-Serial/JTAG's tty counts among the ACM ones, its serial is the chip's MAC. */
    cr_expect_str_eq(port_field(ports, 2, "port"), "/dev/ttyACM0");
    cr_expect_str_eq(port_field(ports, 2, "serial"), "58:CF:79:12:34:58");
    json_object_put(doc);
}

Test(espsim_boards, help_documents_the_options)
{
    run_sim((const char *[]){ "--help", NULL });
    cr_assert_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, "--boards N"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "--board I:KEY"), "%s", r.out);
}

/* ---- usage errors --------------------------------------------------------------------- */

static void expect_usage_error(const char *const *args, const char *words)
{
    run_sim(args);
    cr_expect_eq(r.status, 2, "exit %d for %s\n%s", r.status, args[1], r.err);
    cr_expect_not_null(strstr(r.err, words), "no \"%s\" in:\n%s", words, r.err);
}

Test(espsim_boards, bad_options_are_usage_errors)
{
    expect_usage_error((const char *[]){ "--boards", "0", "--", "true", NULL },
                       "--boards wants a number of boards from 1 to 8");
    expect_usage_error((const char *[]){ "--boards", "9", "--", "true", NULL },
                       "--boards wants a number of boards from 1 to 8");
    expect_usage_error((const char *[]){ "--boards", "2", "--board", "2:chip=esp8266", "--",
                                         "true", NULL },
                       "with I a board from 0 to 1");
    expect_usage_error((const char *[]){ "--boards", "2", "--board", "1:trace=x", "--", "true",
                                         NULL },
                       "--trace is the session's");
    expect_usage_error((const char *[]){ "--boards", "2", "--board", "1:chip=z80", "--", "true",
                                         NULL },
                       "board 1: unknown chip \"z80\"");
    expect_usage_error((const char *[]){ "--boards", "2", "--rfc2217", "0", NULL },
                       "--rfc2217 serves one board");
    expect_usage_error((const char *[]){ "--boards", NULL }, "needs a value");
}

/* A value that is spelled like one of the new options is still its option's value. */
Test(espsim_boards, option_values_are_not_taken_for_options, .init = make_dir,
     .fini = scratch_remove)
{
    char script[PATH_MAX + 256], espsim[PATH_MAX];
    cr_assert_not_null(realpath(e2e_bin("espsim"), espsim));   /* the script changes scratch_dir */
    snprintf(script, sizeof script, "cd %s && %s --trace --boards --fast -- true", scratch_dir, espsim);
    const char *argv[] = { "sh", "-c", script, NULL };
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    char trace[160];
    struct stat st;
    snprintf(trace, sizeof trace, "%s/--boards", scratch_dir);
    cr_expect_eq(stat(trace, &st), 0, "the trace did not go to %s", trace);
}
