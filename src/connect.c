/* Connect, detect, and explain failures (see connect.h). */
#include "connect.h"
#include "config_cli.h"
#include "out.h"
#include "port_follow.h"
#include "render.h"
#include "wrap.h"

#include "espdoctor/error.h"
#include "espdoctor/interrupt.h"
#include "espdoctor/shell.h"
#include "espdoctor/verdict.h"

#include <stdlib.h>
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
        json_object_object_add(o, "port_followed",
                               a->followed[0] ? json_object_new_string(a->followed) : NULL);
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

static void explain_failure(struct ed_cli *cli, const struct ed_port_choice *pc,
                            const struct ed_loader *ld, int rc)
{
    struct ed_connect_judgement j;
    ed_connect_verdict(ld, rc, &j);
    if (cli->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "port", json_object_new_string(pc->path));
        json_object *err = json_object_new_object();
        char message[2 * ED_VERDICT_TEXT_MAX + 2], doctor[300], port[280];
        snprintf(message, sizeof message, "%s %s", j.observed, j.fix);
        json_object_object_add(err, "id", json_object_new_string(j.id));
        json_object_object_add(err, "message", json_object_new_string(message));
        ed_json_add_fix(err, j.fix, j.fix_command);
        snprintf(doctor, sizeof doctor, "espdoctor -p %s",
                 ed_shell_quote(pc->path, port, sizeof port));
        json_object_object_add(err, "diagnose", json_object_new_string(doctor));
        json_object_object_add(o, "error", err);
        json_object_object_add(o, "connect", ed_connect_attempts_json(ld));
        json_object_object_add(o, "boot_log",
                               json_object_new_string_len(ld->bootlog, (int)ld->bootlog_len));
        ed_out_json(cli->out, o);
        return;
    }
    /* For people the doctor follows (ed_cli_diagnose) and explains it with its one finding;
     * with -q, or --before no-reset (the doctor would reset the board), it does not, so the
     * judgement of the attempts is all there is. */
    ed_cli_error(cli, "could not reach the ROM bootloader on %s.", pc->path);
    if (cli->quiet || cli->before == ED_BEFORE_NONE) {
        struct ed_text_style st;
        ed_cli_style(cli, true, &st);
        ed_wrap(cli->err, st.width, "  ", "  ", j.observed);
        ed_render_fix(cli->err, "Fix: ", "  ", j.fix, j.fix_command[0] ? j.fix_command : NULL,
                      &st);
    }
}

/* The ladder's verdict is that DTR/RTS do not reach EN/GPIO0: a press by hand can. */
static bool looks_unwired(const struct ed_loader *ld, int rc)
{
    struct ed_connect_judgement j;
    ed_connect_verdict(ld, rc, &j);
    return strcmp(j.id, "reset.no-autoreset") == 0;
}

/* The board's port re-enumerated during a reset: find it again on its USB port. */
static int follow_port(void *ctx, struct ed_transport **tp, char *note, size_t len)
{
    struct ed_port_choice *pc = ctx;
    uint32_t baud = *tp ? (*tp)->baud : 115200;
    int rc = ed_port_follow(&pc->info, baud, tp, note, len);
    if (rc == ED_OK)
        snprintf(pc->path, sizeof pc->path, "%s", pc->info.devnode);
    return rc;
}

/* --chip named another chip than the one that answered: say both, change nothing, and
 * leave the board running its firmware. */
int ed_connect_check_chip(struct ed_cli *cli, const struct ed_port_choice *pc,
                          struct ed_loader *ld)
{
    if (!cli->chip || !ld->chip || strcmp(cli->chip, ld->chip->key) == 0)
        return ED_EXIT_OK;
    const struct ed_chip *wanted = ed_chip_by_key(cli->chip);
    ed_cli_error(cli, "the board on %s is an %s, not the %s that --chip %s asks for; "
                      "nothing was done. Name the right board with -p, or give --chip %s.",
                 pc->path, ld->chip->name, wanted ? wanted->name : cli->chip, cli->chip,
                 ld->chip->key);
    if (cli->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "port", json_object_new_string(pc->path));
        json_object_object_add(o, "chip", json_object_new_string(ld->chip->name));
        json_object_object_add(o, "chip_expected",
                               json_object_new_string(wanted ? wanted->name : cli->chip));
        json_object *err = json_object_new_object();
        json_object_object_add(err, "id", json_object_new_string("chip.mismatch"));
        json_object_object_add(err, "message",
                               json_object_new_string(ed_cli_last_error(cli)));
        json_object_object_add(o, "error", err);
        json_object_object_add(o, "connect", ed_connect_attempts_json(ld));
        ed_out_json(cli->out, o);
    }
    ed_connect_leave(cli, ld);
    return ED_EXIT_REFUSED;
}

