/* Pre-write checks: does this file belong on this board, at this address? esptool checks
 * none of this, and an ESP32 image written to an ESP8266 at 0x0 is exactly how boards end
 * up silent. Every problem says what the file is, what the board is, and the fix. */
#include "image_internal.h"

#include <stdio.h>
#include <string.h>

#include "espdoctor/error.h"
#include "espdoctor/shell.h"

#define APP_ALIGN 0x10000u   /* apps are mapped through the cache in 64 KiB pages */

const struct ed_image_problem_rule ed_image_problem_rules[ED_IMAGE_P_COUNT] = {
    { ED_IMAGE_P_NOT_FIRMWARE, "image.not-firmware", true,
      "The file is not firmware: a saved web page, an archive, the build's .elf, text, or "
      "an empty file.",
      "Download the .bin file itself (not the page that links to it), or unpack the archive." },
    { ED_IMAGE_P_TRUNCATED, "image.truncated", true,
      "The file starts like firmware but ends before its own structure does: the download "
      "or copy was cut short.",
      "Download the file again and compare its size with the one on the download page." },
    { ED_IMAGE_P_CORRUPT, "image.corrupt", true,
      "A checksum, SHA-256 or MD5 inside the file does not match its data, or its parts "
      "contradict each other.",
      "Download the file again." },
    { ED_IMAGE_P_WRONG_CHIP, "image.wrong-chip", true,
      "The image was built for another chip than the one on the board; it would not boot.",
      "Download the firmware built for the board's chip." },
    { ED_IMAGE_P_WRONG_OFFSET, "image.wrong-offset", true,
      "The image would land at a flash address where the chip will not find it (e.g. a "
      "merged ESP32 image at 0x0 instead of 0x1000).",
      "Flash it at the address it was built for, or give no address and let espdoctor "
      "choose." },
    { ED_IMAGE_P_TOO_LARGE, "image.too-large", true,
      "The image does not fit in the board's flash at that address.",
      "Use a build made for the board's flash size." },
    { ED_IMAGE_P_REVISION, "image.revision", true,
      "The image declares a range of chip revisions that excludes the board's chip.",
      "Use a build that supports the board's chip revision (usually a newer release)." },
    { ED_IMAGE_P_FLASH_SIZE, "image.flash-size", false,
      "The image header declares more flash than the board has; the bootloader may refuse "
      "it or the file system will not fit.",
      "Prefer a build for the board's flash size." },
};

const char *const ed_image_checks_waiting[] = {
    "image.wrong-chip", "image.wrong-offset", "image.too-large", "image.revision",
    "image.flash-size", NULL,
};

/* The file's name without directories, for messages. */
static const char *file_name(const struct ed_image_info *img)
{
    const char *slash = strrchr(img->path, '/');
    return slash ? slash + 1 : img->path;
}

static const char *image_chip_name(const struct ed_image_info *img)
{
    if (img->chip)
        return img->chip->name;
    const char *name = ed_image_chip_id_name(img->chip_id);
    return name ? name : "an unknown chip";
}

static void download_hint(const struct ed_chip *chip, char *buf, size_t len)
{
    if (chip)
        ed_chip_download_hint(chip, buf, len);
    else
        snprintf(buf, len, "https://micropython.org/download/");
}

/* "MicroPython v1.24.0, a merged image (bootloader + partition table + app)" */
static void describe(const struct ed_image_info *img, char *buf, size_t len)
{
    buf[0] = '\0';
    if (img->micropython)
        ed_image_appendf(buf, len, "MicroPython %s, ", img->micropython_version);
    ed_image_appendf(buf, len, "%s", ed_image_kind_describe(img->kind));
}

static void format_size(uint64_t bytes, char *buf, size_t len)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(buf, len, "%llu MB", (unsigned long long)(bytes / (1024 * 1024)));
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(buf, len, "%llu KB", (unsigned long long)(bytes / 1024));
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
}

static struct ed_image_problem *add(struct ed_image_verdict *v, enum ed_image_problem_code code)
{
    if (v->count >= ED_IMAGE_MAX_PROBLEMS)
        return NULL;
    struct ed_image_problem *p = &v->problems[v->count++];
    memset(p, 0, sizeof *p);
    p->rule = &ed_image_problem_rules[code];
    if (p->rule->blocking)
        v->blocked = true;
    return p;
}

