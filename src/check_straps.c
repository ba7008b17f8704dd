/* Strapping pins, read from the ROM's boot banner: a pin whose level at reset changes how
 * the chip boots. ESP32: boot:0xNN is GPIO_STRAP, MTDI (GPIO12) is bit 0x20, high selects
 * 1.8 V for the flash's supply (VDD_SDIO), which a 3.3 V flash chip does not work on
 * ("flash read err, 1000"). ESP8266: in "boot mode:(x,y)" the low three bits of x are
 * {MTDO, GPIO0, GPIO2}; MTDO (GPIO15) high selects SDIO boot, and the chip then waits
 * for an SDIO host, running neither the firmware nor the serial bootloader. Sources:
 * esptool docs, "Boot Mode Selection" (both chips) and "Set Flash Voltage" (espefuse). */
#include "espdoctor/doctor.h"

#include "espdoctor/shell.h"

#include <stdio.h>

#define ESP32_STRAP_MTDI 0x20
#define ESP8266_MODE_MTDO 0x4

static void gpio12_high(struct ed_doctor *d, const struct ed_bootlog *log)
{
    char straps[128], port[300];
    ed_bootlog_straps(log->boot_value, straps, sizeof straps);
    struct ed_finding *f = ed_report_add(&d->report, "boot.strapping", d->port_path);
    ed_finding_evidence(f, "boot:0x%x: %s. GPIO12 (MTDI) high at reset selects 1.8 V for "
                           "the flash chip's supply (VDD_SDIO)%s",
                        (unsigned)log->boot_value, straps,
                        log->flash_read_err ? "; a 3.3 V flash chip does not work on it: "
                                              "the ROM printed \"flash read err\" and could "
                                              "not load the bootloader" : "");
    ed_finding_fix(f, "Remove or disconnect what pulls GPIO12 high at reset (a sensor, a "
                      "pull-up, an SD card's DAT2), or add a 10 kOhm pull-down, then press "
                      "EN. If the pin must stay wired, burn the flash-voltage eFuse once, so "
                      "that GPIO12 no longer counts (it cannot be undone, and is right only "
                      "for a 3.3 V flash: WROOM modules, not WROVER).");
    ed_finding_command(f, "espefuse.py --port %s set_flash_voltage 3.3V",
                       ed_shell_quote(d->port_path, port, sizeof port));
    if (log->flash_read_err) {
        ed_finding_raise(f, ED_SEV_ERROR);
        d->strap_blocks = true;
    }
}

static void gpio15_high(struct ed_doctor *d, const struct ed_bootlog *log)
{
    struct ed_finding *f = ed_report_add(&d->report, "boot.strapping", d->port_path);
    ed_finding_evidence(f, "boot mode:(%d,x): GPIO15 (MTDO) was high at reset, which selects "
                           "SDIO boot: the ROM waits for an SDIO host and runs neither the "
                           "firmware nor the serial bootloader",
                        log->esp8266_boot_mode);
    ed_finding_fix(f, "GPIO15 (D8 on NodeMCU and Wemos boards) must be low at reset: remove "
                      "what drives it high, or pull it to GND with a 10 kOhm resistor, then "
                      "press RST.");
    ed_finding_raise(f, ED_SEV_ERROR);
    d->strap_blocks = true;
}

bool ed_judge_straps(struct ed_doctor *d, const struct ed_bootlog *log)
{
    if (log->esp8266 && log->esp8266_boot_mode >= 0 &&
        (log->esp8266_boot_mode & ESP8266_MODE_MTDO)) {
        gpio15_high(d, log);
        return true;
    }
    /* Only the ESP32's own bits mean GPIO12 (a C3 flash-boots with boot:0xc, an S3 sets
     * 0x20 for another pin); an unnamed mode with the bit is an ESP32 ROM's too. */
    bool esp32_bits = log->esp32_rom || (!log->boot_mode_named && log->flash_boot);
    if (!log->esp8266 && log->boot_value >= 0 && (log->boot_value & ESP32_STRAP_MTDI) &&
        esp32_bits) {
        gpio12_high(d, log);
        return true;
    }
    return false;
}
