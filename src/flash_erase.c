/* The erase model (see erase.h): what each loader's FLASH_BEGIN erases, and the sizes to
 * ask for so that it erases exactly the sectors a write covers. */
#include "espdoctor/erase.h"

#include <string.h>

#define SECTORS_PER_BLOCK 16u   /* a 64 KiB block */

enum ed_erase_rule ed_erase_rule_of(const struct ed_loader *ld)
{
    bool esp8266_rom = !ld->stub && ld->chip && strcmp(ld->chip->key, "esp8266") == 0;
    return esp8266_rom ? ED_ERASE_ESP8266_ROM : ED_ERASE_SECTORS;
}

static uint64_t sector_down(uint64_t a)
{
    return a / ED_FLASH_SECTOR * ED_FLASH_SECTOR;
}

static uint64_t sector_up(uint64_t a)
{
    return (a + ED_FLASH_SECTOR - 1) / ED_FLASH_SECTOR * ED_FLASH_SECTOR;
}

struct ed_erase_span ed_erase_own(uint32_t addr, uint32_t len)
{
    struct ed_erase_span s = { sector_down(addr), sector_up((uint64_t)addr + len) };
    if (len == 0)
        s.end = s.start;
    return s;
}

/* The ESP8266 ROM's rule: n sectors asked from sector s erase head + n sectors from s,
 * head being n or, when fewer, the sectors up to the next 64 KiB boundary. */
static uint32_t esp8266_rom_erased(uint32_t start_sector, uint32_t n)
{
    uint32_t head = SECTORS_PER_BLOCK - start_sector % SECTORS_PER_BLOCK;
    return (head < n ? head : n) + n;
}

struct ed_erase_span ed_erase_effect(enum ed_erase_rule rule, uint32_t offset,
                                     uint32_t erase_size)
{
    if (rule == ED_ERASE_SECTORS)
        return ed_erase_own(offset, erase_size);
    uint32_t n = (uint32_t)(((uint64_t)erase_size + ED_FLASH_SECTOR - 1) / ED_FLASH_SECTOR);
    uint32_t s = offset / ED_FLASH_SECTOR;
    uint64_t start = (uint64_t)s * ED_FLASH_SECTOR;
    return (struct ed_erase_span){ start,
                                   start + (uint64_t)esp8266_rom_erased(s, n) * ED_FLASH_SECTOR };
}

bool ed_erase_span_within(struct ed_erase_span b, struct ed_erase_span a)
{
    return b.start == b.end || (b.start >= a.start && b.end <= a.end);
}

bool ed_erase_span_overlaps(struct ed_erase_span a, struct ed_erase_span b)
{
    return a.start < a.end && b.start < b.end && a.start < b.end && b.start < a.end;
}

/* How many sectors to ask the ESP8266 ROM for so that it erases exactly `want` from
 * start_sector; false when no size does (an odd count shorter than twice the way to the
 * next 64 KiB boundary: asked for m <= head it erases 2m, asked for more, head + m). */
static bool esp8266_exact(uint32_t start_sector, uint32_t want, uint32_t *ask)
{
    uint32_t head = SECTORS_PER_BLOCK - start_sector % SECTORS_PER_BLOCK;
    if (want % 2 == 0 && want <= 2 * head)
        *ask = want / 2;
    else if (want > 2 * head)
        *ask = want - head;
    else
        return false;
    return esp8266_rom_erased(start_sector, *ask) == want;
}

static struct ed_erase_part part(enum ed_erase_rule rule, uint32_t offset, uint32_t len,
                                 uint32_t erase_size)
{
    return (struct ed_erase_part){ offset, len, erase_size,
                                   ed_erase_effect(rule, offset, erase_size) };
}

size_t ed_erase_split(enum ed_erase_rule rule, uint32_t addr, uint32_t len,
                      struct ed_erase_part parts[ED_ERASE_MAX_PARTS],
                      struct ed_erase_span *spill)
{
    struct ed_erase_span own = ed_erase_own(addr, len);
    *spill = (struct ed_erase_span){ own.end, own.end };
    if (rule == ED_ERASE_SECTORS || len == 0) {
        parts[0] = part(rule, addr, len, len);
        return 1;
    }
    uint32_t s = (uint32_t)(own.start / ED_FLASH_SECTOR);
    uint32_t n = (uint32_t)((own.end - own.start) / ED_FLASH_SECTOR);
    uint32_t ask = 0;
    if (esp8266_exact(s, n, &ask)) {
        parts[0] = part(rule, addr, len, ask * ED_FLASH_SECTOR);
        return 1;
    }
    if (n == 1) {
        /* Nothing erases one sector alone: asked for one, the ROM erases two. */
        parts[0] = part(rule, addr, len, ED_FLASH_SECTOR);
        spill->end = parts[0].erases.end;
        return 1;
    }
    /* An odd count short of twice the head: the first sector on its own (its erase takes
     * the second sector too, which the second part erases again before writing it), then
     * the even rest, which the rule can erase exactly. */
    uint32_t first_len = (uint32_t)(own.start + ED_FLASH_SECTOR - addr);
    bool rest_exact = esp8266_exact(s + 1, n - 1, &ask);
    parts[0] = part(rule, addr, first_len, ED_FLASH_SECTOR);
    parts[1] = part(rule, addr + first_len, len - first_len, ask * ED_FLASH_SECTOR);
    if (!rest_exact)   /* cannot happen for an odd n < 2 x head; kept honest regardless */
        spill->end = parts[1].erases.end > own.end ? parts[1].erases.end : own.end;
    return 2;
}
