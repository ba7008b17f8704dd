/* `espdoctor info`: reset the board into its ROM bootloader, identify the chip, and say
 * how it was reached. On failure, say what was tried and what the board printed. */
#include "cli.h"
#include "commands.h"
#include "connect.h"
#include "out.h"
#include "portsel.h"
#include "stub_choice.h"

#include "espdoctor/error.h"
#include "espdoctor/loader.h"

#include <string.h>

struct chip_facts {
    uint8_t mac[6];
    int mac_rc;
    unsigned xtal_mhz, xtal_raw_x10;
    int xtal_rc;
    uint32_t jedec, flash_size;
    int flash_rc;
};

static void read_facts(struct ed_loader *ld, struct chip_facts *f)
{
    memset(f, 0, sizeof *f);   /* a failed read leaves its fields alone */
    f->mac_rc = ed_loader_read_mac(ld, f->mac);
    f->xtal_rc = ed_loader_crystal_mhz(ld, &f->xtal_mhz, &f->xtal_raw_x10);
    f->flash_rc = ed_loader_flash_id(ld, &f->jedec, &f->flash_size);
}

static void format_size(uint32_t bytes, char *out, size_t len)
{
    if (bytes >= 1024 * 1024)
        snprintf(out, len, "%u MiB", bytes / (1024 * 1024));
    else
        snprintf(out, len, "%u KiB", bytes / 1024);
}

/* Which stub flash, erase and read would upload, and from where (nothing is uploaded). */
static void print_stub(FILE *o, const struct ed_stub_choice *c)
{
    char what[ED_STUB_PATH_MAX + 200];
    if (c->verdict == ED_STUB_USE) {
        ed_stub_choice_describe(c, what, sizeof what);
        fprintf(o, "  %-10s %s\n", "Stub", what);
    } else {
        fprintf(o, "  %-10s none: %s\n", "Stub", c->why);
    }
}

static void print_text(struct ed_cli *cli, const struct ed_port_choice *pc,
                       const struct ed_loader *ld, const struct chip_facts *f,
                       const struct ed_stub_choice *stub)
{
    FILE *o = cli->out;
    char mac[18], size[32], tail[1024];
    const struct ed_connect_attempt *win = &ld->attempts[ld->attempt_count - 1];
    fprintf(o, "%s%s%s on %s", ed_tone_on(cli->color, ED_TONE_BOLD), ld->chip->name,
            ed_tone_off(cli->color), pc->path);
    if (pc->known)
        fprintf(o, " (%s %04x:%04x%s%s)", pc->info.bridge ? pc->info.bridge->chip : "USB",
                pc->info.vid, pc->info.pid, pc->info.serial[0] ? ", serial " : "",
                pc->info.serial);
    fputc('\n', o);
    if (ld->security_chip_id != UINT32_MAX)
        fprintf(o, "  %-10s %s (chip id %u)\n", "Chip", ld->chip->name, ld->security_chip_id);
    else
        fprintf(o, "  %-10s %s (magic 0x%08x)\n", "Chip", ld->chip->name, ld->magic);
    if (f->mac_rc == ED_OK) {
        ed_format_mac(f->mac, mac);
        fprintf(o, "  %-10s %s\n", "MAC", mac);
    } else {
        fprintf(o, "  %-10s unreadable (%s)\n", "MAC", ed_strerror(f->mac_rc));
    }
    if (f->xtal_rc == ED_OK)
        fprintf(o, "  %-10s %u MHz\n", "Crystal", f->xtal_mhz);
    if (f->flash_rc == ED_OK) {
        format_size(f->flash_size, size, sizeof size);
        fprintf(o, "  %-10s %s (JEDEC id 0x%06x)\n", "Flash", size, f->jedec);
    } else if (f->flash_rc == ED_E_NOTFOUND) {
        fprintf(o, "  %-10s the flash chip did not answer (JEDEC id 0x%06x)\n", "Flash",
                f->jedec);
    } else {
        fprintf(o, "  %-10s unknown (%s)\n", "Flash", ed_strerror(f->flash_rc));
    }
    print_stub(o, stub);
    if (win->reset_done)
        fprintf(o, "  %-10s %s sequence, %u ms delay (attempt %zu)\n", "Reset",
                ed_reset_name(win->seq), win->delay_ms, ld->attempt_count);
    else
        fprintf(o, "  %-10s none: the board was already in download mode\n", "Reset");
    /* Only what the winning reset provoked: older text is an earlier boot's. */
    size_t slice = win->log_bytes < ld->bootlog_len ? win->log_bytes : ld->bootlog_len;
    const uint8_t *text = (const uint8_t *)ld->bootlog + ld->bootlog_len - slice;
    ed_bootlog_tail(text, slice, 3, tail, sizeof tail);
    if (win->log.garbage && ld->chip->rom_log_baud != ld->tp->baud) {
        fprintf(o, "  %-10s %zu bytes, unreadable at %u baud (this ROM prints its log at "
                   "%u)\n", "Boot log", slice, ld->tp->baud, ld->chip->rom_log_baud);
    } else if (tail[0]) {
        fprintf(o, "  %-10s ", "Boot log");
        for (const char *p = tail; *p;) {
            size_t n = strcspn(p, "\n");
            fprintf(o, "%s%.*s\n", p == tail ? "" : "             ", (int)n, p);
            p += n + (p[n] == '\n');
        }
    }
}