static void not_firmware(const struct ed_image_info *img, const struct ed_chip *chip,
                         struct ed_image_verdict *v)
{
    struct ed_image_problem *p = add(v, ED_IMAGE_P_NOT_FIRMWARE);
    if (!p)
        return;
    const char *name = file_name(img);
    char hint[160];
    download_hint(chip, hint, sizeof hint);
    ed_image_setf(p->message, sizeof p->message, "%s is %s, not firmware (%s).", name,
             ed_image_kind_describe(img->kind), img->evidence);
    char path[ED_IMAGE_NAME_MAX + 64];
    ed_shell_quote(img->path, path, sizeof path);
    switch (img->kind) {
    case ED_IMAGE_HTML:
        ed_image_setf(p->fix, sizeof p->fix, "The download saved the web page instead of the "
                 "file: download the .bin file itself from %s.", hint);
        break;
    case ED_IMAGE_ZIP:
        ed_image_setf(p->fix, sizeof p->fix, "Unpack it and flash the .bin inside.");
        ed_image_setf(p->fix_command, sizeof p->fix_command, "unzip %s", path);
        break;
    case ED_IMAGE_GZIP:
        ed_image_setf(p->fix, sizeof p->fix, "Decompress it (the original is kept) and flash "
                 "the result.");
        ed_image_setf(p->fix_command, sizeof p->fix_command, "gunzip -k %s", path);
        break;
    case ED_IMAGE_ELF:
        ed_image_setf(p->fix, sizeof p->fix, "Flash the .bin the build wrote next to the .elf, "
                 "or download a ready .bin from %s.", hint);
        break;
    default:
        ed_image_setf(p->fix, sizeof p->fix, "Download the firmware .bin again from %s.", hint);
        break;
    }
}

/* The fix for a board that needs firmware built for its own chip: the download and the
 * command that flashes the downloaded file, never this one. */
static void firmware_for(const struct ed_chip *chip, struct ed_image_problem *p)
{
    char fix[ED_IMAGE_FIX_MAX];
    ed_chip_micropython_fix(chip, NULL, fix, sizeof fix, p->fix_command, sizeof p->fix_command);
    ed_image_setf(p->fix, sizeof p->fix, "%s", fix);
}

static void wrong_chip(const struct ed_image_info *img, const struct ed_chip *chip,
                       struct ed_image_verdict *v)
{
    struct ed_image_problem *p = add(v, ED_IMAGE_P_WRONG_CHIP);
    if (!p)
        return;
    char what[160];
    describe(img, what, sizeof what);
    ed_image_setf(p->message, sizeof p->message, "%s is %s for the %s, but the board is an %s. "
             "Written to it, the board would not boot.", file_name(img), what,
             image_chip_name(img), chip->name);
    if (img->micropython) {
        firmware_for(chip, p);
        return;
    }
    char fix[ED_IMAGE_FIX_MAX];
    ed_chip_micropython_fix(chip, NULL, fix, sizeof fix, p->fix_command, sizeof p->fix_command);
    ed_image_setf(p->fix, sizeof p->fix, "Use firmware built for the %s. %s", chip->name, fix);
}

static void wrong_offset(const struct ed_image_info *img, uint32_t addr, const char *why,
                         struct ed_image_verdict *v)
{
    struct ed_image_problem *p = add(v, ED_IMAGE_P_WRONG_OFFSET);
    if (!p)
        return;
    char what[160];
    describe(img, what, sizeof what);
    ed_image_setf(p->message, sizeof p->message, "%s is %s for the %s, meant for flash address "
             "0x%x%s, but it was aimed at 0x%x.", file_name(img), what, image_chip_name(img),
             img->flash_base, why, addr);
    char path[ED_IMAGE_NAME_MAX + 64];
    ed_image_setf(p->fix, sizeof p->fix, "Write it at 0x%x, where it belongs: give no address "
                  "and espdoctor puts it there.", img->flash_base);
    ed_image_setf(p->fix_command, sizeof p->fix_command, "espdoctor flash %s",
                  ed_shell_quote(img->path, path, sizeof path));
}

