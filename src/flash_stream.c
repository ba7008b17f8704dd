/* Streaming a file region: reads, MD5 and zlib compression through fixed buffers.
 *
 * FLASH_DEFL_BEGIN must announce the compressed size before the first byte is sent, and
 * the whole compressed stream must not be held in memory (16 MiB images, 10 MiB RSS).
 * Of the two ways to know the size up front (compress once to count, then again to send;
 * or spill the stream to a temporary file), this file takes the first: zlib is
 * deterministic for the same input, level and feeding pattern, so both passes produce the
 * same bytes; nothing is written to disk, nothing is left behind when the run is
 * interrupted, and the CPU cost (a second level-9 pass) is small next to the serial
 * transfer. ed_flash_deflate() is that one pass; the engine calls it twice. */
#include "flash_internal.h"

#include <errno.h>
#include <md5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "espdoctor/error.h"

#define DEFLATE_LEVEL 9

int ed_flash_pread(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ED_E_IO;
        got += (size_t)n;
    }
    return ED_OK;
}

int ed_flash_md5_file(int fd, uint64_t off, uint32_t len, uint8_t md5[16])
{
    uint8_t *buf = malloc(ED_FLASH_IO_BLOCK);
    if (!buf)
        return ED_E_NOMEM;
    MD5_CTX ctx;
    MD5Init(&ctx);
    int rc = ED_OK;
    for (uint32_t pos = 0; pos < len && rc == ED_OK;) {
        size_t n = len - pos < ED_FLASH_IO_BLOCK ? len - pos : ED_FLASH_IO_BLOCK;
        rc = ed_flash_pread(fd, buf, n, off + pos);
        if (rc == ED_OK)
            MD5Update(&ctx, buf, n);
        pos += (uint32_t)n;
    }
    MD5Final(md5, &ctx);
    free(buf);
    return rc;
}

void ed_flash_md5_erased(uint32_t len, uint8_t md5[16])
{
    uint8_t erased[256];
    memset(erased, 0xFF, sizeof erased);
    MD5_CTX ctx;
    MD5Init(&ctx);
    for (uint32_t pos = 0; pos < len; pos += sizeof erased)
        MD5Update(&ctx, erased, len - pos < sizeof erased ? len - pos : sizeof erased);
    MD5Final(md5, &ctx);
}

int ed_flash_file_is_erased(int fd, uint64_t off, uint32_t len, bool *erased)
{
    uint8_t *buf = malloc(ED_FLASH_IO_BLOCK);
    if (!buf)
        return ED_E_NOMEM;
    int rc = ED_OK;
    *erased = true;
    for (uint32_t pos = 0; pos < len && rc == ED_OK && *erased;) {
        size_t n = len - pos < ED_FLASH_IO_BLOCK ? len - pos : ED_FLASH_IO_BLOCK;
        rc = ed_flash_pread(fd, buf, n, off + pos);
        for (size_t i = 0; rc == ED_OK && i < n && *erased; i++)
            *erased = buf[i] == 0xFF;
        pos += (uint32_t)n;
    }
    free(buf);
    return rc;
}

/* Run deflate over what is in z, handing every full output buffer (and, at the end, the
 * rest) to the sink. */
static int pump(z_stream *z, int flush, uint8_t *out, ed_flash_sink sink, void *ctx)
{
    for (;;) {
        z->next_out = out;
        z->avail_out = ED_FLASH_IO_BLOCK;
        int zr = deflate(z, flush);
        if (zr == Z_STREAM_ERROR)
            return ED_E_PROTOCOL;
        size_t have = ED_FLASH_IO_BLOCK - z->avail_out;
        if (have) {
            int rc = sink(ctx, out, have);
            if (rc != ED_OK)
                return rc;
        }
        if (flush == Z_FINISH ? zr == Z_STREAM_END : z->avail_out != 0)
            return ED_OK;
    }
}

int ed_flash_deflate(int fd, uint64_t off, uint32_t len, ed_flash_sink sink, void *ctx)
{
    uint8_t *in = malloc(ED_FLASH_IO_BLOCK), *out = malloc(ED_FLASH_IO_BLOCK);
    z_stream z = { 0 };
    int rc = ED_E_NOMEM;
    if (!in || !out || deflateInit(&z, DEFLATE_LEVEL) != Z_OK)
        goto done;
    rc = ED_OK;
    for (uint32_t pos = 0; pos < len && rc == ED_OK;) {
        size_t n = len - pos < ED_FLASH_IO_BLOCK ? len - pos : ED_FLASH_IO_BLOCK;
        rc = ed_flash_pread(fd, in, n, off + pos);
        if (rc != ED_OK)
            break;
        z.next_in = in;
        z.avail_in = (uInt)n;
        rc = pump(&z, Z_NO_FLUSH, out, sink, ctx);
        pos += (uint32_t)n;
    }
    if (rc == ED_OK)
        rc = pump(&z, Z_FINISH, out, sink, ctx);
    deflateEnd(&z);
done:
    free(in);
    free(out);
    return rc;
}
