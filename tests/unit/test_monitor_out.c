/* The monitor's output: the board's bytes unchanged in text, notes on marked lines of
 * their own (coloured only when asked), one JSON object per line with --json, and text
 * that is always valid UTF-8 there, whatever the board sent. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/monitor_out.h"   /* the tests have no -Isrc */
#include "../../src/monitor_stream.h"

static char *out_text, *err_text;
static size_t out_len, err_len;
static FILE *out_f, *err_f;
static struct ed_mon_out mo;

static void open_streams(void)
{
    out_f = open_memstream(&out_text, &out_len);
    err_f = open_memstream(&err_text, &err_len);
    cr_assert(out_f && err_f);
    ed_mon_out_init(&mo, out_f, err_f);
}

static void close_streams(void)
{
    fclose(out_f);
    fclose(err_f);
    free(out_text);
    free(err_text);
}

TestSuite(monitor_out, .init = open_streams, .fini = close_streams);

static void data(const char *bytes, size_t n)
{
    ed_mon_out_emit(&mo, (const uint8_t *)bytes, n, NULL);
}

/* Every line of out is a JSON object; returns them as an array (caller puts it). */
static json_object *events(void)
{
    fflush(out_f);
    json_object *all = json_object_new_array();
    for (char *line = out_text; line && *line;) {
        char *nl = strchr(line, '\n');
        cr_assert_not_null(nl, "an event without its line end: %s", line);
        *nl = '\0';
        json_object *e = json_tokener_parse(line);
        cr_assert_not_null(e, "not JSON: %s", line);
        json_object_array_add(all, e);
        *nl = '\n';
        line = nl + 1;
    }
    return all;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
              json_object_to_json_string(o));
    return json_object_get_string(v);
}

Test(monitor_out, text_passes_bytes_and_marks_notes)
{
    struct ed_note n;
    ed_note_prompt(&n);
    data("abc\r\n", 5);
    ed_mon_out_emit(&mo, NULL, 0, &n);
    data("\x80\x00z", 3);
    fflush(out_f);
    cr_assert_eq(out_len, 5 + strlen("--- ") + strlen(n.text) + 1 + 3);
    cr_assert_eq(memcmp(out_text, "abc\r\n--- MicroPython", 20), 0, "%s", out_text);
    cr_assert_eq(memcmp(out_text + out_len - 3, "\x80\x00z", 3), 0, "bytes kept as they came");
    cr_assert_null(strchr(out_text, '\033'), "no colour unless asked");
}

Test(monitor_out, a_note_mid_line_starts_a_line_and_colour_when_asked)
{
    mo.color = true;
    struct ed_note n;
    ed_note_boot_loop(&n, 2, ED_NOTE_CRASH);
    data("partial", 7);
    ed_mon_out_emit(&mo, NULL, 0, &n);
    fflush(out_f);
    cr_assert_not_null(strstr(out_text, "partial\n\033[31;1m--- crash loop"), "%s", out_text);
    cr_assert_not_null(strstr(out_text, "\033[0m\n"));
}

Test(monitor_out, json_lines_with_valid_utf8)
{
    mo.json = true;
    /* a cut 3-byte sequence (U+20AC), then garbage, then the rest */
    data("price \xE2\x82", 8);
    data("\xAC ok \xFF\xC0\x41 \xED\xA0\x80", 13);
    data("\xF0\x9F", 2);
    ed_mon_out_finish(&mo);
    json_object *all = events();
    size_t n = json_object_array_length(all);
    cr_assert_eq(n, 3, "%s", out_text);
    char text[128] = "";
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(all, i);
        cr_assert_str_eq(str(e, "event"), "data");
        strcat(text, str(e, "text"));
    }
    cr_assert_str_eq(text, "price \xE2\x82\xAC ok \xEF\xBF\xBD\xEF\xBF\xBD" "A "
                           "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    json_object_put(all);
}

Test(monitor_out, note_events_carry_their_facts)
{
    mo.json = true;
    struct ed_note notes[4];
    const char *line = "Backtrace: 0x400d2f27:0x3ffb2260 0x400d3a49:0x3ffb2280";
    size_t k = ed_notes_from_line((const uint8_t *)line, strlen(line), notes, 4);
    cr_assert_eq(k, 1);
    ed_mon_out_emit(&mo, NULL, 0, &notes[0]);
    const char *rst = "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)";
    cr_assert_eq(ed_notes_from_line((const uint8_t *)rst, strlen(rst), notes, 4), 1);
    ed_mon_out_emit(&mo, NULL, 0, &notes[0]);
    json_object *all = events();
    json_object *bt = json_object_array_get_idx(all, 0), *addrs, *reset;
    cr_assert_str_eq(str(bt, "event"), "note");
    cr_assert_str_eq(str(bt, "kind"), "backtrace");
    cr_assert_str_eq(str(bt, "level"), "error");
    cr_assert_str_eq(str(bt, "line"), line);
    cr_assert(json_object_object_get_ex(bt, "addresses", &addrs));
    cr_assert_eq(json_object_array_length(addrs), 2);
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(addrs, 1)), "0x400d3a49");
    reset = json_object_array_get_idx(all, 1);
    cr_assert_str_eq(str(reset, "kind"), "reset");
    cr_assert_str_eq(str(reset, "cause_name"), "SW_CPU_RESET");
    cr_assert_str_eq(str(reset, "boot_mode"), "flash");
    json_object *v;
    cr_assert(json_object_object_get_ex(reset, "cause", &v) && json_object_get_int(v) == 12);
    cr_assert(json_object_object_get_ex(reset, "boot_value", &v) && json_object_get_int(v) == 0x13);
    json_object_put(all);
}

Test(monitor_out, status_goes_to_stderr_unless_json_or_quiet)
{
    ed_mon_out_say(&mo, "Monitoring %s", "/dev/ttyUSB0");
    fflush(err_f);
    cr_assert_str_eq(err_text, "--- Monitoring /dev/ttyUSB0\n");
    fflush(out_f);
    cr_assert_eq(out_len, 0);
    mo.quiet = true;
    ed_mon_out_say(&mo, "hidden");
    mo.quiet = false;
    mo.json = true;
    ed_mon_out_say(&mo, "hidden");
    fflush(err_f);
    cr_assert_str_eq(err_text, "--- Monitoring /dev/ttyUSB0\n");
}

Test(monitor_out, seconds_are_rounded_to_milliseconds)
{
    json_object *s = ed_mon_json_seconds(23.877974999999999);
    cr_assert_str_eq(json_object_to_json_string(s), "23.878");
    json_object_put(s);
}
