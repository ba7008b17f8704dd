/* Line and boot log: open the port (releasing DTR/RTS), reset the board normally and read
 * what it prints, at 115200 and, when that is unreadable, at 74880 (ESP8266 ROM). */
#include "espdoctor/doctor.h"

#include "espdoctor/error.h"
#include "espdoctor/loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX_MS 700u      /* long enough for a ROM log and a MicroPython banner */
#define LOG_QUIET_MS 150u
#define LOG_SLICE_MS 50u     /* how often the log is read while it comes in */
#define LOG_FIRST_BYTE_MS 700u   /* a large EN capacitor starts the chip this late */
#define LOG_GLANCE_MS 1u
#define ESP8266_LOG_BAUD 74880u

static bool open_failed(struct ed_doctor *d, int rc)
{
    const char *id = "port.not-serial";
    if (rc == ED_E_PERM)
        id = "perm.denied";
    else if (rc == ED_E_BUSY)
        id = "lock.busy";
    else if (rc == ED_E_NOTFOUND || rc == ED_E_GONE)
        id = "port.vanished";
    /* The permission and lock families report these with their evidence already. */
    if (ed_report_has(&d->report, id))
        return false;
    struct ed_finding *f = ed_report_add(&d->report, id, d->port_path);
    ed_finding_evidence(f, "opening %s failed: %s (%s)", d->port_path, ed_strerror(rc),
                        strerror(errno));
    return false;
}

/* The log already tells its story: a loop of resets (two are proof enough), a REPL
 * prompt, or the ROM waiting for download. Listening longer would add nothing. */
static bool log_settled(const struct ed_doctor *d, const struct ed_bootlog *log)
{
    /* Only at a line's end, so the evidence shows whole lines. */
    if (d->ld->bootlog_len == 0 || d->ld->bootlog[d->ld->bootlog_len - 1] != '\n')
        return false;
    bool loop = log->resets >= 2 && (log->invalid_header || log->guru_meditation ||
                                     log->flash_read_err || log->brownout);
    /* The ROM read erased flash at the boot offset: it will only start over. Once its
     * banner is in too (judge_log wants it): a window that opened mid-loop has only
     * "invalid header" lines, and the banner is a few lines on. */
    bool blank = log->erased_header && log->resets >= 1 && !log->brownout;
    return loop || blank || log->repl_prompt || log->download_mode;
}

static void parse_since(const struct ed_doctor *d, uint64_t text_before, struct ed_bootlog *log)
{
    uint64_t heard = d->ld->bootlog_total - text_before;
    size_t slice = heard < d->ld->bootlog_len ? (size_t)heard : d->ld->bootlog_len;
    ed_bootlog_parse((const uint8_t *)d->ld->bootlog + d->ld->bootlog_len - slice, slice, log);
}

/* Hard reset at `baud` and collect what the chip prints: until it falls quiet, the story
 * is settled, or LOG_MAX_MS have passed since the first byte. */
static int read_boot_log(struct ed_doctor *d, uint32_t baud, struct ed_bootlog *log,
                         uint64_t *text_before)
{
    int rc = ed_tp_set_baud(d->tp, baud);
    if (rc == ED_OK)
        rc = ed_loader_flush(d->ld);
    *text_before = d->ld->bootlog_total;
    if (rc == ED_OK)
        rc = ed_reset_run(d->tp, ED_SEQ_HARD, 0);
    /* Quiet ends the log only once it has begun: a slow EN starts the chip late. */
    uint64_t reset_at = ed_tp_now_us(d->tp);
    while (rc == ED_OK && d->ld->bootlog_total == *text_before &&
           ed_tp_now_us(d->tp) - reset_at < LOG_FIRST_BYTE_MS * 1000ull)
        rc = ed_loader_listen(d->ld, LOG_QUIET_MS, LOG_QUIET_MS);
    /* The window is our clock, not the chip's: a doctor that was not scheduled for a while
     * finds it over with the log waiting unread. Take what is there before calling the
     * board silent (a glance: a read that returns what is waiting). */
    if (rc == ED_OK && d->ld->bootlog_total == *text_before)
        rc = ed_loader_listen(d->ld, LOG_GLANCE_MS, LOG_GLANCE_MS);
    uint64_t start = ed_tp_now_us(d->tp), last_heard = start;
    parse_since(d, *text_before, log);
    while (rc == ED_OK && d->ld->bootlog_total != *text_before && !log_settled(d, log)) {
        uint64_t before = d->ld->bootlog_total;
        rc = ed_loader_listen(d->ld, LOG_SLICE_MS, LOG_SLICE_MS);
        uint64_t now = ed_tp_now_us(d->tp);
        if (d->ld->bootlog_total != before)
            last_heard = now;
        else if (now - last_heard >= LOG_QUIET_MS * 1000ull)
            break;
        if (now - start >= LOG_MAX_MS * 1000ull)
            break;
        parse_since(d, *text_before, log);
    }
    parse_since(d, *text_before, log);
    d->reset_text_mark = *text_before;
    return rc;
}

static void tail_since(const struct ed_doctor *d, uint64_t text_before, char *out, size_t len)
{
    uint64_t heard = d->ld->bootlog_total - text_before;
    size_t slice = heard < d->ld->bootlog_len ? (size_t)heard : d->ld->bootlog_len;
    ed_bootlog_tail((const uint8_t *)d->ld->bootlog + d->ld->bootlog_len - slice, slice, 4,
                    out, len);
}

