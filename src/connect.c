/* Connect, detect, and explain failures (see connect.h). */
#include "connect.h"
#include "out.h"

#include "espdoctor/error.h"

#include <string.h>

json_object *ed_connect_attempts_json(const struct ed_loader *ld)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ld->attempt_count; i++) {
        const struct ed_connect_attempt *a = &ld->attempts[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "sequence",
                               json_object_new_string(a->reset_done ? ed_reset_name(a->seq) : "none"));
        json_object_object_add(o, "delay_ms", json_object_new_int((int)a->delay_ms));
        json_object_object_add(o, "boot", json_object_new_string(ed_boot_mode_name(a->boot)));
        json_object_object_add(o, "boot_value",
                               a->boot_value >= 0 ? json_object_new_int(a->boot_value) : NULL);
        json_object_object_add(o, "banner", a->banner[0] ? json_object_new_string(a->banner) : NULL);
        json_object_object_add(o, "result", json_object_new_string(ed_strerror(a->result)));
        json_object_array_add(arr, o);
    }
    return arr;
}

json_object *ed_connect_bridge_json(const struct ed_port_choice *pc)
{
    if (!pc->known)
        return NULL;
    char id[10];
    json_object *o = json_object_new_object();
    snprintf(id, sizeof id, "%04x:%04x", pc->info.vid, pc->info.pid);
    json_object_object_add(o, "chip", ed_json_str(pc->info.bridge ? pc->info.bridge->chip : NULL));
    json_object_object_add(o, "usb_id", json_object_new_string(id));
    json_object_object_add(o, "serial", ed_json_str(pc->info.serial[0] ? pc->info.serial : NULL));
    json_object_object_add(o, "driver", ed_json_str(pc->info.driver[0] ? pc->info.driver : NULL));
    json_object_object_add(o, "by_id", ed_json_str(pc->info.by_id[0] ? pc->info.by_id : NULL));
    return o;
}

/* Why the connect loop failed, as an id and one paragraph of advice. */
struct verdict {
    const char *id;
    char text[768];
};

static void judge_failure(const struct ed_loader *ld, int rc, const char *prog,
                          struct verdict *v)
{
    size_t text_bytes = 0, readable = 0, garbage = 0, download = 0;
    for (size_t i = 0; i < ld->attempt_count; i++) {
        const struct ed_connect_attempt *a = &ld->attempts[i];
        text_bytes += a->log_bytes;
        readable += a->log.readable;
        garbage += a->log.garbage;
        download += a->boot == ED_BOOT_DOWNLOAD;
    }
    const char *retry = "Hold the BOOT (IO0) button, tap EN (RST), release BOOT, then run "
                        "the command again";
    if (rc == ED_E_GONE) {
        v->id = "port.vanished";
        snprintf(v->text, sizeof v->text, "the port vanished while connecting (unplugged, "
                 "or a native-USB chip re-enumerated). Plug the board back in and retry.");
    } else if (rc == ED_E_UNSUPPORTED && ld->attempt_count == 0) {
        v->id = "reset.no-autoreset";
        snprintf(v->text, sizeof v->text, "this port has no DTR/RTS lines, so espdoctor "
                 "cannot reset the board. %s.", retry);
    } else if (download > 0) {
        v->id = "bootloader.no-sync";
        snprintf(v->text, sizeof v->text, "the chip entered download mode (\"waiting for "
                 "download\") but never answered SYNC. Check the TX/RX wiring, try another "
                 "cable or a lower baud, and retry.");
    } else if (ed_loader_attempts_all(ld, ED_BOOT_FLASH)) {
        v->id = "reset.no-autoreset";
        snprintf(v->text, sizeof v->text, "boot:0x13 (normal flash boot) after every "
                 "reset: the board's auto-reset did not reach download mode, GPIO0 stayed "
                 "high. %s.", retry);
    } else if (text_bytes == 0) {
        v->id = "reset.no-autoreset";
        snprintf(v->text, sizeof v->text, "the board printed nothing after any of %zu "
                 "resets: DTR/RTS do not reach EN/GPIO0 (no auto-reset circuit), or TX/RX "
                 "are not connected, or this is not an ESP board. %s.",
                 ld->attempt_count, retry);
    } else if (garbage > readable) {
        v->id = "boot.wrong-baud";
        snprintf(v->text, sizeof v->text, "only unreadable bytes came back: the board talks "
                 "at another baud rate, or it is not an ESP. An ESP8266 prints its boot log "
                 "at 74880 baud. Run '%s doctor' to read the log at both rates.", prog);
    } else {
        v->id = "device.unknown-port";
        snprintf(v->text, sizeof v->text, "the port answered with text but never with an "
                 "ESP boot banner or a bootloader reply: a program is running on the other "
                 "side and the resets did not reach the chip, or this is not an ESP board. "
                 "%s.", retry);
    }
}

