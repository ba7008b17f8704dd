/* The flash plan: which file goes where, and every reason not to write it, decided before
 * the first byte is sent (see flash.h). The image checks themselves live in image_check.c;
 * this file adds what concerns the set of regions: addresses, alignment, overlaps, raw
 * data. */
#include "espdoctor/flash.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espdoctor/erase.h"
#include "espdoctor/error.h"

void ed_flash_plan_init(struct ed_flash_plan *plan)
{
    memset(plan, 0, sizeof *plan);
}

void ed_flash_plan_close(struct ed_flash_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->items[i].fd >= 0)
            close(plan->items[i].fd);
        plan->items[i].fd = -1;
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The not-firmware explanation image_check.c words for each kind, kept in the plan. */
static void explain_not_firmware(struct ed_flash_plan *plan, const struct ed_image_info *img,
                                 char *err, size_t errlen)
{
    struct ed_image_verdict v;
    ed_image_check_target(img, NULL, 0, ED_IMAGE_REVISION_UNKNOWN, 0, false, &v);
    if (v.count) {
        plan->rejected = v.problems[0];
        snprintf(err, errlen, "%s %s", v.problems[0].message, v.problems[0].fix);
    } else {
        snprintf(err, errlen, "%s is not firmware.", img->path);
    }
}

enum ed_flash_input ed_flash_plan_add(struct ed_flash_plan *plan, const char *path,
                                      bool addr_given, uint32_t addr, char *err,
                                      size_t errlen)
{
    if (plan->count == ED_FLASH_MAX_REGIONS) {
        snprintf(err, errlen, "too many files: at most %d in one run", ED_FLASH_MAX_REGIONS);
        return ED_FLASH_INPUT_TOO_MANY;
    }
    struct ed_flash_item *it = &plan->items[plan->count];
    memset(it, 0, sizeof *it);
    it->path = path;
    it->addr_given = addr_given;
    it->addr = addr;
    it->fd = -1;
    if (ed_image_open(path, &it->img, err, errlen) != ED_OK)
        return ED_FLASH_INPUT_UNREADABLE;
    enum ed_flash_input kind = ED_FLASH_INPUT_OK;
    if (it->img.kind == ED_IMAGE_UNKNOWN) {
        snprintf(err, errlen, "%s is not a firmware image espdoctor recognises (%s). If it is "
                 "raw data for a partition, give its address and --force.", path,
                 it->img.evidence[0] ? it->img.evidence : "no image header");
        kind = ED_FLASH_INPUT_RAW;
    } else if (!ed_image_kind_is_firmware(it->img.kind) && it->img.kind != ED_IMAGE_TRUNCATED) {
        explain_not_firmware(plan, &it->img, err, errlen);
        return ED_FLASH_INPUT_NOT_FIRMWARE;
    }
    if (it->img.file_size > UINT32_MAX) {
        snprintf(err, errlen, "%s is larger than any flash chip (%llu bytes)", path,
                 (unsigned long long)it->img.file_size);
        return ED_FLASH_INPUT_NOT_FIRMWARE;
    }
    it->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (it->fd < 0 || fstat(it->fd, &st) != 0 || (uint64_t)st.st_size != it->img.file_size) {
        snprintf(err, errlen, "%s changed or vanished while it was being read", path);
        if (it->fd >= 0)
            close(it->fd);
        it->fd = -1;
        return ED_FLASH_INPUT_UNREADABLE;
    }
    plan->count++;
    return kind;
}

static struct ed_flash_issue *add_issue(struct ed_flash_item *it, const char *id,
                                        bool forceable)
{
    if (it->issue_count == ED_FLASH_MAX_ISSUES)
        return NULL;
    struct ed_flash_issue *is = &it->issues[it->issue_count++];
    memset(is, 0, sizeof *is);
    is->id = id;
    is->blocking = true;
    is->forceable = forceable;
    return is;
}

