/* mkimage: build synthetic, VALID firmware files for tests (never real firmware).
 *
 *   mkimage --chip esp32|esp8266|esp32s2|esp32s3|esp32c3|esp32c6
 *           --kind merged|bootloader|app|v1|v2|partitions
 *           [--size 1.5M] [--micropython v1.24.0] [--min-rev 0 --max-rev 399]
 *           [--base 0x1000] [--no-sha] [--corrupt] -o FILE
 *
 * --size is the size of the whole output file (approximately: segments are rounded).
 * --min-rev/--max-rev are major * 100 + minor, as in the image header.
 * --base lays a merged file out for another bootloader address than the chip's own.
 * --corrupt flips one byte inside the app (or bootloader) data after sealing it, so the
 * checksum and the SHA-256 no longer match.
 *
 * Content is generated from a seed derived from the arguments (same arguments, same
 * bytes) and mixes code-like bytes, strings, pointer tables and zero runs so that zlib
 * level 9 compresses it about as well as real MicroPython firmware (~60-65%). */
#include <getopt.h>
#include <md5.h>
#include <sha2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espdoctor/chips.h"

/* Memory layout of a chip: where bootloader and app segments load (from the chips'
 * technical reference manuals and typical ESP-IDF builds). */
struct layout {
    const char *chip;
    uint32_t boot_dram, boot_iram, boot_iram2, boot_entry;
    uint32_t app_drom, app_dram, app_iram, app_irom, app_entry;
    uint16_t max_rev;
    const char *board;     /* MicroPython banner: "<board> with <chip>" */
};

static const struct layout layouts[] = {
    { "esp32", 0x3FFF0030, 0x40078000, 0x40080400, 0x40080644,
      0x3F400020, 0x3FFBDB60, 0x40080000, 0x400D0020, 0x40081A1C, 399,
      "Generic ESP32 module" },
    { "esp32s2", 0x3FFE6100, 0x4004C000, 0x4004F000, 0x4004C3B4,
      0x3F000020, 0x3FFC3A00, 0x40022000, 0x40080020, 0x400247C0, 199,
      "ESP32S2 module" },
    { "esp32s3", 0x3FCD7000, 0x403C9700, 0x403CC700, 0x403C9908,
      0x3C0B0020, 0x3FC93E00, 0x40374000, 0x42000020, 0x40375A58, 99,
      "Generic ESP32S3 module" },
    { "esp32c3", 0x3FCD5820, 0x403CC710, 0x403CE710, 0x403CC962,
      0x3C0A0020, 0x3FC8E600, 0x40380000, 0x42000020, 0x40380420, 199,
      "ESP32C3 module" },
    { "esp32c6", 0x4086C110, 0x4086E610, 0x40875720, 0x4086E8BC,
      0x42800020, 0x40808000, 0x40800000, 0x42000020, 0x40800418, 99,
      "ESP32C6 module" },
};

/* MicroPython's ESP8266 layout: v1 image padded to 0x9000, then irom0 (makeimg.py). */
#define ESP8266_IROM_FILE_OFFSET 0x9000u

enum kind { K_MERGED, K_BOOTLOADER, K_APP, K_V1, K_V2, K_PARTITIONS };

struct options {
    const char *chip;
    enum kind kind;
    uint64_t size;
    const char *micropython;
    unsigned min_rev, max_rev;
    bool max_rev_given;
    bool base_given;
    uint32_t base;
    bool sha;
    bool corrupt;
    const char *out;
};

/* A growable byte buffer; the tool may hold the whole file, espdoctor may not. */
struct buf {
    uint8_t *data;
    size_t len, cap;
};

static void die(const char *msg)
{
    fprintf(stderr, "mkimage: %s\n", msg);
    exit(2);
}

static void reserve(struct buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        die("out of memory");
    b->data = p;
    b->cap = cap;
}

