/* Power family: USB autosuspend on the bridge. */
#include "test_check_util.h"

Test(check_power, autosuspend_gives_the_sysfs_command_for_this_device)
{
    struct ed_doctor d;
    memset(&d, 0, sizeof d);
    d.has_target = true;
    target_usb(&d, "1-1.2", 0x10c4, 0xea60, "cp210x", "/dev/ttyUSB0");
    snprintf(d.target.power_control, sizeof d.target.power_control, "auto");
    cr_assert(ed_check_power(&d), "autosuspend is a warning, not a stop");
    const struct ed_finding *f = finding(&d.report, "power.autosuspend");
    cr_assert_not_null(f);
    cr_assert_eq(f->diag->severity, ED_SEV_WARN);
    cr_assert_str_eq(f->subject, "1-1.2 (10c4:ea60)");
    cr_assert_str_eq(f->fix_command, "echo on | sudo tee /sys/bus/usb/devices/1-1.2/power/control");
    ed_report_free(&d.report);
}

Test(check_power, power_control_on_reports_nothing)
{
    struct ed_doctor d;
    memset(&d, 0, sizeof d);
    d.has_target = true;
    target_usb(&d, "1-1.2", 0x10c4, 0xea60, "cp210x", "/dev/ttyUSB0");
    snprintf(d.target.power_control, sizeof d.target.power_control, "on");
    cr_assert(ed_check_power(&d));
    cr_assert_eq(d.report.count, 0);
}