static void check_raw(struct ed_flash_item *it, uint32_t flash_size)
{
    const char *name = base_name(it->path);
    struct ed_flash_issue *is;
    if (!it->addr_given) {
        if ((is = add_issue(it, "flash.no-address", false)) != NULL) {
            snprintf(is->message, sizeof is->message, "%s is not a firmware image espdoctor "
                     "recognises, so it cannot tell where it belongs in flash.", name);
            snprintf(is->fix, sizeof is->fix, "Give the address it belongs at, and --force: "
                     "nothing in it can be checked.");
        }
        return;
    }
    if ((is = add_issue(it, "image.unknown", true)) != NULL) {
        snprintf(is->message, sizeof is->message, "%s is not a firmware image espdoctor "
                 "recognises (%s); nothing can be checked about writing it at 0x%x.", name,
                 it->img.evidence[0] ? it->img.evidence : "no image header", it->addr);
        snprintf(is->fix, sizeof is->fix, "If it is raw data for a partition at 0x%x, add "
                 "--force.", it->addr);
    }
    if (flash_size && (uint64_t)it->addr + it->img.file_size > flash_size &&
        (is = add_issue(it, "image.too-large", false)) != NULL) {
        snprintf(is->message, sizeof is->message, "%s is %llu bytes; written at 0x%x it would "
                 "end past the board's %u KB of flash.", name,
                 (unsigned long long)it->img.file_size, it->addr, flash_size / 1024);
        snprintf(is->fix, sizeof is->fix, "Check the address and the file.");
    }
}

static void check_image(struct ed_flash_item *it, const struct ed_chip *chip,
                        uint32_t flash_size, uint32_t revision)
{
    struct ed_image_verdict v;
    ed_image_check_target(&it->img, chip, flash_size, revision, it->addr, it->addr_given, &v);
    if (!it->addr_given)
        it->addr = v.addr;
    for (size_t k = 0; k < v.count; k++) {
        const struct ed_image_problem *p = &v.problems[k];
        /* Past the flash end no --force helps: the chip has nowhere to put the bytes. */
        struct ed_flash_issue *is = add_issue(it, p->rule->id,
                                              p->rule->code != ED_IMAGE_P_TOO_LARGE);
        if (!is)
            break;
        is->blocking = p->rule->blocking;
        snprintf(is->message, sizeof is->message, "%s", p->message);
        snprintf(is->fix, sizeof is->fix, "%s", p->fix);
        snprintf(is->fix_command, sizeof is->fix_command, "%s", p->fix_command);
    }
    if (!it->addr_given && !it->img.base_known) {
        struct ed_flash_issue *is = add_issue(it, "flash.no-address", false);
        if (is) {
            snprintf(is->message, sizeof is->message, "%s is %s, and nothing in it says "
                     "where it belongs in flash.", base_name(it->path),
                     ed_image_kind_describe(it->img.kind));
            snprintf(is->fix, sizeof is->fix, "Give the address it belongs at, before the file "
                     "name.");
        }
    }
}

static void check_alignment(struct ed_flash_item *it)
{
    if (it->addr % ED_FLASH_SECTOR == 0)
        return;
    struct ed_flash_issue *is = add_issue(it, "flash.unaligned", false);
    if (!is)
        return;
    uint32_t down = it->addr / ED_FLASH_SECTOR * ED_FLASH_SECTOR;
    snprintf(is->message, sizeof is->message, "0x%x is not a multiple of 4 KB (0x1000): "
             "flash is erased in whole 4 KB sectors, so writing %s there would also erase "
             "0x%x-0x%x.", it->addr, base_name(it->path), down, it->addr - 1);
    /* The next sector up only when the file fits below 4 GiB there: no address wraps. */
    uint64_t up = (uint64_t)down + ED_FLASH_SECTOR;
    if (up + it->img.file_size <= (uint64_t)UINT32_MAX + 1)
        snprintf(is->fix, sizeof is->fix, "Use a 4 KB-aligned address (0x%x or 0x%llx).",
                 down, (unsigned long long)up);
    else
        snprintf(is->fix, sizeof is->fix, "Use a 4 KB-aligned address (0x%x).", down);
}

/* Regions that share a sector: writing one erases part of the other. */
static void check_overlaps(struct ed_flash_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++) {
        struct ed_flash_item *a = &plan->items[i];
        uint64_t a_end = (a->addr + a->img.file_size + ED_FLASH_SECTOR - 1) / ED_FLASH_SECTOR *
                         ED_FLASH_SECTOR;
        for (size_t j = i + 1; j < plan->count; j++) {
            struct ed_flash_item *b = &plan->items[j];
            uint64_t b_end = (b->addr + b->img.file_size + ED_FLASH_SECTOR - 1) /
                             ED_FLASH_SECTOR * ED_FLASH_SECTOR;
            if (a->addr >= b_end || b->addr >= a_end)
                continue;
            struct ed_flash_issue *is = add_issue(b, "flash.overlap", false);
            if (!is)
                continue;
            snprintf(is->message, sizeof is->message, "%s at 0x%x (to 0x%llx) overlaps %s at "
                     "0x%x (to 0x%llx): one would overwrite the other.", base_name(b->path),
                     b->addr, (unsigned long long)b_end, base_name(a->path), a->addr,
                     (unsigned long long)a_end);
            snprintf(is->fix, sizeof is->fix, "Check the addresses: each file needs its own "
                     "4 KB sectors.");
        }
    }
}

