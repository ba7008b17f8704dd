/* Erasing and reading flash, with a stub's own commands or what the ROM offers. */
#include "flash_internal.h"

#include <errno.h>
#include <unistd.h>

#include "espdoctor/erase.h"
#include "espdoctor/error.h"
#include "espdoctor/stub.h"

#define SLOW_READ_MAX 64u

int ed_flash_erase(struct ed_loader *ld, bool whole_chip, uint32_t addr, uint32_t size,
                   uint32_t flash_size)
{
    if (ld->stub)
        return whole_chip ? ed_loader_erase_flash(ld) : ed_loader_erase_region(ld, addr, size);
    if (whole_chip) {
        addr = 0;
        size = flash_size ? flash_size : ED_FLASH_DEFAULT_SIZE;
    }
    if (addr % ED_FLASH_SECTOR || size % ED_FLASH_SECTOR)
        return ED_E_ARG;
    /* The ROM has no erase command, but FLASH_BEGIN erases its whole region before it
     * answers; no data follows, and no FLASH_END (it would leave the loader). The ESP8266
     * ROM may need two, and cannot erase one sector alone (erase.h). */
    struct ed_erase_part parts[ED_ERASE_MAX_PARTS];
    struct ed_erase_span spill;
    size_t n = ed_erase_split(ed_erase_rule_of(ld), addr, size, parts, &spill);
    if (spill.start != spill.end)
        return ED_E_REFUSED;
    int rc = ED_OK;
    for (size_t i = 0; i < n && rc == ED_OK; i++)
        rc = ed_loader_flash_begin_erasing(ld, parts[i].len, parts[i].offset,
                                           parts[i].erase_size);
    return rc;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ED_E_IO;
        data += n;
        len -= (size_t)n;
    }
    return ED_OK;
}

struct read_sink {
    int fd;
    uint32_t addr, size;
    uint32_t *done;
    const struct ed_flash_opts *opts;
};

static int to_file(void *ctx, const uint8_t *data, size_t len)
{
    struct read_sink *s = ctx;
    int rc = write_all(s->fd, data, len);
    if (rc != ED_OK)
        return rc;
    *s->done += (uint32_t)len;
    if (s->opts && s->opts->progress) {
        struct ed_flash_progress p = {
            .region_done = *s->done, .region_size = s->size, .total_done = *s->done,
            .total = s->size, .phase = "reading",
        };
        s->opts->progress(s->opts->progress_ctx, &p);
    }
    return ED_OK;
}

/* READ_FLASH_SLOW: 64 bytes a command, gathered into bigger writes. */
static int read_slow(struct ed_loader *ld, struct read_sink *s)
{
    uint8_t buf[ED_FLASH_SECTOR];
    size_t fill = 0;
    int rc = ED_OK;
    for (uint32_t pos = 0; pos < s->size && rc == ED_OK;) {
        if (ed_flash_cancelled(s->opts))
            return ED_E_CANCELLED;
        uint32_t n = s->size - pos < SLOW_READ_MAX ? s->size - pos : SLOW_READ_MAX;
        rc = ed_loader_read_flash_slow(ld, s->addr + pos, buf + fill, n);
        fill += n;
        pos += n;
        if (rc == ED_OK && (fill == sizeof buf || pos == s->size)) {
            rc = to_file(s, buf, fill);
            fill = 0;
        }
    }
    return rc;
}

int ed_flash_read(struct ed_loader *ld, uint32_t addr, uint32_t size, int fd,
                  const struct ed_flash_opts *opts, uint32_t *done)
{
    uint32_t ignored = 0;
    struct read_sink s = { .fd = fd, .addr = addr, .size = size, .done = done ? done : &ignored,
                           .opts = opts };
    *s.done = 0;
    if (!ed_flash_can_read(ld))
        return ED_E_UNSUPPORTED;
    if (ld->stub)
        return ed_loader_read_flash(ld, addr, size, to_file, &s, opts ? opts->cancel : NULL);
    return read_slow(ld, &s);
}
