/* Writing regions: compare, write what differs (compressed where the loader inflates),
 * verify; when the link fails, get it back (the caller's recover hook) and resume from
 * what verifies. See flash.h for the contract, flash_retry.c for the loader calls that
 * ride out a flaky line, deflate_best.c for the smaller stream of a run that fits in
 * memory (libdeflate -12 or zlib -9, cached), and flash_stream.c for why a larger run's
 * zlib stream is produced twice. */
#include "flash_internal.h"

#include <stdlib.h>
#include <string.h>

#include "espdoctor/deflate_best.h"
#include "espdoctor/error.h"

bool ed_flash_can_compress(const struct ed_loader *ld)
{
    return ld->stub || (ld->chip && ld->chip->rom_compressed);
}

bool ed_flash_can_md5(const struct ed_loader *ld)
{
    return ld->stub || (ld->chip && ld->chip->rom_md5);
}

bool ed_flash_can_read(const struct ed_loader *ld)
{
    return ld->stub || (ld->chip && ld->chip->rom_read_flash_slow);
}

/* One ed_flash_write call. */
struct engine {
    struct ed_loader *ld;
    const struct ed_flash_opts *opts;
    const struct ed_flash_region *regions;   /* all of them, in the order written */
    size_t count;
    size_t index;
    uint64_t total_before;      /* sizes of the regions already done */
    uint64_t total;
    unsigned recoveries;        /* of the link, over the whole call */
    struct ed_flash_link link;  /* the loader, through a line that may be flaky */
    struct ed_flash_pieces pieces;   /* kept from run to run */
};

static void report(struct engine *e, const struct ed_flash_region *r, const char *phase)
{
    if (!e->opts || !e->opts->progress)
        return;
    struct ed_flash_progress p = {
        .region = e->index, .region_done = r->done, .region_size = r->size,
        .total_done = e->total_before + r->done, .total = e->total, .phase = phase,
    };
    e->opts->progress(e->opts->progress_ctx, &p);
}

/* ---- compressed runs ---------------------------------------------------------------- */

struct defl_send {
    struct engine *e;
    struct ed_flash_region *r;
    uint8_t *block;
    uint32_t block_size, fill, seq;
    uint32_t sent, total;       /* compressed bytes */
    uint32_t run_len, done_base;
};

static int count_sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)data;
    uint64_t *count = ctx;
    *count += len;
    return *count > UINT32_MAX ? ED_E_ARG : ED_OK;
}

static int send_block(struct defl_send *s)
{
    /* The timeouts scale with what a piece inflates to; its share of the run is a fair
     * estimate. */
    int rc = ed_flash_link_deflated(&s->e->link, &s->e->pieces, s->block, s->fill, &s->seq,
                                    s->run_len, s->total);
    if (rc != ED_OK)
        return rc;
    s->sent += s->fill;
    s->fill = 0;
    s->r->done = s->done_base + (uint32_t)((uint64_t)s->run_len * s->sent / s->total);
    report(s->e, s->r, "writing");
    return ED_OK;
}

static int send_sink(void *ctx, const uint8_t *data, size_t len)
{
    struct defl_send *s = ctx;
    while (len) {
        size_t take = s->block_size - s->fill;
        if (take > len)
            take = len;
        memcpy(s->block + s->fill, data, take);
        s->fill += (uint32_t)take;
        data += take;
        len -= take;
        if (s->fill == s->block_size) {
            int rc = send_block(s);
            if (rc != ED_OK)
                return rc;
        }
    }
    return ED_OK;
}

