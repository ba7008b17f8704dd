/* Judging a conformance row: what tests/js/row.mjs reported, and the flash file espsim
 * left, against the row's expectations (clients_rows.h) and espdoctor's reference.
 * Header-only, for test_espsim_clients.c. */
#ifndef ESPDOCTOR_CLIENTS_VERDICT_H
#define ESPDOCTOR_CLIENTS_VERDICT_H

#include <ctype.h>
#include <md5.h>

#include "clients_result.h"

/* --skip (the board has no such step) and --refuse (the client's known limit). */
static inline void row_options(const struct row *r, char *skip, size_t skip_cap, char *refuse,
                               size_t refuse_cap)
{
    skip[0] = refuse[0] = '\0';
    for (int s = 0; s < STEP_SAME_BYTES; s++) {
        if (board_limit_for(r, (enum step)s)) {
            size_t len = strlen(skip);
            snprintf(skip + len, skip_cap - len, "%s%s", len ? "," : "", step_keys[s]);
        }
        if (client_limit_for(r, (enum step)s))
            snprintf(refuse, refuse_cap, "%s", step_keys[s]);
    }
}

static inline const char *jstr(json_object *o, const char *key)
{
    json_object *v = o ? json_at(o, key) : NULL;
    return v ? json_object_get_string(v) : NULL;
}

static inline bool jtrue(json_object *o, const char *key)
{
    json_object *v = o ? json_at(o, key) : NULL;
    return v && json_object_get_boolean(v);
}

static inline void lower_copy(char *out, size_t cap, const char *in)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static inline void judge_identify(struct verdict *v, json_object *st)
{
    const struct row *r = v->row;
    const char *chip = jstr(st, "chip"), *mac = jstr(st, "mac");
    char want_mac[32];
    lower_copy(want_mac, sizeof want_mac, r->chip->mac);
    if (!chip || strcmp(chip, r->chip->name) != 0)
        verdict_fail(v, STEP_IDENTIFY, "chip %s, espsim is an %s", chip ? chip : "(none)",
                     r->chip->name);
    if (!mac || strcmp(mac, want_mac) != 0)
        verdict_fail(v, STEP_IDENTIFY, "MAC %s, espsim was given %s (--mac)",
                     mac ? mac : "(none)", want_mac);
    if (r->client != ESPTOOL_JS)
        return;   /* esp-web-flasher reads no more than chip and MAC */
    json_object *xtal = json_at(st, "crystal_mhz");
    if (!xtal || json_object_get_int(xtal) != (int)r->chip->crystal_mhz)
        verdict_fail(v, STEP_IDENTIFY, "crystal %s MHz, espsim's is %u MHz",
                     xtal ? json_object_get_string(xtal) : "(none)", r->chip->crystal_mhz);
    const char *description = jstr(st, "description");
    char lower[256];
    lower_copy(lower, sizeof lower, description ? description : "unknown");
    if (strstr(lower, "unknown") || !description ||
        strncmp(description, r->chip->name, strlen(r->chip->name)) != 0)
        verdict_fail(v, STEP_IDENTIFY, "chip description \"%s\" (from the eFuse words "
                     "espsim answers)", description ? description : "(none)");
}

static inline unsigned log2_size(uint32_t bytes)
{
    unsigned n = 0;
    while (bytes > 1) {
        bytes >>= 1;
        n++;
    }
    return n;
}

static inline void judge_flash_id(struct verdict *v, json_object *st, const struct reference *ref)
{
    json_object *id = json_at(st, "flash_id");
    uint32_t got = id ? (uint32_t)json_object_get_int64(id) : 0;
    unsigned want_size = log2_size(v->row->chip->flash_bytes);
    if (!id || ((got >> 16) & 0xFF) != want_size)
        verdict_fail(v, STEP_FLASH_ID, "flash id 0x%06X: its capacity byte should be 0x%02X "
                     "(--flash-size %s)", got, want_size, v->row->chip->flash_size);
    else if (!ref->failure[0] && got != ref->jedec_id)
        verdict_fail(v, STEP_FLASH_ID, "flash id 0x%06X, espdoctor info read 0x%06X", got,
                     ref->jedec_id);
}

/* The port was opened at 115200 and, if the row changes baud, once more at 921600:
 * any other reopening is a client falling back or reconnecting. */
