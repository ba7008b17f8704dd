/* Firmware file analysis: decide what a file is and fill struct ed_image_info. */
#include "image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espdoctor/error.h"

#define SNIFF_LEN 4096
#define BANNER_NEEDLE "MicroPython v"
#define BANNER_OVERLAP 160
/* MicroPython's ESP8266 build: the v1 image padded to 0x9000, irom0 after it (makeimg.py). */
#define ESP8266_MP_IROM_OFFSET 0x9000u

bool ed_image_read_at(const struct ed_image_file *f, uint64_t off, void *buf, size_t len)
{
    if (off > f->size || len > f->size - off)
        return false;
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(f->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

/* Where a chip's second-stage bootloader goes, also for chips without a table row. */
static uint32_t bootloader_offset_for(int chip_id, const struct ed_chip *chip)
{
    if (chip)
        return chip->bootloader_offset;
    return (chip_id == 18 || chip_id == 23) ? 0x2000u : 0x0u;   /* P4, C5 */
}

bool ed_image_parse_partitions(const struct ed_image_file *f, uint32_t off,
                               struct ed_image_info *info)
{
    uint8_t table[ED_PARTITION_TABLE_MAX_LEN];
    size_t avail = f->size > off ? (size_t)(f->size - off) : 0;
    if (avail > sizeof table)
        avail = sizeof table;
    if (avail < ED_PARTITION_ENTRY_LEN || !ed_image_read_at(f, off, table, avail) ||
        table[0] != 0xAA || table[1] != 0x50)
        return false;
    info->has_partition_table = true;
    info->partition_table_file_offset = off;
    info->partition_count = 0;
    for (size_t pos = 0; pos + ED_PARTITION_ENTRY_LEN <= avail; pos += ED_PARTITION_ENTRY_LEN) {
        const uint8_t *e = table + pos;
        if (e[0] == 0xAA && e[1] == 0x50 && info->partition_count < ED_IMAGE_MAX_PARTITIONS) {
            struct ed_image_partition *p = &info->partitions[info->partition_count++];
            p->type = e[2];
            p->subtype = e[3];
            p->offset = ed_image_le32(e + 4);
            p->size = ed_image_le32(e + 8);
            memcpy(p->name, e + 12, 16);
            p->name[16] = '\0';
            p->flags = ed_image_le32(e + 28);
            continue;
        }
        if (e[0] == 0xEB && e[1] == 0xEB) {
            /* MD5 entry: 0xEBEB, 14 x 0xFF, MD5 of every entry before it. */
            uint8_t digest[MD5_DIGEST_LENGTH];
            MD5_CTX md5;
            MD5Init(&md5);
            MD5Update(&md5, table, pos);
            MD5Final(digest, &md5);
            info->partition_md5_present = true;
            info->partition_md5_ok = memcmp(digest, e + 16, sizeof digest) == 0;
        }
        break;   /* 0xFFFF end marker, the MD5 entry, or anything else ends the table */
    }
    return true;
}

void ed_image_find_banner(const struct ed_image_file *f, uint64_t from, uint64_t to,
                          struct ed_image_info *info)
{
    const size_t needle_len = strlen(BANNER_NEEDLE);
    uint8_t *buf = malloc(ED_IMAGE_STREAM_CHUNK + BANNER_OVERLAP);
    if (!buf)
        return;
    size_t kept = 0;   /* bytes carried over from the previous chunk */
    uint64_t pos = from;
    while (pos < to && !info->micropython) {
        size_t n = to - pos > ED_IMAGE_STREAM_CHUNK ? ED_IMAGE_STREAM_CHUNK : (size_t)(to - pos);
        if (!ed_image_read_at(f, pos, buf + kept, n))
            break;
        size_t have = kept + n;
        bool last = pos + n >= to;
        const uint8_t *hit = memmem(buf, have, BANNER_NEEDLE, needle_len);
        /* A hit too close to the end may be cut off: let the next chunk see it whole. */
        if (hit && (last || (size_t)(hit - buf) + BANNER_OVERLAP <= have)) {
            const uint8_t *end = buf + have;
            size_t len = 0;
            for (const uint8_t *c = hit; c < end && *c && *c != ';' && *c >= 0x20 &&
                 *c < 0x7F && len + 1 < sizeof info->micropython_banner; c++)
                info->micropython_banner[len++] = (char)*c;
            info->micropython_banner[len] = '\0';
            const char *v = info->micropython_banner + needle_len - 1;
            /* "MicroPython v" followed by a digit: a version, not some other sentence. */
            if (v[1] >= '0' && v[1] <= '9') {
                size_t vlen = strcspn(v, " ");
                if (vlen >= sizeof info->micropython_version)
                    vlen = sizeof info->micropython_version - 1;
                memcpy(info->micropython_version, v, vlen);
                info->micropython_version[vlen] = '\0';
                info->micropython = true;
                break;
            }
            info->micropython_banner[0] = '\0';
        }
        kept = have < BANNER_OVERLAP ? have : BANNER_OVERLAP;
        memmove(buf, buf + have - kept, kept);
        pos += n;
    }
    free(buf);
}

static int open_error(const char *path, int err_no, char *err, size_t errlen)
{
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(err_no));
    if (err_no == ENOENT || err_no == ENOTDIR)
        return ED_E_NOTFOUND;
    if (err_no == EACCES || err_no == EPERM)
        return ED_E_PERM;
    return ED_E_IO;
}

static void mark_integrity(struct ed_image_info *info, const struct ed_image_part *part,
                           const char *what)
{
    if (part->present && ed_image_part_integrity(part, what, info->evidence,
                                                 sizeof info->evidence))
        info->corrupt = true;
}

static void set_truncated(struct ed_image_info *info, const struct ed_image_part *part)
{
    info->kind = ED_IMAGE_TRUNCATED;
    if (part->has_ext_header) {   /* the header was read: its chip id is known */
        info->chip = part->chip;
        info->chip_id = part->chip_id;
    }
}

/* An ESP32-family file that has a partition table at flash 0x8000 relative to base. */
static void parse_merged(const struct ed_image_file *f, uint32_t base, struct ed_image_info *info)
{
    char *ev = info->evidence;
    size_t evlen = sizeof info->evidence;
    info->kind = ED_IMAGE_MERGED;
    info->base_known = true;
    info->flash_base = base;
    enum ed_part_result r = ed_image_parse_esp32(f, 0, &info->boot, ev, evlen);
    if (r == ED_PART_NOT_IMAGE) {
        info->corrupt = true;
        snprintf(ev, evlen, "a partition table sits at file offset 0x%x, but the bootloader "
                 "header at file offset 0 makes no sense", ED_IMAGE_PARTITION_TABLE_ADDR - base);
    } else if (r == ED_PART_TRUNCATED) {
        info->corrupt = true;
    }
    info->chip_id = info->boot.chip_id;
    info->chip = info->boot.chip;
    ed_image_parse_partitions(f, ED_IMAGE_PARTITION_TABLE_ADDR - base, info);

    /* The app the bootloader will start: factory, else ota_0, else the first app. */
    info->app_partition = -1;
    static const int wanted[] = { 0x00, 0x10, -1 };
    for (size_t w = 0; w < 3 && info->app_partition < 0; w++)
        for (size_t i = 0; i < info->partition_count; i++)
            if (info->partitions[i].type == 0x00 &&
                (wanted[w] < 0 || info->partitions[i].subtype == wanted[w])) {
                info->app_partition = (int)i;
                break;
            }
    if (info->app_partition < 0) {
        info->corrupt = true;
        ed_image_appendf(ev, evlen, "%sthe partition table has no app partition",
                         ev[0] ? "; " : "");
        return;
    }
    const struct ed_image_partition *p = &info->partitions[info->app_partition];
    if (p->offset < base || p->offset - base >= f->size) {
        info->kind = ED_IMAGE_TRUNCATED;
        ed_image_appendf(ev, evlen, "%sthe file ends at 0x%llx, before the \"%s\" app "
                         "partition at flash 0x%x (file offset 0x%x)", ev[0] ? "; " : "",
                         (unsigned long long)f->size, p->name, p->offset, p->offset - base);
        return;
    }
    uint32_t app_off = p->offset - base;
    r = ed_image_parse_esp32(f, app_off, &info->app, ev, evlen);
    if (r == ED_PART_TRUNCATED) {
        set_truncated(info, &info->app);
        return;
    }
    if (r == ED_PART_NOT_IMAGE) {
        info->corrupt = true;
        ed_image_appendf(ev, evlen, "%sno app image at file offset 0x%x where the \"%s\" "
                         "partition begins (flash 0x%x)", ev[0] ? "; " : "", app_off,
                         p->name, p->offset);
        return;
    }
    info->chip_id = info->app.chip_id;
    info->chip = info->app.chip;
    if (info->boot.present && info->boot.chip_id != info->app.chip_id) {
        const char *bn = ed_image_chip_id_name(info->boot.chip_id);
        const char *an = ed_image_chip_id_name(info->app.chip_id);
        info->corrupt = true;
        ed_image_appendf(ev, evlen, "%sthe bootloader is for %s but the app is for %s",
                         ev[0] ? "; " : "", bn ? bn : "an unknown chip",
                         an ? an : "an unknown chip");
    }
    mark_integrity(info, &info->boot, "bootloader");
    mark_integrity(info, &info->app, "app");
    if (info->partition_md5_present && !info->partition_md5_ok) {
        info->corrupt = true;
        ed_image_appendf(ev, evlen, "%sthe partition table's MD5 does not match its entries",
                         ev[0] ? "; " : "");
    }
    ed_image_find_banner(f, app_off, f->size, info);
}

/* MicroPython's ESP8266 file: u32 total length at 0x8FFC and an MD5 of bytes 4..end-16
 * appended (bytes 0..3 may be rewritten by flashing tools). */
static void check_esp8266_md5(const struct ed_image_file *f, struct ed_image_info *info)
{
    uint8_t len_le[4], stored[MD5_DIGEST_LENGTH];
    if (f->size < ESP8266_MP_IROM_OFFSET + MD5_DIGEST_LENGTH ||
        !ed_image_read_at(f, ESP8266_MP_IROM_OFFSET - 4, len_le, 4) ||
        ed_image_le32(len_le) != f->size - MD5_DIGEST_LENGTH ||
        !ed_image_read_at(f, f->size - MD5_DIGEST_LENGTH, stored, sizeof stored))
        return;
    uint8_t *buf = malloc(ED_IMAGE_STREAM_CHUNK);
    if (!buf)
        return;
    MD5_CTX md5;
    MD5Init(&md5);
    uint64_t end = f->size - MD5_DIGEST_LENGTH;
    bool ok = true;
    for (uint64_t pos = 4; pos < end && ok;) {
        size_t n = end - pos > ED_IMAGE_STREAM_CHUNK ? ED_IMAGE_STREAM_CHUNK : (size_t)(end - pos);
        ok = ed_image_read_at(f, pos, buf, n);
        MD5Update(&md5, buf, n);
        pos += n;
    }
    free(buf);
    if (!ok)
        return;
    uint8_t digest[MD5_DIGEST_LENGTH];
    MD5Final(digest, &md5);
    info->esp8266_md5_present = true;
    info->esp8266_md5_ok = memcmp(digest, stored, sizeof digest) == 0;
    if (!info->esp8266_md5_ok) {
        info->corrupt = true;
        ed_image_appendf(info->evidence, sizeof info->evidence,
                         "%sthe MD5 at the end of the file does not match its contents",
                         info->evidence[0] ? "; " : "");
    }
}

/* info->app holds what the ESP8266 parser made of the file, r how it went. */
static void finish_esp8266(const struct ed_image_file *f, bool v2, enum ed_part_result r,
                           struct ed_image_info *info)
{
    info->chip = ed_chip_by_key("esp8266");
    info->chip_id = ED_CHIP_ID_NONE;
    info->base_known = true;
    /* A v1 image is what the ROM boots from 0x0; a v2 image sits behind boot_v1.x. */
    info->flash_base = v2 ? 0x1000u : 0x0u;
    if (r == ED_PART_TRUNCATED) {
        info->kind = ED_IMAGE_TRUNCATED;
        return;
    }
    if (r == ED_PART_NOT_IMAGE) {   /* only a v2 file gets here: no v1 header after irom */
        info->kind = ED_IMAGE_UNKNOWN;
        info->chip = NULL;
        info->base_known = false;
        ed_image_setf(info->evidence, sizeof info->evidence, "it starts with the ESP8266 v2 "
                      "magic ea, but no ESP8266 image header follows the irom segment");
        return;
    }
    info->kind = v2 ? ED_IMAGE_ESP8266_V2 : ED_IMAGE_ESP8266_V1;
    uint64_t image_end = (uint64_t)info->app.file_offset + info->app.length;
    if (image_end < f->size) {
        info->trailing_offset = (uint32_t)image_end;
        info->trailing_length = (uint32_t)(f->size - image_end);
    }
    mark_integrity(info, &info->app, "image");
    if (!v2)
        check_esp8266_md5(f, info);
    ed_image_find_banner(f, 0, f->size, info);
}

static void parse_single_esp32(const struct ed_image_file *f, struct ed_image_info *info)
{
    char *ev = info->evidence;
    size_t evlen = sizeof info->evidence;
    struct ed_image_part part;
    enum ed_part_result r = ed_image_parse_esp32(f, 0, &part, ev, evlen);
    if (r == ED_PART_NOT_IMAGE) {
        uint8_t h[24];
        info->kind = ED_IMAGE_UNKNOWN;
        ed_image_read_at(f, 0, h, sizeof h);
        snprintf(ev, evlen, "it starts with the image magic e9, but neither as an ESP8266 nor "
                 "as an ESP32-family image does the header make sense (%u segments, chip id "
                 "%u, hash flag %u)", h[1], ed_image_le16(h + 12), h[23]);
        return;
    }
    info->chip_id = part.chip_id;
    info->chip = part.chip;
    if (r == ED_PART_TRUNCATED) {
        info->app = part;
        set_truncated(info, &part);
        return;
    }
    if (part.flash_mapped || part.app_desc) {
        info->kind = ED_IMAGE_APP;
        info->app = part;
        info->flash_base = part.chip ? part.chip->app_offset : 0x10000u;
        mark_integrity(info, &info->app, "app");
        ed_image_find_banner(f, 0, f->size, info);
    } else {
        info->kind = ED_IMAGE_BOOTLOADER;
        info->boot = part;
        info->flash_base = bootloader_offset_for(part.chip_id, part.chip);
        mark_integrity(info, &info->boot, "bootloader");
    }
    info->base_known = true;
}

/* Where an ESP32-family image at offset 0 ends, from its segment headers alone; 0 when
 * the headers do not describe one. */
static uint64_t esp32_image_end(const struct ed_image_file *f)
{
    uint8_t h[ED_IMAGE_HEADER_LEN + ED_IMAGE_EXT_HEADER_LEN];
    if (!ed_image_read_at(f, 0, h, sizeof h) || h[1] == 0 || h[1] > ED_IMAGE_MAX_SEGMENTS)
        return 0;
    uint64_t pos = sizeof h;
    for (unsigned i = 0; i < h[1]; i++) {
        uint8_t sh[ED_IMAGE_SEGMENT_HEADER_LEN];
        if (!ed_image_read_at(f, pos, sh, sizeof sh))
            return 0;
        pos += sizeof sh + (uint64_t)ed_image_le32(sh + 4);
    }
    return pos;
}

static void parse_file(const struct ed_image_file *f, struct ed_image_info *info)
{
    uint8_t head[SNIFF_LEN];
    size_t head_len = f->size < sizeof head ? (size_t)f->size : sizeof head;
    if (!ed_image_read_at(f, 0, head, head_len))
        head_len = 0;
    info->app_partition = -1;
    info->chip_id = ED_CHIP_ID_NONE;

    if (head_len >= 2 && head[0] == 0xAA && head[1] == 0x50) {
        info->kind = ED_IMAGE_PARTITION_TABLE;
        info->base_known = true;
        info->flash_base = ED_IMAGE_PARTITION_TABLE_ADDR;
        ed_image_parse_partitions(f, 0, info);
        if (info->partition_md5_present && !info->partition_md5_ok) {
            info->corrupt = true;
            snprintf(info->evidence, sizeof info->evidence,
                     "the partition table's MD5 does not match its entries");
        }
        return;
    }
    if (head_len >= 1 && head[0] == ED_IMAGE_V2_MAGIC) {
        enum ed_part_result r = ed_image_parse_esp8266_v2(f, &info->app, info->evidence,
                                                          sizeof info->evidence);
        finish_esp8266(f, true, r, info);
        return;
    }
    if (head_len < 1 || head[0] != ED_IMAGE_MAGIC) {
        info->kind = ed_image_sniff(head, head_len, info->evidence, sizeof info->evidence);
        return;
    }
    if (f->size < ED_IMAGE_HEADER_LEN + ED_IMAGE_EXT_HEADER_LEN) {
        info->kind = ED_IMAGE_TRUNCATED;
        snprintf(info->evidence, sizeof info->evidence, "it starts with the image magic e9 "
                 "but has only %llu bytes, less than one image header",
                 (unsigned long long)f->size);
        return;
    }
    /* A partition table at flash 0x8000 tells the base the file was built for, unless
     * the first image runs over that spot (then AA 50 there is just app data). */
    static const uint32_t bases[] = { 0x1000, 0x0, 0x2000 };
    uint64_t first_end = esp32_image_end(f);
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        uint32_t table = ED_IMAGE_PARTITION_TABLE_ADDR - bases[i];
        uint8_t magic[2];
        if (ed_image_read_at(f, table, magic, 2) && magic[0] == 0xAA && magic[1] == 0x50 &&
            (first_end == 0 || first_end <= table)) {
            parse_merged(f, bases[i], info);
            return;
        }
    }
    /* No extended header on ESP8266: only the segment addresses can tell them apart. */
    enum ed_part_result r = ed_image_parse_esp8266(f, 0, &info->app, info->evidence,
                                                   sizeof info->evidence);
    if (r != ED_PART_NOT_IMAGE) {
        finish_esp8266(f, false, r, info);
        return;
    }
    memset(&info->app, 0, sizeof info->app);
    info->evidence[0] = '\0';
    parse_single_esp32(f, info);
}

int ed_image_open(const char *path, struct ed_image_info *info, char *err, size_t errlen)
{
    if (!path || !info || (!err && errlen))
        return ED_E_ARG;
    memset(info, 0, sizeof *info);
    snprintf(info->path, sizeof info->path, "%s", path);
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; it changes
     * nothing for the regular files that get past the check below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return open_error(path, errno, err, errlen);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return open_error(path, e, err, errlen);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s is %s, not a firmware file", path,
                 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        return ED_E_IO;
    }
    struct ed_image_file f = { .fd = fd, .size = (uint64_t)st.st_size };
    info->file_size = f.size;
    parse_file(&f, info);
    close(fd);
    return ED_OK;
}
