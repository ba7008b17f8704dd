/* Getting the chip into its ROM bootloader: reset sequences, the boot log they provoke, and
 * SYNC; every attempt is recorded because "why didn't it connect" is the question. */
#include "espdoctor/loader.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "espdoctor/error.h"

#define SYNCS_PER_ATTEMPT 5u
#define SYNC_GAP_MS 50u
#define LOG_LISTEN_MAX_MS 200u
#define LOG_LISTEN_QUIET_MS 30u
#define NO_RESET_ATTEMPTS 2u

struct plan_step {
    bool reset;
    enum ed_reset_seq seq;
    unsigned delay_ms;
};

/* Short D first (most boards), then the long one for slow EN capacitors. */
static const struct plan_step auto_circuit_plan[] = {
    { true, ED_SEQ_TIGHT, 50 },
    { true, ED_SEQ_CLASSIC, 50 },
    { true, ED_SEQ_TIGHT, 550 },
    { true, ED_SEQ_CLASSIC, 550 },
};

/* On 303a:1001 the USB-Serial/JTAG sequence and nothing else, as esptool does
 * (loader.py, _construct_reset_strategy_sequence): the controller decodes the lines
 * itself, and the sequences for a transistor circuit only reset the chip into its app. */
static const struct plan_step usb_jtag_plan[] = {
    { true, ED_SEQ_USB_JTAG, 0 },
};
#define USB_JTAG_ATTEMPTS 3u

static const struct plan_step no_reset_plan[] = {
    { false, ED_SEQ_TIGHT, 0 },
};

const char *ed_boot_mode_name(enum ed_boot_mode mode)
{
    switch (mode) {
    case ED_BOOT_UNSEEN: return "no boot banner";
    case ED_BOOT_DOWNLOAD: return "download mode";
    case ED_BOOT_FLASH: return "flash boot";
    case ED_BOOT_OTHER: return "other boot mode";
    }
    return "?";
}

/* The last occurrence of needle in text[0..len). */
static const char *find_last(const char *text, size_t len, const char *needle)
{
    const char *last = NULL;
    size_t n = strlen(needle);
    const char *p = text;
    while (len >= n) {
        const char *hit = memmem(p, len, needle, n);
        if (!hit)
            break;
        last = hit;
        len -= (size_t)(hit - p) + 1;
        p = hit + 1;
    }
    return last;
}

static size_t line_end(const char *text, size_t len, const char *from)
{
    const char *nl = memchr(from, '\n', len - (size_t)(from - text));
    return nl ? (size_t)(nl - text) : len;
}

enum ed_boot_mode ed_boot_mode_of(const struct ed_bootlog *log)
{
    if (log->download_mode)
        return ED_BOOT_DOWNLOAD;
    if (log->flash_boot)
        return ED_BOOT_FLASH;
    if (log->boot_value >= 0 || log->esp8266_boot_mode >= 0)
        return ED_BOOT_OTHER;
    return ED_BOOT_UNSEEN;
}

/* Copy the printable part of the line holding the boot value into the attempt. */
static void keep_banner(struct ed_connect_attempt *a, const char *text, size_t len)
{
    a->banner[0] = '\0';
    const char *hit = find_last(text, len, "boot mode:(");
    if (!hit)
        hit = find_last(text, len, "boot:0x");
    if (!hit)
        hit = find_last(text, len, "waiting for download");
    if (!hit)
        return;
    const char *start = hit;
    while (start > text && start[-1] != '\n' && start[-1] != '\r')
        start--;
    const char *end = text + line_end(text, len, hit);
    size_t o = 0;
    for (const char *p = start; p < end && o + 1 < sizeof a->banner; p++)
        if (isprint((unsigned char)*p))
            a->banner[o++] = *p;
    a->banner[o] = '\0';
}

/* A transport failure (unplug, no modem lines) will not get better by retrying. */
static bool fatal(int rc)
{
    return rc != ED_OK && rc != ED_E_TIMEOUT && rc != ED_E_PROTOCOL && rc != ED_E_ROM;
}

/* Decode the text received since text_before (the newest part of the boot log); returns
 * how many bytes of it are still in the buffer. */
static size_t attempt_log(const struct ed_loader *ld, uint64_t text_before,
                          struct ed_bootlog *log)
{
    uint64_t heard = ld->bootlog_total - text_before;
    size_t slice = heard < ld->bootlog_len ? (size_t)heard : ld->bootlog_len;
    ed_bootlog_parse((const uint8_t *)ld->bootlog + ld->bootlog_len - slice, slice, log);
    return slice;
}