static int send_stream(struct engine *e, struct ed_flash_region *r, uint32_t off,
                       uint32_t len, uint64_t compressed, const struct ed_deflated *whole)
{
    if (ed_flash_cancelled(e->opts))
        return ED_E_CANCELLED;
    e->link.resent = &r->resent;
    int rc = ed_flash_link_begin(&e->link, true, len, (uint32_t)compressed, r->addr + off);
    if (rc != ED_OK)
        return rc;
    struct defl_send s = {
        .e = e, .r = r, .block_size = ed_loader_flash_block(e->ld),
        .total = (uint32_t)compressed, .run_len = len, .done_base = r->done,
    };
    s.block = malloc(s.block_size);
    if (!s.block)
        return ED_E_NOMEM;
    rc = whole ? send_sink(&s, whole->data, whole->len)
               : ed_flash_deflate(r->fd, off, len, send_sink, &s);
    if (rc == ED_OK && s.fill)
        rc = send_block(&s);
    free(s.block);
    if (rc == ED_OK && s.sent != s.total)
        rc = ED_E_PROTOCOL;   /* the second pass must match the first, byte for byte */
    if (rc == ED_OK)
        r->compressed_size += s.sent;
    return rc;
}

/* A run that fits in memory goes out as the smaller of libdeflate's and zlib's streams
 * (deflate_best.c, cached); a larger one, and one where zlib wins, as zlib -9 streamed
 * twice (flash_stream.c). */
static int write_run_compressed(struct engine *e, struct ed_flash_region *r, uint32_t off,
                                uint32_t len)
{
    struct ed_deflated best = { 0 };
    if (len <= ED_DEFLATE_WHOLE_MAX) {
        int rc = ed_deflate_best(r->fd, off, len, e->opts ? e->opts->deflate_cache : NULL,
                                 &best);
        if (rc != ED_OK)
            return rc;
        r->libdeflate_size += best.libdeflate_len;
        if (best.data) {
            r->zlib_size += best.zlib_len;
            r->used_libdeflate = true;
            r->compressed_from_cache = best.from_cache &&
                                       (r->compressed_from_cache || r->compressed_size == 0);
            rc = send_stream(e, r, off, len, best.len, &best);
            ed_deflated_free(&best);
            return rc;
        }
    }
    r->compressed_from_cache = false;
    uint64_t compressed = 0;
    int rc = ed_flash_deflate(r->fd, off, len, count_sink, &compressed);
    if (rc != ED_OK)
        return rc;
    r->zlib_size += compressed;
    return send_stream(e, r, off, len, compressed, NULL);
}

/* ---- uncompressed runs -------------------------------------------------------------- */

/* May a write into the current region erase `spill` too? Only when a region written
 * after it covers those sectors: its own write erases and rewrites them anyway. */
static bool spill_rewritten_later(const struct engine *e, struct ed_erase_span spill)
{
    for (size_t j = e->index + 1; j < e->count; j++)
        if (ed_erase_span_within(spill, ed_erase_own(e->regions[j].addr, e->regions[j].size)))
            return true;
    return false;
}

static int write_part(struct engine *e, struct ed_flash_region *r,
                      const struct ed_erase_part *p, uint8_t *buf, uint32_t block)
{
    int rc = ed_flash_link_begin_part(&e->link, p);
    uint32_t base = p->offset - r->addr;
    for (uint32_t pos = 0, seq = 0; pos < p->len && rc == ED_OK; seq++) {
        uint32_t n = p->len - pos < block ? p->len - pos : block;
        if (ed_flash_cancelled(e->opts))
            return ED_E_CANCELLED;
        rc = ed_flash_pread(r->fd, buf, n, (uint64_t)base + pos);
        if (rc == ED_OK)
            rc = ed_flash_link_data(&e->link, buf, n, seq);
        if (rc == ED_OK) {
            pos += n;
            r->done += n;
            report(e, r, "writing");
        }
    }
    return rc;
}

