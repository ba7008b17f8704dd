/* Getting a board ready for flash work (see flash_session.h). */
#include "flash_session.h"

#include "espdoctor/shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_cli.h"
#include "connect.h"
#include "flash_internal.h"
#include "out.h"
#include "render.h"

#include "espdoctor/bridge_identity.h"
#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/image.h"

/* Setup steps that fail on a flaky link are tried this often (with a reconnect between). */
#define SETUP_TRIES 3u

void ed_session_note(struct ed_flash_session *s, const char *fmt, ...)
{
    if (s->note_count == ED_SESSION_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->notes[s->note_count++], ED_SESSION_NOTE_MAX, fmt, ap);
    va_end(ap);
}

void ed_session_say(const struct ed_flash_session *s, const char *fmt, ...)
{
    if (s->cli->json || s->cli->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->cli->out, fmt, ap);
    va_end(ap);
    fputc('\n', s->cli->out);
    fflush(s->cli->out);
}

void ed_session_format_size(uint64_t bytes, char *out, size_t len)
{
    const uint64_t mb = 1024 * 1024;
    if (bytes >= mb && bytes % mb == 0)
        snprintf(out, len, "%llu MB", (unsigned long long)(bytes / mb));
    else if (bytes >= mb)
        snprintf(out, len, "%.1f MB", (double)bytes / (double)mb);
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(out, len, "%llu KB", (unsigned long long)(bytes / 1024));
    else if (bytes >= 1024)
        snprintf(out, len, "%.1f KB", (double)bytes / 1024.0);
    else
        snprintf(out, len, "%llu bytes", (unsigned long long)bytes);
}

void ed_session_describe_error(const struct ed_loader *ld, int rc, char *out, size_t len)
{
    const char *op = ed_proto_op_name(ld->last_op);
    char opbuf[16];
    if (!op) {
        snprintf(opbuf, sizeof opbuf, "command 0x%02x", ld->last_op);
        op = opbuf;
    }
    if (rc == ED_E_ROM || rc == ED_E_UNSUPPORTED) {
        const char *meaning = ed_proto_error_name(ld->last_error);
        char raw[24] = "";
        for (unsigned i = 0; i < ld->last_status_len && i < 4; i++)
            snprintf(raw + strlen(raw), sizeof raw - strlen(raw), "%s%02x", i ? " " : "",
                     ld->last_status[i]);
        snprintf(out, len, "%s failed: the %s answered error 0x%02x%s%s%s (status bytes %s)",
                 op, ld->stub ? "stub" : "ROM", ld->last_error, meaning ? " (" : "",
                 meaning ? meaning : "", meaning ? ")" : "", raw);
    } else {
        snprintf(out, len, "%s: %s", op, ed_strerror(rc));
    }
}

static bool synced(const struct ed_loader *ld)
{
    for (size_t i = 0; i < ld->attempt_count; i++)
        if (ld->attempts[i].result == ED_OK)
            return true;
    return false;
}

/* The explaining connect prints as it fails. Hold its words back until they are final: a
 * chip that answered SYNC but whose identification came back garbled (a noisy line) gets
 * quiet tries from a fresh reset first, and its earlier complaint is dropped if one works. */
static int connect_and_identify(struct ed_flash_session *s)
{
    struct ed_cli *cli = s->cli;
    FILE *real_err = cli->err;
    char *held = NULL;
    size_t held_len = 0;
    FILE *hold = open_memstream(&held, &held_len);
    if (hold)
        cli->err = hold;
    int rc = ed_connect_and_detect(cli, &s->pc, s->ld);
    s->tp = s->ld->tp;   /* another one if the port re-enumerated on the way */
    cli->err = real_err;
    if (hold)
        fclose(hold);
    bool retried = false;
    if (rc != ED_EXIT_OK && synced(s->ld) && s->ld->chip == NULL) {
        retried = ed_session_connect_quietly(s) == ED_OK;
        if (retried)
            rc = ed_connect_check_chip(cli, &s->pc, s->ld);
    }
    if (held && !retried)
        fputs(held, real_err);
    free(held);
    return rc;
}

