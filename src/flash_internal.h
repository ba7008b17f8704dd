/* Between the flasher's files (flash_engine.c, flash_stream.c, flash_read.c): reading a
 * file region in blocks, compressing it, and the checks every loop makes. */
#ifndef ESPDOCTOR_FLASH_INTERNAL_H
#define ESPDOCTOR_FLASH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "espdoctor/flash.h"

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

/* True when the caller asked to stop. */
static inline bool ed_flash_cancelled(const struct ed_flash_opts *o)
{
    return o && o->cancel && *o->cancel;
}

#endif