/* What writing an item erases beyond its own sectors under the plan's erase rule (empty
 * when nothing: every loader but the ESP8266 ROM, and most sizes on that too). */
static struct ed_erase_span erase_spill(const struct ed_flash_plan *plan,
                                        const struct ed_flash_item *it)
{
    struct ed_erase_part parts[ED_ERASE_MAX_PARTS];
    struct ed_erase_span spill;
    enum ed_erase_rule rule = plan->esp8266_rom_erase ? ED_ERASE_ESP8266_ROM : ED_ERASE_SECTORS;
    ed_erase_split(rule, it->addr, (uint32_t)it->img.file_size, parts, &spill);
    return spill;
}

static struct ed_erase_span own_sectors(const struct ed_flash_item *it)
{
    return ed_erase_own(it->addr, (uint32_t)it->img.file_size);
}

/* An erase that reaches past an item's own sectors is harmless only where a file written
 * after it covers those sectors (its write erases and rewrites them); reaching into a
 * file written before it destroys that file, and reaching anywhere else destroys what the
 * user did not ask to touch. Both are refused. */
static void check_erase_reach(struct ed_flash_plan *plan, uint32_t flash_size)
{
    for (size_t i = 0; i < plan->count; i++) {
        struct ed_flash_item *it = &plan->items[i];
        struct ed_erase_span spill = erase_spill(plan, it);
        if (spill.start == spill.end)
            continue;
        bool rewritten = false;
        const struct ed_flash_item *victim = NULL;
        for (size_t j = 0; j < plan->count; j++) {
            if (j > i && ed_erase_span_within(spill, own_sectors(&plan->items[j])))
                rewritten = true;
            else if (j < i && ed_erase_span_overlaps(spill, own_sectors(&plan->items[j])))
                victim = &plan->items[j];
        }
        bool past_end = flash_size && spill.end > flash_size;
        if (rewritten && !past_end)
            continue;
        struct ed_flash_issue *is = add_issue(it, victim ? "flash.erase-overlap"
                                                         : "flash.erase-spill", false);
        if (!is)
            continue;
        const char *name = base_name(it->path);
        if (victim)
            snprintf(is->message, sizeof is->message, "The ESP8266 ROM cannot erase one 4 KB "
                     "sector alone: writing %s at 0x%x would also erase 0x%llx-0x%llx, part "
                     "of %s, which is written before it.", name, it->addr,
                     (unsigned long long)spill.start, (unsigned long long)spill.end - 1,
                     base_name(victim->path));
        else
            snprintf(is->message, sizeof is->message, "The ESP8266 ROM cannot erase one 4 KB "
                     "sector alone: writing %s at 0x%x would also erase 0x%llx-0x%llx, "
                     "which no file given covers.", name, it->addr,
                     (unsigned long long)spill.start, (unsigned long long)spill.end - 1);
        snprintf(is->fix, sizeof is->fix, "Use the flasher stub, which erases exactly (drop "
                 "--no-stub, or give --stub), or also write the sector at "
                 "0x%llx, after %s%s.", (unsigned long long)spill.start, name,
                 victim ? " (give the files in address order)" : "");
    }
}

size_t ed_flash_plan_check(struct ed_flash_plan *plan, const struct ed_chip *chip,
                           uint32_t flash_size, uint32_t chip_revision,
                           size_t *unforceable)
{
    for (size_t i = 0; i < plan->count; i++) {
        struct ed_flash_item *it = &plan->items[i];
        it->issue_count = 0;
        if (it->img.kind == ED_IMAGE_UNKNOWN)
            check_raw(it, flash_size);
        else
            check_image(it, chip, flash_size, chip_revision);
        check_alignment(it);
    }
    check_overlaps(plan);
    if (plan->esp8266_rom_erase)
        check_erase_reach(plan, flash_size);
    size_t blocking = 0, hard = 0;
    for (size_t i = 0; i < plan->count; i++)
        for (size_t k = 0; k < plan->items[i].issue_count; k++) {
            const struct ed_flash_issue *is = &plan->items[i].issues[k];
            blocking += is->blocking;
            hard += is->blocking && !is->forceable;
        }
    if (unforceable)
        *unforceable = hard;
    return blocking;
}
