/* Driver family: a bridge without a tty claimed from user space (who holds its USB node),
 * a module the kernel lacks, has but did not load, or builds in; and a bound driver. All
 * against a planted system root. */
#include "test_check_util.h"

#define RELEASE "6.1.0-espdoctor-test"
#define CP2102_MODALIAS "usb:v10C4pEA60d0100dc00dsc00dp00icFFisc00ip00in00"
#define CP210X_ALIAS "alias usb:v10C4pEA60d*dc*dsc*dp*ic*isc*ip*in* cp210x\n"
#define FTDI_ALIAS "alias usb:v0403p6001d*dc*dsc*dp*ic*isc*ip*in* ftdi_sio\n"

TestSuite(check_driver, .init = planted_root_make, .fini = planted_root_remove);

static void ttyless_cp2102(struct ed_doctor *d)
{
    doctor_planted(d);
    target_usb(d, "1-2", 0x10c4, 0xea60, "", "");
    snprintf(d->target.modalias, sizeof d->target.modalias, "%s", CP2102_MODALIAS);
    plant("/proc/sys/kernel/osrelease", RELEASE "\n");
}

/* A CH340 whose interface is bound to usbfs, its USB node held open by `holder`. */
static void claimed_ch340(struct ed_doctor *d, int pid, const char *holder)
{
    doctor_planted(d);
    target_usb(d, "1-1.4", 0x1a86, 0x7523, "usbfs", "");
    plant("/dev/bus/usb/001/007", "");
    planted_path("/dev/bus/usb/001/007", d->target.usb_devnode, sizeof d->target.usb_devnode);
    plant_process(pid, holder, d->target.usb_devnode);
    plant_process(1, "systemd", NULL);
}

Test(check_driver, usbfs_claim_names_brltty_and_its_pid)
{
    struct ed_doctor d;
    claimed_ch340(&d, 812, "brltty");
    cr_assert_not(ed_check_driver(&d), "no tty: deeper checks are meaningless");
    const struct ed_finding *f = expect_first_error(&d.report, "driver.claimed-by-userspace");
    cr_assert_str_eq(f->subject, "1-1.4 (1a86:7523)");
    expect_text(f->evidence, "usbfs");
    expect_text(f->evidence, "brltty (PID 812)");
    expect_text(f->fix, "brltty");
    ed_report_free(&d.report);
}

Test(check_driver, usbfs_claim_by_another_program_says_kill_it)
{
    struct ed_doctor d;
    claimed_ch340(&d, 2345, "myflasher");
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.claimed-by-userspace");
    expect_text(f->evidence, "myflasher (PID 2345)");
    expect_text(f->fix_command, "kill 2345");
    cr_assert_null(strstr(f->fix, "brltty"), "brltty does not run here: %s", f->fix);
    cr_assert_null(strstr(f->fix_command, "brltty"), "%s", f->fix_command);
    ed_report_free(&d.report);
}

/* A planted /proc (espsim's) links to the node's path, which the kernel cannot follow. */
Test(check_driver, usbfs_holder_found_by_link_text_when_the_link_dangles)
{
    struct ed_doctor d;
    doctor_planted(&d);
    target_usb(&d, "1-1.4", 0x1a86, 0x7523, "usbfs", "");
    snprintf(d.target.usb_devnode, sizeof d.target.usb_devnode, "/dev/bus/usb/077/099");
    plant_process(4242, "brltty", "/dev/bus/usb/077/099");
    plant_process(4243, "other", "/dev/bus/usb/077/098");
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.claimed-by-userspace");
    expect_text(f->evidence, "held open by brltty (PID 4242)");
    cr_assert_null(strstr(f->evidence, "4243"), "%s", f->evidence);
    ed_report_free(&d.report);
}

Test(check_driver, module_absent_from_alias_index_is_missing)
{
    struct ed_doctor d;
    ttyless_cp2102(&d);
    plant("/lib/modules/" RELEASE "/modules.alias",
          "# Aliases extracted from modules\n" FTDI_ALIAS);
    plant("/lib/modules/" RELEASE "/modules.dep",
          "kernel/drivers/usb/serial/ftdi_sio.ko.xz: kernel/drivers/usb/serial/usbserial.ko.xz\n");
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.missing");
    expect_text(f->evidence, CP2102_MODALIAS);
    expect_text(f->evidence, "not installed");
    expect_text(f->fix_command, "sudo modprobe cp210x");
    cr_assert_null(strstr(f->fix_command, "linux-modules-extra"),
                   "no distribution named, so no Ubuntu package: %s", f->fix_command);
    ed_report_free(&d.report);
}

