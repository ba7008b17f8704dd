/* Fuzz the boot-log decoder with console text: whatever a chip, a wrong baud rate or line
 * noise can print. The input is decoded, described, tailed, and classified by the
 * firmware probe, which is everything the doctor does with a boot log; and it goes
 * through the serial monitor's decoder in pieces (every byte must come out as it went
 * in) into its JSON events (every line must parse, as valid UTF-8). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <stdio.h>

#include "espdoctor/bootlog.h"
#include "espdoctor/fwprobe.h"
#include "monitor_out.h"
#include "monitor_stream.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string the decoder fills must stay terminated within its array. */
static void check_log(const struct ed_bootlog *log, size_t size)
{
    require(log->bytes == size);
    require(memchr(log->reset_name, '\0', sizeof log->reset_name) != NULL);
    require(memchr(log->micropython_version, '\0', sizeof log->micropython_version) != NULL);
    require(memchr(log->micropython_board, '\0', sizeof log->micropython_board) != NULL);
    require(memchr(log->guru_reason, '\0', sizeof log->guru_reason) != NULL);
    require(log->backtrace_count <= ED_BOOTLOG_BACKTRACE_MAX);
    require(log->guru_core >= -1 && log->guru_core <= 9);
    (void)ed_bootlog_reset_meaning(log);
    require(!(log->download_mode && log->flash_boot));
}

static void describe_all(const uint8_t *data, size_t size, const struct ed_bootlog *log)
{
    char line[160], straps[128], tail[448], tiny[8];
    ed_bootlog_describe(log, line, sizeof line);
    require(strlen(line) < sizeof line);
    ed_bootlog_straps(log->boot_value, straps, sizeof straps);
    ed_bootlog_straps(log->boot_value, tiny, sizeof tiny);   /* cut short */
    for (unsigned lines = 0; lines < 4; lines++) {
        ed_bootlog_tail(data, size, lines, tail, sizeof tail);
        require(strlen(tail) < sizeof tail);
    }
    ed_bootlog_tail(data, size, 3, tiny, sizeof tiny);
    require(strlen(tiny) < sizeof tiny);
}

/* The firmware probe's verdict on the same text (the newest ED_FWPROBE_TEXT_MAX bytes,
 * as the probe keeps them). */
static void classify(const uint8_t *data, size_t size)
{
    struct ed_fwprobe *r = calloc(1, sizeof *r);
    require(r != NULL);
    size_t keep = size < sizeof r->text ? size : sizeof r->text;
    memcpy(r->text, data + size - keep, keep);
    r->text_len = keep;
    ed_fwprobe_classify(r);
    require(memchr(r->banner, '\0', sizeof r->banner) != NULL);
    require(memchr(r->evidence, '\0', sizeof r->evidence) != NULL);
    char sentence[1024];
    ed_fwprobe_describe(r, sentence, sizeof sentence);
    (void)ed_fw_state_key(r->state);
    free(r);
}

/* What the monitor's decoder passes on, and its JSON events. */
struct passed {
    uint8_t *bytes;
    size_t len;
    struct ed_mon_out *json;
};

static void collect(void *ctx, const uint8_t *data, size_t len, const struct ed_note *note)
{
    struct passed *p = ctx;
    if (note) {
        require(memchr(note->text, '\0', sizeof note->text) != NULL);
        require(memchr(note->line, '\0', sizeof note->line) != NULL);
        (void)ed_note_kind_key(note->kind);
    } else {
        require(data && len > 0);
        memcpy(p->bytes + p->len, data, len);
        p->len += len;
    }
    ed_mon_out_emit(p->json, data, len, note);
}

static void every_json_line_parses(char *text)
{
    struct json_tokener *tok = json_tokener_new();
    require(tok != NULL);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        require(nl != NULL);
        json_tokener_reset(tok);
        json_object *o = json_tokener_parse_ex(tok, line, (int)(nl - line));
        require(o != NULL && json_tokener_get_error(tok) == json_tokener_success);
        json_object_put(o);
        line = nl + 1;
    }
    json_tokener_free(tok);
}

/* Pieces of 1 to 16 bytes, as the first byte says; time steps that cross the repeat
 * window now and then; a quiet board or a port back from the dead on two byte values. */
static void monitor_stream(const uint8_t *data, size_t size)
{
    char *events = NULL;
    size_t events_len = 0;
    FILE *f = open_memstream(&events, &events_len);
    require(f != NULL);
    struct ed_mon_out out;
    ed_mon_out_init(&out, f, f);
    out.json = true;
    struct passed p = { .bytes = malloc(size ? size : 1), .json = &out };
    require(p.bytes != NULL);
    struct ed_mon_stream *s = malloc(sizeof *s);
    require(s != NULL);
    ed_mon_stream_init(s, collect, &p);
    size_t piece = size ? (size_t)(data[0] % 16) + 1 : 1;
    uint64_t now = 0;
    for (size_t i = 0; i < size; i += piece) {
        ed_mon_stream_feed(s, data + i, i + piece <= size ? piece : size - i, now);
        now += (data[i] & 0x80) ? ED_MON_REPEAT_MS : 7;
        if (data[i] == 0x7f)
            ed_mon_stream_flush(s);
        if (data[i] == 0x7e)
            ed_mon_stream_restart(s);
    }
    ed_mon_stream_flush(s);
    ed_mon_out_finish(&out);
    require(p.len == size && (size == 0 || memcmp(p.bytes, data, size) == 0));
    require(fclose(f) == 0);
    every_json_line_parses(events);
    free(events);
    free(s);
    free(p.bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libFuzzer hands over exactly size bytes on the heap: a read past them is caught. */
    struct ed_bootlog log;
    ed_bootlog_parse(data, size, &log);
    check_log(&log, size);
    describe_all(data, size, &log);
    classify(data, size);
    monitor_stream(data, size);
    return 0;
}