/* Does writing at addr put the image where the chip looks for it? */
static void check_offset(const struct ed_image_info *img, const struct ed_chip *chip,
                         uint32_t addr, bool addr_given, struct ed_image_verdict *v)
{
    char why[96] = "";
    if (!chip)
        return;   /* where a file belongs depends on the chip that will boot it */
    if (img->kind == ED_IMAGE_MERGED && img->flash_base != chip->bootloader_offset) {
        /* Same chip, but built for another bootloader address: it cannot boot anywhere. */
        struct ed_image_problem *p = add(v, ED_IMAGE_P_WRONG_OFFSET);
        if (!p)
            return;
        ed_image_setf(p->message, sizeof p->message, "%s is a merged image laid out for a "
                 "bootloader at 0x%x (partition table at file offset 0x%x), but the %s loads "
                 "its bootloader from 0x%x: no address makes this file boot.", file_name(img),
                 img->flash_base, img->partition_table_file_offset, chip->name,
                 chip->bootloader_offset);
        firmware_for(chip, p);
        return;
    }
    if (!addr_given)
        return;
    switch (img->kind) {
    case ED_IMAGE_MERGED:
        snprintf(why, sizeof why, " (its partition table sits at file offset 0x%x)",
                 img->partition_table_file_offset);
        break;
    case ED_IMAGE_BOOTLOADER:
        snprintf(why, sizeof why, " (where the ROM loads the bootloader from)");
        break;
    case ED_IMAGE_ESP8266_V1:
        snprintf(why, sizeof why, " (the ESP8266 ROM boots from 0x0)");
        break;
    case ED_IMAGE_PARTITION_TABLE:
        snprintf(why, sizeof why, " (where the bootloader reads the partition table)");
        break;
    case ED_IMAGE_APP:
        /* Other 64 KiB-aligned addresses past the bootloader and table can be OTA slots. */
        if (addr >= img->flash_base && addr % APP_ALIGN == 0)
            return;
        snprintf(why, sizeof why, " (apps go to an app partition, 64 KiB aligned)");
        break;
    case ED_IMAGE_ESP8266_V2:
        /* user2.bin slots vary; only writing over boot_v1.x at 0x0 is surely wrong. */
        if (addr != 0)
            return;
        snprintf(why, sizeof why, " (0x0 holds the SDK's boot_v1.x)");
        break;
    default:
        return;
    }
    if (addr != img->flash_base)
        wrong_offset(img, addr, why, v);
}

/* The revision range the image accepts; max UINT32_MAX when open-ended. */
static void revision_range(const struct ed_image_info *img, uint32_t *min, uint32_t *max)
{
    const struct ed_image_part *part = img->app.present ? &img->app : &img->boot;
    *min = part->min_rev_full;
    if (*min == 0 && part->legacy_min_rev != 0)
        /* The old byte is a major revision, except on the ESP32-C3 where it is a minor. */
        *min = part->chip_id == 5 ? part->legacy_min_rev : part->legacy_min_rev * 100u;
    *max = (part->max_rev_full == 0 || part->max_rev_full == 0xFFFF) ? UINT32_MAX
                                                                       : part->max_rev_full;
}

static void check_revision(const struct ed_image_info *img, const struct ed_chip *chip,
                           uint32_t rev, struct ed_image_verdict *v)
{
    if (rev == ED_IMAGE_REVISION_UNKNOWN ||
        (!img->boot.has_ext_header && !img->app.has_ext_header))
        return;
    uint32_t min, max;
    revision_range(img, &min, &max);
    if (rev >= min && rev <= max)
        return;
    struct ed_image_problem *p = add(v, ED_IMAGE_P_REVISION);
    if (!p)
        return;
    char range[64], hint[160];
    if (max == UINT32_MAX)
        snprintf(range, sizeof range, "v%u.%u and later", min / 100, min % 100);
    else
        snprintf(range, sizeof range, "v%u.%u to v%u.%u", min / 100, min % 100, max / 100,
                 max % 100);
    download_hint(chip, hint, sizeof hint);
    ed_image_setf(p->message, sizeof p->message, "%s supports %s revisions %s, but the board's "
             "chip is revision v%u.%u.", file_name(img), image_chip_name(img), range,
             rev / 100, rev % 100);
    ed_image_setf(p->fix, sizeof p->fix, "Use a build that supports chip revision v%u.%u%s: "
                  "%s.", rev / 100, rev % 100, rev > max ? " (usually a newer release)" : "",
                  hint);
}

