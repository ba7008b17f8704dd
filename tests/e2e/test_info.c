/* espdoctor info through the real binary against the virtual board (espsim). */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e_run.h"

static struct e2e_result r;

/* espsim SIM_ARGS... -- espdoctor info --json; returns the parsed JSON (caller puts). */
static json_object *info_json(const char *const *sim_args, int limit_s)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; sim_args[i]; i++)
        argv[n++] = sim_args[i];
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    argv[n++] = "info";
    argv[n++] = "--json";
    argv[n++] = "--button-wait";   /* a board without auto-reset fails at once */
    argv[n++] = "0";
    argv[n] = NULL;
    e2e_run(&r, argv, limit_s);
    return e2e_json_doc(r.out);
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static void expect_chip(const char *const *sim_args, const char *chip, const char *mac)
{
    json_object *o = info_json(sim_args, 30);
    cr_assert_eq(r.status, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_assert_not_null(o, "no JSON on stdout: %s", r.out);
    cr_assert_str_eq(str(o, "chip"), chip);
    cr_assert_str_eq(str(o, "mac"), mac);
    json_object *flash;
    cr_assert(json_object_object_get_ex(o, "flash", &flash));
    json_object *size;
    cr_assert(json_object_object_get_ex(flash, "size", &size) && size);
    cr_assert_eq(json_object_get_int64(size), 4 * 1024 * 1024);
    json_object_put(o);
}

Test(info, esp32_on_cp2102)
{
    const char *a[] = { "--chip", "esp32", "--mac", "24:0a:c4:aa:bb:01", NULL };
    expect_chip(a, "ESP32", "24:0a:c4:aa:bb:01");
}

Test(info, esp8266_on_cp2102)
{
    const char *a[] = { "--chip", "esp8266", "--mac", "5c:cf:7f:aa:bb:02", NULL };
    expect_chip(a, "ESP8266", "5c:cf:7f:aa:bb:02");
}

Test(info, esp32_on_ch340)
{
    const char *a[] = { "--bridge", "ch340", "--chip", "esp32", "--mac", "24:0a:c4:aa:bb:03", NULL };
    expect_chip(a, "ESP32", "24:0a:c4:aa:bb:03");
}

Test(info, esp8266_on_ftdi)
{
    const char *a[] = { "--bridge", "ftdi", "--chip", "esp8266", "--mac", "5c:cf:7f:aa:bb:04", NULL };
    expect_chip(a, "ESP8266", "5c:cf:7f:aa:bb:04");
}

Test(info, esp32c3_on_usb_jtag)
{
    const char *a[] = { "--bridge", "usb-jtag", "--chip", "esp32c3", "--mac", "34:85:18:aa:bb:05", NULL };
    expect_chip(a, "ESP32-C3", "34:85:18:aa:bb:05");
    json_object *o = e2e_json_doc(r.out);
    cr_assert_str_eq(str(o, "port"), "/dev/ttyACM0");
    json_object_put(o);
}

Test(info, slow_en_needs_the_long_delay)
{
    const char *a[] = { "--en-delay", "200", "--mac", "24:0a:c4:aa:bb:06", NULL };
    expect_chip(a, "ESP32", "24:0a:c4:aa:bb:06");
    json_object *o = e2e_json_doc(r.out), *attempts, *last, *delay;
    cr_assert(json_object_object_get_ex(o, "connect", &attempts));
    size_t n = json_object_array_length(attempts);
    cr_assert_gt(n, 1, "the short delay should have failed first");
    last = json_object_array_get_idx(attempts, n - 1);
    cr_assert(json_object_object_get_ex(last, "delay_ms", &delay));
    cr_assert_eq(json_object_get_int(delay), 550);
    json_object_put(o);
}

Test(info, no_autoreset_fails_with_the_boot_button_advice)
{
    const char *argv[] = { e2e_bin("espsim"), "--no-autoreset", "--", e2e_bin("espdoctor"),
                           "info", "--button-wait", "0", NULL };
    e2e_run(&r, argv, 30);
    cr_assert_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_assert(strstr(r.err, "boot:0x13") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "Hold the BOOT (IO0) button, tap EN (RST), release BOOT") != NULL,
              "%s", r.err);
    cr_assert(strstr(r.err, "classic reset, D=550 ms") != NULL, "attempts listed: %s", r.err);
}

Test(info, no_autoreset_json_names_the_finding)
{
    const char *a[] = { "--no-autoreset", NULL };
    json_object *o = info_json(a, 30), *err;
    cr_assert_eq(r.status, 1);
    cr_assert_not_null(o, "%s", r.out);
    cr_assert(json_object_object_get_ex(o, "error", &err));
    cr_assert_str_eq(str(err, "id"), "reset.no-autoreset");
    json_object_put(o);
}

Test(info, boot_button_held_works_without_autoreset)
{
    const char *a[] = { "--no-autoreset", "--boot-held", "--mac", "24:0a:c4:aa:bb:07", NULL };
    expect_chip(a, "ESP32", "24:0a:c4:aa:bb:07");
}

Test(info, port_that_does_not_exist)
{
    const char *argv[] = { e2e_bin("espdoctor"), "info", "-p", "/dev/ttyUSB77", NULL };
    e2e_run(&r, argv, 10);
    cr_assert_eq(r.status, 4, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "/dev/ttyUSB77 does not exist") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "espdoctor list") != NULL, "%s", r.err);
}

Test(info, path_that_is_not_a_serial_port)
{
    const char *argv[] = { e2e_bin("espdoctor"), "info", "-p", "/dev/null", NULL };
    e2e_run(&r, argv, 10);
    cr_assert_eq(r.status, 4, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "not a serial port") != NULL, "%s", r.err);
}

Test(info, unknown_option_is_a_usage_error)
{
    const char *argv[] = { e2e_bin("espdoctor"), "info", "--frobnicate", NULL };
    e2e_run(&r, argv, 10);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown option '--frobnicate'") != NULL, "%s", r.err);
}

Test(info, no_board_plugged_in)
{
    const char *argv[] = { e2e_bin("espdoctor"), "info", NULL };
    e2e_run(&r, argv, 10);
    cr_assert_eq(r.status, 4, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "no ESP board found") != NULL, "%s", r.err);
}
