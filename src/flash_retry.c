/* The loader calls the flasher makes, made to ride out a flaky line (see flash.h): what
 * can simply be asked again is asked again, a block the loader refused as damaged in
 * transit is sent again (compressed ones in smaller pieces), and every failure that gets
 * through is marked as the link's, for the engine to recover from. */
#include "flash_internal.h"

#include "espdoctor/error.h"

/* READ_REG of this register answers on every chip; after the last block it is a barrier:
 * a stub acknowledges a block before writing it, and answers the read only after. */
#define BARRIER_REG 0x40001000u

/* Tries of a command that can simply be sent again. */
#define IDEMPOTENT_TRIES 3u

/* Compressed pieces grow back to whole blocks after this many went through in a row. */
#define GROW_AFTER_CLEAN 8u

bool ed_flash_link_recoverable(int rc)
{
    switch (rc) {
    case ED_E_TIMEOUT:      /* no answer: lost request or reply, a stall, a reset chip */
    case ED_E_PROTOCOL:     /* garbage instead of the answer */
    case ED_E_ROM:          /* a refusal that sending again did not cure */
    case ED_E_UNSUPPORTED:
    case ED_E_GONE:         /* the port vanished: unplugged */
    case ED_E_IO:
        return true;
    default:
        return false;
    }
}

/* Note where a failure came from: only the link's are worth a recovery. */
static int link_result(struct ed_flash_link *l, int rc)
{
    if (rc != ED_OK)
        l->failed = true;
    return rc;
}

static void count_resent(struct ed_flash_link *l)
{
    if (l->resent)
        (*l->resent)++;
}

/* A hash, a register read, the start of a write session (a second one starts it over):
 * a garbled or lost exchange costs one more try rather than a recovery of the link. A
 * late reply to the first try answers the same question. */
static bool try_again(struct ed_flash_link *l, int rc, unsigned tries)
{
    if (rc == ED_OK || rc == ED_E_GONE || tries >= IDEMPOTENT_TRIES ||
        !ed_flash_link_recoverable(rc) || ed_flash_cancelled(l->opts))
        return false;
    ed_loader_flush(l->ld);
    return true;
}

int ed_flash_link_md5(struct ed_flash_link *l, uint32_t addr, uint32_t size, uint8_t md5[16])
{
    int rc;
    unsigned tries = 0;
    do
        rc = ed_loader_flash_md5(l->ld, addr, size, md5);
    while (try_again(l, rc, ++tries));
    return link_result(l, rc);
}

int ed_flash_link_begin(struct ed_flash_link *l, bool compressed, uint32_t len,
                        uint32_t compressed_len, uint32_t addr)
{
    int rc;
    unsigned tries = 0;
    do
        rc = compressed ? ed_loader_flash_defl_begin(l->ld, len, compressed_len, addr)
                        : ed_loader_flash_begin(l->ld, len, addr);
    while (try_again(l, rc, ++tries));
    return link_result(l, rc);
}

int ed_flash_link_begin_part(struct ed_flash_link *l, const struct ed_erase_part *p)
{
    int rc;
    unsigned tries = 0;
    do
        rc = ed_loader_flash_begin_erasing(l->ld, p->len, p->offset, p->erase_size);
    while (try_again(l, rc, ++tries));
    return link_result(l, rc);
}

int ed_flash_link_barrier(struct ed_flash_link *l)
{
    int rc;
    unsigned tries = 0;
    uint32_t ignored;
    do
        rc = ed_loader_read_reg(l->ld, BARRIER_REG, &ignored);
    while (try_again(l, rc, ++tries));
    return link_result(l, rc);
}

int ed_flash_link_data(struct ed_flash_link *l, const uint8_t *data, size_t len, uint32_t seq)
{
    int rc;
    for (unsigned tries = 1;; tries++) {
        rc = ed_loader_flash_data(l->ld, data, len, seq);
        if (rc == ED_OK || tries == ED_FLASH_BLOCK_TRIES ||
            !ed_loader_refused_as_damaged(l->ld, rc))
            break;
        if (ed_flash_cancelled(l->opts))
            return ED_E_CANCELLED;
        count_resent(l);
        ed_loader_flush(l->ld);   /* whatever was left of the damaged exchange */
    }
    return link_result(l, rc);
}

/* The longer a block, the less likely it crosses a noisy line whole: each refusal halves
 * the pieces a block is sent in (down to the ROM's block size; the loader inflates one
 * stream, so any cut works), a run of clean ones doubles them again. */
int ed_flash_link_deflated(struct ed_flash_link *l, struct ed_flash_pieces *p,
                           const uint8_t *block, uint32_t len, uint32_t *seq,
                           uint32_t run_len, uint32_t run_compressed)
{
    uint32_t whole = ed_loader_flash_block(l->ld);
    if (p->size == 0 || p->size > whole)
        p->size = whole;
    unsigned refusals = 0;
    for (uint32_t off = 0; off < len;) {
        if (ed_flash_cancelled(l->opts))
            return ED_E_CANCELLED;
        uint32_t n = len - off < p->size ? len - off : p->size;
        uint32_t share = (uint32_t)((uint64_t)run_len * n / (run_compressed ? run_compressed : 1));
        int rc = ed_loader_flash_defl_data(l->ld, block + off, n, *seq, share);
        if (rc == ED_OK) {
            (*seq)++;
            off += n;
            refusals = 0;
            if (++p->clean >= GROW_AFTER_CLEAN && p->size < whole) {
                p->size *= 2;
                p->clean = 0;
            }
            continue;
        }
        if (!ed_loader_refused_as_damaged(l->ld, rc) || ++refusals >= ED_FLASH_BLOCK_TRIES)
            return link_result(l, rc);
        count_resent(l);
        p->clean = 0;
        if (p->size / 2 >= ED_FLASH_BLOCK_ROM)
            p->size /= 2;
        ed_loader_flush(l->ld);
    }
    return ED_OK;
}
