/* The monitor's decoder: the board's bytes pass through unchanged and in order, notes
 * come where a line ends (or just before MicroPython's prompt), repeats are shown once,
 * loops get their own note. Fed as a real board sends: in odd-sized pieces. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../src/monitor_stream.h"   /* the tests have no -Isrc */

struct capture {
    char all[16384];        /* data as it came, notes as [kind] */
    char data[16384];       /* the data alone */
    size_t all_len, data_len;
    struct ed_note notes[32];
    size_t note_count;
};

static struct capture cap;
static struct ed_mon_stream stream;

static void append(char *buf, size_t *len, const void *p, size_t n)
{
    cr_assert_lt(*len + n, sizeof cap.all, "capture overflow");
    memcpy(buf + *len, p, n);
    *len += n;
    buf[*len] = '\0';
}

static void emit(void *ctx, const uint8_t *data, size_t len, const struct ed_note *note)
{
    cr_assert_eq(ctx, &cap);
    if (note) {
        cr_assert_null(data);
        cr_assert_eq(len, 0);
        char mark[40];
        int n = snprintf(mark, sizeof mark, "[%s]", ed_note_kind_key(note->kind));
        append(cap.all, &cap.all_len, mark, (size_t)n);
        cr_assert_lt(cap.note_count, 32);
        cap.notes[cap.note_count++] = *note;
        return;
    }
    cr_assert_gt(len, 0, "empty data segment");
    append(cap.all, &cap.all_len, data, len);
    append(cap.data, &cap.data_len, data, len);
}

static void start(void)
{
    memset(&cap, 0, sizeof cap);
    ed_mon_stream_init(&stream, emit, &cap);
}

/* text in pieces of `piece` bytes, all at time now_ms */
static void feed(const char *text, size_t piece, uint64_t now_ms)
{
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += piece)
        ed_mon_stream_feed(&stream, (const uint8_t *)text + i, i + piece <= n ? piece : n - i,
                           now_ms);
}

static size_t count_kind(enum ed_note_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.note_count; i++)
        n += cap.notes[i].kind == kind;
    return n;
}

static const char crash_boot[] =
    "ets Jun  8 2016 00:22:57\r\n\r\n"
    "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
    "I (122) main_task: Calling app_main()\r\n"
    "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n"
    "\r\nCore  0 register dump:\r\nPC      : 0x400d2f2a  PS      : 0x00060330\r\n\r\n"
    "Backtrace: 0x400d2f27:0x3ffb2260 0x400d3a49:0x3ffb2280 0x40088e5d:0x3ffb22a0\r\n"
    "\r\n\r\nELF file SHA256: 5d1f3ac2b04e7e91\r\n\r\nRebooting...\r\n";

TestSuite(monitor_stream, .init = start);

Test(monitor_stream, bytes_pass_unchanged_whatever_the_pieces)
{
    for (size_t piece = 1; piece <= 17; piece += 4) {
        start();
        feed(crash_boot, piece, 0);
        feed(crash_boot, piece, 100);
        ed_mon_stream_flush(&stream);
        char twice[2 * sizeof crash_boot];
        snprintf(twice, sizeof twice, "%s%s", crash_boot, crash_boot);
        cr_assert_str_eq(cap.data, twice, "piece %zu", piece);
    }
}

