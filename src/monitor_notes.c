/* Console lines into notes (see monitor_notes.h). The facts come from ed_bootlog_parse;
 * what they mean comes from Espressif's "Boot Mode Selection" and ESP-IDF's "Fatal Errors"
 * guides and from notes/rom-protocol.md. */
#include "monitor_notes.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_keys[ED_NOTE_KIND_COUNT] = {
    [ED_NOTE_RESET] = "reset",
    [ED_NOTE_BROWNOUT] = "brownout",
    [ED_NOTE_CRASH] = "crash",
    [ED_NOTE_BACKTRACE] = "backtrace",
    [ED_NOTE_BOOT_LOOP] = "boot-loop",
    [ED_NOTE_NO_FIRMWARE] = "no-firmware",
    [ED_NOTE_FLASH_READ] = "flash-read-error",
    [ED_NOTE_UNREADABLE] = "unreadable",
    [ED_NOTE_MICROPYTHON] = "micropython",
    [ED_NOTE_PROMPT] = "repl-prompt",
};

const char *ed_note_kind_key(enum ed_note_kind kind)
{
    return (unsigned)kind < ED_NOTE_KIND_COUNT ? kind_keys[kind] : "unknown";
}

/* The next free note of out, set up for kind, or NULL when out is full. */
static struct ed_note *add(struct ed_note *out, size_t cap, size_t *n, enum ed_note_kind kind,
                           enum ed_note_level level, const struct ed_bootlog *facts,
                           const char *line)
{
    if (*n >= cap)
        return NULL;
    struct ed_note *note = &out[(*n)++];
    memset(note, 0, sizeof *note);
    note->kind = kind;
    note->level = level;
    note->facts = *facts;
    snprintf(note->line, sizeof note->line, "%s", line);
    return note;
}

static void say(struct ed_note *note, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct ed_note *note, const char *fmt, ...)
{
    if (!note)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note->text, sizeof note->text, fmt, ap);
    va_end(ap);
}

static const char *boot_words(const struct ed_bootlog *log)
{
    if (log->download_mode)
        return "download mode (GPIO0 was low): the ROM waits for a flasher";
    if (log->flash_boot)
        return "booting from flash (GPIO0 was high)";
    return "an unexpected boot mode";
}

static bool worrying_reset(const struct ed_bootlog *log)
{
    if (log->esp8266)
        return log->reset_cause == 4;
    return strstr(log->reset_name, "BROWN") || strstr(log->reset_name, "BOD") ||
           strstr(log->reset_name, "WDT");
}

static void reset_note(struct ed_note *note, const struct ed_bootlog *log)
{
    const char *meaning = ed_bootlog_reset_meaning(log);
    char cause[200], boot[160] = "";
    if (log->esp8266) {
        snprintf(cause, sizeof cause, "reset cause %d%s%s", log->reset_cause,
                 meaning ? ": " : "", meaning ? meaning : "");
        if (log->esp8266_boot_mode >= 0)
            snprintf(boot, sizeof boot, "; boot mode (%d,x): %s", log->esp8266_boot_mode,
                     boot_words(log));
    } else {
        snprintf(cause, sizeof cause, "reset 0x%x%s%s%s%s%s", (unsigned)log->reset_cause,
                 log->reset_name[0] ? " (" : "", log->reset_name,
                 log->reset_name[0] ? ")" : "", meaning ? ": " : "", meaning ? meaning : "");
        if (log->boot_value >= 0)
            snprintf(boot, sizeof boot, "; boot 0x%x: %s", (unsigned)log->boot_value,
                     boot_words(log));
    }
    say(note, "%s%s", cause, boot);
}

static void crash_note(struct ed_note *note, const struct ed_bootlog *log)
{
    char where[64] = "";
    if (log->guru_core >= 0)
        snprintf(where, sizeof where, " on core %d", log->guru_core);
    say(note, "crash: Guru Meditation%s%s%s%s: the firmware crashed; its registers and "
        "backtrace follow, then it restarts", where, log->guru_reason[0] ? " (" : "",
        log->guru_reason, log->guru_reason[0] ? ")" : "");
}

