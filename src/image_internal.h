/* Shared between the image_*.c files; not part of the public API. */
#ifndef ESPDOCTOR_IMAGE_INTERNAL_H
#define ESPDOCTOR_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/image.h"

#define ED_IMAGE_MAGIC 0xE9
#define ED_IMAGE_V2_MAGIC 0xEA
#define ED_IMAGE_HEADER_LEN 8
#define ED_IMAGE_EXT_HEADER_LEN 16
#define ED_IMAGE_SEGMENT_HEADER_LEN 8
#define ED_IMAGE_CHECKSUM_SEED 0xEF
#define ED_PARTITION_ENTRY_LEN 32
#define ED_PARTITION_TABLE_MAX_LEN 0xC00
#define ED_IMAGE_STREAM_CHUNK 0x10000

/* An open file: everything reads through pread so no file position is shared. */
struct ed_image_file {
    int fd;
    uint64_t size;
};

/* Read exactly len bytes at off. False when the file is shorter or the read fails. */
bool ed_image_read_at(const struct ed_image_file *f, uint64_t off, void *buf, size_t len);

static inline uint16_t ed_image_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t ed_image_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/* What the first bytes say about a file that does not start like firmware. */
enum ed_image_kind ed_image_sniff(const uint8_t *head, size_t len, char *evidence,
                                  size_t evidence_len);

/* How parsing one image went. */
enum ed_part_result {
    ED_PART_OK,
    ED_PART_NOT_IMAGE,   /* the bytes are not this kind of image */
    ED_PART_TRUNCATED,   /* the structure runs past the end of the file */
};

/* Parse an ESP32-family image (with extended header) at off, then stream its checksum and
 * SHA-256. evidence is filled on ED_PART_TRUNCATED and when the check fails. */
enum ed_part_result ed_image_parse_esp32(const struct ed_image_file *f, uint32_t off,
                                         struct ed_image_part *part, char *evidence,
                                         size_t evidence_len);

/* Parse an ESP8266 v1 image at off: accepted only when every segment lies in ESP8266
 * memory, because the header alone cannot tell it from an ESP32-family image. */
enum ed_part_result ed_image_parse_esp8266(const struct ed_image_file *f, uint32_t off,
                                           struct ed_image_part *part, char *evidence,
                                           size_t evidence_len);

/* Parse an ESP8266 v2 (0xEA) image at 0. */
enum ed_part_result ed_image_parse_esp8266_v2(const struct ed_image_file *f,
                                              struct ed_image_part *part, char *evidence,
                                              size_t evidence_len);

/* Describe a checksum or SHA-256 failure of part into evidence; false if there is none. */
bool ed_image_part_integrity(const struct ed_image_part *part, const char *what,
                             char *evidence, size_t evidence_len);

/* Read the partition table at file offset off into info. False if there is none there. */
bool ed_image_parse_partitions(const struct ed_image_file *f, uint32_t off,
                               struct ed_image_info *info);

/* Search [from, to) for the MicroPython banner; fills info->micropython*. */
void ed_image_find_banner(const struct ed_image_file *f, uint64_t from, uint64_t to,
                          struct ed_image_info *info);

/* Write (setf) or append to a fixed buffer, keeping it terminated; long text is cut. */
void ed_image_setf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ed_image_appendf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
