/* Firmware files: what a file is, which chip it is for, where it belongs in flash, whether
 * it is intact, and whether writing it to a given board makes sense.
 *
 * The file is never held in memory: headers, segment headers and the partition table are
 * read with pread(), and checksum, SHA-256 and banner searches stream the data through a
 * small buffer, so a 16 MiB image costs the same memory as a 16 KiB one.
 *
 * Format facts (Espressif "Firmware Image Format", ESP-IDF "Partition Tables"):
 *   header      0xE9, segment count, flash mode, size<<4 | freq, u32 entry
 *   ext header  16 bytes on ESP32 and later: WP pin, 3 drive bytes, u16 chip id, legacy
 *               min rev, u16 min_rev_full, u16 max_rev_full, 4 reserved, hash-appended flag
 *   segments    u32 load address, u32 length, data
 *   footer      padding to 16n-1, checksum byte (0xEF ^ all segment data), then on ESP32
 *               and later an optional SHA-256 of everything before it
 *   ESP8266 v1  no extended header; v2 starts with 0xEA, an irom segment, then a v1 header
 *   partitions  32-byte entries with magic 0xAA50 at flash 0x8000, optional MD5 entry 0xEBEB */
#ifndef ESPDOCTOR_IMAGE_H
#define ESPDOCTOR_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "espdoctor/chips.h"

#define ED_IMAGE_MAX_SEGMENTS 16
#define ED_IMAGE_MAX_PARTITIONS 96      /* 0xC00 bytes of 32-byte entries */
#define ED_IMAGE_PARTITION_TABLE_ADDR 0x8000u
#define ED_IMAGE_NAME_MAX 512
#define ED_IMAGE_EVIDENCE_MAX 512

enum ed_image_kind {
    ED_IMAGE_UNKNOWN = 0,       /* not recognised at all */
    /* firmware */
    ED_IMAGE_ESP8266_V1,        /* 0xE9 image without extended header */
    ED_IMAGE_ESP8266_V2,        /* 0xEA image (needs the SDK's second-stage bootloader) */
    ED_IMAGE_BOOTLOADER,        /* ESP32-family second-stage bootloader alone */
    ED_IMAGE_APP,               /* ESP32-family application alone */
    ED_IMAGE_MERGED,            /* bootloader + partition table + app in one file */
    ED_IMAGE_PARTITION_TABLE,   /* a partition table alone */
    /* broken firmware */
    ED_IMAGE_TRUNCATED,         /* starts like firmware, ends before its structure does */
    /* not firmware */
    ED_IMAGE_EMPTY,
    ED_IMAGE_HTML,              /* a saved web page */
    ED_IMAGE_ZIP,
    ED_IMAGE_GZIP,
    ED_IMAGE_ELF,               /* the build's .elf, not the .bin */
    ED_IMAGE_TEXT,              /* e.g. a .hex, .uf2 listing, an error page in plain text */
};

/* One 0xE9 image inside the file (a bootloader, an app, or the ESP8266 image). */
struct ed_image_segment {
    uint32_t load_addr;
    uint32_t length;
    uint32_t file_offset;       /* of the segment's data */
    const char *region;         /* "DROM", "IRAM", ... or "?" */
};

struct ed_image_part {
    bool present;
    uint32_t file_offset;       /* where the image starts in the file */
    uint32_t length;            /* header through checksum, plus SHA-256 when appended */
    uint32_t entry;
    uint8_t flash_mode;         /* raw header byte 2 */
    uint8_t flash_size_freq;    /* raw header byte 3 */
    bool has_ext_header;        /* false on ESP8266 */
    int chip_id;                /* ED_CHIP_ID_NONE on ESP8266 */
    const struct ed_chip *chip; /* NULL if the chip id is not one espdoctor knows */
    uint16_t min_rev_full;      /* major * 100 + minor */
    uint16_t max_rev_full;      /* 0 or 0xFFFF: no limit given */
    uint8_t legacy_min_rev;     /* ext header byte 6 */
    unsigned segment_count;
    struct ed_image_segment segments[ED_IMAGE_MAX_SEGMENTS];
    bool flash_mapped;          /* has segments in flash-mapped memory: an app */
    uint32_t checksum_offset;   /* file offset of the checksum byte */
    uint8_t checksum_stored, checksum_computed;
    bool checksum_ok;
    bool sha_appended;
    bool sha_ok;
    uint8_t sha_stored[32], sha_computed[32];
    /* The app description (esp_app_desc_t) at the start of an ESP-IDF app's first segment. */
    bool app_desc;
    char project_name[33], version[33], idf_version[33];
};

struct ed_image_partition {
    char name[17];
    uint8_t type, subtype;
    uint32_t offset, size;
    uint32_t flags;
};

struct ed_image_info {
    char path[ED_IMAGE_NAME_MAX];
    enum ed_image_kind kind;
    uint64_t file_size;

    /* The target chip: the app's (or the only image's) chip. ESP8266 for v1/v2. */
    int chip_id;
    const struct ed_chip *chip;

    /* Where the file belongs in flash when written as a whole. */
    bool base_known;
    uint32_t flash_base;

    /* boot: the bootloader (merged or alone); app: the app, or the ESP8266 image. */
    struct ed_image_part boot, app;

    /* Partition table (merged image or a table alone). */
    bool has_partition_table;
    uint32_t partition_table_file_offset;
    size_t partition_count;
    struct ed_image_partition partitions[ED_IMAGE_MAX_PARTITIONS];
    bool partition_md5_present, partition_md5_ok;
    int app_partition;          /* index of the partition the app lives in, -1 none */

    /* Data after the ESP8266 image (MicroPython puts irom0 at file 0x9000). */
    uint32_t trailing_offset, trailing_length;
    bool esp8266_md5_present, esp8266_md5_ok;   /* MicroPython's appended MD5 */