Test(monitor_stream, a_crash_is_decoded_after_its_lines)
{
    feed(crash_boot, 7, 0);
    cr_assert_eq(count_kind(ED_NOTE_RESET), 1);
    cr_assert_eq(count_kind(ED_NOTE_CRASH), 1);
    cr_assert_eq(count_kind(ED_NOTE_BACKTRACE), 1);
    /* Each note right after the line it decodes. */
    cr_assert_not_null(strstr(cap.all, "(SPI_FAST_FLASH_BOOT)\r\n[reset]I (122)"), "%s", cap.all);
    cr_assert_not_null(strstr(cap.all, "Exception was unhandled.\r\n[crash]\r\n"), "%s", cap.all);
    cr_assert_not_null(strstr(cap.all, "0x40088e5d:0x3ffb22a0\r\n[backtrace]\r\n"), "%s", cap.all);
    const struct ed_note *reset = &cap.notes[0];
    cr_assert_eq(reset->kind, ED_NOTE_RESET);
    cr_assert(strstr(reset->text, "SW_CPU_RESET") && strstr(reset->text, "software restart") &&
              strstr(reset->text, "booting from flash"), "%s", reset->text);
    const struct ed_note *bt = &cap.notes[2];
    cr_assert_eq(bt->facts.backtrace_count, 3);
    cr_assert(strstr(bt->text, "0x400d2f27 0x400d3a49 0x40088e5d"), "%s", bt->text);
    cr_assert(strstr(bt->text, "addr2line"), "%s", bt->text);
    cr_assert_eq(cap.notes[1].level, ED_NOTE_ERROR);
    cr_assert_str_eq(cap.notes[1].facts.guru_reason, "LoadProhibited");
}

Test(monitor_stream, a_crash_loop_is_named_once_and_its_repeats_are_quiet)
{
    for (unsigned boot = 0; boot < 6; boot++)
        feed(crash_boot, 64, boot * 300);
    cr_assert_eq(count_kind(ED_NOTE_CRASH), 1, "%s", cap.all);
    cr_assert_eq(count_kind(ED_NOTE_BACKTRACE), 1);
    cr_assert_eq(count_kind(ED_NOTE_RESET), 1);
    cr_assert_eq(count_kind(ED_NOTE_BOOT_LOOP), 1);
    const struct ed_note *loop = &cap.notes[cap.note_count - 1];
    cr_assert_eq(loop->kind, ED_NOTE_BOOT_LOOP);
    cr_assert_eq(loop->after, ED_NOTE_CRASH);
    cr_assert_eq(loop->resets, ED_MON_LOOP_RESETS);
    cr_assert(strstr(loop->text, "crash loop"), "%s", loop->text);
    /* The loop note follows the reset that completed it. */
    cr_assert_not_null(strstr(cap.all, "(SPI_FAST_FLASH_BOOT)\r\n[boot-loop]"), "%s", cap.all);
}

Test(monitor_stream, a_repeat_after_a_long_quiet_is_shown_again)
{
    feed(crash_boot, 64, 0);
    feed(crash_boot, 64, ED_MON_REPEAT_MS + 1);
    cr_assert_eq(count_kind(ED_NOTE_CRASH), 2);
    cr_assert_eq(count_kind(ED_NOTE_RESET), 2);
}

Test(monitor_stream, the_prompt_is_noted_before_it_and_only_once)
{
    const char banner[] = "MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module with "
                          "ESP32\r\nType \"help()\" for more information.\r\n>>> ";
    feed(banner, 3, 0);
    cr_assert_not_null(strstr(cap.all, "ESP32\r\n[micropython]Type"), "%s", cap.all);
    cr_assert_not_null(strstr(cap.all, "information.\r\n[repl-prompt]>>> "), "%s", cap.all);
    cr_assert_str_eq(cap.notes[0].facts.micropython_version, "v1.24.0");
    feed("print(1+1)\r\n2\r\n>>> ", 1, 10);
    feed("\r\n>>> ", 1, 20);
    cr_assert_eq(count_kind(ED_NOTE_PROMPT), 1);
    cr_assert_str_eq(cap.data, "MicroPython v1.24.0 on 2024-10-25; Generic ESP32 module with "
                               "ESP32\r\nType \"help()\" for more information.\r\n>>> "
                               "print(1+1)\r\n2\r\n>>> \r\n>>> ");
}

