/* One 0xE9 image inside a file: headers, segments, checksum and SHA-256, streamed. */
#include "image_internal.h"

#include <sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Memory maps from the chips' technical reference manuals: which load addresses are RAM
 * and which are mapped from flash (only apps have flash-mapped segments). */
struct mem_region {
    uint32_t lo, hi;        /* [lo, hi) */
    const char *name;
    bool flash;
};

struct chip_memory {
    int chip_id;
    struct mem_region regions[6];
};

static const struct chip_memory chip_memories[] = {
    { ED_CHIP_ID_NONE, {   /* ESP8266 */
        { 0x40100000, 0x40110000, "IRAM", false },
        { 0x3FFE8000, 0x40000000, "DRAM", false },
        { 0x40200000, 0x40300000, "IROM", true },
        { 0x60001000, 0x60001400, "RTC", false },
    } },
    { 0, {                 /* ESP32 */
        { 0x3F400000, 0x3F800000, "DROM", true },
        { 0x3FF80000, 0x40000000, "DRAM", false },
        { 0x40070000, 0x400C2000, "IRAM", false },
        { 0x400C2000, 0x40C00000, "IROM", true },
        { 0x50000000, 0x50002000, "RTC", false },
        { 0x3F800000, 0x3FC00000, "PSRAM", false },
    } },
    { 2, {                 /* ESP32-S2 */
        { 0x3F000000, 0x3FF80000, "DROM", true },
        { 0x3FF9E000, 0x40000000, "DRAM", false },
        { 0x40020000, 0x40072000, "IRAM", false },
        { 0x40080000, 0x40800000, "IROM", true },
        { 0x50000000, 0x50002000, "RTC", false },
    } },
    { 9, {                 /* ESP32-S3 */
        { 0x3C000000, 0x3E000000, "DROM", true },
        { 0x3FC88000, 0x3FD00000, "DRAM", false },
        { 0x40370000, 0x403E0000, "IRAM", false },
        { 0x42000000, 0x44000000, "IROM", true },
        { 0x50000000, 0x50002000, "RTC", false },
        { 0x600FE000, 0x60100000, "RTC", false },
    } },
    { 5, {                 /* ESP32-C3 */
        { 0x3C000000, 0x3C800000, "DROM", true },
        { 0x3FC80000, 0x3FCE0000, "DRAM", false },
        { 0x40380000, 0x403E0000, "IRAM", false },
        { 0x42000000, 0x42800000, "IROM", true },
        { 0x50000000, 0x50002000, "RTC", false },
    } },
    { 13, {                /* ESP32-C6 */
        { 0x42000000, 0x42800000, "IROM", true },
        { 0x42800000, 0x43000000, "DROM", true },
        { 0x40800000, 0x40880000, "SRAM", false },
        { 0x50000000, 0x50004000, "LP RAM", false },
    } },
};

/* Chips with no row above: the cache windows later RISC-V chips share. */
static const struct mem_region generic_flash_regions[] = {
    { 0x42000000, 0x44000000, "flash", true },
    { 0x3C000000, 0x3E000000, "flash", true },
};

static const struct chip_memory *memory_for(int chip_id)
{
    for (size_t i = 0; i < sizeof chip_memories / sizeof chip_memories[0]; i++)
        if (chip_memories[i].chip_id == chip_id)
            return &chip_memories[i];
    return NULL;
}

static const struct mem_region *region_of(int chip_id, uint32_t addr)
{
    const struct chip_memory *mem = memory_for(chip_id);
    if (mem) {
        for (size_t i = 0; i < 6 && mem->regions[i].name; i++)
            if (addr >= mem->regions[i].lo && addr < mem->regions[i].hi)
                return &mem->regions[i];
        return NULL;
    }
    for (size_t i = 0; i < sizeof generic_flash_regions / sizeof generic_flash_regions[0]; i++)
        if (addr >= generic_flash_regions[i].lo && addr < generic_flash_regions[i].hi)
            return &generic_flash_regions[i];
    return NULL;
}