static void put(struct buf *b, const void *p, size_t n)
{
    reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void fill(struct buf *b, uint8_t value, size_t n)
{
    reserve(b, n);
    memset(b->data + b->len, value, n);
    b->len += n;
}

static void put_le32(struct buf *b, uint32_t v)
{
    uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(b, p, 4);
}

static void put_le16(struct buf *b, uint16_t v)
{
    uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    put(b, p, 2);
}

/* ---- content ----------------------------------------------------------------------------- */

struct rng {
    uint64_t state;
};

static uint64_t next(struct rng *r)   /* splitmix64 */
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const char *const words[] = {
    "mp_obj_", "machine", "network", "socket", "uasyncio", "esp_err_t", "timeout",
    "invalid argument", "WLAN", "nvs_flash", "spi_flash", "heap_caps", "gpio_", "uart_",
    "Traceback (most recent call last)", "OSError", "ValueError", "TypeError", "__init__",
    "esp_timer", "freertos", "task_wdt", "lwip", "tcpip", "dhcp", "bluetooth", "ble_gap",
    "%s:%d ", "0x%08x", "assert failed: ", "E (%u) %s: ", "read", "write", "close",
};

/* Code: skewed byte frequencies (opcodes and registers recur), about 6 bits per byte. */
static void gen_code(struct buf *b, size_t n, struct rng *r)
{
    static const uint8_t common[] = { 0x00, 0x01, 0x0C, 0x1C, 0x20, 0x22, 0x28, 0x41, 0x81,
                                      0x91, 0xA2, 0xC0, 0xE5, 0xF0, 0xFF, 0x06 };
    reserve(b, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = next(r);
        b->data[b->len++] = (x & 7) < 5 ? common[(x >> 8) & 0xF] : (uint8_t)(x >> 16);
    }
}

/* Code also repeats itself (prologues, inlined helpers): copy an earlier fragment. */
static void gen_repeat(struct buf *b, size_t n, size_t segment_start, struct rng *r)
{
    size_t have = b->len - segment_start;
    if (have < n) {
        gen_code(b, n, r);
        return;
    }
    size_t from = segment_start + (size_t)(next(r) % (have - n + 1));
    reserve(b, n);
    memmove(b->data + b->len, b->data + from, n);
    b->len += n;
}

static void gen_strings(struct buf *b, size_t n, struct rng *r)
{
    size_t end = b->len + n;
    while (b->len < end) {
        const char *w = words[next(r) % (sizeof words / sizeof words[0])];
        size_t len = strlen(w) + 1;
        if (len > end - b->len)
            len = end - b->len;
        put(b, w, len);
    }
}

static void gen_pointers(struct buf *b, size_t n, uint32_t base, struct rng *r)
{
    uint32_t p = base + (uint32_t)(next(r) % 0x10000) * 4;
    size_t end = b->len + n;
    while (b->len + 4 <= end) {
        p += 4 * (uint32_t)(1 + next(r) % 24);
        put_le32(b, p);
    }
    fill(b, 0, end - b->len);
}

/* n bytes of segment content loaded at addr. */
static void gen_content(struct buf *b, size_t n, uint32_t addr, struct rng *r)
{
    size_t start = b->len, end = b->len + n;
    while (b->len < end) {
        size_t block = 64 + next(r) % 448;
        if (block > end - b->len)
            block = end - b->len;
        unsigned pick = (unsigned)(next(r) % 100);
        if (pick < 65)
            gen_code(b, block, r);
        else if (pick < 67)
            gen_repeat(b, block, start, r);
        else if (pick < 80)
            gen_strings(b, block, r);
        else if (pick < 92)
            gen_pointers(b, block, addr & 0xFF000000u, r);
        else
            fill(b, 0, block);
    }
}

/* ---- images ------------------------------------------------------------------------------ */

struct segment {
    uint32_t addr;
    struct buf data;
};

struct image_spec {
    uint8_t magic_header[4];        /* E9, count, mode, size/freq (count filled in) */
    uint32_t entry;
    bool ext_header;
    uint16_t chip_id, min_rev, max_rev;
    bool sha;
    size_t count;
    struct segment segs[8];
};

static struct buf *add_segment(struct image_spec *s, uint32_t addr)
{
    struct segment *seg = &s->segs[s->count++];
    seg->addr = addr;
    memset(&seg->data, 0, sizeof seg->data);
    return &seg->data;
}

static void pad4(struct buf *b)
{
    while (b->len % 4)
        fill(b, 0, 1);
}

/* Serialise one image at the end of out: header, extended header, segments, padding to
 * 16n - 1 (counted from the image start), checksum byte, optional SHA-256. Returns the
 * image's start offset in out. */
static size_t write_image(struct buf *out, struct image_spec *s)
{
    size_t start = out->len;
    uint8_t h[4] = { s->magic_header[0], (uint8_t)s->count, s->magic_header[2],
                     s->magic_header[3] };
    put(out, h, 4);
    put_le32(out, s->entry);
    if (s->ext_header) {
        uint8_t x[4] = { 0xEE, 0, 0, 0 };   /* WP pin disabled, default drive */
        put(out, x, 4);
        put_le16(out, s->chip_id);
        fill(out, (uint8_t)(s->min_rev / 100), 1);
        put_le16(out, s->min_rev);
        put_le16(out, s->max_rev);
        fill(out, 0, 4);
        fill(out, s->sha ? 1 : 0, 1);
    }
    uint8_t sum = 0xEF;
    for (size_t i = 0; i < s->count; i++) {
        struct buf *d = &s->segs[i].data;
        pad4(d);
        put_le32(out, s->segs[i].addr);
        put_le32(out, (uint32_t)d->len);
        put(out, d->data, d->len);
        for (size_t k = 0; k < d->len; k++)
            sum ^= d->data[k];
        free(d->data);
    }
    fill(out, 0, 15 - (out->len - start) % 16);
    put(out, &sum, 1);
    if (s->ext_header && s->sha) {
        uint8_t digest[SHA256_DIGEST_LENGTH];
        SHA2_CTX ctx;
        SHA256Init(&ctx);
        SHA256Update(&ctx, out->data + start, out->len - start);
        SHA256Final(digest, &ctx);
        put(out, digest, sizeof digest);
    }
    return start;
}

static const struct layout *layout_for(const char *chip)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (strcmp(layouts[i].chip, chip) == 0)
            return &layouts[i];
    return NULL;
}

