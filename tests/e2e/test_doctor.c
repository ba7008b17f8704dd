/* espdoctor [doctor] end to end, the board itself: a healthy MicroPython board, other
 * firmware, blank and crashing flash, brown-out, boards without auto-reset or with a slow
 * EN, other chips and bridges, and a serial device that is no ESP at all. Each scenario
 * runs through the real binaries (espsim, espdoctor), for people and with --json. */
#include "doctor_e2e.h"

/* `espdoctor doctor` here; every other scenario runs plain `espdoctor` (the default). */
Test(doctor_board, healthy_micropython_board_is_ready)
{
    struct doctor_run run = { .sim = LIST("--firmware", "micropython"), .args = LIST("doctor") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("healthy micropython", &run, &want);
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    json_object *mp = doctor_expect_finding(doc, "firmware.micropython", "ok");
    cr_expect(strstr(doctor_str(mp, "evidence"), "MicroPython v1.24.0") != NULL);
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP32");
    cr_assert_str_eq(doctor_verdict(doc, "micropython"), "v1.24.0");
    cr_assert_str_eq(doctor_verdict(doc, "port"), "/dev/ttyUSB0");
    char warnings[512], errors[512];
    doctor_ids_of(doc, "warn", warnings, sizeof warnings);
    doctor_ids_of(doc, "error", errors, sizeof errors);
    cr_expect_str_eq(warnings, "", "a healthy board has nothing to warn about");
    cr_expect_str_eq(errors, "");
    json_object *ports = doctor_get(doc, "ports");
    cr_assert_eq(json_object_array_length(ports), 1);
    json_object *port = json_object_array_get_idx(ports, 0);
    cr_expect_str_eq(doctor_str(port, "port"), "/dev/ttyUSB0");
    cr_expect_str_eq(doctor_str(port, "usb_id"), "10c4:ea60");
    cr_expect_str_eq(doctor_str(port, "driver"), "cp210x");
    json_object_put(doc);
    const char *text = doctor_flat(doctor_text.out);
    cr_expect(strstr(text, "Ready: ESP32 on /dev/ttyUSB0") != NULL, "%s", doctor_text.out);
    cr_expect(strstr(text, "MicroPython v1.24.0 is installed") != NULL, "%s", doctor_text.out);
}

Test(doctor_board, app_firmware_is_ready_but_has_no_micropython)
{
    struct doctor_run run = { .sim = LIST("--firmware", "app") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("app firmware", &run, &want);
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    json_object *none = doctor_expect_finding(doc, "firmware.none", "warn");
    const char *fix = doctor_str(none, "fix"), *command = doctor_str(none, "fix_command");
    cr_assert_not_null(fix);
    cr_expect(strstr(fix, "micropython.org/download/ESP32_GENERIC") != NULL, "%s", fix);
    cr_expect_str_eq(command, "espdoctor -p /dev/ttyUSB0 flash ESP32_GENERIC-*.bin");
    /* The app named itself: one quick Ctrl-C, and the evidence says which app it is. */
    cr_expect(strstr(doctor_str(none, "evidence"), "espsim-app") != NULL, "%s",
              doctor_str(none, "evidence"));
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP32");
    cr_assert_null(doctor_verdict(doc, "micropython"));
    json_object_put(doc);
    cr_expect(strstr(doctor_text.out, "micropython.org/download/ESP32_GENERIC") != NULL, "%s",
              doctor_text.out);
    cr_expect(strstr(doctor_flat(doctor_text.out), "no MicroPython on it yet") != NULL, "%s",
              doctor_text.out);
}

/* Erased flash is not a crash: the board holds nothing yet, and flashing is the fix. */
Test(doctor_board, blank_flash_holds_no_firmware)
{
    struct doctor_run run = { .sim = LIST("--firmware", "blank") };
    struct doctor_want want = { .exit = 7, .problem = "firmware.blank",
                                .fix_names = LIST("micropython.org/download/ESP32_GENERIC",
                                                  "espdoctor -p /dev/ttyUSB0 flash "
                                                  "ESP32_GENERIC-*.bin") };
    json_object *doc = doctor_check("blank flash", &run, &want);
    json_object *blank = doctor_finding(doc, "firmware.blank");
    cr_expect(strstr(doctor_str(blank, "evidence"), "invalid header: 0xffffffff") != NULL,
              "%s", doctor_str(blank, "evidence"));
    cr_expect_null(doctor_finding(doc, "boot.crash-loop"), "erased flash is no crash loop");
    cr_expect(strstr(doctor_text.out, "crashes") == NULL, "%s", doctor_text.out);
    /* The bootloader is still reachable: the chip is known, so is its download. */
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP32");
    json_object_put(doc);
}

Test(doctor_board, crashing_firmware_is_a_crash_loop)
{
    struct doctor_run run = { .sim = LIST("--firmware", "crash") };
    struct doctor_want want = { .exit = 7, .problem = "boot.crash-loop",
                                .fix_names = LIST("flash ESP32_GENERIC-*.bin") };
    json_object *doc = doctor_check("crash loop", &run, &want);
    json_object *loop = doctor_finding(doc, "boot.crash-loop");
    cr_expect(strstr(doctor_str(loop, "evidence"), "Guru Meditation") != NULL, "%s",
              doctor_str(loop, "evidence"));
    json_object_put(doc);
}

Test(doctor_board, brownout_is_named_before_the_loop_it_causes)
{
    struct doctor_run run = { .sim = LIST("--firmware", "brownout") };
    struct doctor_want want = { .exit = 7, .problem = "boot.brownout",
                                .fix_names = LIST("USB cable", "powered hub", "3.3 V") };
    json_object *doc = doctor_check("brown-out", &run, &want);
    json_object *b = doctor_finding(doc, "boot.brownout");
    cr_expect(strstr(doctor_str(b, "evidence"), "Brownout detector was triggered") != NULL, "%s",
              doctor_str(b, "evidence"));
    json_object_put(doc);
}

Test(doctor_board, no_autoreset_with_running_app)
{
    struct doctor_run run = { .sim = LIST("--no-autoreset", "--firmware", "app"),
                              .args = LIST("--button-wait", "0") };
    struct doctor_want want = { .exit = 7, .problem = "reset.no-autoreset",
                                .fix_names = LIST("BOOT (IO0)", "EN (RST)") };
    json_object *doc = doctor_check("no auto-reset, app", &run, &want);
    cr_assert_null(doctor_verdict(doc, "chip"));
    json_object_put(doc);
}

/* The blank flash is there whether or not the reset reaches the chip: flashing fixes that,
 * and flashing needs download mode, so the missing auto-reset is the problem to fix first. */
Test(doctor_board, no_autoreset_with_blank_flash)
{
    struct doctor_run run = { .sim = LIST("--no-autoreset", "--firmware", "blank"),
                              .args = LIST("--button-wait", "0") };
    struct doctor_want want = { .exit = 7, .problem = "reset.no-autoreset",
                                .fix_names = LIST("BOOT (IO0)", "EN (RST)") };
    json_object *doc = doctor_check("no auto-reset, blank", &run, &want);
    doctor_expect_finding(doc, "firmware.blank", "error");   /* still reported, second */
    cr_assert_null(doctor_verdict(doc, "chip"));
    json_object_put(doc);
}

Test(doctor_board, slow_en_is_a_warning_and_the_board_is_ready)
{
    struct doctor_run run = { .sim = LIST("--en-delay", "300", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("slow EN", &run, &want);
    json_object *slow = doctor_expect_finding(doc, "reset.slow-en", "warn");
    cr_expect(strstr(doctor_str(slow, "evidence"), "550 ms") != NULL, "%s",
              doctor_str(slow, "evidence"));
    cr_expect_not_null(doctor_str(slow, "fix"));
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    /* The chip does print after a reset, 300 ms late: nothing else is wrong. */
    char warnings[512];
    doctor_ids_of(doc, "warn", warnings, sizeof warnings);
    cr_expect_str_eq(warnings, "reset.slow-en");
    cr_assert_str_eq(doctor_verdict(doc, "micropython"), "v1.24.0");
    json_object_put(doc);
}

Test(doctor_board, esp8266_micropython_board)
{
    struct doctor_run run = { .sim = LIST("--chip", "esp8266", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("ESP8266", &run, &want);
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP8266");
    cr_assert_str_eq(doctor_verdict(doc, "micropython"), "v1.24.0");
    json_object_put(doc);
}

Test(doctor_board, usb_serial_jtag_esp32c3)
{
    struct doctor_run run = { .sim = LIST("--bridge", "usb-jtag", "--firmware", "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("USB-Serial/JTAG", &run, &want);
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP32-C3");
    cr_assert_str_eq(doctor_verdict(doc, "port"), "/dev/ttyACM0");
    json_object *port = json_object_array_get_idx(doctor_get(doc, "ports"), 0);
    cr_assert_not_null(port);
    cr_expect_str_eq(doctor_str(port, "usb_id"), "303a:1001");
    cr_expect_str_eq(doctor_str(port, "driver"), "cdc_acm");
    json_object_put(doc);
}

Test(doctor_board, not_an_esp_is_unreachable_and_talks_at_another_baud)
{
    struct doctor_run run = { .sim = LIST("--chip", "none") };
    struct doctor_want want = { .exit = 7, .problem = "bootloader.unreached",
                                .fix_names = LIST("baud") };
    json_object *doc = doctor_check("not an ESP", &run, &want);
    json_object *unreached = doctor_finding(doc, "bootloader.unreached");
    cr_expect(strstr(doctor_str(unreached, "evidence"), "not an ESP") != NULL, "%s",
              doctor_str(unreached, "evidence"));
    doctor_expect_finding(doc, "boot.wrong-baud", "warn");
    cr_assert_null(doctor_verdict(doc, "chip"));
    cr_assert_null(doctor_finding(doc, "bootloader.ok"));
    json_object_put(doc);
}
