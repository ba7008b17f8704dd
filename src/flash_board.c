/* Facts about the board the flasher needs, and the line speed it flashes at. */
#include "espdoctor/flash.h"

#include <string.h>

#include "espdoctor/error.h"

/* ESP32 revision (ESP-IDF efuse_hal for the ESP32): three "ECO" bits from eFuse BLK0 word
 * 3 bit 15, word 5 bit 20 and APB_CTRL_DATE bit 31 give the major revision; word 5 bits
 * 24-25 the minor. */
#define ESP32_EFUSE_BLK0 0x3FF5A000u
#define ESP32_APB_CTRL_DATE 0x3FF6607Cu

#define DETECT_REG 0x40001000u
#define SYNC_TRIES 3

static int esp32_revision(struct ed_loader *ld, uint32_t *revision)
{
    uint32_t word3, word5, date;
    int rc = ed_loader_read_reg(ld, ESP32_EFUSE_BLK0 + 3 * 4, &word3);
    if (rc == ED_OK)
        rc = ed_loader_read_reg(ld, ESP32_EFUSE_BLK0 + 5 * 4, &word5);
    if (rc == ED_OK)
        rc = ed_loader_read_reg(ld, ESP32_APB_CTRL_DATE, &date);
    if (rc != ED_OK)
        return rc;
    unsigned eco = (word3 >> 15 & 1) | (word5 >> 20 & 1) << 1 | (date >> 31 & 1) << 2;
    unsigned major;
    switch (eco) {
    case 0: major = 0; break;
    case 1: major = 1; break;
    case 3: major = 2; break;
    case 7: major = 3; break;
    default: return ED_E_PROTOCOL;   /* a combination no ESP32 has */
    }
    *revision = major * 100 + (word5 >> 24 & 3);
    return ED_OK;
}

int ed_flash_chip_revision(struct ed_loader *ld, uint32_t *revision)
{
    if (ld->chip && strcmp(ld->chip->key, "esp32") == 0)
        return esp32_revision(ld, revision);
    return ED_E_UNSUPPORTED;
}

/* ---- baud --------------------------------------------------------------------------- */

static const uint32_t baud_ladder[ED_FLASH_BAUD_RUNGS] = { 921600, 460800, 230400, 115200 };

uint32_t ed_flash_baud_below(uint32_t baud)
{
    for (size_t i = 0; i < ED_FLASH_BAUD_RUNGS; i++)
        if (baud_ladder[i] < baud)
            return baud_ladder[i];
    return 0;
}

/* A register read at the new speed proves both sides agree. So does a refusal of it (a
 * ROM in Secure Download Mode refuses READ_REG): a whole reply frame came at that speed. */
static int confirm(struct ed_loader *ld)
{
    uint32_t v;
    int rc = ed_loader_read_reg(ld, DETECT_REG, &v);
    if (rc == ED_OK && ld->magic && v != ld->magic)
        rc = ED_E_PROTOCOL;
    if (rc == ED_E_UNSUPPORTED || rc == ED_E_ROM)
        rc = ED_OK;
    return rc;
}

static int sync_at(struct ed_loader *ld, uint32_t baud)
{
    int rc = ed_tp_set_baud(ld->tp, baud);
    if (rc != ED_OK)
        return rc;
    bool stub = ld->stub;
    unsigned status_bytes = ld->status_bytes;
    for (unsigned i = 0; i < SYNC_TRIES; i++) {
        ed_loader_flush(ld);
        rc = ed_loader_sync(ld);
        if (rc == ED_OK) {
            /* A running stub stays a stub; the ROM keeps the status size detection set. */
            ld->stub = stub;
            ld->status_bytes = status_bytes;
            return ED_OK;
        }
    }
    return rc;
}

/* After a failed switch the chip may be at either speed: find it. */
static int find_chip(struct ed_loader *ld, uint32_t tried, uint32_t before)
{
    int rc = sync_at(ld, tried);
    if (rc != ED_OK)
        rc = sync_at(ld, before);
    return rc;
}

