/* What `espdoctor image` shows: the facts about a file, as text or as JSON.
 *
 * JSON keys (one object; addresses and sizes are integers):
 *   path             the file as given
 *   file_size        bytes
 *   kind             "esp8266-v1" "esp8266-v2" "bootloader" "app" "merged" "partition-table"
 *                    "truncated" "empty" "html" "zip" "gzip" "elf" "text" "unknown"
 *   description      the kind in words
 *   firmware         true for the firmware kinds (which can still be corrupt)
 *   valid            firmware and not corrupt: fit to flash
 *   corrupt          a checksum, SHA-256 or MD5 failed, or the parts contradict each other
 *   evidence         what was seen, for broken or non-firmware files; null otherwise
 *   chip             chip key ("esp32", "esp8266"), null if unknown
 *   chip_name        "ESP32", or the name for a chip id espdoctor has no row for; null
 *   chip_id          the image's chip id; null for ESP8266 images
 *   flash_address    where the whole file belongs in flash; null if unknown
 *   bootloader, app  null or an object:
 *     file_offset, length, entry, flash_mode ("dio"), flash_size (bytes or null),
 *     flash_freq ("40m" or null), chip_id (null on ESP8266), min_rev and max_rev
 *     ("v0.0"; max null when open-ended), segments: [{load_addr, length, file_offset,
 *     region}], checksum ("ok"|"bad"), sha256 ("ok"|"bad"|"absent"), sha256_hex (computed),
 *     app_desc: null or {project_name, version, idf_version}
 *   partition_table  null or {file_offset, md5 ("ok"|"bad"|"absent"), app_index,
 *                    entries: [{name, type, subtype, offset, size, flags}]}
 *   trailing         null or {file_offset, length}: data after an ESP8266 image (irom0)
 *   esp8266_md5      "ok"|"bad"|"absent": MicroPython's MD5 at the end of ESP8266 files
 *   micropython      true when a MicroPython banner was found in the app
 *   micropython_version, micropython_banner   strings or null
 * When the file cannot be read at all, `espdoctor image --json` prints only
 *   {"path": ..., "error": "cannot open ...: No such file or directory"}. */
#include "image_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void hex_digest(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
    out[2 * n] = '\0';
}

static const char *sha_state(const struct ed_image_part *part)
{
    if (!part->sha_appended)
        return "absent";
    return part->sha_ok ? "ok" : "bad";
}

static void rev_text(uint32_t rev_full, char *buf, size_t len)
{
    snprintf(buf, len, "v%u.%u", rev_full / 100, rev_full % 100);
}

static const char *chip_display(const struct ed_image_info *info)
{
    if (info->chip)
        return info->chip->name;
    return ed_image_chip_id_name(info->chip_id);
}

/* ---- text ------------------------------------------------------------------------------ */

static void print_part(FILE *out, const char *title, const struct ed_image_part *part)
{
    const char *mode = ed_image_flash_mode_name(part->flash_mode);
    const char *freq = ed_image_flash_freq_name(part);
    uint32_t size = ed_image_flash_size_bytes(part);
    fprintf(out, "%s at file offset 0x%x, 0x%x bytes\n", title, part->file_offset,
            part->length);
    if (part->app_desc)
        fprintf(out, "  project:   %s %s (ESP-IDF %s)\n", part->project_name, part->version,
                part->idf_version);
    fprintf(out, "  entry:     0x%08x\n", part->entry);
    fprintf(out, "  flash:     mode %s, size ", mode ? mode : "?");
    if (size)
        fprintf(out, "%u %s", size >= 1048576 ? size / 1048576 : size / 1024,
                size >= 1048576 ? "MB" : "KB");
    else
        fprintf(out, "? (code 0x%x)", part->flash_size_freq >> 4);
    fprintf(out, ", frequency %s\n", freq ? freq : "?");
    if (part->has_ext_header) {
        char min[16], max[16];
        rev_text(part->min_rev_full, min, sizeof min);
        rev_text(part->max_rev_full, max, sizeof max);
        bool open = part->max_rev_full == 0 || part->max_rev_full == 0xFFFF;
        fprintf(out, "  revisions: %s to %s\n", min, open ? "any" : max);
    }
    fprintf(out, "  segments:  %u\n", part->segment_count);
    fprintf(out, "     #  load addr   length      file offset  memory\n");
    for (unsigned i = 0; i < part->segment_count; i++) {
        const struct ed_image_segment *s = &part->segments[i];
        fprintf(out, "    %2u  0x%08x  0x%08x  0x%08x   %s\n", i, s->load_addr, s->length,
                s->file_offset, s->region);
    }
    fprintf(out, "  checksum:  %s (stored 0x%02x, computed 0x%02x)\n",
            part->checksum_ok ? "OK" : "BAD", part->checksum_stored, part->checksum_computed);
    if (part->has_ext_header) {
        const char *s = sha_state(part);
        fprintf(out, "  SHA-256:   %s\n", strcmp(s, "ok") == 0 ? "OK"
                                          : strcmp(s, "bad") == 0 ? "BAD" : "absent");
    }
}

