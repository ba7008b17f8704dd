/* Boot-log decoding. Formats from Espressif's "Boot Mode Selection" and troubleshooting
 * documentation: ESP32-family ROMs print "rst:0xN (NAME),boot:0xNN (MODE)" at 115200;
 * the ESP8266 ROM prints "ets Jan  8 2013,rst cause:N, boot mode:(N,M)" at 74880. */
#include "espdoctor/bootlog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounded substring search (text is not NUL-terminated). */
static const uint8_t *find(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || len < n)
        return NULL;
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* Parse a number (hex with 0x, else decimal) at p, bounded by end. */
static long number_at(const uint8_t *p, const uint8_t *end, const uint8_t **after)
{
    char buf[16];
    size_t n = 0;
    while (p + n < end && n < sizeof buf - 1 && (isxdigit(p[n]) || p[n] == 'x'))
        buf[n] = (char)p[n], n++;
    buf[n] = '\0';
    *after = p + n;
    if (n == 0)
        return -1;
    char *stop;
    long v = strtol(buf, &stop, 0);
    return stop == buf ? -1 : v;
}

static void parse_esp32_lines(const uint8_t *text, size_t len, struct ed_bootlog *log)
{
    const uint8_t *end = text + len, *p = text;
    const uint8_t *hit;
    while ((hit = find(p, (size_t)(end - p), "rst:0x")) != NULL) {
        const uint8_t *q;
        log->resets++;
        log->reset_cause = (int)number_at(hit + 4, end, &q);
        log->reset_name[0] = '\0';
        const uint8_t *line_end = memchr(hit, '\n', (size_t)(end - hit));
        if (!line_end)
            line_end = end;
        /* The name in brackets, on this line and printable (line noise is not a name). */
        if (q < line_end && *q == ' ' && q + 1 < line_end && q[1] == '(') {
            const uint8_t *close = memchr(q + 2, ')', (size_t)(line_end - q - 2));
            size_t n = close ? (size_t)(close - q - 2) : 0;
            bool clean = close != NULL;
            for (size_t i = 0; i < n && clean; i++)
                clean = isprint(q[2 + i]);
            if (clean)
                snprintf(log->reset_name, sizeof log->reset_name, "%.*s", (int)n,
                         (const char *)q + 2);
        }
        const uint8_t *boot = find(hit, (size_t)(line_end - hit), "boot:0x");
        if (boot) {
            log->boot_value = (int)number_at(boot + 5, line_end, &q);
            /* The bracketed mode name is what counts: boot values differ per chip
             * (a C3 flash-boots with boot:0xc). */
            size_t rest = (size_t)(line_end - boot);
            if (find(boot, rest, "DOWNLOAD"))
                log->boot_mode_named = 1;
            else if (find(boot, rest, "FLASH_BOOT") || find(boot, rest, "SPI_FAST_FLASH"))
                log->boot_mode_named = 2;
            else
                log->boot_mode_named = 0;
        }
        p = hit + 6;
    }
}

static void parse_esp8266_lines(const uint8_t *text, size_t len, struct ed_bootlog *log)
{
    const uint8_t *end = text + len, *p = text, *hit;
    while ((hit = find(p, (size_t)(end - p), "rst cause:")) != NULL) {
        const uint8_t *q;
        log->esp8266 = true;
        log->resets++;
        log->reset_cause = (int)number_at(hit + 10, end, &q);
        const uint8_t *line_end = memchr(hit, '\n', (size_t)(end - hit));
        if (!line_end)
            line_end = end;
        const uint8_t *mode = find(hit, (size_t)(line_end - hit), "boot mode:(");
        if (mode)
            log->esp8266_boot_mode = (int)number_at(mode + 11, line_end, &q);
        p = hit + 10;
    }
    if (find(text, len, "ets Jan  8 2013"))
        log->esp8266 = true;
    /* The ESP32's ROM date (esptool docs, "Boot Mode Selection", "Boot Mode Message"); the
     * later chips print "ESP-ROM:<chip>-<date>", and their boot bits mean other pins. */
    if (find(text, len, "ets Jun  8 2016"))
        log->esp32_rom = true;
}

/* The printable run of text at p, up to a stop character or the end of the line, copied
 * into out (cut to fit). */
static void copy_until(const uint8_t *p, const uint8_t *end, const char *stops, char *out,
                       size_t out_len)
{
    size_t n = 0;
    while (p + n < end && n < out_len - 1 && isprint(p[n]) && !strchr(stops, p[n]))
        n++;
    snprintf(out, out_len, "%.*s", (int)n, (const char *)p);
}

