/* MEM_BEGIN, MEM_DATA, MEM_END: code into RAM, and the jump into it. The board does not
 * run the code: it recognises the flasher stubs clients upload (known_stubs.c) and then
 * behaves as that stub; anything else crashes, as a chip running code that is not what
 * the board knows would (no OHAI, no further answers until a reset), unless --any-stub.
 *
 * What is hashed, exactly: since the last MEM_END (or reset), each MEM_BEGIN opens a
 * region (load address and size from its words 4 and 1); the MEM_DATA blocks' bytes fill
 * it in the order they come; at MEM_END the regions are taken in ascending order of load
 * address and the SHA-256 of their bytes, concatenated, is the code's digest. Regions of
 * more than MEM_REGION_MAX bytes, more than MEM_REGIONS regions, or a region left short
 * make code that is no known stub. */
#include "rom_internal.h"

#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROM_MAX_RAM_BLOCK 0x1800

void mem_job_end(struct sim_board *b)
{
    for (size_t i = 0; i < b->mj.region_count; i++)
        free(b->mj.regions[i].bytes);
    memset(&b->mj, 0, sizeof b->mj);
}

void cmd_mem_begin(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    if (rq->len < 16) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    struct mem_job *m = &b->mj;
    m->active = true;
    m->next_seq = 0;
    if (m->region_count == MEM_REGIONS) {
        m->overflow = true;
        m->active = false;   /* nowhere to keep it: what follows is refused */
        rom_fail(b, rp, ROM_FAILED, STUB_TOO_MUCH_DATA);
        return;
    }
    struct mem_region *r = &m->regions[m->region_count++];
    *r = (struct mem_region){ .size = rom_u32(rq->data), .addr = rom_u32(rq->data + 12) };
    if (r->size <= MEM_REGION_MAX)
        r->bytes = malloc(r->size ? r->size : 1);
}

void cmd_mem_data(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    struct mem_job *m = &b->mj;
    if (!m->active || m->region_count == 0) {
        rom_fail(b, rp, ROM_FAILED, STUB_NOT_IN_FLASH_MODE);
        return;
    }
    if (rq->len < 16 || rom_u32(rq->data) > rq->len - 16) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    uint32_t n = rom_u32(rq->data);
    if (b->mode == MODE_ROM && n > ROM_MAX_RAM_BLOCK) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_BLOCKSIZE);
        return;
    }
    if (rom_data_checksum(rq->data + 16, n) != rq->checksum) {
        rom_fail(b, rp, ROM_BAD_CHECKSUM, STUB_BAD_CHECKSUM);
        return;
    }
    struct mem_region *r = &m->regions[m->region_count - 1];
    if ((uint64_t)r->written + n > r->size) {
        rom_fail(b, rp, ROM_FAILED, STUB_TOO_MUCH_DATA);
        return;
    }
    if (r->bytes)
        memcpy(r->bytes + r->written, rq->data + 16, n);
    r->written += n;
    m->next_seq++;
}

static int by_address(const void *a, const void *c)
{
    const struct mem_region *x = a, *y = c;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The uploaded code's digest as hex; false if it cannot be a stub at all. */
static bool code_digest(struct sim_board *b, char hex[65])
{
    struct mem_job *m = &b->mj;
    if (m->overflow || m->region_count == 0)
        return false;
    qsort(m->regions, m->region_count, sizeof m->regions[0], by_address);
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    for (size_t i = 0; i < m->region_count; i++) {
        const struct mem_region *r = &m->regions[i];
        if (!r->bytes || r->written != r->size)
            return false;
        SHA256Update(&ctx, r->bytes, r->size);
    }
    uint8_t digest[32];
    SHA256Final(digest, &ctx);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return true;
}

void cmd_mem_end(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    if (rq->len < 8) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    uint32_t no_jump = rom_u32(rq->data), entry = rom_u32(rq->data + 4);
    b->mj.active = false;
    if (no_jump != 0)
        return;
    char hex[65] = "";
    bool hashed = code_digest(b, hex);
    const struct known_stub *known = hashed ? known_stub_find(b->sim->key, hex) : NULL;
    mem_job_end(b);
    b->stub = known;
    if (known) {
        board_trace(b, b->now_ns, "  jump to 0x%08X: %s's %s stub", entry, known->package,
                    known->chip);
        rp->after = AFTER_START_STUB;
    } else if (b->opts.any_stub) {
        board_trace(b, b->now_ns, "  jump to 0x%08X: unknown code (sha256 %s), run as a "
                    "stub (--any-stub)", entry, hashed ? hex : "-");
        rp->after = AFTER_START_STUB;
    } else {
        board_trace(b, b->now_ns, "  jump to 0x%08X: the code (sha256 %s) is no %s stub "
                    "espsim knows: it crashes", entry, hashed ? hex : "-", b->sim->name);
        rp->after = AFTER_RUN_FOREIGN;
    }
}