static void print_partitions(FILE *out, const struct ed_image_info *info)
{
    fprintf(out, "Partition table at file offset 0x%x (flash 0x%x)%s\n",
            info->partition_table_file_offset, ED_IMAGE_PARTITION_TABLE_ADDR,
            !info->partition_md5_present ? ""
            : info->partition_md5_ok     ? ", MD5 OK" : ", MD5 BAD");
    fprintf(out, "    name              type  subtype    offset      size\n");
    for (size_t i = 0; i < info->partition_count; i++) {
        const struct ed_image_partition *p = &info->partitions[i];
        char tb[8], sb[8];
        fprintf(out, "    %-16s  %-4s  %-9s  0x%08x  0x%08x%s\n", p->name,
                ed_image_partition_type_name(p->type, tb, sizeof tb),
                ed_image_partition_subtype_name(p->type, p->subtype, sb, sizeof sb), p->offset,
                p->size, (int)i == info->app_partition ? "  <- app" : "");
    }
}

void ed_image_print(FILE *out, const struct ed_image_info *info)
{
    const char *chip = chip_display(info);
    fprintf(out, "File:      %s (%llu bytes)\n", info->path, (unsigned long long)info->file_size);
    fprintf(out, "Kind:      %s\n", ed_image_kind_describe(info->kind));
    if (chip)
        fprintf(out, "Chip:      %s\n", chip);
    else if (info->chip_id >= 0)
        fprintf(out, "Chip:      unknown (chip id %d)\n", info->chip_id);
    if (info->micropython)
        fprintf(out, "Firmware:  MicroPython %s (\"%s\")\n", info->micropython_version,
                info->micropython_banner);
    if (info->base_known)
        fprintf(out, "Address:   0x%x (where this file belongs in flash)\n", info->flash_base);
    if (info->corrupt || !ed_image_kind_is_firmware(info->kind))
        fprintf(out, "Problem:   %s\n", info->evidence[0] ? info->evidence : "unrecognised");
    if (info->boot.present)
        print_part(out, "Bootloader", &info->boot);
    if (info->has_partition_table)
        print_partitions(out, info);
    if (info->app.present)
        print_part(out, info->kind == ED_IMAGE_APP || info->kind == ED_IMAGE_MERGED ? "App"
                                                                                   : "Image",
                   &info->app);
    if (info->trailing_length)
        fprintf(out, "Trailing:  0x%x bytes at file offset 0x%x (flash-mapped code, irom0)\n",
                info->trailing_length, info->trailing_offset);
    if (info->esp8266_md5_present)
        fprintf(out, "File MD5:  %s\n", info->esp8266_md5_ok ? "OK" : "BAD");
}

/* ---- JSON ------------------------------------------------------------------------------ */

