/* Does the flash chip hold what its JEDEC id claims? Counterfeit parts report a larger
 * capacity than their array and ignore the address bits above it, so reading past the
 * real size wraps around to address 0. Read-only and cheap: the MD5 of one window at 0
 * and at each power of two below the claimed size (SPI_FLASH_MD5, which ROM and stub
 * have); the real size is the smallest offset at which the window still repeats, when it
 * stops repeating below that and does not repeat right after itself either (an erased,
 * zeroed or patterned flash repeats everywhere and proves nothing). */
#include "espdoctor/loader.h"

#include "espdoctor/error.h"

#include <md5.h>
#include <string.h>

#define WINDOW (32u * 1024)          /* bootloader (0x0 or 0x1000) and more: not blank */
#define SMALLEST_REAL (256u * 1024)  /* no flash chip is smaller */

/* An erased window repeats everywhere: it proves nothing. */
static bool erased(const uint8_t md5[16])
{
    static uint8_t ones[WINDOW];
    uint8_t want[16];
    MD5_CTX ctx;
    memset(ones, 0xFF, sizeof ones);
    MD5Init(&ctx);
    MD5Update(&ctx, ones, sizeof ones);
    MD5Final(want, &ctx);
    return memcmp(md5, want, sizeof want) == 0;
}

int ed_loader_flash_real_size(struct ed_loader *ld, uint32_t claimed, uint32_t *real)
{
    *real = claimed;
    if (!ld->stub && !(ld->chip && ld->chip->rom_md5))
        return ED_E_UNSUPPORTED;   /* the ESP8266's ROM has no MD5 */
    uint8_t at0[16], here[16];
    int rc = ed_loader_flash_md5(ld, 0, WINDOW, at0);
    if (rc != ED_OK)
        return rc;
    if (erased(at0))
        return ED_E_UNSUPPORTED;
    /* The ROM reads no further than the size it was told. */
    rc = ed_loader_spi_set_params(ld, claimed);
    if (rc != ED_OK)
        return rc;
    /* Down to where no flash chip ends: a real wrap has a last offset that repeats and
     * one below it that does not. */
    bool edge = false;
    uint32_t last = claimed;
    for (uint32_t s = claimed / 2; s >= SMALLEST_REAL / 2 && !edge; s /= 2) {
        rc = ed_loader_flash_md5(ld, s, WINDOW, here);
        if (rc != ED_OK)
            return rc;
        edge = memcmp(here, at0, sizeof here) != 0;
        if (!edge)
            last = s;
    }
    if (last == claimed)
        return ED_OK;   /* no repeat: the chip holds what it claims */
    /* Content that repeats at every power of two (a pattern, all zeros) proves nothing;
     * nor does content that repeats right after the window. */
    rc = ed_loader_flash_md5(ld, WINDOW, WINDOW, here);
    if (rc != ED_OK)
        return rc;
    if (!edge || last < SMALLEST_REAL || memcmp(here, at0, sizeof here) == 0)
        return ED_E_UNSUPPORTED;
    *real = last;
    return ED_OK;
}
