/* What the chip's security eFuses forbid, once its ROM loader answered: Secure Download
 * Mode (GET_SECURITY_INFO's flags, bit 2) and flash encryption (a crypt counter with an
 * odd number of bits set: GET_SECURITY_INFO's crypt byte from the S2 on, FLASH_CRYPT_CNT
 * in eFuse BLK0 on the ESP32). Sources: esptool docs, "Serial Protocol"
 * (GET_SECURITY_INFO) and "Secure Download Mode Limitations"; ESP-IDF's flash encryption
 * guide (the counter's odd and even states; "invalid header" for a plaintext image). */
#include "espdoctor/doctor.h"

#include "espdoctor/error.h"
#include "espdoctor/loader.h"

#define CRYPT_CNT_BITS 0x7Fu

static unsigned bits_set(uint32_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* The crypt counter, or -1 when this chip cannot tell (ESP8266; a refused read). */
static int crypt_counter(struct ed_doctor *d)
{
    if (d->ld->security_known)
        return d->ld->flash_crypt_cnt;
    uint32_t word;
    if (!d->chip->flash_crypt_cnt_reg ||
        ed_loader_read_reg(d->ld, d->chip->flash_crypt_cnt_reg, &word) != ED_OK)
        return -1;
    return (int)((word >> d->chip->flash_crypt_cnt_shift) & CRYPT_CNT_BITS);
}

void ed_check_security(struct ed_doctor *d)
{
    if (!d->ld || !d->chip)
        return;
    struct ed_finding *f;
    if (d->ld->secure_download) {
        f = ed_report_add(&d->report, "security.secure-download", d->port_path);
        ed_finding_evidence(f, "GET_SECURITY_INFO flags 0x%08x: bit 2, Secure Download Mode, "
                               "is set", d->ld->security_flags);
        ed_finding_fix(f, "Flash as usual: espdoctor writes through the ROM loader, without "
                          "a stub and more slowly. Reading the flash back, the MAC and the "
                          "crystal cannot be had in this mode, and it cannot be turned off.");
    }
    int crypt = crypt_counter(d);
    if (crypt > 0 && bits_set((uint32_t)crypt) % 2 == 1) {
        f = ed_report_add(&d->report, "security.flash-encrypted", d->port_path);
        ed_finding_evidence(f, "flash encryption is on: the crypt counter is 0x%02x, an odd "
                               "number of bits set%s", (unsigned)crypt,
                            d->boot.invalid_header && !d->boot.erased_header
                            ? "; the ROM found an \"invalid header\": "
                              "what is in flash was written in the clear" : "");
        ed_finding_fix(f, "Write only images encrypted for this chip: build them with flash "
                          "encryption in ESP-IDF (idf.py encrypted-flash) or, in development "
                          "mode, let the ROM encrypt them (esptool write_flash --encrypt). A "
                          "plain MicroPython download written as it is will not boot, and "
                          "the flash reads back as ciphertext.");
    }
}