static struct json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct json_object *part_json(const struct ed_image_part *part)
{
    if (!part->present)
        return NULL;
    struct json_object *o = json_object_new_object();
    uint32_t size = ed_image_flash_size_bytes(part);
    char buf[80];
    json_object_object_add(o, "file_offset", json_object_new_int64(part->file_offset));
    json_object_object_add(o, "length", json_object_new_int64(part->length));
    json_object_object_add(o, "entry", json_object_new_int64(part->entry));
    json_object_object_add(o, "flash_mode", str_or_null(ed_image_flash_mode_name(part->flash_mode)));
    json_object_object_add(o, "flash_size", size ? json_object_new_int64(size) : NULL);
    json_object_object_add(o, "flash_freq", str_or_null(ed_image_flash_freq_name(part)));
    json_object_object_add(o, "chip_id",
                           part->has_ext_header ? json_object_new_int(part->chip_id) : NULL);
    if (part->has_ext_header) {
        rev_text(part->min_rev_full, buf, sizeof buf);
        json_object_object_add(o, "min_rev", json_object_new_string(buf));
        bool open = part->max_rev_full == 0 || part->max_rev_full == 0xFFFF;
        rev_text(part->max_rev_full, buf, sizeof buf);
        json_object_object_add(o, "max_rev", open ? NULL : json_object_new_string(buf));
    }
    struct json_object *segs = json_object_new_array();
    for (unsigned i = 0; i < part->segment_count; i++) {
        const struct ed_image_segment *s = &part->segments[i];
        struct json_object *so = json_object_new_object();
        json_object_object_add(so, "load_addr", json_object_new_int64(s->load_addr));
        json_object_object_add(so, "length", json_object_new_int64(s->length));
        json_object_object_add(so, "file_offset", json_object_new_int64(s->file_offset));
        json_object_object_add(so, "region", json_object_new_string(s->region));
        json_object_array_add(segs, so);
    }
    json_object_object_add(o, "segments", segs);
    json_object_object_add(o, "checksum", json_object_new_string(part->checksum_ok ? "ok" : "bad"));
    json_object_object_add(o, "sha256", json_object_new_string(sha_state(part)));
    char hex[65];
    hex_digest(part->sha_computed, 32, hex);
    json_object_object_add(o, "sha256_hex", json_object_new_string(hex));
    struct json_object *desc = NULL;
    if (part->app_desc) {
        desc = json_object_new_object();
        json_object_object_add(desc, "project_name", json_object_new_string(part->project_name));
        json_object_object_add(desc, "version", json_object_new_string(part->version));
        json_object_object_add(desc, "idf_version", json_object_new_string(part->idf_version));
    }
    json_object_object_add(o, "app_desc", desc);
    return o;
}

static struct json_object *partitions_json(const struct ed_image_info *info)
{
    if (!info->has_partition_table)
        return NULL;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "file_offset",
                           json_object_new_int64(info->partition_table_file_offset));
    json_object_object_add(o, "md5", json_object_new_string(
        !info->partition_md5_present ? "absent" : info->partition_md5_ok ? "ok" : "bad"));
    json_object_object_add(o, "app_index", info->app_partition >= 0
                                               ? json_object_new_int(info->app_partition) : NULL);
    struct json_object *entries = json_object_new_array();
    for (size_t i = 0; i < info->partition_count; i++) {
        const struct ed_image_partition *p = &info->partitions[i];
        struct json_object *e = json_object_new_object();
        char tb[8], sb[8];
        json_object_object_add(e, "name", json_object_new_string(p->name));
        json_object_object_add(e, "type", json_object_new_string(
            ed_image_partition_type_name(p->type, tb, sizeof tb)));
        json_object_object_add(e, "subtype", json_object_new_string(
            ed_image_partition_subtype_name(p->type, p->subtype, sb, sizeof sb)));
        json_object_object_add(e, "offset", json_object_new_int64(p->offset));
        json_object_object_add(e, "size", json_object_new_int64(p->size));
        json_object_object_add(e, "flags", json_object_new_int64(p->flags));
        json_object_array_add(entries, e);
    }
    json_object_object_add(o, "entries", entries);
    return o;
}

