/* The SPI NOR flash chip: erase sets bytes to 0xFF, programming can only clear bits.
 * Its contents live in a file mapped MAP_SHARED, so a killed espsim leaves exactly what
 * was written. The part (--flash-chip) sets the JEDEC id (manufacturer, type; the capacity
 * byte follows the size) and the typical timings of its datasheet. */
#include "board_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_NS_PER_BYTE 100   /* about 10 MB/s through the SPI controller */

static const struct sim_flash_part parts[] = {
    /* GigaDevice GD25Q32C datasheet, typical: page program (256 B) 0.6 ms, sector erase
     * (4 KiB) 50 ms, block erase (64 KiB) 0.25 s; RDID C8 40 16. Chip erase: 10 s for
     * 4 MiB, as the W25Q32JV's (the GD25Q32C figure was not among the sources used). */
    { "gd25q32c", 0xC8, 0x40, 600 * NS_PER_US, 50 * NS_PER_MS, 250 * NS_PER_MS,
      2500 * NS_PER_MS },
    /* Winbond W25Q32JV datasheet, typical: tPP 0.4 ms, tSE 45 ms, tBE2 (64 KiB) 150 ms,
     * tCE 10 s; RDID EF 40 16. */
    { "w25q32jv", 0xEF, 0x40, 400 * NS_PER_US, 45 * NS_PER_MS, 150 * NS_PER_MS,
      2500 * NS_PER_MS },
};

const struct sim_flash_part *nor_part(const char *name)
{
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strcmp(parts[i].name, name ? name : "gd25q32c") == 0)
            return &parts[i];
    return NULL;
}

static unsigned log2_floor(size_t v)
{
    unsigned r = 0;
    while (v > 1) {
        v >>= 1;
        r++;
    }
    return r;
}