static inline void judge_baud_history(struct verdict *v, json_object *report, bool changed)
{
    json_object *h = json_at(report, "baud_history");
    size_t n = h ? json_object_array_length(h) : 0;
    bool ok = n == (changed ? 2u : 1u) &&
              json_object_get_int(json_object_array_get_idx(h, 0)) == 115200 &&
              (!changed || json_object_get_int(json_object_array_get_idx(h, 1)) == ROW_BAUD);
    if (!ok)
        verdict_fail(v, STEP_BAUD, "the port was opened at %s, expected 115200%s",
                     h ? json_object_to_json_string(h) : "(nothing)", changed ? " then 921600" : " only");
}

static inline void judge_verify(struct verdict *v, json_object *st, const char *image_md5)
{
    const char *md5 = jstr(st, "md5"), *readback = jstr(st, "readback_md5");
    if (!md5 || strcmp(md5, image_md5) != 0)
        verdict_fail(v, STEP_VERIFY, "the chip's MD5 is %s, the image's %s", md5 ? md5 : "(none)",
                     image_md5);
    if (readback && strcmp(readback, image_md5) != 0)
        verdict_fail(v, STEP_VERIFY, "what the client read back has MD5 %s, the image %s",
                     readback, image_md5);
}

static inline uint8_t *load_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    uint8_t *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    *len = buf && fread(buf, 1, (size_t)size, f) == (size_t)size ? (size_t)size : 0;
    fclose(f);
    if (buf && !*len && size > 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* espsim's flash holds the image at its address, and every byte equals espdoctor's. */
static inline void judge_same_bytes(struct verdict *v, const char *image, const char *flash,
                                    const struct reference *ref)
{
    if (ref->failure[0]) {
        verdict_fail(v, STEP_SAME_BYTES, "no espdoctor reference: %s", ref->failure);
        return;
    }
    size_t ilen = 0, flen = 0, rlen = 0, ref_ilen = 0;
    uint8_t *img = load_file(image, &ilen), *got = load_file(flash, &flen);
    uint8_t *want = load_file(ref->flash, &rlen), *ref_img = load_file(ref->image, &ref_ilen);
    uint32_t at = v->row->chip->address;
    if (!img || !got || !want || !ref_img)
        verdict_fail(v, STEP_SAME_BYTES, "cannot read %s, %s or %s", image, flash, ref->flash);
    else if (ilen != ref_ilen || memcmp(img, ref_img, ilen) != 0)
        verdict_fail(v, STEP_SAME_BYTES, "the row's image is not the reference's (mkimage "
                     "is not deterministic?)");
    else if (flen != rlen || flen != v->row->chip->flash_bytes)
        verdict_fail(v, STEP_SAME_BYTES, "flash files of %zu and %zu bytes (espdoctor's), "
                     "expected %u", flen, rlen, v->row->chip->flash_bytes);
    else if (memcmp(got + at, img, ilen) != 0)
        verdict_fail(v, STEP_SAME_BYTES, "espsim's flash does not hold the image at 0x%X", at);
    else if (memcmp(got, want, flen) != 0) {
        size_t first = 0, count = 0;
        for (size_t i = flen; i-- > 0;)
            if (got[i] != want[i]) {
                first = i;
                count++;
            }
        verdict_fail(v, STEP_SAME_BYTES, "%zu bytes differ from espdoctor's flash file, the "
                     "first at 0x%zX (0x%02X, espdoctor 0x%02X)", count, first, got[first],
                     want[first]);
    }
    free(img);
    free(got);
    free(want);
    free(ref_img);
}

static inline void judge_step(struct verdict *v, enum step s, json_object *report,
                              json_object *st, const char *image_md5, const struct reference *ref)
{
    switch (s) {
    case STEP_IDENTIFY: judge_identify(v, st); break;
    case STEP_BAUD: {
        json_object *b = json_at(st, "baud");
        if (!b || json_object_get_int(b) != ROW_BAUD)
            verdict_fail(v, STEP_BAUD, "the client reports %s baud", b ? json_object_get_string(b) : "no");
        judge_baud_history(v, report, true);
        break;
    }
    case STEP_FLASH_ID: judge_flash_id(v, st, ref); break;
    case STEP_VERIFY: judge_verify(v, st, image_md5); break;
    default: break;
    }
}

/* Every cell of the row, from the client's report and the flash file. */
static inline void judge_row(struct verdict *v, const char *out, const char *image,
                             const char *flash, const struct reference *ref)
{
    const struct row *r = v->row;
    char image_md5[MD5_DIGEST_STRING_LENGTH] = "";
    MD5File(image, image_md5);
    json_object *report = json_tokener_parse(out);
    json_object *steps = report ? json_at(report, "steps") : NULL;
    const char *err_step = report ? jstr(report, "error.step") : NULL;
    const char *err_msg = report ? jstr(report, "error.message") : NULL;
    bool ended = report == NULL;
    if (!report)
        verdict_fail(v, STEP_CONNECT, "tests/js/row.mjs printed no report: %.300s", out);
    for (int i = 0; i < STEP_SAME_BYTES; i++) {
        enum step s = (enum step)i;
        const struct board_limit *bl = board_limit_for(r, s);
        const struct client_limit *cl = client_limit_for(r, s);
        json_object *st = steps ? json_at(steps, step_keys[s]) : NULL;
        if (s == STEP_STUB && r->loader == LOADER_ROM) {
            v->cells[s] = CELL_NONE;
        } else if (bl) {
            v->cells[s] = CELL_NA;
            v->notes[s] = bl->why;
        } else if (ended) {
            v->cells[s] = v->cells[s] == CELL_FAIL ? CELL_FAIL : CELL_NOT_REACHED;
        } else if (cl) {
            const char *refused = jstr(report, "refused.message");
            if (refused && strstr(refused, cl->message)) {
                v->cells[s] = CELL_CANNOT;
                v->notes[s] = cl->why;
            } else if (jtrue(st, "ok")) {
                verdict_fail(v, s, "the client did this although clients_rows.h says it cannot "
                             "(%s): update client_limits", cl->why);
            } else {
                verdict_fail(v, s, "expected the client to give up with \"%s\", it said: %s",
                             cl->message, refused ? refused : err_msg ? err_msg : "nothing");
            }
            ended = s != STEP_BAUD || v->cells[s] == CELL_FAIL;
        } else if (jtrue(st, "ok")) {
            v->cells[s] = CELL_PASS;
            judge_step(v, s, report, st, image_md5, ref);
        } else {
            verdict_fail(v, s, "%s", err_step && strcmp(err_step, step_keys[s]) == 0 && err_msg
                                         ? err_msg : "the client did not report this step");
            ended = true;
        }
    }
    if (v->cells[STEP_BAUD] != CELL_PASS && v->cells[STEP_BAUD] != CELL_FAIL && report &&
        v->cells[STEP_CONNECT] == CELL_PASS)
        judge_baud_history(v, report, false);
    if (v->cells[STEP_WRITE] == CELL_PASS) {
        v->cells[STEP_SAME_BYTES] = CELL_PASS;
        judge_same_bytes(v, image, flash, ref);
    } else {
        v->cells[STEP_SAME_BYTES] = v->cells[STEP_SAME_BYTES] == CELL_FAIL ? CELL_FAIL
                                                                          : CELL_NOT_REACHED;
    }
    json_object_put(report);
}

/* Evidence for the known gap in espsim's model: a usb-jtag row that did not get in,
 * with a trace showing the UART bridge's EN/GPIO0 circuit decoding the lines. */
static inline const char *usb_jtag_hint(const struct row *r, const struct verdict *v,
                                        const char *trace)
{
    if (strcmp(r->bridge, "usb-jtag") != 0 || v->cells[STEP_CONNECT] != CELL_FAIL)
        return "";
    size_t len = 0;
    char *text = (char *)load_file(trace, &len);
    bool circuit = text && len && (text[len] = '\0', strstr(text, "-> EN ") != NULL);
    free(text);
    return circuit ? "\n  espsim decoded this USB-Serial/JTAG port's DTR/RTS through a UART "
                     "bridge's EN/GPIO0 transistor circuit (trace: \"lines ... -> EN ...\"), "
                     "not through the controller's own line-state logic (TRM, chapter \"USB "
                     "Serial/JTAG Controller\"): that espsim model is missing (issue 10, "
                     "being written on branch i10-sim).\n"
                   : "";
}

#endif