Test(check_driver, installed_module_without_this_id_asks_for_a_newer_kernel)
{
    struct ed_doctor d;
    ttyless_cp2102(&d);
    plant("/lib/modules/" RELEASE "/modules.alias", FTDI_ALIAS);
    plant("/lib/modules/" RELEASE "/modules.dep",
          "kernel/drivers/usb/serial/cp210x.ko.zst: kernel/drivers/usb/serial/usbserial.ko.zst\n");
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.missing");
    expect_text(f->evidence, "does not list this USB id");
    expect_text(f->fix, "10c4:ea60");
    ed_report_free(&d.report);
}

Test(check_driver, no_module_index_for_the_running_kernel)
{
    struct ed_doctor d;
    ttyless_cp2102(&d);
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.missing");
    expect_text(f->evidence, "/lib/modules/" RELEASE "/modules.alias does not exist");
    expect_text(f->fix, "Reboot");
    cr_assert_str_eq(f->fix_command, "sudo modprobe cp210x");
    ed_report_free(&d.report);
}

Test(check_driver, matching_alias_but_unloaded_module_is_not_loaded)
{
    struct ed_doctor d;
    ttyless_cp2102(&d);
    plant("/lib/modules/" RELEASE "/modules.alias", FTDI_ALIAS CP210X_ALIAS);
    plant("/proc/modules", "usbserial 69632 0 - Live 0x0000000000000000\n");
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.not-loaded");
    expect_text(f->evidence, "cp210x");
    cr_assert_str_eq(f->fix_command, "sudo modprobe cp210x");
    ed_report_free(&d.report);
}

Test(check_driver, loaded_module_that_did_not_bind_suggests_replug_and_reload)
{
    struct ed_doctor d;
    ttyless_cp2102(&d);
    plant("/lib/modules/" RELEASE "/modules.alias", CP210X_ALIAS);
    plant("/proc/modules", "cp210x 40960 0 - Live 0x0000000000000000\n");
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.not-loaded");
    expect_text(f->evidence, "is loaded");
    cr_assert_str_eq(f->fix_command, "sudo modprobe -r cp210x && sudo modprobe cp210x");
    ed_report_free(&d.report);
}

Test(check_driver, built_in_driver_that_did_not_bind_means_replug)
{
    struct ed_doctor d;
    doctor_planted(&d);
    target_usb(&d, "3-1", 0x303a, 0x1001, "", "");
    snprintf(d.target.modalias, sizeof d.target.modalias,
             "usb:v303Ap1001d0101dcEFdsc02dp01ic02isc02ip00in00");
    plant("/proc/sys/kernel/osrelease", RELEASE "\n");
    plant("/lib/modules/" RELEASE "/modules.alias", FTDI_ALIAS);
    plant("/lib/modules/" RELEASE "/modules.builtin.alias",
          "alias usb:v*p*d*dc*dsc*dp*ic02isc02ip00in* cdc_acm\n");
    cr_assert_not(ed_check_driver(&d));
    const struct ed_finding *f = expect_first_error(&d.report, "driver.not-loaded");
    expect_text(f->evidence, "built into the kernel");
    expect_text(f->fix, "plug it back in");
    ed_report_free(&d.report);
}

Test(check_driver, expected_driver_with_a_tty_is_ok)
{
    struct ed_doctor d;
    doctor_planted(&d);
    target_usb(&d, "1-2", 0x10c4, 0xea60, "cp210x", "/dev/ttyUSB0");
    cr_assert(ed_check_driver(&d));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "driver.ok");
    cr_assert_not_null(f);
    expect_text(f->evidence, "cp210x");
    expect_text(f->evidence, "/dev/ttyUSB0");
    ed_report_free(&d.report);
}