static void check_size(const struct ed_image_info *img, const struct ed_chip *chip,
                       uint32_t flash_size, uint32_t addr, struct ed_image_verdict *v)
{
    char board[32], hint[160];
    format_size(flash_size, board, sizeof board);
    download_hint(chip, hint, sizeof hint);
    uint64_t end = (uint64_t)addr + img->file_size;
    if (end > flash_size) {
        struct ed_image_problem *p = add(v, ED_IMAGE_P_TOO_LARGE);
        if (!p)
            return;
        ed_image_setf(p->message, sizeof p->message, "%s is %llu bytes; written at 0x%x it would "
                 "end at 0x%llx, past the end of the board's %s flash.", file_name(img),
                 (unsigned long long)img->file_size, addr, (unsigned long long)end, board);
        ed_image_setf(p->fix, sizeof p->fix, "Use a build made for %s of flash: %s.", board,
                      hint);
        return;
    }
    const struct ed_image_part *part = img->boot.present ? &img->boot : &img->app;
    uint32_t declared = part->present ? ed_image_flash_size_bytes(part) : 0;
    if (declared > flash_size) {
        struct ed_image_problem *p = add(v, ED_IMAGE_P_FLASH_SIZE);
        char claim[32];
        if (!p)
            return;
        format_size(declared, claim, sizeof claim);
        ed_image_setf(p->message, sizeof p->message, "%s's header declares %s of flash, but the "
                 "board has %s.", file_name(img), claim, board);
        ed_image_setf(p->fix, sizeof p->fix, "Prefer a build for %s of flash: %s.", board, hint);
    }
}

static bool chip_mismatch(const struct ed_image_info *img, const struct ed_chip *chip)
{
    if (!chip || img->kind == ED_IMAGE_PARTITION_TABLE)
        return false;
    if (img->chip)
        return img->chip != chip;
    /* An ESP32-family chip id espdoctor has no row for: compare the raw ids. */
    return img->chip_id != chip->image_chip_id;
}

int ed_image_check_target(const struct ed_image_info *img, const struct ed_chip *chip,
                          uint32_t flash_size, uint32_t chip_revision, uint32_t addr,
                          bool addr_given, struct ed_image_verdict *v)
{
    if (!img || !v)
        return ED_E_ARG;
    memset(v, 0, sizeof *v);
    v->addr = addr_given ? addr : (img->base_known ? img->flash_base : 0);

    if (!ed_image_kind_is_firmware(img->kind) && img->kind != ED_IMAGE_TRUNCATED) {
        not_firmware(img, chip, v);
        return ED_E_IMAGE;
    }
    /* A truncated file may have ended before its chip id. */
    bool mismatch = (img->chip || img->chip_id >= 0) && chip_mismatch(img, chip);
    if (mismatch)
        wrong_chip(img, chip, v);
    if (img->kind == ED_IMAGE_TRUNCATED || img->corrupt) {
        struct ed_image_problem *p = add(v, img->kind == ED_IMAGE_TRUNCATED
                                                ? ED_IMAGE_P_TRUNCATED : ED_IMAGE_P_CORRUPT);
        if (p) {
            char hint[160];
            download_hint(chip ? chip : img->chip, hint, sizeof hint);
            ed_image_setf(p->message, sizeof p->message, "%s is %s: %s.", file_name(img),
                     img->kind == ED_IMAGE_TRUNCATED ? "cut short" : "damaged", img->evidence);
            ed_image_setf(p->fix, sizeof p->fix, "Download it again (from %s) and check its size "
                     "against the download page.", hint);
        }
    }
    /* Offsets and revisions only mean something for an image that belongs on this chip. */
    if (!mismatch && img->kind != ED_IMAGE_TRUNCATED) {
        check_offset(img, chip, v->addr, addr_given, v);
        if (chip)
            check_revision(img, chip, chip_revision, v);
    }
    if (flash_size)
        check_size(img, chip, flash_size, v->addr, v);
    return v->blocked ? ED_E_IMAGE : ED_OK;
}
