/* Names and decoders for image facts: kinds, header bytes, chip ids, partition types. */
#include "image_internal.h"

#include <stdio.h>

struct kind_name {
    enum ed_image_kind kind;
    const char *key;
    const char *description;
    bool firmware;
};

static const struct kind_name kind_names[] = {
    { ED_IMAGE_UNKNOWN, "unknown", "not a firmware image espdoctor recognises", false },
    { ED_IMAGE_ESP8266_V1, "esp8266-v1", "an ESP8266 firmware image", true },
    { ED_IMAGE_ESP8266_V2, "esp8266-v2",
      "an ESP8266 \"v2\" application image (needs the SDK's boot_v1.x at 0x0)", true },
    { ED_IMAGE_BOOTLOADER, "bootloader", "a second-stage bootloader image", true },
    { ED_IMAGE_APP, "app", "an application image (the app partition alone)", true },
    { ED_IMAGE_MERGED, "merged",
      "a merged image (bootloader + partition table + app)", true },
    { ED_IMAGE_PARTITION_TABLE, "partition-table", "a partition table", true },
    { ED_IMAGE_TRUNCATED, "truncated", "a firmware image whose end is missing", false },
    { ED_IMAGE_EMPTY, "empty", "an empty file", false },
    { ED_IMAGE_HTML, "html", "an HTML web page", false },
    { ED_IMAGE_ZIP, "zip", "a zip archive", false },
    { ED_IMAGE_GZIP, "gzip", "a gzip-compressed file", false },
    { ED_IMAGE_ELF, "elf", "an ELF executable (the build's .elf, not the .bin)", false },
    { ED_IMAGE_TEXT, "text", "a text file", false },
};

static const struct kind_name *kind_entry(enum ed_image_kind kind)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (kind_names[i].kind == kind)
            return &kind_names[i];
    return &kind_names[0];
}

bool ed_image_kind_is_firmware(enum ed_image_kind kind)
{
    return kind_entry(kind)->firmware;
}

const char *ed_image_kind_key(enum ed_image_kind kind)
{
    return kind_entry(kind)->key;
}

const char *ed_image_kind_describe(enum ed_image_kind kind)
{
    return kind_entry(kind)->description;
}

const char *ed_image_flash_mode_name(uint8_t mode)
{
    static const char *const names[] = { "qio", "qout", "dio", "dout" };
    return mode < 4 ? names[mode] : NULL;
}

uint32_t ed_image_flash_size_bytes(const struct ed_image_part *part)
{
    unsigned code = part->flash_size_freq >> 4;
    if (!part->has_ext_header) {
        /* ESP8266: 5 and 6 are the "-c1" layouts of 2 MB and 4 MB. */
        static const uint32_t kib[] = { 512, 256, 1024, 2048, 4096, 2048, 4096, 0,
                                        8192, 16384 };
        return code < sizeof kib / sizeof kib[0] ? kib[code] * 1024u : 0;
    }
    return code <= 7 ? (1024u * 1024u) << code : 0;
}

const char *ed_image_flash_freq_name(const struct ed_image_part *part)
{
    unsigned code = part->flash_size_freq & 0xF;
    const char *f0 = "40m", *f1 = "26m", *f2 = "20m", *ff = "80m";
    if (part->has_ext_header) {
        switch (part->chip_id) {
        case 12: f0 = "30m"; f1 = "20m"; f2 = "15m"; ff = "60m"; break;   /* ESP32-C2 */
        case 16: f0 = "24m"; f1 = "16m"; f2 = "12m"; ff = "48m"; break;   /* ESP32-H2 */
        case 13: f0 = "80m"; f1 = NULL; ff = NULL; break;                 /* ESP32-C6 */
        default: break;
        }
    }
    switch (code) {
    case 0x0: return f0;
    case 0x1: return f1;
    case 0x2: return f2;
    case 0xF: return ff;
    default: return NULL;
    }
}

const char *ed_image_chip_id_name(int chip_id)
{
    const struct ed_chip *chip = ed_chip_by_image_id(chip_id);
    if (chip)
        return chip->name;
    /* Chip ids from Espressif's documentation for chips without a row in chips.c. */
    switch (chip_id) {
    case 12: return "ESP32-C2";
    case 16: return "ESP32-H2";
    case 18: return "ESP32-P4";
    case 20: return "ESP32-C61";
    case 23: return "ESP32-C5";
    default: return NULL;
    }
}

const char *ed_image_partition_type_name(uint8_t type, char *buf, size_t len)
{
    switch (type) {
    case 0x00: return "app";
    case 0x01: return "data";
    case 0x02: return "bootloader";
    case 0x03: return "partition_table";
    default:
        snprintf(buf, len, "0x%02x", type);
        return buf;
    }
}

const char *ed_image_partition_subtype_name(uint8_t type, uint8_t subtype, char *buf,
                                            size_t len)
{
    if (type == 0x00) {
        if (subtype == 0x00)
            return "factory";
        if (subtype >= 0x10 && subtype < 0x20) {
            snprintf(buf, len, "ota_%u", subtype - 0x10u);
            return buf;
        }
        if (subtype == 0x20)
            return "test";
    } else if (type == 0x01) {
        static const char *const data[] = { "ota", "phy", "nvs", "coredump", "nvs_keys",
                                            "efuse", "undefined" };
        if (subtype < sizeof data / sizeof data[0])
            return data[subtype];
        switch (subtype) {
        case 0x80: return "esphttpd";
        case 0x81: return "fat";
        case 0x82: return "spiffs";
        case 0x83: return "littlefs";
        default: break;
        }
    }
    snprintf(buf, len, "0x%02x", subtype);
    return buf;
}
