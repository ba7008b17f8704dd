/* The smaller of libdeflate -12 and zlib -9, cached by the input's SHA-256.
 *
 * A cache entry is <dir>/<sha256 of the input>-<level>.z: a 48-byte header ("EDZ1", the
 * input's and the stream's lengths, zlib -9's length, the SHA-256 of the stream) and the
 * stream. A short, damaged or foreign entry fails its checks and is replaced, never sent. */
#include "espdoctor/deflate_best.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "flash_internal.h"

#define CACHE_MAGIC "EDZ1"
#define HEADER_LEN 48u

bool ed_deflate_cache_dir(char *path, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')   /* the XDG spec: a relative value is to be ignored */
        n = snprintf(path, cap, "%s/espdoctor/deflate", xdg);
    else if (home && home[0])
        n = snprintf(path, cap, "%s/.cache/espdoctor/deflate", home);
    else
        return false;
    return n > 0 && (size_t)n < cap;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void sha256(const uint8_t *data, size_t len, uint8_t digest[SHA256_DIGEST_LENGTH])
{
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    SHA256Update(&ctx, data, len);
    SHA256Final(digest, &ctx);
}

static bool entry_path(const char *dir, const uint8_t key[SHA256_DIGEST_LENGTH], char *path,
                       size_t cap)
{
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    int n = snprintf(path, cap, "%s/%s-%d.z", dir, hex, ED_DEFLATE_BEST_LEVEL);
    return n > 0 && (size_t)n < cap;
}

/* The entry at path, if every check holds: the stream in out, true. */
static bool cache_read(const char *path, uint32_t input_len, struct ed_deflated *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    uint8_t h[HEADER_LEN];
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && ed_flash_pread(fd, h, HEADER_LEN, 0) == ED_OK &&
              memcmp(h, CACHE_MAGIC, 4) == 0 && get32(h + 4) == input_len;
    uint32_t len = ok ? get32(h + 8) : 0;
    ok = ok && len > 0 && len <= input_len + input_len / 8 + 1024 &&
         (uint64_t)st.st_size == HEADER_LEN + (uint64_t)len;
    uint8_t *data = ok ? malloc(len) : NULL;
    ok = data && ed_flash_pread(fd, data, len, HEADER_LEN) == ED_OK;
    close(fd);
    uint8_t digest[SHA256_DIGEST_LENGTH];
    if (ok) {
        sha256(data, len, digest);
        ok = memcmp(digest, h + 16, SHA256_DIGEST_LENGTH) == 0;
    }
    if (!ok) {
        free(data);
        return false;
    }
    out->data = data;
    out->len = len;
    out->zlib_len = get32(h + 12);
    out->libdeflate_len = len;
    out->from_cache = true;
    return true;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Best effort: a cache that cannot be written only costs a compression next time. */
static void cache_write(const char *dir, const char *path, uint32_t input_len,
                        const struct ed_deflated *d)
{
    char tmp[4200], where[4096];
    snprintf(where, sizeof where, "%s", dir);
    if (mkdirs(where) != 0 ||
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
        return;
    uint8_t h[HEADER_LEN] = { 0 };
    memcpy(h, CACHE_MAGIC, 4);
    put32(h + 4, input_len);
    put32(h + 8, (uint32_t)d->len);
    put32(h + 12, (uint32_t)d->zlib_len);
    sha256(d->data, d->len, h + 16);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    bool ok = write_all(fd, h, HEADER_LEN) && write_all(fd, d->data, d->len);
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}

static int count_sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)data;
    *(uint64_t *)ctx += len;
    return ED_OK;
}

int ed_deflate_best(int fd, uint64_t off, uint32_t len, const char *cache_dir,
                    struct ed_deflated *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > ED_DEFLATE_WHOLE_MAX)
        return ED_E_ARG;
    uint8_t *in = malloc(len);
    if (!in)
        return ED_E_NOMEM;
    int rc = ed_flash_pread(fd, in, len, off);
    uint8_t key[SHA256_DIGEST_LENGTH];
    char path[4096];
    bool cached = false;
    if (rc == ED_OK && cache_dir) {
        sha256(in, len, key);
        cached = entry_path(cache_dir, key, path, sizeof path);
        if (cached && cache_read(path, len, out)) {
            free(in);
            return ED_OK;
        }
    }
    if (rc == ED_OK)
        rc = ed_flash_deflate(fd, off, len, count_sink, &out->zlib_len);
    struct libdeflate_compressor *c = NULL;
    if (rc == ED_OK) {
        c = libdeflate_alloc_compressor(ED_DEFLATE_BEST_LEVEL);
        size_t cap = c ? libdeflate_zlib_compress_bound(c, len) : 0;
        out->data = cap ? malloc(cap) : NULL;
        if (!out->data)
            rc = ED_E_NOMEM;
        else
            out->len = libdeflate_zlib_compress(c, in, len, out->data, cap);
        out->libdeflate_len = out->len;
    }
    if (c)
        libdeflate_free_compressor(c);
    free(in);
    if (rc != ED_OK || out->len == 0 || out->len >= out->zlib_len) {
        /* zlib won (or libdeflate could not): the caller streams zlib -9 as before. */
        free(out->data);
        out->data = NULL;
        out->len = 0;
        return rc;
    }
    if (cached)
        cache_write(cache_dir, path, len, out);
    return ED_OK;
}

void ed_deflated_free(struct ed_deflated *d)
{
    free(d->data);
    d->data = NULL;
}