static void explain_failure(struct ed_cli *cli, const struct ed_port_choice *pc,
                            const struct ed_loader *ld, int rc)
{
    struct verdict v;
    judge_failure(ld, rc, cli->prog, &v);
    if (cli->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "port", json_object_new_string(pc->path));
        json_object *err = json_object_new_object();
        json_object_object_add(err, "id", json_object_new_string(v.id));
        json_object_object_add(err, "message", json_object_new_string(v.text));
        json_object_object_add(o, "error", err);
        json_object_object_add(o, "connect", ed_connect_attempts_json(ld));
        json_object_object_add(o, "boot_log",
                               json_object_new_string_len(ld->bootlog, (int)ld->bootlog_len));
        ed_out_json(cli->out, o);
        return;
    }
    ed_cli_error(cli, "could not reach the ROM bootloader on %s: %s", pc->path, v.text);
    if (ld->attempt_count) {
        fprintf(cli->err, "Tried:\n");
        for (size_t i = 0; i < ld->attempt_count; i++) {
            char line[256];
            ed_loader_describe_attempt(&ld->attempts[i], line, sizeof line);
            fprintf(cli->err, "  %s\n", line);
        }
    }
    char tail[512];
    ed_bootlog_tail((const uint8_t *)ld->bootlog, ld->bootlog_len, 4, tail, sizeof tail);
    if (tail[0]) {
        fprintf(cli->err, "Last output from the board:\n");
        for (const char *p = tail; *p;) {
            size_t n = strcspn(p, "\n");
            fprintf(cli->err, "  %.*s\n", (int)n, p);
            p += n + (p[n] == '\n');
        }
    }
}

int ed_connect_and_detect(struct ed_cli *cli, const struct ed_port_choice *pc,
                          struct ed_loader *ld)
{
    struct ed_connect_opts opts = { .style = ED_RESET_AUTO_CIRCUIT };
    if (pc->known && pc->info.bridge)
        opts.style = pc->info.bridge->reset;
    if (!cli->quiet && !cli->json && cli->progress)
        fprintf(cli->err, "Connecting to %s...\n", pc->path);
    int rc = ed_loader_connect(ld, &opts);
    if (rc != ED_OK) {
        explain_failure(cli, pc, ld, rc);
        return ED_EXIT_FAIL;
    }
    rc = ed_loader_detect_chip(ld);
    if (rc != ED_OK) {
        if (rc == ED_E_UNSUPPORTED)
            ed_cli_error(cli, "the bootloader on %s answered, but as a chip espdoctor does "
                              "not know (detection register 0x%08x). Please report it.",
                         pc->path, ld->magic);
        else
            ed_cli_error(cli, "the bootloader on %s answered SYNC but not the chip "
                              "detection: %s. Retry; if it persists, try a lower baud or "
                              "another cable.", pc->path, ed_strerror(rc));
        return ED_EXIT_FAIL;
    }
    return ED_EXIT_OK;
}
