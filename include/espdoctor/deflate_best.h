/* The fewest bytes for a compressed write: libdeflate at its highest level where it beats
 * zlib -9, kept in a cache by the SHA-256 of what it compresses. Both encoders give a zlib
 * stream (RFC 1950) that the ROM and the stub inflate alike. */
#ifndef ESPDOCTOR_DEFLATE_BEST_H
#define ESPDOCTOR_DEFLATE_BEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libdeflate's level, and the largest run compressed whole in memory: the input and the
 * output together stay well under the 10 MiB a 16 MiB flash may take (flash.h); larger
 * runs are streamed through zlib -9. */
#define ED_DEFLATE_BEST_LEVEL 12
#define ED_DEFLATE_WHOLE_MAX (2u * 1024 * 1024)

struct ed_deflated {
    uint8_t *data;              /* the stream (malloc'd), NULL when zlib won: stream it */
    size_t len;
    uint64_t zlib_len;          /* zlib -9's size of the same input */
    uint64_t libdeflate_len;
    bool from_cache;
};

/* The cache directory: $XDG_CACHE_HOME/espdoctor/deflate, else ~/.cache/espdoctor/deflate
 * (written into path; false when neither is set or it does not fit). */
bool ed_deflate_cache_dir(char *path, size_t cap);

/* Compress [off, off + len) of fd (len <= ED_DEFLATE_WHOLE_MAX) with both encoders and
 * keep the smaller. cache_dir (NULL: no cache) is read first: an entry is used only when
 * its header and the SHA-256 of its stream check out, otherwise it is ignored and
 * written again (a temporary file renamed into place). ED_OK or an ED_E_* code; a cache
 * that cannot be written is no error. */
int ed_deflate_best(int fd, uint64_t off, uint32_t len, const char *cache_dir,
                    struct ed_deflated *out);

void ed_deflated_free(struct ed_deflated *d);

#endif