/* Header byte 3: flash size code and 40 MHz (80 MHz on the C6, whose code 0 means it). */
static uint8_t size_freq(uint64_t flash_bytes)
{
    uint8_t code = 0;
    while (code < 7 && (1024ull * 1024ull << code) < flash_bytes)
        code++;
    return (uint8_t)(code << 4);
}

static void init_spec(struct image_spec *s, const struct options *o, const struct ed_chip *chip,
                      uint64_t flash_bytes)
{
    memset(s, 0, sizeof *s);
    s->magic_header[0] = 0xE9;
    s->magic_header[2] = 0x02;   /* DIO */
    s->magic_header[3] = size_freq(flash_bytes);
    s->ext_header = true;
    s->chip_id = (uint16_t)chip->image_chip_id;
    s->min_rev = (uint16_t)o->min_rev;
    s->max_rev = (uint16_t)o->max_rev;
    s->sha = o->sha;
}

static void build_bootloader(struct buf *out, const struct options *o, const struct layout *l,
                             const struct ed_chip *chip, uint64_t flash_bytes, struct rng *r)
{
    struct image_spec s;
    init_spec(&s, o, chip, flash_bytes);
    s.entry = l->boot_entry;
    gen_content(add_segment(&s, l->boot_dram), 0x1900, l->boot_dram, r);
    gen_content(add_segment(&s, l->boot_iram), 0x3C00, l->boot_iram, r);
    gen_content(add_segment(&s, l->boot_iram2), 0x1200, l->boot_iram2, r);
    write_image(out, &s);
}

static void banner_text(const struct options *o, const char *chip_name, const char *board,
                        char *buf, size_t len)
{
    snprintf(buf, len, "MicroPython %s%s on 2024-10-25; %s with %s",
             o->micropython[0] == 'v' ? "" : "v", o->micropython, board, chip_name);
}

/* esp_app_desc_t (256 bytes) at the start of the app's first segment. */
static void put_app_desc(struct buf *b, const struct options *o, struct rng *r)
{
    char field[32];
    put_le32(b, 0xABCD5432u);
    fill(b, 0, 12);   /* secure version, two reserved words */
    memset(field, 0, sizeof field);
    snprintf(field, sizeof field, "%s", o->micropython ? o->micropython : "1.0.0");
    put(b, field, 32);
    memset(field, 0, sizeof field);
    snprintf(field, sizeof field, "%s", o->micropython ? "micropython" : "espdoctor-test");
    put(b, field, 32);
    memset(field, 0, sizeof field);
    snprintf(field, sizeof field, "12:00:00");
    put(b, field, 16);
    memset(field, 0, sizeof field);
    snprintf(field, sizeof field, "Oct 25 2024");
    put(b, field, 16);
    memset(field, 0, sizeof field);
    snprintf(field, sizeof field, "v5.2.2");
    put(b, field, 32);
    gen_code(b, 32, r);   /* the ELF's SHA-256 */
    fill(b, 0, 256 - 32 - 32 - 32 - 16 - 16 - 32 - 16);
}

