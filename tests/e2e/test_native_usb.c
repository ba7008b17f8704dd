/* espdoctor on a chip's own USB port (board/usbdev.c): over USB-Serial/JTAG (303a:1001)
 * its own sequence reaches download mode at once, and nothing else is tried; over
 * USB-OTG the port vanishes when the chip resets and comes back as another device,
 * maybe under another name, and espdoctor finds it again on the same USB port. */
#include "e2e_sim.h"

#define APP_ADDR 0x10000u

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("native_usb");
}

static json_object *attempts_of(json_object *o)
{
    json_object *c = sim_get(o, "connect");
    cr_assert(json_object_is_type(c, json_type_array));
    return c;
}

static void usb_jtag_connects_on_the_first_attempt(const char *chip)
{
    sim_run(&r, (const char *[]){ "--chip", chip, "--bridge", "usb-jtag", "--firmware", "app",
                                  NULL },
            (const char *[]){ "info", "--json", NULL });
    cr_assert_eq(r.status, 0, "%s: info failed (exit %d):\n%s", chip, r.status, r.err);
    json_object *o = sim_json(&r);
    json_object *c = attempts_of(o);
    cr_expect_eq(json_object_array_length(c), 1, "%s: %s", chip, json_object_to_json_string(c));
    json_object *a = json_object_array_get_idx(c, 0);
    cr_expect_str_eq(json_object_get_string(sim_get(a, "sequence")), "usb-jtag");
    cr_expect_str_eq(json_object_get_string(sim_get(a, "result")), "ok");
    cr_expect(strstr(json_object_get_string(sim_get(a, "banner")), "rst:0x15 (USB_UART_"),
              "%s: the banner is not a USB-Serial/JTAG reset: %s", chip,
              json_object_get_string(sim_get(a, "banner")));
    json_object_put(o);
}

Test(native_usb, usb_jtag_c3_first_attempt, .timeout = 180)
{
    usb_jtag_connects_on_the_first_attempt("esp32c3");
}

Test(native_usb, usb_jtag_s3_first_attempt, .timeout = 180)
{
    usb_jtag_connects_on_the_first_attempt("esp32s3");
}

Test(native_usb, usb_jtag_c6_first_attempt, .timeout = 180)
{
    usb_jtag_connects_on_the_first_attempt("esp32c6");
}

/* An ESP32-S3 on its USB-OTG running an app with a TinyUSB CDC port: the reset reboots it
 * into the ROM, whose CDC (303a:0009) comes back on the same USB port. */
static json_object *flash_s3_otg(const char *holder, const char **img, const char **flash)
{
    *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32s3", "--kind", "app",
                       "--size", "64K", NULL });
    *flash = scratch_path("board.flash");
    char script[2048];
    snprintf(script, sizeof script, "%s exec %s flash --json --no-stub -p /dev/ttyACM0 %s",
             holder, e2e_bin("espdoctor"), *img);
    const char *argv[] = { e2e_bin("espsim"), "--chip", "esp32s3", "--bridge", "usb-otg",
                           "--firmware", "app", "--flash", *flash, "--", "sh", "-c", script,
                           NULL };
    e2e_run(&r, argv, (int)(SIM_LIMIT_S * e2e_time_scale()));
    cr_assert_eq(r.status, 0, "flash over USB-OTG failed (exit %d):\n%s\n%s", r.status, r.out,
                 r.err);
    json_object *o = sim_json(&r);
    cr_expect_str_eq(json_object_get_string(sim_get(o, "result")), "ok");
    json_object *region = json_object_array_get_idx(sim_get(o, "regions"), 0);
    cr_assert_not_null(region);
    cr_expect(json_object_get_boolean(sim_get(region, "verified")));
    cr_expect(sim_flash_holds(*flash, *img, APP_ADDR));
    return o;
}

static const char *followed_note(json_object *o)
{
    json_object *notes = sim_get(o, "notes");
    for (size_t i = 0; i < json_object_array_length(notes); i++) {
        const char *n = json_object_get_string(json_object_array_get_idx(notes, i));
        if (strstr(n, "re-enumerated"))
            return n;
    }
    return NULL;
}

Test(native_usb, s3_otg_port_is_followed_through_re_enumeration, .init = make_dir,
     .fini = scratch_remove, .timeout = 180)
{
    const char *img, *flash;
    json_object *o = flash_s3_otg("", &img, &flash);
    const char *note = followed_note(o);
    cr_assert_not_null(note, "no note of the re-enumeration: %s", r.out);
    cr_expect(strstr(note, "(303a:4001, serial 123456) came back as /dev/ttyACM0 (303a:0009"),
              "%s", note);
    cr_expect(strstr(note, "on USB port 1-2"), "%s", note);
    json_object_put(o);
}

Test(native_usb, s3_otg_port_held_open_comes_back_as_ttyacm1, .init = make_dir,
     .fini = scratch_remove, .timeout = 180)
{
    /* Another process keeps the app's ttyACM0 open: the ROM's port gets the next name. */
    const char *img, *flash;
    json_object *o = flash_s3_otg("exec 3</dev/ttyACM0;", &img, &flash);
    const char *note = followed_note(o);
    cr_assert_not_null(note, "no note of the re-enumeration: %s", r.out);
    cr_expect(strstr(note, "came back as /dev/ttyACM1 (303a:0009"), "%s", note);
    cr_expect_str_eq(json_object_get_string(sim_get(o, "port")), "/dev/ttyACM1");
    json_object_put(o);
}

Test(native_usb, an_app_without_usb_leaves_no_port, .timeout = 180)
{
    sim_run(&r, (const char *[]){ "--chip", "esp32s3", "--bridge", "usb-otg", "--firmware",
                                  "app", "--usb-app", "none", NULL },
            (const char *[]){ "list", "--json", NULL });
    json_object *o = sim_json(&r);
    cr_expect_eq(json_object_array_length(sim_get(o, "ports")), 0, "%s", r.out);
    json_object_put(o);
}