int ed_flash_set_baud(struct ed_loader *ld, uint32_t target, uint32_t *reached)
{
    *reached = ld->tp->baud;
    if (target == 0 || target == ld->tp->baud)
        return ED_OK;
    if (!ld->stub && ld->chip && !ld->chip->rom_change_baud)
        return ED_E_UNSUPPORTED;
    uint32_t candidates[1 + sizeof baud_ladder / sizeof baud_ladder[0]];
    size_t n = 0;
    candidates[n++] = target;
    for (size_t i = 0; i < sizeof baud_ladder / sizeof baud_ladder[0]; i++)
        if (baud_ladder[i] < target)
            candidates[n++] = baud_ladder[i];
    for (size_t i = 0; i < n; i++) {
        uint32_t before = ld->tp->baud;
        if (candidates[i] == before)
            break;   /* stepped down to where we already are */
        int rc = ed_loader_change_baud(ld, candidates[i]);
        if (rc == ED_OK)
            rc = confirm(ld);
        if (rc == ED_OK)
            break;
        if (rc == ED_E_UNSUPPORTED || rc == ED_E_GONE)
            return rc;
        rc = find_chip(ld, candidates[i], before);
        if (rc != ED_OK)
            return rc;
    }
    *reached = ld->tp->baud;
    return ED_OK;
}

/* ---- getting the link back ------------------------------------------------------------ */

#define RESYNC_TRIES 4
#define REBOOT_GARBAGE_BYTES 64u
#define RESYNC_GAP_MS 100u
#define LATE_REPLY_MS 50u

/* The chip printed a boot banner since `before` (or, at a speed other than its ROM's,
 * a screenful of garbage): it reset, and its loader state is gone. */
static bool rebooted_since(const struct ed_loader *ld, uint64_t before)
{
    uint64_t heard = ld->bootlog_total - before;
    size_t n = heard < ld->bootlog_len ? (size_t)heard : ld->bootlog_len;
    struct ed_bootlog log;
    ed_bootlog_parse((const uint8_t *)ld->bootlog + ld->bootlog_len - n, n, &log);
    return log.resets > 0 || log.boot_value >= 0 || log.esp8266_boot_mode >= 0 ||
           (log.garbage && n >= REBOOT_GARBAGE_BYTES);
}

int ed_flash_resync(struct ed_loader *ld, uint32_t flash_size)
{
    bool stub = ld->stub;
    unsigned status_bytes = ld->status_bytes;
    uint64_t text_before = ld->bootlog_total;
    int rc = ED_E_TIMEOUT;
    for (unsigned i = 0; i < RESYNC_TRIES; i++) {
        if (i)
            ed_tp_sleep_ms(ld->tp, RESYNC_GAP_MS);
        rc = ed_loader_flush(ld);
        if (rc == ED_OK)
            rc = ed_loader_sync(ld);
        if (rc == ED_OK || rc == ED_E_GONE || rc == ED_E_NOTFOUND)
            break;
        if (rebooted_since(ld, text_before))
            return ED_E_PROTOCOL;   /* no SYNC will bring the loader back: reconnect */
    }
    if (rc != ED_OK)
        return rc;
    /* A ROM answering where the stub ran (or the reverse) means the chip reset: its
     * loader state, speed and stub are gone, and only a full reconnect restores them. */
    if (ld->stub != stub)
        return ED_E_PROTOCOL;
    ld->status_bytes = status_bytes;
    /* Replies to what was sent before the resync may still arrive: let them, then drop
     * them, so that none is taken for the answer to the next command. */
    ed_tp_sleep_ms(ld->tp, LATE_REPLY_MS);
    rc = ed_loader_flush(ld);
    if (rc != ED_OK)
        return rc;
    ld->spi_attached = false;
    return ed_flash_prepare(ld, flash_size);
}