static void backtrace_note(struct ed_note *note, const struct ed_bootlog *log)
{
    char addrs[ED_BOOTLOG_BACKTRACE_MAX * 11 + 1] = "";
    size_t used = 0;
    for (size_t i = 0; i < log->backtrace_count && used < sizeof addrs; i++) {
        int w = snprintf(addrs + used, sizeof addrs - used, "%s0x%08x", i ? " " : "",
                         log->backtrace[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    say(note, "backtrace %s; for source lines: addr2line -pfiaC -e APP.elf %s", addrs,
        addrs);
}

/* The printable text of a line, for the note's "line". */
static void printable(const uint8_t *line, size_t len, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < out_len; i++)
        if (line[i] != '\r')
            out[o++] = isprint(line[i]) || line[i] == '\t' ? (char)line[i] : '?';
    out[o] = '\0';
}

size_t ed_notes_from_line(const uint8_t *line, size_t len, struct ed_note *out, size_t cap)
{
    struct ed_bootlog log;
    ed_bootlog_parse(line, len, &log);
    char text[sizeof out->line];
    printable(line, len, text, sizeof text);
    size_t n = 0;
    if (log.resets)
        reset_note(add(out, cap, &n, ED_NOTE_RESET,
                       worrying_reset(&log) ? ED_NOTE_WARN : ED_NOTE_INFO, &log, text),
                   &log);
    if (log.brownout)
        say(add(out, cap, &n, ED_NOTE_BROWNOUT, ED_NOTE_WARN, &log, text),
            "brown-out: the supply voltage sagged (a weak USB port or cable, or the board "
            "draws too much); try another cable or a powered hub");
    if (log.guru_meditation)
        crash_note(add(out, cap, &n, ED_NOTE_CRASH, ED_NOTE_ERROR, &log, text), &log);
    if (log.backtrace_count)
        backtrace_note(add(out, cap, &n, ED_NOTE_BACKTRACE, ED_NOTE_ERROR, &log, text), &log);
    if (log.invalid_header)
        say(add(out, cap, &n, ED_NOTE_NO_FIRMWARE, ED_NOTE_WARN, &log, text),
            "nothing bootable in flash (invalid header): flash firmware, e.g. "
            "espdoctor flash FILE");
    if (log.flash_read_err)
        say(add(out, cap, &n, ED_NOTE_FLASH_READ, ED_NOTE_ERROR, &log, text),
            "the ROM could not read the flash (flash read err): check the flash chip and "
            "GPIO12 (MTDI), which selects the flash voltage when high");
    if (log.micropython)
        say(add(out, cap, &n, ED_NOTE_MICROPYTHON, ED_NOTE_INFO, &log, text),
            "MicroPython %s%s%s%s started", log.micropython_version,
            log.micropython_board[0] ? " (" : "", log.micropython_board,
            log.micropython_board[0] ? ")" : "");
    if (n == 0 && log.garbage)
        say(add(out, cap, &n, ED_NOTE_UNREADABLE, ED_NOTE_WARN, &log, text),
            "%zu bytes that are not text: the line speed is probably wrong (ESP8266 ROMs "
            "print their boot log at 74880 baud: -b 74880)", len);
    return n;
}

/* Notes not made from a line carry the facts of no text at all. */
static const uint8_t no_text[1];

void ed_note_prompt(struct ed_note *n)
{
    memset(n, 0, sizeof *n);
    n->kind = ED_NOTE_PROMPT;
    n->level = ED_NOTE_INFO;
    ed_bootlog_parse(no_text, 0, &n->facts);
    n->facts.repl_prompt = true;
    snprintf(n->text, sizeof n->text, "MicroPython's REPL is waiting (>>>): type Python");
}

void ed_note_boot_loop(struct ed_note *n, unsigned resets, enum ed_note_kind after)
{
    memset(n, 0, sizeof *n);
    n->kind = ED_NOTE_BOOT_LOOP;
    n->level = ED_NOTE_ERROR;
    n->resets = resets;
    n->after = after;
    ed_bootlog_parse(no_text, 0, &n->facts);
    const char *what = after == ED_NOTE_BROWNOUT ? "brown-out loop: the supply sags"
                       : after == ED_NOTE_CRASH  ? "crash loop: the firmware crashes"
                                                 : "reset loop: nothing boots";
    snprintf(n->text, sizeof n->text, "%s at every start (%u resets in a row so far); "
             "%s", what, resets,
             after == ED_NOTE_BROWNOUT ? "fix the power supply first"
                                       : "flash a working build: espdoctor flash FILE");
}
