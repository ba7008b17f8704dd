/* What a FLASH_BEGIN erases, loader by loader, and how to write a range of flash so that
 * the erase stays inside the range's own 4 KiB sectors (src/flash_erase.c).
 *
 * ESP32-family ROMs and every stub erase the sectors the announced size covers (a stub as
 * the data arrives). The ESP8266 ROM does not: asked for n sectors from sector s, it
 * erases head + n, where head = min(n, sectors from s to the next 64 KiB boundary)
 * (Espressif's serial-protocol docs, "erase size bug"; esptool issue 33). So a write is
 * cut into FLASH_BEGINs whose sizes make that rule erase exactly the range's sectors.
 * One sector alone cannot be erased that way (asked for one, the ROM erases two). */
#ifndef ESPDOCTOR_ERASE_H
#define ESPDOCTOR_ERASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/loader.h"

enum ed_erase_rule {
    ED_ERASE_SECTORS,       /* the sectors the size covers: ESP32-family ROMs, stubs */
    ED_ERASE_ESP8266_ROM,   /* head + n sectors */
};

/* Bytes [start, end), sector-aligned; empty when start == end. */
struct ed_erase_span {
    uint64_t start, end;
};

/* One FLASH_BEGIN and the data that follows it. */
struct ed_erase_part {
    uint32_t offset, len;           /* the data: a piece of the range, in order */
    uint32_t erase_size;            /* what FLASH_BEGIN asks for */
    struct ed_erase_span erases;    /* what the loader then erases */
};

#define ED_ERASE_MAX_PARTS 2

/* The rule of the loader on the other end. */
enum ed_erase_rule ed_erase_rule_of(const struct ed_loader *ld);

/* The sectors FLASH_BEGIN(offset, erase_size) erases under rule. */
struct ed_erase_span ed_erase_effect(enum ed_erase_rule rule, uint32_t offset,
                                     uint32_t erase_size);

/* The sectors [addr, addr + len) touches: all a write of it may erase. */
struct ed_erase_span ed_erase_own(uint32_t addr, uint32_t len);

/* True when a holds all of b (an empty b always fits). */
bool ed_erase_span_within(struct ed_erase_span b, struct ed_erase_span a);
bool ed_erase_span_overlaps(struct ed_erase_span a, struct ed_erase_span b);

/* Cut a write of [addr, addr + len) into FLASH_BEGINs, in the order they are sent. Each
 * part's erase covers its own data, stays inside ed_erase_own(addr, len) and never
 * reaches back into an earlier part's data (it may erase ahead what a later part writes).
 * Returns the number of parts; *spill is what the erases reach beyond the range's own
 * sectors: empty, except for a single sector on the ESP8266 ROM, which then also erases
 * the sector after it. */
size_t ed_erase_split(enum ed_erase_rule rule, uint32_t addr, uint32_t len,
                      struct ed_erase_part parts[ED_ERASE_MAX_PARTS],
                      struct ed_erase_span *spill);

#endif
