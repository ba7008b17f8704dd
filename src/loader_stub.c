/* Commands only a flasher stub has: ERASE_FLASH, ERASE_REGION and READ_FLASH. READ_FLASH
 * is not request/reply: after its reply the stub streams raw data frames, the host
 * acknowledges the running total, and the stub closes with the MD5 of the data. */
#include "espdoctor/stub.h"

#include <md5.h>
#include <string.h>

#include "espdoctor/error.h"

#define READ_PACKET_TIMEOUT_MS ED_TIMEOUT_DEFAULT_MS

int ed_loader_erase_flash(struct ed_loader *ld)
{
    if (!ld->stub)
        return ED_E_UNSUPPORTED;
    uint8_t none[1] = { 0 };
    return ed_loader_command(ld, ED_OP_ERASE_FLASH, none, 0, ED_TIMEOUT_ERASE_ALL_MS, NULL);
}

int ed_loader_erase_region(struct ed_loader *ld, uint32_t addr, uint32_t size)
{
    if (!ld->stub)
        return ED_E_UNSUPPORTED;
    if (addr % ED_FLASH_SECTOR || size % ED_FLASH_SECTOR)
        return ED_E_ARG;
    uint8_t d[8];
    ed_put_le32(d, addr);
    ed_put_le32(d + 4, size);
    return ed_loader_command(ld, ED_OP_ERASE_REGION, d, sizeof d,
                             ed_timeout_for_size(ED_RATE_ERASE_MS_PER_MB, size), NULL);
}

/* The next raw frame of the stream (valid until the next call). */
static int raw_frame(struct ed_loader *ld, unsigned timeout_ms)
{
    return ed_loader_next_frame(ld, ed_tp_now_us(ld->tp) + (uint64_t)timeout_ms * 1000u);
}

static int acknowledge(struct ed_loader *ld, uint32_t received)
{
    uint8_t word[4], frame[ED_SLIP_ENCODED_MAX(4)];
    ed_put_le32(word, received);
    return ed_tp_write(ld->tp, frame, ed_slip_encode(word, sizeof word, frame));
}

int ed_loader_read_flash(struct ed_loader *ld, uint32_t addr, uint32_t size,
                         ed_stub_read_sink sink, void *ctx,
                         const volatile sig_atomic_t *cancel)
{
    if (!ld->stub)
        return ED_E_UNSUPPORTED;
    uint8_t d[16];
    ed_put_le32(d, addr);
    ed_put_le32(d + 4, size);
    ed_put_le32(d + 8, ED_STUB_READ_PACKET);
    ed_put_le32(d + 12, ED_STUB_READ_INFLIGHT);
    int rc = ed_loader_command(ld, ED_OP_READ_FLASH, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, NULL);
    if (rc != ED_OK)
        return rc;
    MD5_CTX md5;
    MD5Init(&md5);
    uint32_t received = 0;
    while (received < size) {
        if (cancel && *cancel)
            return ED_E_CANCELLED;
        rc = raw_frame(ld, READ_PACKET_TIMEOUT_MS);
        if (rc != ED_OK)
            return rc;
        uint32_t want = size - received < ED_STUB_READ_PACKET ? size - received
                                                              : ED_STUB_READ_PACKET;
        if (ld->slip.len != want)
            return ED_E_PROTOCOL;
        MD5Update(&md5, ld->slip.frame, ld->slip.len);
        received += want;
        rc = sink(ctx, ld->slip.frame, want);
        if (rc == ED_OK)
            rc = acknowledge(ld, received);
        if (rc != ED_OK)
            return rc;
    }
    rc = raw_frame(ld, READ_PACKET_TIMEOUT_MS);
    if (rc != ED_OK)
        return rc;
    uint8_t digest[16];
    MD5Final(digest, &md5);
    if (ld->slip.len != sizeof digest)
        return ED_E_PROTOCOL;
    return memcmp(ld->slip.frame, digest, sizeof digest) == 0 ? ED_OK : ED_E_VERIFY;
}