static int open_file(struct nor *f, const char *path, uint32_t size, char *err,
                     size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "flash file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "flash file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    bool fresh = st.st_size == 0;
    if (fresh) {
        if (ftruncate(fd, size) != 0) {
            snprintf(err, errlen, "flash file %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
    } else {
        /* An existing file is the flash: its size is the flash size. */
        if (st.st_size % SECTOR_SIZE != 0 || st.st_size > 256 * 1024 * 1024) {
            snprintf(err, errlen, "flash file %s: size %lld is not a whole number of "
                     "4 KiB sectors up to 256 MiB", path, (long long)st.st_size);
            close(fd);
            return -1;
        }
        size = (uint32_t)st.st_size;
    }
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (mem == MAP_FAILED) {
        snprintf(err, errlen, "flash file %s: mmap: %s", path, strerror(errno));
        return -1;
    }
    if (fresh)
        memset(mem, 0xFF, size);
    f->mem = mem;
    f->size = size;
    f->mapped = true;
    return 0;
}

/* A counterfeit part: its JEDEC id claims `size` but the array holds `real` bytes, and the
 * address bits above it are not decoded, so address real reads (and writes) address 0:
 * the wrap-around users' read tests find on fake "16 MB" chips. The real array (a file,
 * or an anonymous memory file) is mapped again and again over the claimed range. */
static int open_wrapped(struct nor *f, const char *path, uint32_t size, uint32_t real,
                        char *err, size_t errlen)
{
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)
                  : memfd_create("espsim-flash", MFD_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "flash file %s: %s", path ? path : "(memory)", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    bool fresh = st.st_size == 0;
    if ((!fresh && st.st_size != (off_t)real) || (fresh && ftruncate(fd, real) != 0)) {
        snprintf(err, errlen, "flash file %s: a fake-size flash keeps its real %u bytes; "
                 "the file has %lld", path ? path : "(memory)", real, (long long)st.st_size);
        close(fd);
        return -1;
    }
    uint8_t *base = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (uint32_t off = 0; base != MAP_FAILED && off < size; off += real)
        if (mmap(base + off, real, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
            MAP_FAILED) {
            munmap(base, size);
            base = MAP_FAILED;
        }
    close(fd);
    if (base == MAP_FAILED) {
        snprintf(err, errlen, "flash: mmap: %s", strerror(errno));
        return -1;
    }
    if (fresh)
        memset(base, 0xFF, real);
    f->mem = base;
    f->size = size;
    f->real_size = real;
    f->mapped = true;
    return 0;
}

int nor_open(struct nor *f, const char *path, uint32_t size, uint32_t real_size,
             const char *part, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->part = nor_part(part);
    if (!f->part) {
        snprintf(err, errlen, "unknown flash chip \"%s\" (gd25q32c, w25q32jv)", part);
        return -1;
    }
    if (size == 0)
        size = 4 * 1024 * 1024;
    if (size % SECTOR_SIZE != 0) {
        snprintf(err, errlen, "flash size %u is not a multiple of 4 KiB", size);
        return -1;
    }
    if (real_size && real_size < size) {
        if (open_wrapped(f, path, size, real_size, err, errlen) != 0)
            return -1;
    } else if (path) {
        if (open_file(f, path, size, err, errlen) != 0)
            return -1;
    } else {
        f->mem = malloc(size);
        if (!f->mem) {
            snprintf(err, errlen, "out of memory for %u bytes of flash", size);
            return -1;
        }
        memset(f->mem, 0xFF, size);
        f->size = size;
    }
    f->jedec_id = f->part->manufacturer | (uint32_t)f->part->type << 8 |
                  (uint32_t)log2_floor(f->size) << 16;
    return 0;
}

void nor_close(struct nor *f)
{
    if (!f->mem)
        return;
    if (f->mapped) {
        msync(f->mem, f->real_size ? f->real_size : f->size, MS_SYNC);
        munmap(f->mem, f->size);
    } else {
        free(f->mem);
    }
    f->mem = NULL;
}

uint64_t nor_erase(struct nor *f, uint32_t addr, uint32_t len)
{
    uint64_t start = addr / SECTOR_SIZE * (uint64_t)SECTOR_SIZE;
    uint64_t end = ((uint64_t)addr + len + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
    if (end > f->size)
        end = f->size;
    uint64_t ns = 0;
    if (f->silent)
        return 0;   /* the command is not heard */
    while (start < end) {
        uint64_t step = SECTOR_SIZE;
        if (start % BLOCK_SIZE == 0 && end - start >= BLOCK_SIZE) {
            step = BLOCK_SIZE;
            ns += f->part->block_erase_ns;
        } else {
            ns += f->part->sector_erase_ns;
        }
        memset(f->mem + start, 0xFF, step);
        start += step;
    }
    return ns;
}

uint64_t nor_erase_chip(struct nor *f)
{
    if (f->silent)
        return 0;
    memset(f->mem, 0xFF, f->size);
    return f->part->chip_erase_ns_per_mib * f->size / (1024 * 1024);
}

static bool bad_sector(const struct nor *f, uint32_t addr)
{
    for (size_t i = 0; i < f->bad_sector_count; i++)
        if (addr / SECTOR_SIZE == f->bad_sectors[i] / SECTOR_SIZE)
            return true;
    return false;
}

bool nor_program(struct nor *f, uint32_t addr, const uint8_t *data, size_t n,
                 uint64_t *ns)
{
    bool ok = true;
    size_t pages = 0;
    uint32_t last_page = UINT32_MAX;
    *ns = 0;
    if (f->silent)
        return n == 0;   /* not heard: nothing is programmed */
    for (size_t i = 0; i < n && addr + i < f->size; i++) {
        uint8_t *cell = &f->mem[addr + i];
        if (bad_sector(f, (uint32_t)(addr + i)))
            continue;   /* injected fault: the cells keep what they held, silently */
        *cell &= data[i];
        if (*cell != data[i])
            ok = false;
        uint32_t page = (uint32_t)(addr + i) / PAGE_SIZE;
        if (page != last_page) {
            pages++;
            last_page = page;
        }
    }
    if ((uint64_t)addr + n > f->size)
        ok = false;
    *ns = pages * f->part->page_program_ns;
    return ok;
}

uint64_t nor_read_ns(size_t n)
{
    return (uint64_t)n * READ_NS_PER_BYTE;
}
