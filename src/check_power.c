/* Power: USB autosuspend on the bridge (power/control = auto, as TLP and friends set it)
 * drops characters and resets some bridges when the port is idle. */
#include "espdoctor/doctor.h"
#include "espdoctor/shell.h"

#include <stdio.h>
#include <string.h>

bool ed_check_power(struct ed_doctor *d)
{
    const struct ed_port *p = &d->target;
    if (!d->has_target || !p->usb_name[0] || strcmp(p->power_control, "auto") != 0)
        return true;
    char subject[64];
    snprintf(subject, sizeof subject, "%s (%04x:%04x)", p->usb_name, p->vid, p->pid);
    struct ed_finding *f = ed_report_add(&d->report, "power.autosuspend", subject);
    ed_finding_evidence(f, "/sys/bus/usb/devices/%s/power/control is \"auto\"", p->usb_name);
    char control[160], word[200];
    snprintf(control, sizeof control, "/sys/bus/usb/devices/%s/power/control", p->usb_name);
    ed_finding_fix(f, "Keep the bridge powered while it is idle (this lasts until it is "
                      "unplugged).");
    ed_finding_command(f, "echo on | sudo tee %s", ed_shell_quote(control, word, sizeof word));
    return true;
}
