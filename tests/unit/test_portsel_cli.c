/* Port selection through the real binary inside espsim's testbed: -p as VID:PID, as
 * serial=, as a /dev/serial/by-id link, and from $ESPDOCTOR_PORT; and what the user hears
 * when nothing matches. (The numbered choice between several boards is covered by
 * test_portsel: espsim has one board.) */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e/e2e_run.h"

static struct e2e_result r;

/* espsim [bridge args] -- espdoctor info [--json] -p PORT */
static void info(const char *bridge, const char *port, bool json)
{
    const char *argv[16];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--fast";
    if (bridge) {
        argv[n++] = "--bridge";
        argv[n++] = bridge;
    }
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    argv[n++] = "info";
    if (json)
        argv[n++] = "--json";
    if (port) {
        argv[n++] = "-p";
        argv[n++] = port;
    }
    argv[n] = NULL;
    e2e_run(&r, argv, 30);
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

/* Identified on /dev/ttyUSB0 with the bridge's USB id known. */
static void expect_found(const char *usb_id)
{
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = json_tokener_parse(r.out), *bridge;
    cr_assert_not_null(o, "%s", r.out);
    cr_assert_str_eq(str(o, "port"), "/dev/ttyUSB0");
    cr_assert_str_eq(str(o, "chip"), "ESP32");
    cr_assert(json_object_object_get_ex(o, "bridge", &bridge) && bridge, "%s", r.out);
    cr_assert_str_eq(str(bridge, "usb_id"), usb_id);
    json_object_put(o);
}

Test(portsel_cli, vid_pid_picks_the_matching_board)
{
    info(NULL, "10c4:ea60", true);
    expect_found("10c4:ea60");
    info("ch340", "1A86:7523", true);
    expect_found("1a86:7523");
}

Test(portsel_cli, serial_number_picks_the_matching_board)
{
    info("ftdi", "serial=A50285BI", true);
    expect_found("0403:6001");
}

Test(portsel_cli, by_id_link_is_a_known_port)
{
    info(NULL, "/dev/serial/by-id/usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_"
               "0001-if00-port0", true);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = json_tokener_parse(r.out), *bridge;
    cr_assert_not_null(o);
    cr_assert(json_object_object_get_ex(o, "bridge", &bridge) && bridge,
              "the link was looked up: %s", r.out);
    cr_assert_str_eq(str(bridge, "serial"), "0001");
    json_object_put(o);
}

Test(portsel_cli, espdoctor_port_from_the_environment)
{
    cr_assert_eq(setenv("ESPDOCTOR_PORT", "serial=0001", 1), 0);
    info(NULL, NULL, true);
    unsetenv("ESPDOCTOR_PORT");
    expect_found("10c4:ea60");
}

Test(portsel_cli, no_match_lists_what_is_there)
{
    info("ch340", "10c4:ea60", false);
    cr_assert_eq(r.status, 4, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "no connected port matches 10c4:ea60; these are here:") != NULL,
              "%s", r.err);
    cr_assert(strstr(r.err, "-p /dev/ttyUSB0") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "1a86:7523 CH340") != NULL, "%s", r.err);

    info(NULL, "serial=0002", false);
    cr_assert_eq(r.status, 4, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "serial 0001") != NULL, "the serial that is there: %s", r.err);
}

Test(portsel_cli, an_empty_serial_is_a_usage_error)
{
    info(NULL, "serial=", false);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "'serial=' needs the USB serial number") != NULL, "%s", r.err);
}