static int run_attempt(struct ed_loader *ld, const struct ed_connect_opts *opts,
                       struct ed_connect_attempt *a)
{
    uint32_t sync_baud = ld->tp->baud;
    uint64_t text_before = ld->bootlog_total;
    int rc = ed_loader_flush(ld);
    if (rc == ED_OK && opts->log_baud && opts->log_baud != sync_baud)
        rc = ed_tp_set_baud(ld->tp, opts->log_baud);
    if (rc == ED_OK && a->reset_done)
        rc = ed_reset_run(ld->tp, a->seq, a->delay_ms);
    if (rc == ED_OK)
        rc = ed_loader_listen(ld, LOG_LISTEN_MAX_MS, LOG_LISTEN_QUIET_MS);
    if (rc == ED_OK && opts->log_baud && opts->log_baud != sync_baud) {
        rc = ed_tp_set_baud(ld->tp, sync_baud);
        if (rc == ED_OK)
            rc = ed_loader_flush(ld);
    }
    /* A banner that says the chip booted from flash means the ROM loader is not
     * running: SYNC cannot succeed, so don't spend ~750 ms proving it. */
    struct ed_bootlog provoked;
    attempt_log(ld, text_before, &provoked);
    bool booted_from_flash = provoked.flash_boot && !provoked.download_mode;
    /* Readable text and no ROM banner: a program kept running through the "reset", so
     * the reset did not reach the chip and its ROM loader is not listening either. */
    bool app_kept_running = provoked.readable && provoked.resets == 0 &&
                            !provoked.download_mode && provoked.boot_value < 0;
    if (rc == ED_OK && (booted_from_flash || app_kept_running) && a->reset_done)
        rc = ED_E_TIMEOUT;
    else if (rc == ED_OK) {
        rc = ED_E_TIMEOUT;
        unsigned syncs = opts->syncs ? opts->syncs : SYNCS_PER_ATTEMPT;
        for (unsigned i = 0; i < syncs; i++) {
            rc = ed_loader_sync(ld);
            if (rc == ED_OK || fatal(rc))
                break;
            ed_tp_sleep_ms(ld->tp, SYNC_GAP_MS);
        }
    }

    const char *text;
    size_t slice = attempt_log(ld, text_before, &a->log);
    text = ld->bootlog + ld->bootlog_len - slice;
    a->log_bytes = (size_t)(ld->bootlog_total - text_before);
    a->boot = ed_boot_mode_of(&a->log);
    a->boot_value = a->log.esp8266 ? a->log.esp8266_boot_mode : a->log.boot_value;
    keep_banner(a, text, slice);
    a->result = rc;
    return rc;
}

int ed_loader_connect(struct ed_loader *ld, const struct ed_connect_opts *opts)
{
    const struct plan_step *plan = auto_circuit_plan;
    size_t plan_len = sizeof auto_circuit_plan / sizeof auto_circuit_plan[0];
    if (opts->no_reset || opts->style == ED_RESET_NONE || !ld->tp->has_modem_lines) {
        plan = no_reset_plan;
        plan_len = 1;
    } else if (opts->style == ED_RESET_USB_JTAG) {
        plan = usb_jtag_plan;
        plan_len = sizeof usb_jtag_plan / sizeof usb_jtag_plan[0];
    }
    size_t attempts = opts->attempts ? opts->attempts
                      : plan == no_reset_plan ? NO_RESET_ATTEMPTS
                      : plan == usb_jtag_plan ? USB_JTAG_ATTEMPTS : plan_len;
    if (attempts > ED_LOADER_MAX_ATTEMPTS)
        attempts = ED_LOADER_MAX_ATTEMPTS;

    ld->attempt_count = 0;
    ld->chip = NULL;
    ld->stub = false;
    ld->spi_attached = false;
    int rc = ED_E_TIMEOUT;
    unsigned follows = 0;
    bool after_follow = false;
    for (size_t i = 0; i < attempts && ld->attempt_count < ED_LOADER_MAX_ATTEMPTS;) {
        struct ed_connect_attempt *a = &ld->attempts[ld->attempt_count++];
        const struct plan_step *step = &plan[i % plan_len];
        memset(a, 0, sizeof *a);
        /* Right after the port came back the chip has just been reset: sync, don't reset. */
        a->reset_done = step->reset && !after_follow;
        a->seq = step->seq;
        a->delay_ms = step->delay_ms;
        if (!after_follow)
            i++;
        after_follow = false;
        rc = run_attempt(ld, opts, a);
        if (rc == ED_E_GONE && opts->follow && follows < ED_CONNECT_FOLLOWS) {
            follows++;
            rc = opts->follow(opts->follow_ctx, &ld->tp, a->followed, sizeof a->followed);
            if (rc == ED_OK) {
                ld->rx_pos = ld->rx_len = 0;
                ed_slip_reset(&ld->slip);
                after_follow = true;
                continue;
            }
            a->result = rc;
        }
        if (rc == ED_OK || fatal(rc))
            return rc;
    }
    return rc;
}

bool ed_loader_attempts_all(const struct ed_loader *ld, enum ed_boot_mode mode)
{
    size_t seen = 0;
    for (size_t i = 0; i < ld->attempt_count; i++) {
        if (ld->attempts[i].boot == ED_BOOT_UNSEEN)
            continue;
        if (ld->attempts[i].boot != mode)
            return false;
        seen++;
    }
    return seen > 0;
}

void ed_loader_describe_attempt(const struct ed_connect_attempt *a, char *buf, size_t len)
{
    char how[64];
    if (a->reset_done)
        snprintf(how, sizeof how, "%s reset, D=%u ms", ed_reset_name(a->seq), a->delay_ms);
    else
        snprintf(how, sizeof how, "no reset");
    char boot[48];
    if (a->boot_value >= 0)
        snprintf(boot, sizeof boot, "boot value 0x%X (%s)", (unsigned)a->boot_value,
                 ed_boot_mode_name(a->boot));
    else
        snprintf(boot, sizeof boot, "%s", a->log_bytes ? ed_boot_mode_name(a->boot)
                                                       : "no boot log");
    snprintf(buf, len, "%s: %s, %s%s%s", how, boot,
             a->result == ED_OK ? "synced" : ed_strerror(a->result),
             a->followed[0] ? "; the port re-enumerated: " : "", a->followed);
}