static int write_run_plain(struct engine *e, struct ed_flash_region *r, uint32_t off,
                           uint32_t len)
{
    /* FLASH_BEGIN erases the run up front on a ROM; the ESP8266 ROM's by a rule of its
     * own, so the run is cut into the FLASH_BEGINs that erase exactly its sectors. */
    struct ed_erase_part parts[ED_ERASE_MAX_PARTS];
    struct ed_erase_span spill;
    size_t count = ed_erase_split(ed_erase_rule_of(e->ld), r->addr + off, len, parts, &spill);
    if (spill.start != spill.end && !spill_rewritten_later(e, spill))
        return ED_E_REFUSED;   /* the plan refuses this first; never erase what was not asked */
    e->link.resent = &r->resent;
    uint32_t block = ed_loader_flash_block(e->ld);
    uint8_t *buf = malloc(block);
    if (!buf)
        return ED_E_NOMEM;
    int rc = ED_OK;
    for (size_t i = 0; i < count && rc == ED_OK; i++)
        rc = write_part(e, r, &parts[i], buf, block);
    free(buf);
    return rc;
}

static int write_run(struct engine *e, struct ed_flash_region *r, uint32_t off, uint32_t len)
{
    report(e, r, "writing");   /* before FLASH_BEGIN: it may erase first (a ROM does) */
    int rc = r->compressed ? write_run_compressed(e, r, off, len)
                           : write_run_plain(e, r, off, len);
    if (rc == ED_OK && e->ld->stub)
        rc = ed_flash_link_barrier(&e->link);
    if (rc == ED_OK)
        r->written += len;
    return rc;
}

/* ---- regions ------------------------------------------------------------------------ */

/* Mark in dirty[] the chunks whose flash MD5 differs from the file's; the rest count as
 * skipped. Returns true in *all_same when the whole region already matches. */
static int compare(struct engine *e, struct ed_flash_region *r, uint32_t chunk, bool *dirty,
                   size_t chunks, bool *all_same)
{
    uint8_t flash_md5[16], file_md5[16];
    *all_same = false;
    report(e, r, "comparing");
    int rc = ed_flash_link_md5(&e->link, r->addr, r->size, flash_md5);
    if (rc != ED_OK)
        return rc;
    if (memcmp(flash_md5, r->file_md5, 16) == 0) {
        *all_same = true;
        memcpy(r->flash_md5, flash_md5, 16);
        return ED_OK;
    }
    /* An erased region (a new board, or after erase): a chunk already matches exactly
     * when the file holds 0xFF there, which the file alone tells, without asking the
     * board for a hash per chunk (13 ms each for 64 KiB on the stub). */
    uint8_t erased_md5[16];
    ed_flash_md5_erased(r->size, erased_md5);
    bool erased = memcmp(flash_md5, erased_md5, 16) == 0;
    for (size_t i = 0; i < chunks; i++) {
        if (ed_flash_cancelled(e->opts))
            return ED_E_CANCELLED;
        uint32_t off = (uint32_t)(i * chunk);
        uint32_t n = r->size - off < chunk ? r->size - off : chunk;
        bool same;
        if (erased) {
            rc = ed_flash_file_is_erased(r->fd, off, n, &same);
        } else {
            rc = ed_flash_md5_file(r->fd, off, n, file_md5);
            if (rc == ED_OK)
                rc = ed_flash_link_md5(&e->link, r->addr + off, n, flash_md5);
            same = memcmp(file_md5, flash_md5, 16) == 0;
        }
        if (rc != ED_OK)
            return rc;
        dirty[i] = !same;
        if (!dirty[i]) {
            r->skipped += n;
            r->done += n;
        }
    }
    report(e, r, "comparing");
    return ED_OK;
}

static int verify(struct engine *e, struct ed_flash_region *r)
{
    report(e, r, "verifying");
    int rc = ed_flash_link_md5(&e->link, r->addr, r->size, r->flash_md5);
    if (rc != ED_OK)
        return rc;
    r->verify = memcmp(r->flash_md5, r->file_md5, 16) == 0 ? ED_VERIFY_OK : ED_VERIFY_MISMATCH;
    return r->verify == ED_VERIFY_OK ? ED_OK : ED_E_VERIFY;
}

