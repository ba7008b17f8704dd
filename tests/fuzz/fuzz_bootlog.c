/* Fuzz the boot-log decoder with console text: whatever a chip, a wrong baud rate or line
 * noise can print. The input is decoded, described, tailed, and classified by the
 * firmware probe, which is everything the doctor does with a boot log. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espdoctor/bootlog.h"
#include "espdoctor/fwprobe.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string the decoder fills must stay terminated within its array. */
static void check_log(const struct ed_bootlog *log, size_t size)
{
    require(log->bytes == size);
    require(memchr(log->reset_name, '\0', sizeof log->reset_name) != NULL);
    require(memchr(log->micropython_version, '\0', sizeof log->micropython_version) != NULL);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libFuzzer hands over exactly size bytes on the heap: a read past them is caught. */
    struct ed_bootlog log;
    ed_bootlog_parse(data, size, &log);
    check_log(&log, size);
    describe_all(data, size, &log);
    classify(data, size);
    return 0;
}