int ed_session_open(struct ed_cli *cli, struct ed_flash_session *s)
{
    memset(s, 0, sizeof *s);
    s->cli = cli;
    int rc = ed_select_port(cli, &s->pc);
    if (rc != ED_EXIT_OK)
        return rc;
    rc = ed_open_port_why(cli, &s->pc, 115200, &s->tp, &s->port_failure);
    if (rc != ED_EXIT_OK)
        return rc;
    s->ld = calloc(1, sizeof *s->ld);
    if (!s->ld) {
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    ed_loader_init(s->ld, s->tp);
    rc = connect_and_identify(s);
    if (rc != ED_EXIT_OK) {
        /* Only a failed connect, or a chip --chip refuses, prints a JSON document; a
         * failed detection prints text. */
        bool connected = false;
        for (size_t i = 0; i < s->ld->attempt_count; i++)
            connected = connected || s->ld->attempts[i].result == ED_OK;
        s->reported_json = cli->json && (!connected || rc == ED_EXIT_REFUSED);
        return rc;
    }
    s->baud = s->tp->baud;
    s->chip = s->ld->chip;
    for (size_t i = 0; i < s->ld->attempt_count; i++)
        if (s->ld->attempts[i].followed[0])
            ed_session_note(s, "the port re-enumerated while connecting: %s",
                            s->ld->attempts[i].followed);

    uint32_t size = 0;
    int frc = ED_E_TIMEOUT;
    for (unsigned i = 0; i < SETUP_TRIES; i++) {
        frc = ed_loader_flash_id(s->ld, &s->jedec, &size);
        if (frc == ED_OK || frc == ED_E_NOTFOUND || !ed_flash_link_recoverable(frc))
            break;
        ed_loader_flush(s->ld);   /* a garbled reply: ask again */
    }
    if (frc == ED_OK) {
        s->flash_size = size;
        /* A counterfeit chip wraps around below what its id claims: its real size is the
         * one the size checks use, so nothing is written past it. */
        uint32_t real = size;
        if (ed_loader_flash_real_size(s->ld, size, &real) == ED_OK && real < size) {
            s->flash_size = real;
            ed_session_note(s, "the flash chip claims %u MiB (JEDEC id 0x%06x) but wraps "
                            "around at %u KiB: a counterfeit part; sizes are checked against "
                            "%u KiB", size >> 20, s->jedec, real >> 10, real >> 10);
        }
    } else if (frc == ED_E_NOTFOUND) {
        /* Nothing drives the flash's data line: a write would be lost and a read would be
         * all ones, so neither is tried (the error carries the doctor's finding id). */
        struct ed_port_failure *f = &s->port_failure;
        char port[300];
        snprintf(f->id, sizeof f->id, "flash.no-answer");
        snprintf(f->message, sizeof f->message, "%s answers its bootloader, but its flash "
                 "chip does not: the JEDEC id reads 0x%06x. Nothing was written, erased or "
                 "read.", s->ld->chip->name, s->jedec);
        snprintf(f->fix, sizeof f->fix, "On an ESP32, GPIO12 high at reset starves a 3.3 V "
                 "flash; otherwise check the flash pins and the 3.3 V supply. The doctor "
                 "tells which.");
        snprintf(f->fix_command, sizeof f->fix_command, "espdoctor -p %s",
                 ed_shell_quote(s->pc.path, port, sizeof port));
        ed_cli_error(cli, "%s %s", f->message, f->fix);
        return ED_EXIT_FAIL;
    } else {
        ed_session_note(s, "the flash size could not be read (%s): the size check was "
                        "skipped", ed_strerror(frc));
    }
    uint32_t rev;
    int rrc = ED_E_TIMEOUT;
    for (unsigned i = 0; i < SETUP_TRIES; i++) {
        rrc = ed_flash_chip_revision(s->ld, &rev);
        if (rrc == ED_OK || rrc == ED_E_UNSUPPORTED || !ed_flash_link_recoverable(rrc))
            break;
        ed_loader_flush(s->ld);
    }
    if (rrc == ED_OK) {
        s->revision_known = true;
        s->revision = rev;
    }
    return ED_EXIT_OK;
}

int ed_session_stub(struct ed_flash_session *s)
{
    struct ed_cli *cli = s->cli;
    const struct ed_chip *chip = s->ld->chip;
    struct ed_stub_choice *c = &s->stub_choice;
    ed_stub_choice_free(c);
    if (ed_stub_choose(cli->stub, cli->no_stub, chip, c) != ED_OK) {
        ed_cli_error(cli, "%s", c->why);
        return ED_EXIT_INPUT;
    }
    /* A refused stub and an unknown one the user named are warnings: always on stderr
     * (erase and read print no notes), and in the notes of a JSON document. */
    bool warn = c->verdict == ED_STUB_REFUSED || (c->verdict == ED_STUB_USE && c->why[0]);
    if (warn)
        ed_cli_error(cli, "%s%s.", c->verdict == ED_STUB_REFUSED ? "warning: " : "", c->why);
    if (c->why[0] && (!warn || cli->json))
        ed_session_note(s, "%s", c->why);
    if (c->verdict != ED_STUB_USE)
        return ED_EXIT_OK;
    if (s->ld->secure_download) {
        snprintf(s->stub_fallback, sizeof s->stub_fallback, "the ROM is in Secure Download "
                 "Mode, which refuses RAM writes and so runs no flasher stub: the ROM loader "
                 "does the work");
        ed_session_note(s, "%s", s->stub_fallback);
        return ED_EXIT_OK;
    }
    char what[ED_STUB_PATH_MAX + 200];
    ed_stub_choice_describe(c, what, sizeof what);
    ed_session_say(s, "Flasher stub: %s", what);
    int rc = ed_session_upload_stub(s, &c->stub, c->place.path);
    if (rc == ED_E_CANCELLED)
        return ED_EXIT_FAIL;   /* a signal: the command says what was done */
    if (rc != ED_OK) {
        char why[256];
        ed_session_describe_error(s->ld, rc, why, sizeof why);
        /* After the jump nothing answered: the code did not start as a stub (on a chip,
         * code that is no stub for it crashes). */
        bool silent = rc == ED_E_TIMEOUT && s->ld->last_op == ED_OP_MEM_END;
        ed_cli_error(cli, "uploading the flasher stub %s failed: %s%s, and the ROM loader "
                     "could not be reached after it. Nothing was written to flash; check the "
                     "cable and retry, or use the ROM loader with --no-stub.", c->place.path,
                     why, silent ? " (no OHAI: the stub did not start on the chip)" : "");
        return ED_EXIT_FAIL;
    }
    if (s->stub_fallback[0])
        return ED_EXIT_OK;
    snprintf(s->stub_path, sizeof s->stub_path, "%s", c->place.path);
    return ED_EXIT_OK;
}

int ed_session_ready(struct ed_flash_session *s)
{
    struct ed_cli *cli = s->cli;
    uint32_t target = cli->baud;
    const struct ed_bridge *bridge = s->pc.known ? s->pc.info.bridge : NULL;
    if (!target)
        target = bridge ? bridge->max_baud : ED_FLASH_DEFAULT_BAUD;
    uint32_t ceiling = ed_bridge_line_max(bridge, s->pc.info.product);
    /* The part itself, asked over USB, beats the guess from VID:PID and product string. */
    struct ed_bridge_identity id = { .from_usb = false };
    if (bridge && ed_bridge_identify(&s->pc.info, &id) == ED_OK && id.from_usb &&
        id.line_max_baud)
        ceiling = id.line_max_baud;
    if (ceiling && target > ceiling) {
        /* The bridge cannot set it: asking would only give garbage, then a step down. */
        char part[80];
        snprintf(part, sizeof part, "%s", id.from_usb ? id.part : bridge->chip);
        for (size_t i = 0; !id.from_usb && i < ed_bridge_variant_count; i++)
            if (ed_bridge_variants[i].line_max_baud == ceiling &&
                ed_bridge_variants[i].pid == bridge->pid &&
                ed_bridge_variants[i].vid == bridge->vid)
                snprintf(part, sizeof part, "%.*s",
                         (int)strlen(ed_bridge_variants[i].product_prefix) - 1,
                         ed_bridge_variants[i].product_prefix);
        ed_session_note(s, "-b %u is above %u baud, the highest rate the %s can set: "
                        "using %u", target, ceiling, part, ceiling);
        target = ceiling;
    }
    if (!cli->baud) {
        /* A rate that failed here before is not tried again at every flash. */
        uint32_t start = ed_cli_config_start_baud(cli, &s->pc, target);
        if (start < target) {
            ed_session_note(s, "starting at %u baud: faster failed on this board before "
                            "(configuration file; -b %u tries again)", start, target);
            if (cli->verbose)
                fprintf(cli->err, "%s: starting at %u baud, remembered for USB serial %s\n",
                        cli->prog, start, s->pc.info.serial);
            target = start;
        }
    }
    s->baud_asked = target;
    uint32_t reached = s->tp->baud, aim = target;
    int rc = ed_flash_set_baud(s->ld, aim, &reached);
    /* Lost at both rates after a switch: the chip listens at one this line does not carry
     * (a clone below its datasheet, a long cable). A reset brings it back at the ROM's
     * rate; then the next rate down is tried, and so on down the ladder. */
    for (unsigned i = 1; i < SETUP_TRIES + ED_FLASH_BAUD_RUNGS && rc != ED_OK &&
                         rc != ED_E_UNSUPPORTED && ed_flash_link_recoverable(rc); i++) {
        uint32_t lower = ed_flash_baud_below(aim);
        s->baud = 0;   /* the recovery stays at the rate it connects at */
        rc = ed_session_recover(s, s->ld, rc);
        if (rc == ED_OK && lower) {
            aim = lower;
            rc = ed_flash_set_baud(s->ld, aim, &reached);
        }
        reached = s->ld->tp ? s->ld->tp->baud : 0;
    }
    if (rc == ED_E_CANCELLED)
        return ED_EXIT_FAIL;   /* a signal: the command says what was done */
    if (rc == ED_E_UNSUPPORTED) {
        ed_session_note(s, "the %s ROM cannot change its baud: %u baud throughout (a stub "
                        "can)", s->ld->chip->name, reached);
    } else if (rc != ED_OK) {
        ed_cli_error(cli, "lost the board while switching to %u baud: %s. Retry with a lower "
                     "speed, e.g. -b 115200.", target, ed_strerror(rc));
        return ED_EXIT_FAIL;
    } else if (reached < target) {
        ed_session_note(s, "%u baud did not work on this link: stepped down to %u", target,
                        reached);
    }
    s->baud_learnt = rc == ED_OK;
    s->baud = s->tp->baud;
    rc = ed_flash_prepare(s->ld, s->flash_size);
    for (unsigned i = 1; i < SETUP_TRIES && rc != ED_OK && ed_flash_link_recoverable(rc); i++)
        rc = ed_session_recover(s, s->ld, rc);
    if (rc == ED_E_CANCELLED)
        return ED_EXIT_FAIL;
    if (rc != ED_OK) {
        char why[256];
        ed_session_describe_error(s->ld, rc, why, sizeof why);
        ed_cli_error(cli, "could not attach the flash chip: %s", why);
        return ED_EXIT_FAIL;
    }
    return ED_EXIT_OK;
}

void ed_session_close(struct ed_flash_session *s, bool reset)
{
    if (s->ld && reset)
        ed_loader_hard_reset(s->ld);
    ed_tp_close(s->tp);
    ed_stub_choice_free(&s->stub_choice);
    free(s->ld);
    s->tp = NULL;
    s->ld = NULL;
}

json_object *ed_session_port_error_json(const struct ed_flash_session *s)
{
    const struct ed_port_failure *f = &s->port_failure;
    if (!f->id[0])
        return NULL;
    json_object *err = json_object_new_object();
    json_object_object_add(err, "id", json_object_new_string(f->id));
    json_object_object_add(err, "message", json_object_new_string(f->message));
    ed_json_add_fix(err, f->fix, f->fix_command[0] ? f->fix_command : NULL);
    return err;
}

json_object *ed_session_json(const struct ed_flash_session *s)
{
    json_object *o = json_object_new_object();
    const struct ed_chip *chip = s->ld ? s->ld->chip : NULL;
    char rev[16];
    json_object_object_add(o, "port", ed_json_str(s->pc.path[0] ? s->pc.path : NULL));
    json_object_object_add(o, "bridge", ed_connect_bridge_json(&s->pc));
    json_object_object_add(o, "chip", ed_json_str(chip ? chip->name : NULL));
    json_object_object_add(o, "chip_key", ed_json_str(chip ? chip->key : NULL));
    json_object_object_add(o, "flash_size",
                           s->flash_size ? json_object_new_int64(s->flash_size) : NULL);
    snprintf(rev, sizeof rev, "v%u.%u", s->revision / 100, s->revision % 100);
    json_object_object_add(o, "chip_revision", s->revision_known ? json_object_new_string(rev)
                                                                 : NULL);
    json_object_object_add(o, "stub", ed_json_str(s->stub_path[0] ? s->stub_path : NULL));
    json_object_object_add(o, "stub_source", ed_stub_choice_json(&s->stub_choice));
    json_object_object_add(o, "stub_fallback",
                           ed_json_str(s->stub_fallback[0] ? s->stub_fallback : NULL));
    json_object_object_add(o, "baud", json_object_new_int64(s->baud));
    json_object *notes = json_object_new_array();
    for (size_t i = 0; i < s->note_count; i++)
        json_object_array_add(notes, json_object_new_string(s->notes[i]));
    json_object_object_add(o, "notes", notes);
    return o;
}