    /* MicroPython banner found in the app. */
    bool micropython;
    char micropython_banner[128];   /* "MicroPython v1.24.0 on 2024-10-25" */
    char micropython_version[48];   /* "v1.24.0" */

    /* Integrity: checksum or SHA-256 wrong, or the structure contradicts itself. */
    bool corrupt;
    /* What was seen, for not-firmware, truncated and corrupt files: the evidence. */
    char evidence[ED_IMAGE_EVIDENCE_MAX];
};

/* Analyse the file at path. Returns ED_OK when the file could be read (even if it turned out
 * not to be firmware: look at info->kind and info->corrupt), ED_E_NOTFOUND, ED_E_PERM or
 * ED_E_IO when it could not be read, with a sentence in err. */
int ed_image_open(const char *path, struct ed_image_info *info, char *err, size_t errlen);

/* True for kinds that may be written to flash (they can still be corrupt). */
bool ed_image_kind_is_firmware(enum ed_image_kind kind);
/* Stable key for JSON: "merged", "esp8266-v1", "html", ... */
const char *ed_image_kind_key(enum ed_image_kind kind);
/* For people: "a merged image (bootloader + partition table + app)". */
const char *ed_image_kind_describe(enum ed_image_kind kind);

/* Header byte decoders. ESP8266 and the ESP32 family code the size nibble differently. */
const char *ed_image_flash_mode_name(uint8_t mode);                 /* "dio" or NULL */
uint32_t ed_image_flash_size_bytes(const struct ed_image_part *part); /* 0: unknown code */
const char *ed_image_flash_freq_name(const struct ed_image_part *part); /* "40m" or NULL */
/* "ESP32-C2" for chip ids espdoctor has no table row for; NULL if unheard of. */
const char *ed_image_chip_id_name(int chip_id);
/* "factory", "ota_0", "nvs", ...; writes into buf when there is no name. */
const char *ed_image_partition_type_name(uint8_t type, char *buf, size_t len);
const char *ed_image_partition_subtype_name(uint8_t type, uint8_t subtype, char *buf, size_t len);

/* ---- pre-write checks ------------------------------------------------------------------ */

enum ed_image_problem_code {
    ED_IMAGE_P_NOT_FIRMWARE,
    ED_IMAGE_P_TRUNCATED,
    ED_IMAGE_P_CORRUPT,
    ED_IMAGE_P_WRONG_CHIP,
    ED_IMAGE_P_WRONG_OFFSET,
    ED_IMAGE_P_TOO_LARGE,
    ED_IMAGE_P_REVISION,
    ED_IMAGE_P_FLASH_SIZE,      /* header claims more flash than the board has */
    ED_IMAGE_P_COUNT,
};

/* One row per problem code: the man page lists this table. */
struct ed_image_problem_rule {
    enum ed_image_problem_code code;
    const char *id;             /* "image.wrong-chip" */
    bool blocking;              /* refuse the write (unless forced) */
    const char *summary;        /* what it means */
    const char *remedy;         /* what to do, in general */
};

extern const struct ed_image_problem_rule ed_image_problem_rules[ED_IMAGE_P_COUNT];

#define ED_IMAGE_MESSAGE_MAX 640
#define ED_IMAGE_FIX_MAX 384
#define ED_IMAGE_MAX_PROBLEMS 8

struct ed_image_problem {
    const struct ed_image_problem_rule *rule;
    char message[ED_IMAGE_MESSAGE_MAX];  /* what the file is, what the board is */
    char fix[ED_IMAGE_FIX_MAX];          /* what to do, in sentences (the download) */
    char fix_command[ED_IMAGE_FIX_MAX];  /* the command that does it, "" when the fix is an
                                            action; never one that writes a file to a
                                            board of another chip */
};

struct ed_image_verdict {
    uint32_t addr;              /* where to write: the given address or the intended base */
    bool blocked;               /* at least one blocking problem */
    size_t count;
    struct ed_image_problem problems[ED_IMAGE_MAX_PROBLEMS];
};

#define ED_IMAGE_REVISION_UNKNOWN UINT32_MAX

/* Check writing img to a board with this chip (NULL: unknown), flash size in bytes (0:
 * unknown) and chip revision (major * 100 + minor, ED_IMAGE_REVISION_UNKNOWN) at addr (when
 * addr_given) or at the image's intended base. Without a chip only what needs no board is
 * checked (is it firmware, is it whole and intact); the chip, the address, the size and
 * the revision wait for the board (ed_image_checks_waiting). Returns ED_OK when nothing blocks the write,
 * ED_E_IMAGE when something does (v lists every problem either way), ED_E_ARG on NULLs. */
int ed_image_check_target(const struct ed_image_info *img, const struct ed_chip *chip,
                          uint32_t flash_size, uint32_t chip_revision, uint32_t addr,
                          bool addr_given, struct ed_image_verdict *v);

/* The ids of the checks that need the board, in the order they are made: "image.wrong-
 * chip", "image.wrong-offset", "image.too-large", "image.revision", "image.flash-size";
 * NULL-terminated. */
extern const char *const ed_image_checks_waiting[];

/* ---- reporting (espdoctor image) ------------------------------------------------------- */

struct json_object;

/* The facts as text for people. */
void ed_image_print(FILE *out, const struct ed_image_info *info);
/* The facts as one JSON object (keys documented in image_report.c); NULL on no memory. */
struct json_object *ed_image_to_json(const struct ed_image_info *info);
/* One paragraph for a file that cannot be flashed: what was seen and what to do. */
void ed_image_explain_unusable(FILE *out, const struct ed_image_info *info);

#endif