/* An app of about app_len bytes. */
static void build_app(struct buf *out, const struct options *o, const struct layout *l,
                      const struct ed_chip *chip, uint64_t flash_bytes, uint64_t app_len,
                      struct rng *r)
{
    struct image_spec s;
    init_spec(&s, o, chip, flash_bytes);
    s.entry = l->app_entry;
    size_t body = app_len > 0x8000 ? (size_t)app_len - 0x200 : 0x7E00;
    size_t drom = body * 22 / 100, dram = body * 2 / 100, iram = body * 6 / 100;
    size_t irom = body - drom - dram - iram;

    struct buf *d = add_segment(&s, l->app_drom);
    put_app_desc(d, o, r);
    gen_content(d, drom / 2, l->app_drom, r);
    if (o->micropython) {
        char banner[160];
        banner_text(o, chip->name, l->board, banner, sizeof banner);
        put(d, banner, strlen(banner) + 1);
    }
    gen_content(d, drom - drom / 2, l->app_drom, r);
    gen_content(add_segment(&s, l->app_dram), dram, l->app_dram, r);
    gen_content(add_segment(&s, l->app_iram), iram, l->app_iram, r);
    gen_content(add_segment(&s, l->app_irom), irom, l->app_irom, r);
    write_image(out, &s);
}

static void put_partition(struct buf *b, uint8_t type, uint8_t subtype, uint32_t offset,
                          uint32_t size, const char *name)
{
    char label[16] = { 0 };
    uint8_t head[4] = { 0xAA, 0x50, type, subtype };
    put(b, head, 4);
    put_le32(b, offset);
    put_le32(b, size);
    memcpy(label, name, strnlen(name, sizeof label));   /* 16 bytes, NUL-padded */
    put(b, label, 16);
    put_le32(b, 0);
}

/* MicroPython's ESP32 layout: nvs, phy_init, factory at 0x10000, vfat; then an MD5 entry. */
static void build_partitions(struct buf *out, uint32_t app_size)
{
    size_t start = out->len;
    uint32_t factory = app_size > 0x1F0000 ? (app_size + 0xFFFF) & ~0xFFFFu : 0x1F0000;
    put_partition(out, 0x01, 0x02, 0x9000, 0x6000, "nvs");
    put_partition(out, 0x01, 0x01, 0xF000, 0x1000, "phy_init");
    put_partition(out, 0x00, 0x00, 0x10000, factory, "factory");
    put_partition(out, 0x01, 0x81, 0x10000 + factory, 0x200000, "vfat");
    uint8_t digest[MD5_DIGEST_LENGTH];
    MD5_CTX md5;
    MD5Init(&md5);
    MD5Update(&md5, out->data + start, out->len - start);
    MD5Final(digest, &md5);
    uint8_t head[2] = { 0xEB, 0xEB };
    put(out, head, 2);
    fill(out, 0xFF, 14);
    put(out, digest, sizeof digest);
    fill(out, 0xFF, 0xC00 - (out->len - start));
}

static void pad_to(struct buf *out, size_t offset)
{
    if (out->len > offset)
        die("a part is larger than the room the layout gives it");
    fill(out, 0xFF, offset - out->len);
}

static void build_merged(struct buf *out, const struct options *o, const struct layout *l,
                         const struct ed_chip *chip, struct rng *r)
{
    uint32_t base = o->base_given ? o->base : chip->bootloader_offset;
    uint64_t app_len = o->size > 0x10000 - base + 0x8000 ? o->size - (0x10000 - base) : 0x8000;
    uint64_t flash = 0x10000 + app_len + 0x200000 > 4 * 1048576 ? 0x10000 + app_len + 0x200000
                                                                 : 4 * 1048576;
    build_bootloader(out, o, l, chip, flash, r);
    pad_to(out, 0x8000 - base);
    build_partitions(out, (uint32_t)app_len);
    pad_to(out, 0x10000 - base);
    build_app(out, o, l, chip, flash, app_len, r);
}