/* Where a loader that cannot hash flash (the ESP8266 ROM) resumes a region after a
 * failure: at the sector holding the first block it did not acknowledge (what it
 * acknowledged is in flash; a block whose answer was lost may or may not be, and sent
 * again it would land after itself), but never with a single sector left, which that ROM
 * cannot erase alone. */
static uint32_t plain_resume_point(const struct ed_flash_region *r)
{
    uint64_t at = (uint64_t)r->addr + r->done;
    uint32_t from = at / ED_FLASH_SECTOR * ED_FLASH_SECTOR > r->addr
                        ? (uint32_t)(at / ED_FLASH_SECTOR * ED_FLASH_SECTOR - r->addr) : 0;
    while (from > 0 && ed_erase_own(r->addr + from, r->size - from).end -
                               ed_erase_own(r->addr + from, r->size - from).start <
                           2 * ED_FLASH_SECTOR)
        from = from > ED_FLASH_SECTOR ? from - ED_FLASH_SECTOR : 0;
    return from;
}

/* One pass over a region: compare (always when resuming after a failure, so that what
 * already verifies is kept), write what differs, verify. A loader that cannot compare
 * resumes at plain_from instead (0: from the start). */
static int write_region_once(struct engine *e, struct ed_flash_region *r, bool resume,
                             uint32_t plain_from)
{
    uint32_t chunk = e->opts && e->opts->skip_chunk ? e->opts->skip_chunk : ED_FLASH_SKIP_CHUNK;
    if (resume)
        chunk = ED_FLASH_RESUME_CHUNK;
    size_t chunks = r->size ? (r->size - 1) / chunk + 1 : 0;
    bool md5 = ed_flash_can_md5(e->ld);
    bool skip = md5 && (resume || (e->opts && e->opts->skip_unchanged)) && r->size > 0;
    r->compressed = ed_flash_can_compress(e->ld);
    r->compressed_size = r->written = r->skipped = r->done = 0;
    r->zlib_size = r->libdeflate_size = 0;
    r->used_libdeflate = r->compressed_from_cache = false;
    r->verify = ED_VERIFY_NONE;
    if (!md5 && resume && plain_from > 0 && plain_from < r->size) {
        r->written = r->done = plain_from;   /* acknowledged before the failure */
        return write_run(e, r, plain_from, r->size - plain_from);
    }

    int rc = ED_OK;
    bool *dirty = malloc(chunks ? chunks : 1);
    if (!dirty)
        return ED_E_NOMEM;
    memset(dirty, 1, chunks);
    bool all_same = false;
    if (skip)
        rc = compare(e, r, chunk, dirty, chunks, &all_same);
    if (rc == ED_OK && all_same) {
        r->skipped = r->done = r->size;
        r->verify = ED_VERIFY_OK;
        report(e, r, "verifying");
        free(dirty);
        return ED_OK;
    }
    /* Write each run of consecutive differing chunks as one session. */
    for (size_t i = 0; i < chunks && rc == ED_OK;) {
        if (!dirty[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < chunks && dirty[j])
            j++;
        uint32_t off = (uint32_t)(i * chunk);
        uint64_t end = (uint64_t)j * chunk < r->size ? (uint64_t)j * chunk : r->size;
        rc = write_run(e, r, off, (uint32_t)(end - off));
        i = j;
    }
    free(dirty);
    if (rc != ED_OK)
        return rc;
    if (!md5) {
        r->verify = ED_VERIFY_NONE;
        return ED_OK;
    }
    return verify(e, r);
}

/* A region, as often as it takes: a mismatch after writing is written once more (line
 * noise can slip through the blocks' checksums; a flash that does not program will not
 * match twice), a failed link is handed to the recover hook and the region resumes. The
 * recoveries are bounded by how many come in a row without the region getting further:
 * a region that keeps getting further ends (it is finite), and a cap on the total would
 * only stop a noisy line that was winning (under load, a 1e-3 line needs more than 24). */
static int write_region(struct engine *e, struct ed_flash_region *r)
{
    unsigned max = e->opts && e->opts->max_recoveries ? e->opts->max_recoveries
                                                      : ED_FLASH_RECOVERIES;
    bool recover = e->opts && e->opts->recover;
    int rc = ed_flash_md5_file(r->fd, 0, r->size, r->file_md5);
    if (rc != ED_OK)
        return rc;
    uint32_t furthest = 0, plain_from = 0;
    unsigned stuck = 0;
    for (unsigned mismatches = 0, attempt = 0;; attempt++) {
        e->link.failed = false;
        rc = write_region_once(e, r, attempt > 0, plain_from);
        if (rc == ED_OK || ed_flash_cancelled(e->opts))
            return rc;
        if (rc == ED_E_VERIFY) {
            if (++mismatches > 1)
                return rc;
            continue;
        }
        if (!recover || !e->link.failed || !ed_flash_link_recoverable(rc))
            return rc;
        if (r->done > furthest) {
            furthest = r->done;
            stuck = 0;
        }
        plain_from = ed_flash_can_md5(e->ld) ? 0 : plain_resume_point(r);
        if (++stuck > max)
            return rc;
        e->recoveries++;
        r->recoveries++;
        int why = rc;
        rc = e->opts->recover(e->opts->recover_ctx, e->ld, why);
        if (rc != ED_OK)
            return ed_flash_cancelled(e->opts) ? ED_E_CANCELLED : rc;
    }
}

int ed_flash_write(struct ed_loader *ld, struct ed_flash_region *regions, size_t count,
                   const struct ed_flash_opts *opts, size_t *failed_at)
{
    struct engine e = { .ld = ld, .opts = opts, .regions = regions, .count = count,
                        .link = { .ld = ld, .opts = opts } };
    for (size_t i = 0; i < count; i++)
        e.total += regions[i].size;
    for (size_t i = 0; i < count; i++) {
        struct ed_flash_region *r = &regions[i];
        r->compressed_size = r->written = r->skipped = r->done = 0;
        r->zlib_size = r->libdeflate_size = 0;
        r->used_libdeflate = r->compressed_from_cache = false;
        r->resent = r->recoveries = 0;
        r->verify = ED_VERIFY_NONE;
        e.index = i;
        uint64_t t0 = ed_tp_now_us(ld->tp);
        int rc = ed_flash_cancelled(opts) ? ED_E_CANCELLED : write_region(&e, r);
        /* A recovery that could not reopen a vanished port leaves no transport. */
        r->seconds = ld->tp ? (double)(ed_tp_now_us(ld->tp) - t0) / 1e6 : 0;
        /* A transfer broken by the interrupt (EINTR, a short read) is a cancellation. */
        if (rc != ED_OK && rc != ED_E_VERIFY && ed_flash_cancelled(opts))
            rc = ED_E_CANCELLED;
        if (rc != ED_OK) {
            if (failed_at)
                *failed_at = i;
            return rc;
        }
        e.total_before += r->size;
    }
    if (failed_at)
        *failed_at = count;
    return ED_OK;
}

int ed_flash_prepare(struct ed_loader *ld, uint32_t flash_size)
{
    int rc = ED_OK;
    if (!ld->spi_attached)
        rc = ed_loader_spi_attach(ld);
    if (rc == ED_OK && (ld->stub || (ld->chip && ld->chip->rom_spi_attach)))
        rc = ed_loader_spi_set_params(ld, flash_size ? flash_size : ED_FLASH_DEFAULT_SIZE);
    return rc;
}

int ed_flash_finish(struct ed_loader *ld)
{
    if (!ld->stub)
        return ED_OK;
    /* An empty session, closed with "stay in the loader": the stub flushes and stays. */
    int rc = ed_loader_flash_begin(ld, 0, 0);
    if (rc == ED_OK)
        rc = ed_loader_flash_end(ld, false);
    return rc;
}
