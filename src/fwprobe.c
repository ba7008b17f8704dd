/* The firmware probe (see fwprobe.h): console text in, a verdict with evidence out. */
#include "espdoctor/fwprobe.h"

#include <stdio.h>
#include <string.h>

#include "espdoctor/error.h"
#include "espdoctor/reset.h"

#define CTRL_B 0x02
#define CTRL_C 0x03
#define POKE_TRIES 2
#define POKE_QUIET_MS 200u
#define TAIL_LINES 3

static const char PROMPT[] = ">>> ";
static const char BANNER[] = "MicroPython v";

/* Keep the newest text; *mark (an offset into the text) follows a trim. */
static void keep(struct ed_fwprobe *r, const uint8_t *data, size_t n, size_t *mark)
{
    if (n >= ED_FWPROBE_TEXT_MAX) {
        data += n - ED_FWPROBE_TEXT_MAX / 2;
        n = ED_FWPROBE_TEXT_MAX / 2;
    }
    if (r->text_len + n > ED_FWPROBE_TEXT_MAX) {
        size_t drop = r->text_len + n - ED_FWPROBE_TEXT_MAX;
        memmove(r->text, r->text + drop, r->text_len - drop);
        r->text_len -= drop;
        *mark = *mark > drop ? *mark - drop : 0;
    }
    memcpy(r->text + r->text_len, data, n);
    r->text_len += n;
}

static bool seen_since(const struct ed_fwprobe *r, size_t from, const char *needle)
{
    size_t n = strlen(needle);
    return from < r->text_len && memmem(r->text + from, r->text_len - from, needle, n) != NULL;
}

/* Read until quiet_ms pass without a byte (once something was heard), a prompt appears
 * after *mark, or max_ms pass. */
static int listen(struct ed_transport *tp, struct ed_fwprobe *r, unsigned max_ms,
                  unsigned quiet_ms, size_t *mark)
{
    uint64_t end = ed_tp_now_us(tp) + (uint64_t)max_ms * 1000u;
    bool heard = false;
    uint8_t buf[256];
    for (;;) {
        uint64_t now = ed_tp_now_us(tp);
        if (now >= end)
            return ED_OK;
        unsigned left = (unsigned)((end - now + 999) / 1000);
        size_t got = 0;
        int rc = ed_tp_read(tp, buf, sizeof buf, &got, heard && quiet_ms < left ? quiet_ms : left);
        if (rc == ED_E_TIMEOUT) {
            if (heard)
                return ED_OK;
            continue;
        }
        if (rc != ED_OK)
            return rc;
        heard = true;
        keep(r, buf, got, mark);
        if (seen_since(r, *mark, PROMPT))
            return ED_OK;
    }
}

static int poke(struct ed_transport *tp, struct ed_fwprobe *r, uint8_t key, size_t *mark,
                unsigned answer_ms)
{
    uint8_t keys[2] = { key, key };
    *mark = r->text_len;
    int rc = ed_tp_write(tp, keys, key == CTRL_C ? 2 : 1);
    /* Ctrl-B goes to a REPL that just answered Ctrl-C: its banner and prompt will come,
     * so a pause in the middle (a loaded machine) is no reason to stop listening. */
    unsigned quiet_ms = key == CTRL_B ? answer_ms : POKE_QUIET_MS;
    if (rc == ED_OK)
        rc = listen(tp, r, answer_ms, quiet_ms, mark);
    return rc;
}

/* The banner line, from "MicroPython v" to the end of its line. */
static void find_banner(struct ed_fwprobe *r)
{
    const uint8_t *hit = NULL, *p = r->text, *end = r->text + r->text_len;
    /* The last one: a Ctrl-B banner is newer than the boot's. */
    while (p < end && (p = memmem(p, (size_t)(end - p), BANNER, sizeof BANNER - 1)) != NULL) {
        hit = p;
        p++;
    }
    if (!hit)
        return;
    size_t n = 0;
    while (hit + n < end && n + 1 < sizeof r->banner && hit[n] >= 0x20 && hit[n] < 0x7F)
        n++;
    memcpy(r->banner, hit, n);
    r->banner[n] = '\0';
}