/* ESP8266: the v1 image holds the RAM segments; irom0 follows at file 0x9000. */
static void esp8266_ram_image(struct image_spec *s, struct rng *r)
{
    memset(s, 0, sizeof *s);
    s->magic_header[0] = 0xE9;
    s->magic_header[2] = 0x02;
    s->magic_header[3] = 0x40;   /* 4 MB, 40 MHz in ESP8266 coding */
    s->entry = 0x40100384;
    gen_content(add_segment(s, 0x40100000), 0x7200, 0x40100000, r);
    gen_content(add_segment(s, 0x3FFE8000), 0x0600, 0x3FFE8000, r);
    gen_content(add_segment(s, 0x3FFE8600), 0x1480, 0x3FFE8600, r);
}

static void esp8266_irom(struct buf *b, const struct options *o, size_t n, struct rng *r)
{
    gen_content(b, n / 2, 0x40209000, r);
    if (o->micropython) {
        char banner[160];
        banner_text(o, "ESP8266", "ESP module", banner, sizeof banner);
        put(b, banner, strlen(banner) + 1);
    }
    gen_content(b, n - n / 2, 0x40209000, r);
}

static void build_v1(struct buf *out, const struct options *o, struct rng *r)
{
    struct image_spec s;
    esp8266_ram_image(&s, r);
    write_image(out, &s);
    pad_to(out, ESP8266_IROM_FILE_OFFSET - 4);
    uint64_t irom_len = o->size > ESP8266_IROM_FILE_OFFSET + 0x1000
                            ? o->size - ESP8266_IROM_FILE_OFFSET - MD5_DIGEST_LENGTH : 0x1000;
    struct buf irom = { 0 };
    esp8266_irom(&irom, o, (size_t)irom_len, r);
    put_le32(out, (uint32_t)(ESP8266_IROM_FILE_OFFSET + irom.len));
    put(out, irom.data, irom.len);
    free(irom.data);
    /* MicroPython appends an MD5 of everything after the first 4 bytes. */
    uint8_t digest[MD5_DIGEST_LENGTH];
    MD5_CTX md5;
    MD5Init(&md5);
    MD5Update(&md5, out->data + 4, out->len - 4);
    MD5Final(digest, &md5);
    put(out, digest, sizeof digest);
}

/* ESP8266 v2: 0xEA header, the irom segment, then a v1 header with the RAM segments. */
static void build_v2(struct buf *out, const struct options *o, struct rng *r)
{
    uint64_t irom_len = o->size > 0x10000 ? o->size - 0xA000 : 0x6000;
    struct buf irom = { 0 };
    esp8266_irom(&irom, o, (size_t)irom_len, r);
    pad4(&irom);
    uint8_t h[4] = { 0xEA, 0x04, 0x02, 0x40 };
    put(out, h, 4);
    put_le32(out, 0x40100384);
    put_le32(out, 0x40201010);
    put_le32(out, (uint32_t)irom.len);
    put(out, irom.data, irom.len);
    free(irom.data);
    struct image_spec s;
    esp8266_ram_image(&s, r);
    write_image(out, &s);
}

/* ---- arguments --------------------------------------------------------------------------- */

static bool parse_size(const char *text, uint64_t *out)
{
    char *end;
    double v = strtod(text, &end);   /* also reads 0x hex */
    if (end == text || v < 0)
        return false;
    double mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024;
    else if (*end == 'M' || *end == 'm')
        mult = 1048576;
    else if (*end)
        return false;
    if (*end && end[1])
        return false;
    *out = (uint64_t)(v * mult);
    return true;
}

static uint64_t seed_of(int argc, char **argv)
{
    uint64_t h = 0xCBF29CE484222325ull;   /* FNV-1a over the arguments except -o FILE */
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc) {
            i++;
            continue;
        }
        for (const char *c = argv[i]; *c; c++)
            h = (h ^ (uint8_t)*c) * 0x100000001B3ull;
        h = (h ^ 0xFF) * 0x100000001B3ull;
    }
    return h;
}