/* "MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module with ESP32" */
static void parse_micropython(const uint8_t *text, size_t len, struct ed_bootlog *log)
{
    const uint8_t *hit = find(text, len, "MicroPython v"), *end = text + len;
    if (hit) {
        log->micropython = true;
        copy_until(hit + 12, end, " ;", log->micropython_version,
                   sizeof log->micropython_version);
        const uint8_t *line_end = memchr(hit, '\n', (size_t)(end - hit));
        const uint8_t *board = find(hit, (size_t)((line_end ? line_end : end) - hit), "; ");
        if (board)
            copy_until(board + 2, end, "\r", log->micropython_board,
                       sizeof log->micropython_board);
    }
    log->repl_prompt = find(text, len, ">>> ") != NULL || find(text, len, "\n>>>") != NULL;
}

/* True when there is an "invalid header: 0x..." line and each of them reads 0xffffffff. */
static bool headers_all_erased(const uint8_t *text, size_t len)
{
    static const char tag[] = "invalid header: 0x";
    const size_t n = sizeof tag - 1;
    bool any = false;
    for (const uint8_t *p = text, *end = text + len; (p = find(p, (size_t)(end - p), tag));
         p += n) {
        if ((size_t)(end - p) < n + 8)
            return false;   /* cut off: cannot tell */
        for (size_t i = 0; i < 8; i++)
            if (p[n + i] != 'f' && p[n + i] != 'F')
                return false;
        any = true;
    }
    return any;
}

/* The ESP-IDF startup log's "Project name:     NAME". */
static void parse_app_project(const uint8_t *text, size_t len, struct ed_bootlog *log)
{
    static const char tag[] = "Project name:";
    const uint8_t *p = find(text, len, tag), *end = text + len;
    if (!p)
        return;
    p += sizeof tag - 1;
    while (p < end && *p == ' ')
        p++;
    size_t k = 0;
    while (p + k < end && k + 1 < sizeof log->app_project && isgraph(p[k]))
        k++;
    snprintf(log->app_project, sizeof log->app_project, "%.*s", (int)k, (const char *)p);
}

/* ESP-IDF's panic handler: "Guru Meditation Error: Core  0 panic'ed (LoadProhibited).
 * Exception was unhandled." (ESP-IDF Fatal Errors guide). */
static void parse_guru(const uint8_t *text, size_t len, struct ed_bootlog *log)
{
    const uint8_t *end = text + len, *hit = find(text, len, "Guru Meditation Error");
    if (!hit)
        return;
    log->guru_meditation = true;
    const uint8_t *line_end = memchr(hit, '\n', (size_t)(end - hit));
    size_t rest = (size_t)((line_end ? line_end : end) - hit);
    const uint8_t *core = find(hit, rest, "Core ");
    if (core) {
        const uint8_t *q = core + 5;
        while (q < hit + rest && *q == ' ')
            q++;
        if (q < hit + rest && isdigit(*q))
            log->guru_core = *q - '0';
    }
    const uint8_t *open = find(hit, rest, "panic'ed (");
    if (open)
        copy_until(open + 10, hit + rest, ")", log->guru_reason, sizeof log->guru_reason);
}

/* "Backtrace: 0x400d2f27:0x3ffb2260 0x400d3a49:0x3ffb2280 ...": each PC:SP pair's PC,
 * from the last such line. */
static void parse_backtrace(const uint8_t *text, size_t len, struct ed_bootlog *log)
{
    const uint8_t *end = text + len, *p = text, *hit, *last = NULL;
    while ((hit = find(p, (size_t)(end - p), "Backtrace:")) != NULL) {
        last = hit;
        p = hit + 10;
    }
    if (!last)
        return;
    log->backtrace_count = 0;
    const uint8_t *line_end = memchr(last, '\n', (size_t)(end - last));
    if (!line_end)
        line_end = end;
    for (p = last + 10; p < line_end && log->backtrace_count < ED_BOOTLOG_BACKTRACE_MAX;) {
        while (p < line_end && *p == ' ')
            p++;
        const uint8_t *q;
        if (line_end - p < 3 || p[0] != '0' || p[1] != 'x')
            break;
        long pc = number_at(p, line_end, &q);
        if (pc < 0 || q == p || q >= line_end || *q != ':')
            break;
        log->backtrace[log->backtrace_count++] = (uint32_t)pc;
        while (q < line_end && *q != ' ')   /* the SP that goes with it */
            q++;
        p = q;
    }
}

