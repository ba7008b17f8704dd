/* Does the board already hold every region? Asked of whichever loader answers, before
 * anything is uploaded: every ROM but the ESP8266's hashes flash (SPI_FLASH_MD5, see
 * ../shared/notes/rom-protocol.md), so a re-flash of an unchanged image needs neither the
 * flasher stub's upload at the ROM's 115200 baud nor a faster rate, only a hash per region.
 * The stub's SPI_FLASH_MD5 is no faster a hash: it runs the same ROM MD5 routines over the
 * same flash reads. */
#include "flash_internal.h"

#include <string.h>

#include "espdoctor/error.h"

/* The first bytes of each region are compared before any whole region: a board holding
 * something else (a new one, another firmware) costs one short hash, not a long one. */
#define PROBE_BYTES 4096u

static void report(const struct ed_flash_opts *o, size_t index, const struct ed_flash_region *r,
                   uint32_t done, uint64_t total_before, uint64_t total)
{
    if (!o || !o->progress)
        return;
    struct ed_flash_progress p = {
        .region = index, .region_done = done, .region_size = r->size,
        .total_done = total_before + done, .total = total, .phase = "comparing",
    };
    o->progress(o->progress_ctx, &p);
}

static int same_bytes(struct ed_flash_link *l, const struct ed_flash_region *r, uint32_t len,
                      uint8_t file_md5[16], uint8_t flash_md5[16], bool *same)
{
    int rc = ed_flash_md5_file(r->fd, 0, len, file_md5);
    if (rc == ED_OK)
        rc = ed_flash_link_md5(l, r->addr, len, flash_md5);
    *same = rc == ED_OK && memcmp(file_md5, flash_md5, 16) == 0;
    return rc;
}

int ed_flash_unchanged(struct ed_loader *ld, struct ed_flash_region *regions, size_t count,
                       const struct ed_flash_opts *opts, bool *all_same)
{
    *all_same = false;
    if (!ed_flash_can_md5(ld) || count == 0 || count > ED_FLASH_MAX_REGIONS)
        return ED_OK;
    struct ed_flash_link link = { .ld = ld, .opts = opts };
    uint8_t file_md5[ED_FLASH_MAX_REGIONS][16], flash_md5[ED_FLASH_MAX_REGIONS][16];
    double seconds[ED_FLASH_MAX_REGIONS];
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (regions[i].size == 0)
            return ED_OK;
        total += regions[i].size;
    }
    bool same = true;
    for (size_t i = 0; i < count && same; i++) {
        if (ed_flash_cancelled(opts))
            return ED_E_CANCELLED;
        uint32_t n = regions[i].size < PROBE_BYTES ? regions[i].size : PROBE_BYTES;
        int rc = same_bytes(&link, &regions[i], n, file_md5[i], flash_md5[i], &same);
        if (rc != ED_OK)
            return rc;
    }
    uint64_t before = 0;
    for (size_t i = 0; i < count && same; i++) {
        if (ed_flash_cancelled(opts))
            return ED_E_CANCELLED;
        struct ed_flash_region *r = &regions[i];
        report(opts, i, r, 0, before, total);
        uint64_t t0 = ed_tp_now_us(ld->tp);
        int rc = r->size <= PROBE_BYTES
                     ? ED_OK
                     : same_bytes(&link, r, r->size, file_md5[i], flash_md5[i], &same);
        if (rc != ED_OK)
            return rc;
        seconds[i] = (double)(ed_tp_now_us(ld->tp) - t0) / 1e6;
        before += r->size;
    }
    if (!same)
        return ED_OK;
    /* Every region is there: each reads as ed_flash_write leaves an unchanged one. */
    before = 0;
    for (size_t i = 0; i < count; i++) {
        struct ed_flash_region *r = &regions[i];
        memcpy(r->file_md5, file_md5[i], 16);
        memcpy(r->flash_md5, flash_md5[i], 16);
        r->compressed = ed_flash_can_compress(ld);
        r->compressed_size = r->written = 0;
        r->zlib_size = r->libdeflate_size = 0;
        r->used_libdeflate = r->compressed_from_cache = false;
        r->resent = r->recoveries = 0;
        r->skipped = r->done = r->size;
        r->verify = ED_VERIFY_OK;
        r->seconds = seconds[i];
        report(opts, i, r, r->size, before, total);
        before += r->size;
    }
    *all_same = true;
    return ED_OK;
}
