/* The SPI flash chip behind a ROM loader that answered: does it answer its JEDEC id
 * command (0x9F, through the SPI controller's user command)? All ones (or zeros) is a data
 * line that nothing drives: no flash chip at work. And does it hold what the id claims?
 * A counterfeit part wraps around at its real size (ed_loader_flash_real_size). */
#include "espdoctor/doctor.h"

#include "espdoctor/error.h"
#include "espdoctor/loader.h"

#include <stdio.h>

/* "4 MiB", "512 KiB" */
static void size_text(uint32_t bytes, char *out, size_t len)
{
    if (bytes >= (1u << 20))
        snprintf(out, len, "%u MiB", bytes >> 20);
    else
        snprintf(out, len, "%u KiB", bytes >> 10);
}

static void check_real_size(struct ed_doctor *d, uint32_t jedec, uint32_t claimed)
{
    uint32_t real = claimed;
    if (!claimed || ed_loader_flash_real_size(d->ld, claimed, &real) != ED_OK ||
        real >= claimed)
        return;
    char says[32], holds[32];
    size_text(claimed, says, sizeof says);
    size_text(real, holds, sizeof holds);
    struct ed_finding *f = ed_report_add(&d->report, "flash.fake-size", d->port_path);
    ed_finding_evidence(f, "the flash chip's JEDEC id 0x%06x claims %s, but its content "
                           "repeats every %s: reading at 0x%x gives what is at 0x0",
                        jedec, says, holds, real);
    ed_finding_fix(f, "Treat the board as having %s of flash: use firmware and partition "
                      "tables for that size (espdoctor refuses to write past it); a file "
                      "system sized for %s would overwrite the bootloader.", holds, says);
}

void ed_check_flash_chip(struct ed_doctor *d)
{
    uint32_t jedec = 0, size = 0;
    if (!d->ld || !d->chip)
        return;
    int rc = ed_loader_flash_id(d->ld, &jedec, &size);
    if (rc == ED_OK)
        check_real_size(d, jedec, size);
    if (rc != ED_E_NOTFOUND)
        return;   /* it answered, or the question could not be asked (Secure Download) */
    struct ed_finding *f = ed_report_add(&d->report, "flash.no-answer", d->port_path);
    bool gpio12 = ed_report_has(&d->report, "boot.strapping") && !d->esp8266_log;
    ed_finding_evidence(f, "%s answers its bootloader, but the flash chip's JEDEC id reads "
                           "0x%06x: nothing answers on the flash's data line%s",
                        d->chip->name, jedec,
                        d->boot.flash_read_err ? "; at boot the ROM printed \"flash read "
                                                 "err\"" : "");
    if (gpio12)
        ed_finding_fix(f, "GPIO12 is high at reset and starves the flash of its 3.3 V (see "
                          "the strapping finding): fix that pin first.");
    else
        ed_finding_fix(f, "Check what is wired to the flash pins (GPIO6 to GPIO11 on the "
                          "ESP32: never use them) and the module's 3.3 V supply; a flash chip "
                          "that still does not answer is broken: replace the module.");
    /* A reset loop in the boot log is this chip's silence, and no firmware can be on it:
     * neither is firmware to replace. */
    ed_report_drop(&d->report, "boot.crash-loop");
    ed_report_drop(&d->report, "firmware.none");
}
