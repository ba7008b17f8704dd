/* The button watch (see espdoctor/button.h). */
#include "espdoctor/button.h"

#include "espdoctor/bootlog.h"
#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"

#include <string.h>

#define WATCH_SLICE_MS 200u
#define SYNCS_AFTER_BANNER 3u   /* the ROM may still be printing when the first goes */

enum ed_button_chip ed_button_chip_heard(const struct ed_loader *ld)
{
    enum ed_button_chip chip = ED_BUTTON_CHIP_UNKNOWN;
    for (size_t i = 0; i < ld->attempt_count; i++) {
        const struct ed_bootlog *log = &ld->attempts[i].log;
        if (log->esp8266)
            return ED_BUTTON_CHIP_ESP8266;
        if (ed_bootlog_has_banner(log))
            chip = ED_BUTTON_CHIP_ESP32;
    }
    return chip;
}

/* The bridges NodeMCU-style ESP8266 boards carry: the CP2102 (v1.0, Amica) and the
 * CH340G (v3, LoLin). Their silkscreen says FLASH and RST. */
static bool nodemcu_bridge(const struct ed_bridge *bridge)
{
    return !bridge || bridge->family == ED_FAMILY_CP210X || bridge->family == ED_FAMILY_CH34X;
}

void ed_button_names_for(const struct ed_bridge *bridge, enum ed_button_chip chip,
                         struct ed_button_names *out)
{
    out->boot = "BOOT";
    out->reset = "EN";
    if (chip == ED_BUTTON_CHIP_ESP32 || !nodemcu_bridge(bridge))
        return;
    if (chip == ED_BUTTON_CHIP_ESP8266 && bridge) {
        out->boot = "FLASH";
        out->reset = "RST";
    } else {   /* unsure: name both */
        out->boot = "BOOT (FLASH on NodeMCU)";
        out->reset = "EN (RST on NodeMCU)";
    }
}

static void tell(struct ed_button_watch *w, enum ed_button_event event, unsigned left_ms)
{
    if (!w->on_event)
        return;
    struct ed_button_status st = { .event = event, .seconds_left = (left_ms + 999) / 1000,
                                   .names = &w->names };
    w->on_event(w->ctx, &st);
}

static int sync_now(struct ed_loader *ld, unsigned tries)
{
    int rc = ED_E_TIMEOUT;
    for (unsigned i = 0; i < tries && rc != ED_OK && rc != ED_E_GONE && !ed_interrupted(); i++)
        rc = ed_loader_sync(ld);
    return rc;
}

/* What arrived since mark, decoded. */
static bool banner_since(const struct ed_loader *ld, uint64_t mark, bool *heard)
{
    uint64_t got = ld->bootlog_total - mark;
    *heard = got > 0;
    size_t slice = got < ld->bootlog_len ? (size_t)got : ld->bootlog_len;
    struct ed_bootlog log;
    ed_bootlog_parse((const uint8_t *)ld->bootlog + ld->bootlog_len - slice, slice, &log);
    return log.download_mode;
}

int ed_button_watch_run(struct ed_loader *ld, struct ed_button_watch *w)
{
    w->banner_seen = false;
    w->waited_ms = 0;
    uint64_t start = ed_tp_now_us(ld->tp), round = start;
    uint64_t limit_us = (uint64_t)w->timeout_ms * 1000;
    unsigned shown = (w->timeout_ms + 999) / 1000;
    tell(w, ED_BUTTON_ASK, w->timeout_ms);
    int rc = ED_E_TIMEOUT;
    /* Text since the last look, the syncs' reads included: a banner that came while a
     * SYNC waited is still seen. */
    uint64_t mark = ld->bootlog_total;
    while (rc != ED_OK) {
        uint64_t now = ed_tp_now_us(ld->tp);
        if (now - round >= limit_us) {
            rc = ED_E_TIMEOUT;
            break;
        }
        if (ed_interrupted()) {
            rc = ED_E_CANCELLED;
            break;
        }
        unsigned left_ms = (unsigned)((limit_us - (now - round)) / 1000);
        if ((left_ms + 999) / 1000 != shown) {
            shown = (left_ms + 999) / 1000;
            tell(w, ED_BUTTON_TICK, left_ms);
        }
        if (w->enter_pressed && w->enter_pressed(w->ctx)) {
            tell(w, ED_BUTTON_RETRY, w->timeout_ms);
            round = ed_tp_now_us(ld->tp);
            shown = (w->timeout_ms + 999) / 1000;
            rc = sync_now(ld, 1);
            continue;
        }
        rc = ed_loader_listen(ld, WATCH_SLICE_MS, WATCH_SLICE_MS);
        if (rc == ED_E_GONE)
            break;
        bool heard;
        bool banner = banner_since(ld, mark, &heard);
        mark = ld->bootlog_total;
        if (banner) {
            w->banner_seen = true;
            tell(w, ED_BUTTON_BANNER, left_ms);
            rc = sync_now(ld, SYNCS_AFTER_BANNER);
        } else {
            /* Quiet: maybe the ROM already waits (its banner went by at another baud,
             * as an ESP8266's 74880 does). Text: a program runs; SYNC would be lost. */
            rc = heard ? ED_E_TIMEOUT : sync_now(ld, 1);
        }
        if (rc == ED_E_GONE)
            break;
    }
    if (rc == ED_OK && ed_interrupted())
        rc = ED_E_CANCELLED;
    w->waited_ms = (unsigned)((ed_tp_now_us(ld->tp) - start) / 1000);
    if (rc == ED_OK)
        tell(w, ED_BUTTON_REACHED, 0);
    else if (rc == ED_E_TIMEOUT)
        tell(w, ED_BUTTON_EXPIRED, 0);
    return rc;
}
