/* Firmware: after the line check's normal reset, is MicroPython answering? Pokes the REPL
 * with Ctrl-C (and Ctrl-B for the banner) and names what runs instead when it is not. */
#include "espdoctor/doctor.h"

#include "espdoctor/error.h"
#include "espdoctor/fwprobe.h"
#include "espdoctor/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The line check already listened to the boot; only its last words are left to hear. */
#define FIRMWARE_LISTEN_MS 150u
/* An app that named itself in its ESP-IDF startup log, and not as MicroPython: its start
 * was heard whole already, so one quick Ctrl-C for the record (a REPL answers within
 * milliseconds), not two long waits. */
#define OTHER_APP_LISTEN_MS 20u
#define OTHER_APP_ANSWER_MS 200u
/* Otherwise each Ctrl-C gets this long: a REPL answers at once, one busy in boot.py after
 * the second key. */
#define REPL_ANSWER_MS 500u

static void report_none(struct ed_doctor *d, const char *evidence)
{
    struct ed_finding *f = ed_report_add(&d->report, "firmware.none", d->port_path);
    ed_finding_evidence(f, "%s", evidence);
}

/* Did the line check's reset reach the chip? Judged from everything it printed since that
 * reset: what the line check heard and what the probe heard after it (nothing in between
 * was discarded). A late chip (a slow EN) or a late reader (a loaded machine) only moves
 * the ROM banner from one part to the other. A program that talks, and no banner in any
 * of it: the reset never reached the chip. */
static void judge_reset_heard(struct ed_doctor *d, const struct ed_fwprobe *probe)
{
    const struct ed_loader *ld = d->ld;
    if (!ld)
        return;
    uint64_t heard = ld->bootlog_total - d->reset_text_mark;
    size_t line_len = heard < ld->bootlog_len ? (size_t)heard : ld->bootlog_len;
    uint8_t *all = malloc(line_len + probe->text_len + 1);
    if (!all)
        return;
    memcpy(all, ld->bootlog + ld->bootlog_len - line_len, line_len);
    memcpy(all + line_len, probe->text, probe->text_len);
    struct ed_bootlog since_reset;
    ed_bootlog_parse(all, line_len + probe->text_len, &since_reset);
    free(all);
    if (ed_bootlog_has_banner(&since_reset)) {
        d->reset_unheard = false;
        /* The ROM spoke after the line check's window: the chip was late, not silent. */
        if (d->boot.bytes == 0)
            ed_report_drop(&d->report, "boot.silent");
    } else if (probe->log.readable) {
        d->reset_unheard = true;
    }
}

bool ed_check_firmware(struct ed_doctor *d)
{
    if (!d->tp)
        return false;
    /* A boot the line check already judged broken, or a chip waiting in download mode,
     * has no firmware to ask; the findings so far say why. */
    if (ed_report_has(&d->report, "boot.crash-loop") ||
        ed_report_has(&d->report, "firmware.blank") || d->boot.download_mode ||
        d->strap_blocks)
        return true;
    if (!d->tp->has_modem_lines && d->boot.bytes == 0)
        return true;   /* socket://: no reset happened, nothing to go on */

    struct ed_fwprobe *probe = calloc(1, sizeof *probe);
    if (!probe)
        return true;
    /* A second Ctrl-C helps a MicroPython stuck in a call that ignores the first (each
     * poke sends two). It is only worth its wait after a boot that printed something and
     * may be MicroPython's: not after silence (an idle REPL answers the first key), not
     * when the reset never reached a running program, not for an app that named itself. */
    bool other_app = d->boot.app_project[0] && !d->boot.micropython &&
                     strcmp(d->boot.app_project, "micropython") != 0;
    bool one_poke = other_app || d->reset_unheard || d->boot.bytes == 0;
    struct ed_fwprobe_opts opts = { .reset = false, .poke = true, .keep_input = true,
                                    .listen_ms = other_app ? OTHER_APP_LISTEN_MS
                                                           : FIRMWARE_LISTEN_MS,
                                    .pokes = one_poke && !d->boot.micropython ? 1 : 2,
                                    .answer_ms = other_app ? OTHER_APP_ANSWER_MS
                                                           : REPL_ANSWER_MS };
    int rc = ed_fwprobe_run(d->tp, &opts, probe);
    if (rc == ED_E_GONE) {
        struct ed_finding *f = ed_report_add(&d->report, "port.vanished", d->port_path);
        ed_finding_evidence(f, "the port went away while talking to the firmware");
        free(probe);
        return false;
    }
    if (rc == ED_OK)
        judge_reset_heard(d, probe);
    char described[768];
    const char *version = probe->version[0] ? probe->version : d->boot.micropython_version;
    if (rc != ED_OK) {
        snprintf(described, sizeof described, "the console could not be read: %s",
                 ed_strerror(rc));
        report_none(d, described);
    } else if (probe->state == ED_FW_MICROPYTHON) {
        d->micropython = true;
        snprintf(d->micropython_version, sizeof d->micropython_version, "%s",
                 version[0] ? version : "(version not shown)");
        struct ed_finding *f = ed_report_add(&d->report, "firmware.micropython", d->port_path);
        ed_finding_evidence(f, "Ctrl-C got the >>> prompt%s%s", probe->banner[0] ? "; " : "",
                            probe->banner);
    } else if (probe->state == ED_FW_MICROPYTHON_MUTE || d->boot.micropython) {
        struct ed_finding *f = ed_report_add(&d->report, "firmware.micropython-busy",
                                             d->port_path);
        ed_finding_evidence(f, "MicroPython%s%s printed its banner at boot, but Ctrl-C got "
                               "no >>> prompt within %u ms", version[0] ? " " : "", version,
                            ED_FWPROBE_ANSWER_MS);
    } else {
        char seen[160];
        ed_bootlog_describe(&d->boot, seen, sizeof seen);
        char app[96] = "";
        if (d->boot.app_project[0])
            snprintf(app, sizeof app, "; the firmware is the ESP-IDF app \"%s\"",
                     d->boot.app_project);
        snprintf(described, sizeof described, "no >>> prompt answered Ctrl-C at %u baud; "
                 "after a reset the board showed: %s%s", ED_FWPROBE_BAUD, seen, app);
        report_none(d, described);
    }
    free(probe);
    return true;
}
