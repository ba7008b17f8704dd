/* Between the flasher's files (flash_engine.c, flash_stream.c, flash_access.c,
 * flash_retry.c): reading a file region in blocks, compressing it, the checks every loop
 * makes, and which failures a retry cures. */
#ifndef ESPDOCTOR_FLASH_INTERNAL_H
#define ESPDOCTOR_FLASH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "espdoctor/erase.h"
#include "espdoctor/flash.h"
#include "espdoctor/loader.h"

#define ED_FLASH_IO_BLOCK 0x4000u   /* file reads and compressor buffers */

/* pread exactly len bytes at off; ED_E_IO on an error or a file that became shorter. */
int ed_flash_pread(int fd, uint8_t *buf, size_t len, uint64_t off);

/* Compress [off, off + len) of fd as one zlib stream at level 9, handing the output to
 * sink piece by piece. The same input always gives the same stream, byte for byte, so a
 * first call can count what a second call sends. Stops with the sink's error. */
typedef int (*ed_flash_sink)(void *ctx, const uint8_t *data, size_t len);
int ed_flash_deflate(int fd, uint64_t off, uint32_t len, ed_flash_sink sink, void *ctx);

/* MD5 of [off, off + len) of fd. */
int ed_flash_md5_file(int fd, uint64_t off, uint32_t len, uint8_t md5[16]);

/* The MD5 of len bytes of 0xFF: what an erased stretch of NOR flash hashes to. */
void ed_flash_md5_erased(uint32_t len, uint8_t md5[16]);

/* *erased: the file's len bytes at off are all 0xFF (what erased flash already holds). */
int ed_flash_file_is_erased(int fd, uint64_t off, uint32_t len, bool *erased);

/* ---- flash_retry.c: loader calls that ride out a flaky line ---------------------------- */

/* A failure of the link (not of the file, not the user) that getting the loader talking
 * again may cure. */
bool ed_flash_link_recoverable(int rc);

/* The write in progress, as the calls below see it. */
struct ed_flash_link {
    struct ed_loader *ld;
    const struct ed_flash_opts *opts;   /* for its cancel flag */
    unsigned *resent;                   /* counts blocks sent again (NULL: not counted) */
    bool failed;                        /* a call failed: the link's fault, not the file's */
};

/* How a compressed stream is cut into FLASH_DEFL_DATA blocks; zero: whole blocks. */
struct ed_flash_pieces {
    uint32_t size;
    unsigned clean;             /* pieces in a row that went through */
};

/* SPI_FLASH_MD5, FLASH_(DEFL_)BEGIN and the barrier register read: asked again (up to 3
 * times) when the exchange was lost or garbled. */
int ed_flash_link_md5(struct ed_flash_link *l, uint32_t addr, uint32_t size, uint8_t md5[16]);
int ed_flash_link_begin(struct ed_flash_link *l, bool compressed, uint32_t len,
                        uint32_t compressed_len, uint32_t addr);
int ed_flash_link_barrier(struct ed_flash_link *l);
/* FLASH_BEGIN of one part of an uncompressed write (erase.h), asked again like begin. */
int ed_flash_link_begin_part(struct ed_flash_link *l, const struct ed_erase_part *p);

/* One FLASH_DATA block, sent again while the loader refuses it as damaged. */
int ed_flash_link_data(struct ed_flash_link *l, const uint8_t *data, size_t len,
                       uint32_t seq);

/* len bytes of a compressed run (of run_compressed bytes for run_len of image), in pieces
 * that shrink while the loader refuses them as damaged; *seq counts the blocks sent. */
int ed_flash_link_deflated(struct ed_flash_link *l, struct ed_flash_pieces *p,
                           const uint8_t *block, uint32_t len, uint32_t *seq,
                           uint32_t run_len, uint32_t run_compressed);

/* True when the caller asked to stop. */
static inline bool ed_flash_cancelled(const struct ed_flash_opts *o)
{
    return o && o->cancel && *o->cancel;
}

#endif