static void usage(void)
{
    fprintf(stderr, "usage: mkimage --chip esp32|esp8266|esp32s2|esp32s3|esp32c3|esp32c6 "
            "--kind merged|bootloader|app|v1|v2|partitions [--size 1.5M] "
            "[--micropython VERSION] [--min-rev N --max-rev N] [--base ADDR] [--no-sha] "
            "[--corrupt] -o FILE\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "chip", required_argument, NULL, 'c' }, { "kind", required_argument, NULL, 'k' },
        { "size", required_argument, NULL, 's' },
        { "micropython", required_argument, NULL, 'm' },
        { "min-rev", required_argument, NULL, 'n' }, { "max-rev", required_argument, NULL, 'x' },
        { "base", required_argument, NULL, 'b' }, { "no-sha", no_argument, NULL, 'S' },
        { "corrupt", no_argument, NULL, 'C' }, { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    static const char *const kinds[] = { "merged", "bootloader", "app", "v1", "v2",
                                         "partitions" };
    memset(o, 0, sizeof *o);
    o->sha = true;
    o->kind = K_MERGED;
    int c;
    uint64_t n;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->chip = optarg; break;
        case 'k': {
            size_t i;
            for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
                if (strcmp(optarg, kinds[i]) == 0)
                    break;
            if (i == sizeof kinds / sizeof kinds[0])
                usage();
            o->kind = (enum kind)i;
            break;
        }
        case 's': if (!parse_size(optarg, &o->size)) usage(); break;
        case 'm': o->micropython = optarg; break;
        case 'n': if (!parse_size(optarg, &n) || n > 0xFFFF) usage(); o->min_rev = (unsigned)n; break;
        case 'x':
            if (!parse_size(optarg, &n) || n > 0xFFFF)
                usage();
            o->max_rev = (unsigned)n;
            o->max_rev_given = true;
            break;
        case 'b':
            if (!parse_size(optarg, &n) || n >= 0x8000)
                usage();
            o->base = (uint32_t)n;
            o->base_given = true;
            break;
        case 'S': o->sha = false; break;
        case 'C': o->corrupt = true; break;
        case 'o': o->out = optarg; break;
        default: usage();
        }
    }
    if (!o->chip || !o->out || optind != argc)
        usage();
}

int main(int argc, char **argv)
{
    struct options o;
    parse_args(argc, argv, &o);
    const struct ed_chip *chip = ed_chip_by_key(o.chip);
    if (!chip)
        die("unknown chip");
    bool esp8266 = chip->image_chip_id == ED_CHIP_ID_NONE;
    if (esp8266 != (o.kind == K_V1 || o.kind == K_V2))
        die("v1 and v2 images are ESP8266 only, and the ESP8266 has only those");
    const struct layout *l = esp8266 ? NULL : layout_for(o.chip);
    if (!esp8266 && !l)
        die("no memory layout for that chip");
    if (l && !o.max_rev_given)
        o.max_rev = l->max_rev;

    struct rng r = { seed_of(argc, argv) };
    struct buf out = { 0 };
    size_t corrupt_at = 0;
    switch (o.kind) {
    case K_MERGED:
        if (!o.size)
            o.size = 1536 * 1024;
        build_merged(&out, &o, l, chip, &r);
        corrupt_at = out.len - 0x1000;
        break;
    case K_BOOTLOADER:
        build_bootloader(&out, &o, l, chip, 4 * 1048576, &r);
        corrupt_at = out.len / 2;
        break;
    case K_APP:
        if (!o.size)
            o.size = 1472 * 1024;
        build_app(&out, &o, l, chip, 4 * 1048576, o.size, &r);
        corrupt_at = out.len / 2;
        break;
    case K_V1:
        if (!o.size)
            o.size = 620 * 1024;
        build_v1(&out, &o, &r);
        corrupt_at = 0x100;   /* inside the first RAM segment */
        break;
    case K_V2:
        if (!o.size)
            o.size = 400 * 1024;
        build_v2(&out, &o, &r);
        corrupt_at = out.len - 0x100;
        break;
    case K_PARTITIONS:
        build_partitions(&out, 0x1F0000);
        corrupt_at = 40;
        break;
    }
    if (o.corrupt)
        out.data[corrupt_at] ^= 0x5A;

    FILE *f = fopen(o.out, "wb");
    if (!f || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0)
        die("cannot write the output file");
    free(out.data);
    return 0;
}