struct json_object *ed_image_to_json(const struct ed_image_info *info)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    bool firmware = ed_image_kind_is_firmware(info->kind);
    bool broken = info->corrupt || !firmware;
    json_object_object_add(o, "path", json_object_new_string(info->path));
    json_object_object_add(o, "file_size", json_object_new_int64((int64_t)info->file_size));
    json_object_object_add(o, "kind", json_object_new_string(ed_image_kind_key(info->kind)));
    json_object_object_add(o, "description",
                           json_object_new_string(ed_image_kind_describe(info->kind)));
    json_object_object_add(o, "firmware", json_object_new_boolean(firmware));
    json_object_object_add(o, "valid", json_object_new_boolean(!broken));
    json_object_object_add(o, "corrupt", json_object_new_boolean(info->corrupt));
    json_object_object_add(o, "evidence", broken && info->evidence[0]
                                              ? json_object_new_string(info->evidence) : NULL);
    json_object_object_add(o, "chip", info->chip ? json_object_new_string(info->chip->key) : NULL);
    json_object_object_add(o, "chip_name", str_or_null(chip_display(info)));
    json_object_object_add(o, "chip_id", info->chip_id >= 0 ? json_object_new_int(info->chip_id)
                                                            : NULL);
    json_object_object_add(o, "flash_address", info->base_known
                                                    ? json_object_new_int64(info->flash_base)
                                                    : NULL);
    json_object_object_add(o, "bootloader", part_json(&info->boot));
    json_object_object_add(o, "app", part_json(&info->app));
    json_object_object_add(o, "partition_table", partitions_json(info));
    struct json_object *trailing = NULL;
    if (info->trailing_length) {
        trailing = json_object_new_object();
        json_object_object_add(trailing, "file_offset",
                               json_object_new_int64(info->trailing_offset));
        json_object_object_add(trailing, "length", json_object_new_int64(info->trailing_length));
    }
    json_object_object_add(o, "trailing", trailing);
    json_object_object_add(o, "esp8266_md5", json_object_new_string(
        !info->esp8266_md5_present ? "absent" : info->esp8266_md5_ok ? "ok" : "bad"));
    json_object_object_add(o, "micropython", json_object_new_boolean(info->micropython));
    json_object_object_add(o, "micropython_version",
                           info->micropython ? json_object_new_string(info->micropython_version)
                                             : NULL);
    json_object_object_add(o, "micropython_banner",
                           info->micropython ? json_object_new_string(info->micropython_banner)
                                             : NULL);
    return o;
}

/* ---- the error paragraph --------------------------------------------------------------- */

/* A chip named in the file name ("esp32s3-...bin"), to point at the right download. */
static const struct ed_chip *chip_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const struct ed_chip *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < ed_chip_count; i++) {
        size_t n = strlen(ed_chips[i].key);
        if (strncasecmp(base, ed_chips[i].key, n) == 0 && n > best_len) {
            best = &ed_chips[i];
            best_len = n;
        }
    }
    return best;
}

void ed_image_explain_unusable(FILE *out, const struct ed_image_info *info)
{
    const struct ed_chip *chip = info->chip ? info->chip : chip_from_name(info->path);
    char hint[160];
    if (chip)
        ed_chip_download_hint(chip, hint, sizeof hint);
    else
        snprintf(hint, sizeof hint, "https://micropython.org/download/");
    const char *what = ed_image_kind_describe(info->kind);
    switch (info->kind) {
    case ED_IMAGE_HTML:
        fprintf(out, "%s is an HTML page, not firmware (%s): the download saved the web page. "
                "Download the .bin file itself from %s\n", info->path, info->evidence, hint);
        return;
    case ED_IMAGE_ZIP:
        fprintf(out, "%s is a zip archive, not firmware (%s). Unpack it (unzip '%s') and give "
                "espdoctor the .bin inside.\n", info->path, info->evidence, info->path);
        return;
    case ED_IMAGE_GZIP:
        fprintf(out, "%s is gzip-compressed, not firmware (%s). Decompress it (gunzip -k '%s') "
                "and give espdoctor the result.\n", info->path, info->evidence, info->path);
        return;
    case ED_IMAGE_ELF:
        fprintf(out, "%s is an ELF executable, not a flashable image (%s). Use the .bin the "
                "build wrote next to it, or download a ready .bin from %s\n", info->path,
                info->evidence, hint);
        return;
    case ED_IMAGE_EMPTY:
        fprintf(out, "%s is empty: the download or copy failed. Download the firmware again "
                "from %s\n", info->path, hint);
        return;
    case ED_IMAGE_TRUNCATED:
        fprintf(out, "%s is a firmware image%s%s whose end is missing: %s. The download or "
                "copy was cut short; download it again from %s\n", info->path,
                chip_display(info) ? " for the " : "",
                chip_display(info) ? chip_display(info) : "", info->evidence, hint);
        return;
    default:
        break;
    }
    if (ed_image_kind_is_firmware(info->kind) && info->corrupt) {
        fprintf(out, "%s is %s, but it is damaged: %s. Download it again from %s\n", info->path,
                what, info->evidence, hint);
        return;
    }
    fprintf(out, "%s is %s, not firmware (%s). Download the firmware .bin from %s\n",
            info->path, what, info->evidence, hint);
}