void ed_image_setf(char *buf, size_t len, const char *fmt, ...)
{
    if (len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

void ed_image_appendf(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strnlen(buf, len);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static void fill_common_header(struct ed_image_part *part, const uint8_t *h, uint32_t off)
{
    part->file_offset = off;
    part->segment_count = h[1];
    part->flash_mode = h[2];
    part->flash_size_freq = h[3];
    part->entry = ed_image_le32(h + 4);
}

/* Walk segment headers from pos. Returns the offset just past the last segment's data, or
 * 0 with evidence when one runs past the end of the file or lies outside the chip's memory
 * (require_known_memory). */
static uint64_t walk_segments(const struct ed_image_file *f, struct ed_image_part *part,
                              uint64_t pos, bool require_known_memory, bool *truncated,
                              char *evidence, size_t evidence_len)
{
    *truncated = false;
    for (unsigned i = 0; i < part->segment_count; i++) {
        uint8_t sh[ED_IMAGE_SEGMENT_HEADER_LEN];
        if (!ed_image_read_at(f, pos, sh, sizeof sh)) {
            *truncated = true;
            snprintf(evidence, evidence_len,
                     "the header of segment %u at file offset 0x%llx is past the end of the "
                     "file (0x%llx bytes)", i, (unsigned long long)pos,
                     (unsigned long long)f->size);
            return 0;
        }
        struct ed_image_segment *seg = &part->segments[i];
        seg->load_addr = ed_image_le32(sh);
        seg->length = ed_image_le32(sh + 4);
        seg->file_offset = (uint32_t)(pos + sizeof sh);
        const struct mem_region *r = region_of(part->chip_id, seg->load_addr);
        if (require_known_memory && !r)
            return 0;
        seg->region = r ? r->name : "?";
        if (r && r->flash)
            part->flash_mapped = true;
        pos += sizeof sh + (uint64_t)seg->length;
        if (pos > f->size) {
            *truncated = true;
            snprintf(evidence, evidence_len,
                     "segment %u (load address 0x%08x, 0x%x bytes at file offset 0x%x) runs "
                     "past the end of the file (0x%llx bytes)", i, seg->load_addr,
                     seg->length, seg->file_offset, (unsigned long long)f->size);
            return 0;
        }
    }
    return pos;
}

/* Stream [part start, checksum byte] once: XOR of segment data for the checksum, and
 * everything through the checksum byte for the SHA-256. */
static bool stream_integrity(const struct ed_image_file *f, struct ed_image_part *part)
{
    uint8_t *buf = malloc(ED_IMAGE_STREAM_CHUNK);
    if (!buf)
        return false;
    SHA2_CTX sha;
    SHA256Init(&sha);
    uint8_t sum = ED_IMAGE_CHECKSUM_SEED;
    uint64_t pos = part->file_offset;
    uint64_t end = (uint64_t)part->checksum_offset + 1;
    unsigned seg = 0;
    bool ok = true;
    while (pos < end) {
        size_t n = end - pos > ED_IMAGE_STREAM_CHUNK ? ED_IMAGE_STREAM_CHUNK
                                                     : (size_t)(end - pos);
        if (!ed_image_read_at(f, pos, buf, n)) {
            ok = false;
            break;
        }
        SHA256Update(&sha, buf, n);
        /* XOR the parts of this chunk that are segment data. */
        uint64_t chunk_end = pos + n;
        while (seg < part->segment_count) {
            uint64_t s = part->segments[seg].file_offset;
            uint64_t e = s + part->segments[seg].length;
            uint64_t from = s > pos ? s : pos;
            uint64_t to = e < chunk_end ? e : chunk_end;
            for (uint64_t i = from; i < to; i++)
                sum ^= buf[i - pos];
            if (e > chunk_end)
                break;
            seg++;
        }
        pos = chunk_end;
    }
    free(buf);
    if (!ok)
        return false;
    part->checksum_computed = sum;
    part->checksum_ok = sum == part->checksum_stored;
    SHA256Final(part->sha_computed, &sha);
    if (part->sha_appended)
        part->sha_ok = memcmp(part->sha_computed, part->sha_stored, 32) == 0;
    return true;
}

/* Find the footer after the last segment (end = offset just past it) and verify. */
static enum ed_part_result finish_footer(const struct ed_image_file *f,
                                         struct ed_image_part *part, uint64_t end,
                                         char *evidence, size_t evidence_len)
{
    /* Padding to 16n - 1 bytes counted from the image start, then the checksum byte. */
    uint64_t rel = end - part->file_offset;
    uint64_t cks = part->file_offset + (rel | 0xF);
    uint8_t stored;
    if (!ed_image_read_at(f, cks, &stored, 1)) {
        snprintf(evidence, evidence_len,
                 "the checksum byte belongs at file offset 0x%llx but the file ends at 0x%llx",
                 (unsigned long long)cks, (unsigned long long)f->size);
        return ED_PART_TRUNCATED;
    }
    part->checksum_offset = (uint32_t)cks;
    part->checksum_stored = stored;
    part->length = (uint32_t)(cks + 1 - part->file_offset);
    if (part->sha_appended) {
        if (!ed_image_read_at(f, cks + 1, part->sha_stored, 32)) {
            snprintf(evidence, evidence_len,
                     "the header says a SHA-256 follows the checksum at file offset 0x%llx, "
                     "but the file ends at 0x%llx", (unsigned long long)(cks + 1),
                     (unsigned long long)f->size);
            return ED_PART_TRUNCATED;
        }
        part->length += 32;
    }
    if (!stream_integrity(f, part)) {
        snprintf(evidence, evidence_len, "reading the image data failed");
        return ED_PART_TRUNCATED;
    }
    part->present = true;
    return ED_PART_OK;
}

/* esp_app_desc_t: u32 magic 0xABCD5432, u32 secure version, 2 reserved words, version[32],
 * project_name[32], time[16], date[16], idf_ver[32], ... (ESP-IDF "App Image Format"). */
static void read_app_desc(const struct ed_image_file *f, struct ed_image_part *part)
{
    if (part->segment_count == 0)
        return;
    uint8_t d[16 + 32 + 32 + 16 + 16 + 32];
    if (!ed_image_read_at(f, part->segments[0].file_offset, d, sizeof d) ||
        part->segments[0].length < sizeof d || ed_image_le32(d) != 0xABCD5432u)
        return;
    part->app_desc = true;
    memcpy(part->version, d + 16, 32);
    memcpy(part->project_name, d + 48, 32);
    memcpy(part->idf_version, d + 112, 32);
    part->version[32] = part->project_name[32] = part->idf_version[32] = '\0';
}

enum ed_part_result ed_image_parse_esp32(const struct ed_image_file *f, uint32_t off,
                                         struct ed_image_part *part, char *evidence,
                                         size_t evidence_len)
{
    uint8_t h[ED_IMAGE_HEADER_LEN + ED_IMAGE_EXT_HEADER_LEN];
    memset(part, 0, sizeof *part);
    if (!ed_image_read_at(f, off, h, sizeof h)) {
        snprintf(evidence, evidence_len, "the file ends inside the 24-byte image header "
                 "(0x%llx bytes)", (unsigned long long)f->size);
        return ED_PART_TRUNCATED;
    }
    const uint8_t *x = h + ED_IMAGE_HEADER_LEN;
    /* A real header: known magic, 1..16 segments, a 0/1 hash flag, a small chip id. */
    if (h[0] != ED_IMAGE_MAGIC || h[1] == 0 || h[1] > ED_IMAGE_MAX_SEGMENTS || x[15] > 1 ||
        ed_image_le16(x + 4) > 0xFF)
        return ED_PART_NOT_IMAGE;
    fill_common_header(part, h, off);
    part->has_ext_header = true;
    part->chip_id = ed_image_le16(x + 4);
    part->chip = ed_chip_by_image_id(part->chip_id);
    part->legacy_min_rev = x[6];
    part->min_rev_full = ed_image_le16(x + 7);
    part->max_rev_full = ed_image_le16(x + 9);
    part->sha_appended = x[15] == 1;

    bool truncated;
    uint64_t end = walk_segments(f, part, (uint64_t)off + sizeof h, false, &truncated,
                                 evidence, evidence_len);
    if (end == 0)
        return truncated ? ED_PART_TRUNCATED : ED_PART_NOT_IMAGE;
    enum ed_part_result r = finish_footer(f, part, end, evidence, evidence_len);
    if (r == ED_PART_OK)
        read_app_desc(f, part);
    return r;
}

enum ed_part_result ed_image_parse_esp8266(const struct ed_image_file *f, uint32_t off,
                                           struct ed_image_part *part, char *evidence,
                                           size_t evidence_len)
{
    uint8_t h[ED_IMAGE_HEADER_LEN];
    memset(part, 0, sizeof *part);
    if (!ed_image_read_at(f, off, h, sizeof h))
        return ED_PART_NOT_IMAGE;
    if (h[0] != ED_IMAGE_MAGIC || h[1] == 0 || h[1] > ED_IMAGE_MAX_SEGMENTS)
        return ED_PART_NOT_IMAGE;
    fill_common_header(part, h, off);
    part->chip_id = ED_CHIP_ID_NONE;
    part->chip = ed_chip_by_key("esp8266");
    bool truncated;
    uint64_t end = walk_segments(f, part, (uint64_t)off + sizeof h, true, &truncated,
                                 evidence, evidence_len);
    if (end == 0)
        return truncated ? ED_PART_TRUNCATED : ED_PART_NOT_IMAGE;
    /* The ROM loads only RAM segments; flash-mapped code lives outside the image. */
    part->flash_mapped = false;
    return finish_footer(f, part, end, evidence, evidence_len);
}

enum ed_part_result ed_image_parse_esp8266_v2(const struct ed_image_file *f,
                                              struct ed_image_part *part, char *evidence,
                                              size_t evidence_len)
{
    uint8_t h[ED_IMAGE_HEADER_LEN + ED_IMAGE_SEGMENT_HEADER_LEN];
    if (!ed_image_read_at(f, 0, h, sizeof h)) {
        memset(part, 0, sizeof *part);
        snprintf(evidence, evidence_len, "the file ends inside the 16-byte v2 header");
        return ED_PART_TRUNCATED;
    }
    /* 0xEA header, then the irom segment (mapped from flash, outside the checksum), then an
     * ordinary v1 image with the RAM segments. */
    uint32_t irom_len = ed_image_le32(h + 12);
    uint64_t inner = sizeof h + (uint64_t)irom_len;
    if (inner >= f->size) {
        memset(part, 0, sizeof *part);
        snprintf(evidence, evidence_len,
                 "the irom segment (0x%x bytes at file offset 0x10) runs past the end of the "
                 "file (0x%llx bytes)", irom_len, (unsigned long long)f->size);
        return ED_PART_TRUNCATED;
    }
    enum ed_part_result r = ed_image_parse_esp8266(f, (uint32_t)inner, part, evidence,
                                                   evidence_len);
    if (r != ED_PART_OK)
        return r;
    /* Report the whole file as one image: irom first, as the ROM sees it. */
    if (part->segment_count < ED_IMAGE_MAX_SEGMENTS) {
        memmove(&part->segments[1], &part->segments[0],
                part->segment_count * sizeof part->segments[0]);
        part->segments[0] = (struct ed_image_segment){
            .load_addr = ed_image_le32(h + 8), .length = irom_len,
            .file_offset = (uint32_t)sizeof h, .region = "IROM",
        };
        part->segment_count++;
    }
    part->length += part->file_offset;
    part->file_offset = 0;
    return ED_PART_OK;
}

bool ed_image_part_integrity(const struct ed_image_part *part, const char *what,
                             char *evidence, size_t evidence_len)
{
    bool bad = false;
    if (!part->checksum_ok) {
        ed_image_appendf(evidence, evidence_len,
                         "%s%s checksum byte at file offset 0x%x is 0x%02x, the data gives "
                         "0x%02x", evidence[0] ? "; " : "", what, part->checksum_offset,
                         part->checksum_stored, part->checksum_computed);
        bad = true;
    }
    if (part->sha_appended && !part->sha_ok) {
        ed_image_appendf(evidence, evidence_len,
                         "%s%s SHA-256 at file offset 0x%x does not match the data "
                         "(stored %02x%02x%02x%02x..., computed %02x%02x%02x%02x...)",
                         evidence[0] ? "; " : "", what, part->checksum_offset + 1,
                         part->sha_stored[0], part->sha_stored[1], part->sha_stored[2],
                         part->sha_stored[3], part->sha_computed[0], part->sha_computed[1],
                         part->sha_computed[2], part->sha_computed[3]);
        bad = true;
    }
    return bad;
}