Test(monitor_stream, what_looks_like_a_prompt_but_is_not_passes_through)
{
    feed(">> not a prompt\r\n>", 1, 0);
    cr_assert_str_eq(cap.data, ">> not a prompt\r\n", "%s", cap.data);
    ed_mon_stream_flush(&stream);   /* the board went quiet after '>' */
    cr_assert_str_eq(cap.data, ">> not a prompt\r\n>");
    cr_assert_eq(count_kind(ED_NOTE_PROMPT), 0);
}

Test(monitor_stream, the_repl_echo_is_not_decoded)
{
    feed(">>> print('Guru Meditation Error: Core  0 panic\\'ed (x)')\r\n", 5, 0);
    cr_assert_eq(count_kind(ED_NOTE_CRASH), 0, "%s", cap.all);
}

Test(monitor_stream, blank_flash_and_brownout_loops)
{
    const char blank[] = "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
                         "invalid header: 0xffffffff\r\ninvalid header: 0xffffffff\r\n";
    for (unsigned i = 0; i < 4; i++)
        feed(blank, 9, i * 50);
    cr_assert_eq(count_kind(ED_NOTE_NO_FIRMWARE), 1);
    cr_assert_eq(count_kind(ED_NOTE_BOOT_LOOP), 1);
    cr_assert_eq(cap.notes[0].level, ED_NOTE_WARN, "a watchdog reset is worth a look");
    start();
    const char sag[] = "I (122) main_task: Calling app_main()\r\n\r\nBrownout detector was "
                       "triggered\r\n\r\nets Jun  8 2016 00:22:57\r\n\r\nrst:0xf "
                       "(RTCWDT_BROWN_OUT_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";
    for (unsigned i = 0; i < 3; i++)
        feed(sag, 11, i * 50);
    cr_assert_eq(count_kind(ED_NOTE_BROWNOUT), 1);
    cr_assert_eq(count_kind(ED_NOTE_BOOT_LOOP), 1);
    const struct ed_note *loop = &cap.notes[cap.note_count - 1];
    cr_assert_eq(loop->after, ED_NOTE_BROWNOUT);
    cr_assert(strstr(loop->text, "brown-out loop"), "%s", loop->text);
}

Test(monitor_stream, esp8266_and_unreadable_lines)
{
    feed(" ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n", 4, 0);
    cr_assert_eq(count_kind(ED_NOTE_RESET), 1);
    cr_assert(strstr(cap.notes[0].text, "reset cause 2") &&
              strstr(cap.notes[0].text, "boot mode (3,x): booting from flash"), "%s",
              cap.notes[0].text);
    const uint8_t noise[] = { 0x8c, 0xf2, 0x01, 0x9e, 0xc3, 0x80, 0xff, 0x13, 0x88, 0xa0, '\n' };
    ed_mon_stream_feed(&stream, noise, sizeof noise, 5);
    cr_assert_eq(count_kind(ED_NOTE_UNREADABLE), 1);
    cr_assert(strstr(cap.notes[1].text, "74880"), "%s", cap.notes[1].text);
}

Test(monitor_stream, a_restart_forgets_the_broken_line)
{
    feed("rst:0xc (SW_CPU_RES", 5, 0);   /* the cable went here */
    ed_mon_stream_restart(&stream);
    feed("ET),boot:0x13\r\n", 5, 10);
    cr_assert_eq(count_kind(ED_NOTE_RESET), 0, "%s", cap.all);
    feed("\r\n>>> ", 2, 20);
    cr_assert_eq(count_kind(ED_NOTE_PROMPT), 1, "a board back from the dead prompts anew");
}

Test(monitor_stream, a_very_long_line_is_decoded_by_its_start)
{
    char line[ED_MON_LINE_MAX * 3];
    int n = snprintf(line, sizeof line, "rst:0x1 (POWERON_RESET),boot:0x13 ");
    memset(line + n, 'x', sizeof line - (size_t)n - 3);
    memcpy(line + sizeof line - 3, "\r\n", 3);
    feed(line, 100, 0);
    cr_assert_eq(count_kind(ED_NOTE_RESET), 1);
    cr_assert_eq(cap.data_len, strlen(line));
}
