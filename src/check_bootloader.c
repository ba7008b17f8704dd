/* Bootloader: the reset ladder into the ROM loader, a verdict per attempt, and (on a
 * board without auto-reset) the button watch: a person's press of BOOT and EN. */
#include "espdoctor/doctor.h"

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/loader.h"
#include "espdoctor/verdict.h"

#include <stdio.h>
#include <string.h>

static void attempts_text(const struct ed_loader *ld, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ld->attempt_count && used < len; i++) {
        char line[256];
        ed_loader_describe_attempt(&ld->attempts[i], line, sizeof line);
        int n = snprintf(out + used, len - used, "%s%s", used ? "\n" : "", line);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Which buttons, from the bridge and what the chip printed; then the watch. */
static bool watch_buttons(struct ed_doctor *d)
{
    enum ed_button_chip chip = d->esp8266_log ? ED_BUTTON_CHIP_ESP8266
                                              : ed_button_chip_heard(d->ld);
    if (chip == ED_BUTTON_CHIP_UNKNOWN && ed_bootlog_has_banner(&d->boot))
        chip = d->boot.esp8266 ? ED_BUTTON_CHIP_ESP8266 : ED_BUTTON_CHIP_ESP32;
    ed_button_names_for(d->has_target ? d->target.bridge : NULL, chip, &d->button.names);
    d->button_watched = true;
    d->button_reached = ed_button_watch_run(d->ld, &d->button) == ED_OK;
    return d->button_reached;
}

static void report_success(struct ed_doctor *d, bool by_hand)
{
    struct ed_loader *ld = d->ld;
    char attempts[2048];
    attempts_text(ld, attempts, sizeof attempts);
    int rc = ed_loader_detect_chip(ld);
    if (rc == ED_OK)
        d->chip = ld->chip;
    uint8_t mac[6];
    char macs[32] = "";
    int mac_rc = d->chip ? ed_loader_read_mac(ld, mac) : ED_E_ARG;
    if (rc == ED_E_GONE || mac_rc == ED_E_GONE) {   /* a board that is gone is not "ready" */
        struct ed_finding *f = ed_report_add(&d->report, "port.vanished", d->port_path);
        ed_finding_evidence(f, "the port went away right after the bootloader answered:\n%s",
                            attempts);
        return;
    }
    if (mac_rc == ED_OK)
        snprintf(macs, sizeof macs, ", MAC %02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                 mac[2], mac[3], mac[4], mac[5]);
    d->bootloader_ok = true;
    struct ed_finding *f = ed_report_add(&d->report, "bootloader.ok", d->port_path);
    char how[160] = "SYNC";
    if (by_hand)
        snprintf(how, sizeof how, "SYNC after a press by hand (%s held, %s tapped), "
                 "%s", d->button.names.boot, d->button.names.reset,
                 d->button.banner_seen ? "seen the moment its download banner appeared"
                                       : "its banner not readable at this baud");
    ed_finding_evidence(f, "%s%s answered %s:\n%s", d->chip ? d->chip->name : "an unknown chip",
                        macs, how, attempts);

    /* Only the long delay worked, and a short one booted from flash: a slow EN. */
    const struct ed_connect_attempt *win = &ld->attempts[ld->attempt_count - 1];
    bool short_booted_flash = false;
    for (size_t i = 0; i + 1 < ld->attempt_count; i++)
        short_booted_flash = short_booted_flash ||
                             (ld->attempts[i].delay_ms < win->delay_ms &&
                              ld->attempts[i].boot == ED_BOOT_FLASH);
    if (!by_hand && win->delay_ms >= 500 && short_booted_flash) {
        f = ed_report_add(&d->report, "reset.slow-en", d->port_path);
        ed_finding_evidence(f, "the %u ms reset delay reached download mode; the 50 ms one "
                               "let the chip boot from flash (its EN rises slowly)",
                            win->delay_ms);
        ed_finding_fix(f, "Nothing to do: espdoctor falls back to the long delay. esptool "
                          "needs more attempts on this board (--connect-attempts).");
    }
}

static bool banner_heard(const struct ed_loader *ld)
{
    for (size_t i = 0; i < ld->attempt_count; i++)
        if (ed_bootlog_has_banner(&ld->attempts[i].log))
            return true;
    return false;
}

bool ed_check_bootloader(struct ed_doctor *d)
{
    if (!d->tp || !d->ld)
        return false;
    struct ed_connect_opts opts = { .style = ED_RESET_AUTO_CIRCUIT };
    if (d->target.bridge)
        opts.style = d->target.bridge->reset;
    if (d->esp8266_log)
        opts.log_baud = d->log_baud;
    /* The line check's reset pulsed EN, yet the program kept printing without a ROM
     * banner: EN is not wired to RTS, and every rung of the ladder drives EN the same way.
     * One attempt for the record, not seven blind ones. */
    bool reset_unheard = d->reset_unheard;
    if (reset_unheard) {
        opts.attempts = 1;
        opts.syncs = 2;   /* a ROM that is listening answers the first */
    }
    int rc = ed_loader_connect(d->ld, &opts);
    if (rc != ED_OK && reset_unheard && banner_heard(d->ld)) {
        /* That one reset made the ROM speak: EN is wired after all (the chip was only slow
         * to print before). Every rung of the ladder, before any verdict. */
        reset_unheard = d->reset_unheard = false;
        opts.attempts = 0;
        opts.syncs = 0;
        rc = ed_loader_connect(d->ld, &opts);
    }
    if (rc == ED_OK) {
        report_success(d, false);
    } else {
        struct ed_connect_judgement j;
        char attempts[2048], tail[512], said[600] = "";
        ed_connect_verdict(d->ld, rc, &j);
        attempts_text(d->ld, attempts, sizeof attempts);
        ed_bootlog_tail((const uint8_t *)d->ld->bootlog, d->ld->bootlog_len, 3, tail,
                        sizeof tail);
        if (tail[0])
            snprintf(said, sizeof said, "\nthe board's last words:\n%s", tail);
        /* The boot-log family may have named this cause already, with its evidence. */
        const char *id = ed_report_has(&d->report, j.id) ? "bootloader.unreached" : j.id;
        struct ed_finding *f = ed_report_add(&d->report, id, d->port_path);
        ed_finding_evidence(f, "%s\n%s%s%s", j.observed, attempts,
                            reset_unheard ? "\n(the reset before it did not interrupt the "
                                            "running program either)" : "", said);
        if (strcmp(id, "reset.no-autoreset") == 0)
            ed_finding_fix(f, "%s A 1-10 uF capacitor from EN to GND makes the auto-reset "
                              "work on many boards.", j.fix);
        else
            ed_finding_fix(f, "%s", j.fix);
        if (j.fix_command[0])
            ed_finding_command(f, "%s", j.fix_command);
        if (d->button.timeout_ms && strcmp(j.id, "reset.no-autoreset") == 0 &&
            rc != ED_E_GONE && !ed_interrupted() && watch_buttons(d))
            report_success(d, true);
    }
    /* Leave the board running its firmware (a reset that never reached it left it so). */
    if (d->bootloader_ok || !reset_unheard)
        ed_loader_hard_reset(d->ld);
    return d->bootloader_ok;
}
