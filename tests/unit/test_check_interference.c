/* Interference family: brltty's udev rules (both match styles, masking, precedence) and
 * its process; ModemManager without ID_MM_DEVICE_IGNORE. Planted system root. */
#include "test_check_util.h"

#define BRLTTY_RULES "/usr/lib/udev/rules.d/85-brltty.rules"

/* Shaped like brltty's generated rules: comments, a GOTO per device id. */
static const char brltty_rules[] =
    "# udev rules for BRLTTY\n"
    "ACTION!=\"add\", GOTO=\"brltty_end\"\n"
    "\n"
    "# Device: 0403:6001\n"
    "# ENV{PRODUCT}==\"10c4/ea60/*\", GOTO=\"brltty_usb_run\"\n"
    "ENV{PRODUCT}==\"403/6001/*\", ENV{BRLTTY_BRAILLE_DRIVER}=\"at\", GOTO=\"brltty_usb_run\"\n"
    "\n"
    "# Device: 1A86:7523\n"
    "# Baum [NLS eReader Zoomax (20 cells)]\n"
    "ENV{PRODUCT}==\"1a86/7523/*\", ENV{BRLTTY_BRAILLE_DRIVER}=\"bm\", GOTO=\"brltty_usb_run\"\n"
    "LABEL=\"brltty_end\"\n";

TestSuite(check_interference, .init = planted_root_make, .fini = planted_root_remove);

static void ch340(struct ed_doctor *d)
{
    doctor_planted(d);
    target_usb(d, "1-1.4", 0x1a86, 0x7523, "ch341", "/dev/ttyUSB0");
}

Test(check_interference, brltty_rule_for_the_ch340_is_an_error_naming_file_line_and_pid)
{
    struct ed_doctor d;
    ch340(&d);
    plant(BRLTTY_RULES, brltty_rules);
    plant_process(777, "brltty", NULL);
    plant_process(1, "systemd", NULL);
    cr_assert(ed_check_interference(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "interference.brltty");
    cr_assert_str_eq(f->subject, "1-1.4 (1a86:7523)");
    expect_text(f->evidence, BRLTTY_RULES " line 10");
    expect_text(f->evidence, "1a86/7523/*");
    expect_text(f->evidence, "PID 777");
    expect_text(f->fix_command, "sudo ln -s /dev/null /etc/udev/rules.d/85-brltty.rules");
    ed_report_free(&d.report);
}

Test(check_interference, rule_matches_even_when_brltty_is_not_running)
{
    struct ed_doctor d;
    ch340(&d);
    plant("/lib/udev/rules.d/90-brltty-device.rules", brltty_rules);
    cr_assert(ed_check_interference(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "interference.brltty");
    expect_text(f->evidence, "/lib/udev/rules.d/90-brltty-device.rules line 10");
    expect_text(f->evidence, "not running");
    ed_report_free(&d.report);
}

Test(check_interference, attrs_style_rule_with_uppercase_hex_and_continuation)
{
    struct ed_doctor d;
    ch340(&d);
    plant("/etc/udev/rules.d/85-brltty.rules",
          "# admin's copy\n"
          "SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"1A86\", \\\n"
          "  ATTRS{idProduct}==\"7523|5523\", RUN+=\"/bin/true\"\n");
    cr_assert(ed_check_interference(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "interference.brltty");
    expect_text(f->evidence, "/etc/udev/rules.d/85-brltty.rules line 2");
    expect_text(f->fix, "Comment out line 2 of /etc/udev/rules.d/85-brltty.rules");
    expect_text(f->fix_command, "sudo sed -i '2s/^/#/' /etc/udev/rules.d/85-brltty.rules");
    ed_report_free(&d.report);
}

Test(check_interference, bare_hex_product_of_an_ftdi_matches)
{
    struct ed_doctor d;
    doctor_planted(&d);
    target_usb(&d, "2-1", 0x0403, 0x6001, "ftdi_sio", "/dev/ttyUSB1");
    plant(BRLTTY_RULES, brltty_rules);
    cr_assert(ed_check_interference(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "interference.brltty");
    expect_text(f->evidence, "line 6");
    expect_text(f->evidence, "403/6001/*");
    ed_report_free(&d.report);
}

Test(check_interference, rules_masked_in_etc_are_ignored)
{
    struct ed_doctor d;
    ch340(&d);
    plant(BRLTTY_RULES, brltty_rules);
    plant_link("/etc/udev/rules.d/85-brltty.rules", "/dev/null");
    cr_assert(ed_check_interference(&d));
    cr_assert_eq(d.report.count, 0, "masked rules, no brltty running: nothing to report (%s)",
                 d.report.count ? d.report.items[0].diag->id : "");
    ed_report_free(&d.report);
}

Test(check_interference, commented_rule_does_not_match_and_running_brltty_is_only_noted)
{
    struct ed_doctor d;
    doctor_planted(&d);
    target_usb(&d, "1-2", 0x10c4, 0xea60, "cp210x", "/dev/ttyUSB0");
    plant(BRLTTY_RULES, brltty_rules);
    plant_process(777, "brltty", NULL);
    cr_assert(ed_check_interference(&d));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "interference.brltty-running");
    cr_assert_not_null(f);
    expect_text(f->evidence, "PID 777");
    expect_text(f->evidence, "10c4:ea60");
    ed_report_free(&d.report);
}

Test(check_interference, modemmanager_without_ignore_tag_is_a_warning)
{
    struct ed_doctor d;
    ch340(&d);
    plant_process(640, "ModemManager", NULL);
    cr_assert(ed_check_interference(&d));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "interference.modemmanager");
    cr_assert_not_null(f);
    cr_assert_eq(f->diag->severity, ED_SEV_WARN);
    expect_text(f->evidence, "PID 640");
    cr_assert_str_eq(f->fix_command, "sudo espdoctor udev install");
    ed_report_free(&d.report);
}

Test(check_interference, modemmanager_leaves_tagged_devices_alone)
{
    struct ed_doctor d;
    ch340(&d);
    d.target.mm_ignore = true;
    plant_process(640, "ModemManager", NULL);
    cr_assert(ed_check_interference(&d));
    cr_assert_null(finding(&d.report, "interference.modemmanager"));
    ed_report_free(&d.report);
}