static void judge_log(struct ed_doctor *d, const struct ed_bootlog *log, const char *tail)
{
    struct ed_finding *f;
    if (log->brownout) {
        f = ed_report_add(&d->report, "boot.brownout", d->port_path);
        ed_finding_evidence(f, "the chip printed \"Brownout detector was triggered\" after "
                               "a reset:\n%s", tail);
        ed_finding_fix(f, "Use a short, good USB cable and a USB port or powered hub that "
                          "gives enough current; if the board is powered from a bridge's "
                          "3.3 V pin, use a proper 3.3 V regulator.");
    }
    /* A strapping pin explains a reset loop: the fix is the pin, not new firmware. */
    bool strapped = ed_judge_straps(d, log) && d->strap_blocks;
    bool looping = !strapped && log->resets >= 2 &&
                   (log->invalid_header || log->guru_meditation || log->flash_read_err ||
                    log->brownout);
    /* Erased flash at the boot offset and nothing else wrong: a board that holds no
     * firmware yet (or was erased), which is not a crash. One "invalid header:
     * 0xffffffff" says so; the ROM only starts over after it. */
    bool blank = !strapped && log->erased_header && log->resets >= 1 &&
                 !log->guru_meditation && !log->flash_read_err && !log->brownout;
    if (blank) {
        f = ed_report_add(&d->report, "firmware.blank", d->port_path);
        ed_finding_evidence(f, "the ROM read erased flash (0xffffffff) where the bootloader "
                               "belongs; it can only start over and over:\n%s", tail);
        ed_finding_fix(f, "Flash firmware built for this chip; the doctor names the download "
                          "once the bootloader has said which chip it is.");
    } else if (looping) {
        f = ed_report_add(&d->report, "boot.crash-loop", d->port_path);
        ed_finding_evidence(f, "%u resets in a row%s%s%s:\n%s", log->resets,
                            log->invalid_header ? ", \"invalid header\" (nothing bootable "
                                                  "at the bootloader offset)" : "",
                            log->guru_meditation ? ", Guru Meditation error" : "",
                            log->flash_read_err ? ", \"flash read err\"" : "", tail);
        ed_finding_fix(f, "Flash firmware built for this chip; espdoctor checks that a file "
                          "fits the chip before it writes.");
    }
}

bool ed_check_line(struct ed_doctor *d)
{
    if (!d->has_target || !d->port_path[0])
        return false;
    /* A port handed in already open (a test's virtual board) is used as it is. */
    int rc = d->tp ? ED_OK : ed_doctor_open_port(d, 115200);
    if (rc != ED_OK)
        return open_failed(d, rc);
    d->ld = calloc(1, sizeof *d->ld);
    if (!d->ld)
        return false;
    ed_loader_init(d->ld, d->tp);

    struct ed_bootlog at115200, at74880;
    uint64_t mark;
    char tail[1024];
    rc = read_boot_log(d, 115200, &at115200, &mark);
    tail_since(d, mark, tail, sizeof tail);
    d->boot = at115200;
    d->log_baud = 115200;
    if (rc == ED_OK && !at115200.readable && at115200.bytes > 0) {
        /* Unreadable at 115200: an ESP8266 ROM talks at 74880. (Silence is silence at
         * any rate: a log at another one would have arrived as garbage.) */
        uint64_t mark74;
        rc = read_boot_log(d, ESP8266_LOG_BAUD, &at74880, &mark74);
        if (rc == ED_OK && at74880.resets > 0) {
            d->boot = at74880;
            d->log_baud = ESP8266_LOG_BAUD;
            d->esp8266_log = at74880.esp8266;
            tail_since(d, mark74, tail, sizeof tail);
        }
        if (rc == ED_OK)
            rc = ed_tp_set_baud(d->tp, 115200);
    }
    if (rc == ED_E_GONE) {
        struct ed_finding *f = ed_report_add(&d->report, "port.vanished", d->port_path);
        ed_finding_evidence(f, "the port went away during a reset");
        return false;
    }
    if (rc != ED_OK && rc != ED_E_TIMEOUT) {
        struct ed_finding *f = ed_report_add(&d->report, rc == ED_E_UNSUPPORTED
                                             ? "reset.no-autoreset" : "port.not-serial",
                                             d->port_path);
        ed_finding_evidence(f, "resetting the board through DTR/RTS failed: %s",
                            ed_strerror(rc));
        return false;
    }

    if (d->boot.bytes == 0) {
        struct ed_finding *f = ed_report_add(&d->report, "boot.silent", d->port_path);
        ed_finding_evidence(f, "nothing arrived within %u ms of a reset (output at any baud "
                               "rate would have arrived, if garbled)",
                            LOG_FIRST_BYTE_MS + LOG_QUIET_MS);
        ed_finding_fix(f, "Check that the board's power LED is on and that TX and RX are "
                          "connected; the bootloader check tells whether the reset reaches "
                          "the chip.");
    } else if (!d->boot.readable && d->log_baud == 115200) {
        struct ed_finding *f = ed_report_add(&d->report, "boot.wrong-baud", d->port_path);
        ed_finding_evidence(f, "%zu bytes arrived after a reset, unreadable at 115200 and at "
                               "%u baud", at115200.bytes, ESP8266_LOG_BAUD);
        ed_finding_fix(f, "The firmware may use another baud rate; reading its log at the "
                          "right one (e.g. 9600, 57600) tells. The bootloader is reached at "
                          "115200 regardless.");
    }
    judge_log(d, &d->boot, tail);
    /* Provisional: the firmware check hears the rest of what the chip printed after this
     * reset and judges again from all of it. */
    d->reset_unheard = d->boot.bytes > 0 && !ed_bootlog_has_banner(&d->boot);
    return true;
}