Test(check_driver, unexpected_driver_with_a_tty_is_a_warning)
{
    struct ed_doctor d;
    doctor_planted(&d);
    target_usb(&d, "1-3", 0x1a86, 0x55d4, "usbserial_generic", "/dev/ttyUSB0");
    cr_assert(ed_check_driver(&d));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "driver.wrong");
    cr_assert_not_null(f);
    cr_assert_eq(f->diag->severity, ED_SEV_WARN);
    expect_text(f->evidence, "cdc_acm");
    cr_assert_str_eq(f->fix_command, "sudo modprobe -r usbserial_generic && sudo modprobe "
                                     "cdc_acm");
    ed_report_free(&d.report);
}

/* WCH's own driver binds as usb_ch343 from the module ch343, and claims the CH9102 again
 * at every plug-in: unloading "usb_ch343" names no module at all, and unloading ch343
 * lasts until the next plug-in. The fix blacklists the module. */
Test(check_driver, wchs_ch343_driver_is_blacklisted_by_its_module_name)
{
    struct ed_doctor d;
    doctor_planted(&d);
    target_usb(&d, "1-3", 0x1a86, 0x55d4, "usb_ch343", "/dev/ttyCH343USB0");
    cr_assert(ed_check_driver(&d));
    cr_assert_null(first_error(&d.report));
    const struct ed_finding *f = finding(&d.report, "driver.wrong");
    cr_assert_not_null(f);
    expect_text(f->evidence, "module ch343");
    expect_text(f->evidence, "WCH");
    expect_text(f->fix, "blacklist ch343");
    cr_assert_str_eq(f->fix_command, "echo 'blacklist ch343' | sudo tee "
                                     "/etc/modprobe.d/espdoctor-ch343.conf && sudo modprobe "
                                     "-r ch343 && sudo modprobe cdc_acm");
    cr_assert_null(strstr(f->fix_command, "usb_ch343"), "%s", f->fix_command);
    ed_report_free(&d.report);
}

/* A module the kernel lacks: the package that has it, by the distribution's own name. */
static const struct ed_finding *missing_on(struct ed_doctor *d, const char *os_release)
{
    ttyless_cp2102(d);
    plant("/lib/modules/" RELEASE "/modules.alias", FTDI_ALIAS);
    if (os_release)
        plant("/etc/os-release", os_release);
    cr_assert_not(ed_check_driver(d));
    return expect_first_error(&d->report, "driver.missing");
}

Test(check_driver, missing_module_on_ubuntu_names_linux_modules_extra)
{
    struct ed_doctor d;
    const struct ed_finding *f = missing_on(&d, "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n"
                                                "ID=ubuntu\nID_LIKE=debian\n");
    cr_assert_str_eq(f->fix_command, "sudo apt install linux-modules-extra-" RELEASE
                                     " && sudo modprobe cp210x");
    expect_text(f->fix, "Ubuntu 24.04.1 LTS");
    ed_report_free(&d.report);
}

Test(check_driver, missing_module_on_debian_reinstalls_the_kernel_package)
{
    struct ed_doctor d;
    const struct ed_finding *f = missing_on(&d, "PRETTY_NAME=\"Debian GNU/Linux 12 "
                                                "(bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                                                "ID=debian\n");
    cr_assert_str_eq(f->fix_command, "sudo apt install --reinstall linux-image-" RELEASE
                                     " && sudo modprobe cp210x");
    cr_assert_null(strstr(f->fix, "linux-modules-extra"), "%s", f->fix);
    ed_report_free(&d.report);
}

/* Linux Mint is Ubuntu underneath: ID_LIKE names ubuntu before debian. */
Test(check_driver, missing_module_on_an_ubuntu_derivative_follows_id_like)
{
    struct ed_doctor d;
    const struct ed_finding *f = missing_on(&d, "NAME=\"Linux Mint\"\nID=linuxmint\n"
                                                "ID_LIKE=\"ubuntu debian\"\n");
    expect_text(f->fix_command, "linux-modules-extra-" RELEASE);
    ed_report_free(&d.report);
}

Test(check_driver, missing_module_elsewhere_names_no_package)
{
    struct ed_doctor d;
    const struct ed_finding *f = missing_on(&d, "ID=alpine\n");
    cr_assert_str_eq(f->fix_command, "sudo modprobe cp210x");
    ed_report_free(&d.report);
}