void ed_bootlog_parse(const uint8_t *text, size_t len, struct ed_bootlog *log)
{
    memset(log, 0, sizeof *log);
    log->reset_cause = -1;
    log->boot_value = -1;
    log->esp8266_boot_mode = -1;
    log->guru_core = -1;
    log->bytes = len;

    size_t printable = 0;
    for (size_t i = 0; i < len; i++)
        if (isprint(text[i]) || text[i] == '\r' || text[i] == '\n' || text[i] == '\t')
            printable++;
    log->readable = len > 0 && printable * 10 >= len * 9;
    log->garbage = len >= 8 && printable * 10 < len * 7;

    parse_esp32_lines(text, len, log);
    parse_esp8266_lines(text, len, log);
    parse_micropython(text, len, log);
    parse_guru(text, len, log);
    parse_backtrace(text, len, log);

    log->brownout = find(text, len, "Brownout detector was triggered") != NULL;
    log->invalid_header = find(text, len, "invalid header") != NULL;
    log->erased_header = headers_all_erased(text, len);
    parse_app_project(text, len, log);
    log->flash_read_err = find(text, len, "flash read err") != NULL;

    if (log->esp8266) {
        log->download_mode = log->esp8266_boot_mode == 1;
        log->flash_boot = log->esp8266_boot_mode == 3;
    } else if (log->boot_mode_named) {
        log->download_mode = log->boot_mode_named == 1;
        log->flash_boot = log->boot_mode_named == 2;
    } else if (log->boot_value >= 0) {
        /* No mode name: on the ESP32, GPIO0 (strap bit 0x10) low selects download boot. */
        log->download_mode = (log->boot_value & 0x10) == 0;
        log->flash_boot = !log->download_mode;
    }
    if (find(text, len, "waiting for download"))
        log->download_mode = true, log->flash_boot = false;
}

void ed_bootlog_straps(int boot_value, char *out, size_t len)
{
    static const struct { int bit; const char *pin; } straps[] = {
        { 0x10, "GPIO0" }, { 0x08, "GPIO2" }, { 0x04, "GPIO4" }, { 0x01, "GPIO5" },
        { 0x20, "MTDI/GPIO12" }, { 0x02, "MTDO/GPIO15" },
    };
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof straps / sizeof straps[0] && used < len; i++) {
        bool high = (boot_value & straps[i].bit) != 0;
        int n = snprintf(out + used, len - used, "%s%s %s", used ? ", " : "", straps[i].pin,
                         high ? "high" : "low");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void ed_bootlog_describe(const struct ed_bootlog *log, char *out, size_t len)
{
    if (log->bytes == 0) {
        snprintf(out, len, "no output at all");
    } else if (log->garbage && log->resets == 0) {
        snprintf(out, len, "%zu bytes of unreadable output (wrong baud rate?)", log->bytes);
    } else if (log->esp8266 && log->esp8266_boot_mode >= 0) {
        snprintf(out, len, "ESP8266 boot mode:(%d,x): %s", log->esp8266_boot_mode,
                 log->download_mode ? "download mode (GPIO0 was low)"
                 : log->flash_boot  ? "normal flash boot (GPIO0 was high)"
                                    : "unexpected boot mode");
    } else if (log->boot_value >= 0) {
        snprintf(out, len, "boot:0x%x: %s", (unsigned)log->boot_value,
                 log->download_mode ? "download mode (GPIO0 was low)"
                                    : "normal flash boot (GPIO0 was high)");
    } else if (log->micropython) {
        snprintf(out, len, "MicroPython %s", log->micropython_version);
    } else if (log->readable) {
        snprintf(out, len, "%zu bytes of text, no boot banner", log->bytes);
    } else {
        snprintf(out, len, "%zu bytes, no boot banner", log->bytes);
    }
}

void ed_bootlog_tail(const uint8_t *text, size_t len, unsigned max_lines, char *out,
                     size_t out_len)
{
    /* Walk back over max_lines non-blank lines, then copy them with unprintable bytes
     * shown as '?' and blank lines dropped. */
    size_t start = len;
    unsigned lines = 0;
    bool line_has_text = false;
    while (start > 0 && max_lines > 0) {
        uint8_t c = text[start - 1];
        if (c == '\n') {
            if (line_has_text && ++lines >= max_lines)
                break;
            line_has_text = false;
        } else if (c != '\r' && c != ' ') {
            line_has_text = true;
        }
        start--;
    }
    size_t o = 0;
    bool at_line_start = true;
    for (size_t i = start; i < len && o + 1 < out_len; i++) {
        uint8_t c = text[i];
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (!at_line_start)
                out[o++] = '\n';
            at_line_start = true;
            continue;
        }
        out[o++] = (c == '\t' || isprint(c)) ? (char)c : '?';
        at_line_start = false;
    }
    while (o > 0 && (out[o - 1] == '\n' || out[o - 1] == ' '))
        o--;
    out[o] = '\0';
}

bool ed_bootlog_has_banner(const struct ed_bootlog *log)
{
    return log->resets > 0 || log->boot_value >= 0 || log->esp8266_boot_mode >= 0 ||
           log->download_mode || log->esp8266;
}
