/* What the doctor concludes from all its findings together: the firmware fixes name the
 * chip that answered, and a port of no known bridge where nothing answered is the
 * headline (device.unknown-port), not the reset ladder that failed on it. */
#include <criterion/criterion.h>
#include <string.h>

#include "espdoctor/doctor.h"

#include "../../src/render.h"   /* the tests have no -Isrc */

static struct ed_loader *opened = (struct ed_loader *)&opened;   /* "the port was opened" */

static void unknown_port(struct ed_doctor *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->port_path, sizeof d->port_path, "/dev/ttyS0");
    struct ed_finding *f = ed_report_add(&d->report, "device.unknown-port", "/dev/ttyS0");
    ed_finding_evidence(f, "/dev/ttyS0 exists but is not a USB serial port espdoctor knows");
    ed_report_add(&d->report, "perm.root", "/dev/ttyS0");
}

Test(doctor_conclude, an_unknown_port_where_nothing_answers_is_the_headline)
{
    struct ed_doctor d;
    unknown_port(&d);
    ed_report_add(&d.report, "boot.silent", "/dev/ttyS0");
    ed_report_add(&d.report, "reset.no-autoreset", "/dev/ttyS0");
    d.ld = opened;
    ed_doctor_conclude(&d);
    const struct ed_finding *problem = ed_first_problem(&d.report);
    cr_assert_not_null(problem);
    cr_assert_str_eq(problem->diag->id, "device.unknown-port");
    cr_assert_eq(problem->severity, ED_SEV_ERROR);
    cr_assert_not_null(strstr(problem->evidence, "nothing answered"), "%s", problem->evidence);
    cr_assert_not_null(strstr(problem->evidence, "not a USB serial port"), "%s",
                       problem->evidence);
    d.ld = NULL;
    ed_report_free(&d.report);
}

Test(doctor_conclude, an_unknown_port_that_answers_or_was_never_opened_stays_a_warning)
{
    struct ed_doctor d;
    unknown_port(&d);
    ed_report_add(&d.report, "bootloader.ok", "/dev/ttyS0");
    d.ld = opened;
    d.bootloader_ok = true;
    ed_doctor_conclude(&d);
    cr_assert_null(ed_first_problem(&d.report), "an ESP answered: nothing is wrong");
    d.ld = NULL;
    ed_report_free(&d.report);

    unknown_port(&d);
    ed_report_add(&d.report, "port.not-serial", "/dev/ttyS0");   /* it could not be opened */
    ed_doctor_conclude(&d);
    cr_assert_str_eq(ed_first_problem(&d.report)->diag->id, "port.not-serial");
    ed_report_free(&d.report);

    unknown_port(&d);
    ed_report_add(&d.report, "lock.busy", "/dev/ttyS0");   /* another error explains it */
    ed_report_add(&d.report, "reset.no-autoreset", "/dev/ttyS0");
    d.ld = opened;
    ed_doctor_conclude(&d);
    cr_assert_str_eq(ed_first_problem(&d.report)->diag->id, "lock.busy");
    d.ld = NULL;
    ed_report_free(&d.report);
}

/* The chip that answered fills in the firmware fixes: its download and the command that
 * flashes the downloaded file on this port. */
Test(doctor_conclude, firmware_fixes_name_the_chip_that_answered)
{
    struct ed_doctor d;
    memset(&d, 0, sizeof d);
    snprintf(d.port_path, sizeof d.port_path, "/dev/ttyUSB0");
    ed_report_add(&d.report, "firmware.blank", "/dev/ttyUSB0");
    d.chip = ed_chip_by_key("esp8266");
    ed_doctor_conclude(&d);
    const struct ed_finding *f = ed_first_problem(&d.report);
    cr_assert_not_null(strstr(f->fix, "https://micropython.org/download/ESP8266_GENERIC/"),
                       "%s", f->fix);
    cr_assert_str_eq(f->fix_command, "espdoctor -p /dev/ttyUSB0 flash ESP8266_GENERIC-*.bin");
    ed_report_free(&d.report);
}