static json_object *info_json(const struct ed_port_choice *pc, const struct ed_loader *ld,
                               const struct chip_facts *f, const struct ed_stub_choice *stub)
{
    json_object *o = json_object_new_object();
    char buf[64];
    json_object_object_add(o, "port", json_object_new_string(pc->path));
    json_object_object_add(o, "bridge", ed_connect_bridge_json(pc));
    json_object_object_add(o, "chip", json_object_new_string(ld->chip->name));
    json_object_object_add(o, "chip_key", json_object_new_string(ld->chip->key));
    if (f->mac_rc == ED_OK) {
        ed_format_mac(f->mac, buf);
        json_object_object_add(o, "mac", json_object_new_string(buf));
    } else {
        json_object_object_add(o, "mac", NULL);
    }
    json_object_object_add(o, "crystal_mhz",
                           f->xtal_rc == ED_OK ? json_object_new_int((int)f->xtal_mhz) : NULL);
    json_object *flash = json_object_new_object();
    snprintf(buf, sizeof buf, "0x%06x", f->jedec);
    json_object_object_add(flash, "jedec_id", f->flash_rc == ED_OK || f->flash_rc == ED_E_NOTFOUND
                                                  ? json_object_new_string(buf) : NULL);
    json_object_object_add(flash, "size",
                           f->flash_rc == ED_OK ? json_object_new_int64(f->flash_size) : NULL);
    json_object_object_add(o, "flash", flash);
    json_object_object_add(o, "stub", json_object_new_boolean(ld->stub));
    json_object_object_add(o, "stub_source", ed_stub_choice_json(stub));
    json_object_object_add(o, "stub_note", ed_json_str(stub->why[0] ? stub->why : NULL));
    json_object_object_add(o, "connect", ed_connect_attempts_json(ld));
    json_object_object_add(o, "boot_log", json_object_new_string_len(ld->bootlog, (int)ld->bootlog_len));
    return o;
}

/* The port went away between connecting and reading the facts: say so, never print a
 * half-read board as if it were fine. */
static bool vanished(struct ed_cli *cli, const struct ed_port_choice *pc,
                     const struct chip_facts *f)
{
    if (f->mac_rc != ED_E_GONE && f->xtal_rc != ED_E_GONE && f->flash_rc != ED_E_GONE)
        return false;
    char text[sizeof pc->path + 120];
    snprintf(text, sizeof text, "%s vanished while the chip was being read (unplugged, or a "
             "loose cable). Plug the board back in and retry.", pc->path);
    if (cli->json) {
        json_object *o = json_object_new_object(), *err = json_object_new_object();
        json_object_object_add(o, "port", json_object_new_string(pc->path));
        json_object_object_add(err, "id", json_object_new_string("port.vanished"));
        json_object_object_add(err, "message", json_object_new_string(text));
        json_object_object_add(o, "error", err);
        ed_out_json(cli->out, o);
    } else {
        ed_cli_error(cli, "%s", text);
    }
    return true;
}

int cmd_info(struct ed_cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        ed_cli_error(cli, "'info' takes no arguments (got '%s'); name the port with -p.",
                     argv[0]);
        return ED_EXIT_USAGE;
    }
    struct ed_port_choice pc;
    struct ed_loader *ld;
    int rc = ed_connect_open(cli, &pc, &ld);
    if (rc == ED_EXIT_OK) {
        struct chip_facts facts;
        read_facts(ld, &facts);
        struct ed_stub_choice stub;
        if (vanished(cli, &pc, &facts)) {
            rc = ED_EXIT_FAIL;
        } else if (ed_stub_choose(cli->stub, cli->no_stub, ld->chip, &stub) != ED_OK) {
            ed_cli_error(cli, "%s", stub.why);
            ed_connect_leave(cli, ld);
            rc = ED_EXIT_INPUT;
        } else {
            if (cli->json)
                ed_out_json(cli->out, info_json(&pc, ld, &facts, &stub));
            else
                print_text(cli, &pc, ld, &facts, &stub);
            ed_stub_choice_free(&stub);
            /* Leave the board running its firmware, as esptool does after reading. */
            ed_connect_leave(cli, ld);
        }
    }
    return ed_connect_close(cli, &pc, ld, rc);
}