void ed_connect_leave(const struct ed_cli *cli, struct ed_loader *ld)
{
    if (cli->after == ED_AFTER_HARD)
        ed_loader_hard_reset(ld);
}

int ed_connect_and_detect(struct ed_cli *cli, struct ed_port_choice *pc, struct ed_loader *ld)
{
    struct ed_connect_opts opts = { .style = ED_RESET_AUTO_CIRCUIT };
    if (pc->known && pc->info.bridge)
        opts.style = pc->info.bridge->reset;
    if (cli->before == ED_BEFORE_USB)
        opts.style = ED_RESET_USB_JTAG;
    opts.no_reset = cli->before == ED_BEFORE_NONE;
    /* A local USB port can be followed through a re-enumeration; a network one cannot. */
    if (pc->known && pc->info.usb_name[0] && pc->info.devnode[0]) {
        opts.follow = follow_port;
        opts.follow_ctx = pc;
    }
    if (!cli->quiet && !cli->json && cli->progress)
        fprintf(cli->err, "Connecting to %s...\n", pc->path);
    int rc = ed_loader_connect(ld, &opts);
    if (rc != ED_OK && rc != ED_E_GONE && cli->button_wait_ms && !ed_interrupted() &&
        looks_unwired(ld, rc) &&
        ed_cli_button_watch(cli, pc->known ? pc->info.bridge : NULL, ld, &pc->reset_button))
        rc = ED_OK;
    if (rc != ED_OK) {
        /* Stopped by a signal: the command says so; the board is not to blame. */
        if (!ed_interrupted())
            explain_failure(cli, pc, ld, rc);
        return ED_EXIT_FAIL;
    }
    rc = ed_loader_detect_chip(ld);
    if (rc != ED_OK && ed_interrupted())
        return ED_EXIT_FAIL;
    if (rc != ED_OK) {
        if (rc == ED_E_GONE)
            ed_cli_error(cli, "%s vanished right after its bootloader answered (unplugged, "
                              "or a loose cable). Plug the board back in and retry.", pc->path);
        else if (rc == ED_E_UNSUPPORTED)
            ed_cli_error(cli, "the bootloader on %s answered, but as a chip espdoctor does "
                              "not know (detection register 0x%08x). Please report it.",
                         pc->path, ld->magic);
        else
            ed_cli_error(cli, "the bootloader on %s answered SYNC but not the chip "
                              "detection: %s. Retry; if it persists, try a lower baud or "
                              "another cable.", pc->path, ed_strerror(rc));
        return ED_EXIT_FAIL;
    }
    return ed_connect_check_chip(cli, pc, ld);
}

int ed_connect_open(struct ed_cli *cli, struct ed_port_choice *pc, struct ed_loader **ld)
{
    *ld = NULL;
    int rc = ed_select_port(cli, pc);
    if (rc != ED_EXIT_OK)
        return rc;
    struct ed_transport *tp;
    rc = ed_open_port(cli, pc, 115200, &tp);
    if (rc != ED_EXIT_OK)
        return rc;
    *ld = calloc(1, sizeof **ld);
    if (!*ld) {
        ed_tp_close(tp);
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    ed_loader_init(*ld, tp);
    return ed_connect_and_detect(cli, pc, *ld);
}

int ed_connect_close(struct ed_cli *cli, const struct ed_port_choice *pc,
                     struct ed_loader *ld, int rc)
{
    if (!ld)
        return rc;
    if (rc == ED_EXIT_OK)
        ed_cli_config_remember(cli, pc, false, 0, 0);   /* info, read-mac: used last */
    ed_tp_close(ld->tp);   /* another one than opened if the port re-enumerated */
    if (rc != ED_EXIT_OK && ed_connect_failed(ld))
        ed_cli_diagnose(cli, pc->path);
    free(ld);
    return rc;
}