void ed_fwprobe_classify(struct ed_fwprobe *r)
{
    struct ed_bootlog *log = &r->log;
    ed_bootlog_parse(r->text, r->text_len, log);
    find_banner(r);
    if (log->micropython && !r->version[0])
        snprintf(r->version, sizeof r->version, "%s", log->micropython_version);
    if (r->answered || (log->micropython && log->repl_prompt))
        r->state = ED_FW_MICROPYTHON;
    else if (log->micropython)
        r->state = ED_FW_MICROPYTHON_MUTE;
    else if (log->download_mode)
        r->state = ED_FW_DOWNLOAD_MODE;
    else if (log->invalid_header || log->guru_meditation || log->flash_read_err ||
             log->brownout || log->resets > 1)
        r->state = ED_FW_BOOT_FAILED;
    else if (r->text_len == 0)
        r->state = ED_FW_SILENT;
    else
        r->state = ED_FW_RUNNING;

    char what[160], tail[448];
    ed_bootlog_describe(log, what, sizeof what);
    ed_bootlog_tail(r->text, r->text_len, TAIL_LINES, tail, sizeof tail);
    for (char *c = tail; *c; c++)
        if (*c == '\n')
            *c = '|';
    snprintf(r->evidence, sizeof r->evidence, "%s%s%s", what, tail[0] ? "; last output: " : "",
             tail);
}

int ed_fwprobe_run(struct ed_transport *tp, const struct ed_fwprobe_opts *opts,
                   struct ed_fwprobe *r)
{
    memset(r, 0, sizeof *r);
    int rc = ed_tp_set_baud(tp, ED_FWPROBE_BAUD);
    if (rc == ED_OK && !(opts && opts->keep_input && !opts->reset))
        rc = ed_tp_flush_input(tp);
    if (rc == ED_OK && opts && opts->reset)
        rc = ed_reset_run(tp, ED_SEQ_HARD, 0);
    size_t mark = 0;
    if (rc == ED_OK)
        rc = listen(tp, r, opts && opts->listen_ms ? opts->listen_ms : ED_FWPROBE_LISTEN_MS,
                    ED_FWPROBE_QUIET_MS, &mark);
    unsigned tries = opts && opts->pokes ? opts->pokes : POKE_TRIES;
    unsigned answer_ms = opts && opts->answer_ms ? opts->answer_ms : ED_FWPROBE_ANSWER_MS;
    for (unsigned i = 0; rc == ED_OK && opts && opts->poke && i < tries && !r->answered;
         i++) {
        rc = poke(tp, r, CTRL_C, &mark, answer_ms);
        r->answered = rc == ED_OK && seen_since(r, mark, PROMPT);
    }
    if (rc == ED_OK && r->answered && !seen_since(r, 0, BANNER))
        rc = poke(tp, r, CTRL_B, &mark, ED_FWPROBE_ANSWER_MS);
    if (rc != ED_OK)
        return rc;
    ed_fwprobe_classify(r);
    /* A prompt printed at boot that ignores our keys is not an answer. */
    if (opts && opts->poke && !r->answered && r->state == ED_FW_MICROPYTHON)
        r->state = ED_FW_MICROPYTHON_MUTE;
    return ED_OK;
}

const char *ed_fw_state_key(enum ed_fw_state state)
{
    switch (state) {
    case ED_FW_MICROPYTHON: return "micropython";
    case ED_FW_MICROPYTHON_MUTE: return "micropython-mute";
    case ED_FW_RUNNING: return "running";
    case ED_FW_BOOT_FAILED: return "boot-failed";
    case ED_FW_DOWNLOAD_MODE: return "download-mode";
    case ED_FW_SILENT: return "silent";
    }
    return "unknown";
}

void ed_fwprobe_describe(const struct ed_fwprobe *r, char *out, size_t len)
{
    const char *v = r->version[0] ? r->version : "(version not shown)";
    switch (r->state) {
    case ED_FW_MICROPYTHON:
        snprintf(out, len, "MicroPython %s is answering", v);
        break;
    case ED_FW_MICROPYTHON_MUTE:
        snprintf(out, len, "MicroPython %s started, but its REPL did not answer Ctrl-C: %s", v,
                 r->evidence);
        break;
    case ED_FW_RUNNING:
        snprintf(out, len, "the board started, but no MicroPython REPL answered: %s",
                 r->evidence);
        break;
    case ED_FW_BOOT_FAILED:
        snprintf(out, len, "the board did not boot: %s", r->evidence);
        break;
    case ED_FW_DOWNLOAD_MODE:
        snprintf(out, len, "the board did not boot: it is still in the ROM's download mode "
                 "(GPIO0 held low?): %s", r->evidence);
        break;
    case ED_FW_SILENT:
        snprintf(out, len, "the board did not boot: not a byte on the console at %u baud",
                 ED_FWPROBE_BAUD);
        break;
    }
}
