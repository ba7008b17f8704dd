/* `espdoctor [doctor]`: find out why the board won't talk. Runs the check families,
 * renders the findings, and maps the verdict to an exit code.
 *
 * --json prints one object:
 *   {"ports":    [ the same records as `espdoctor list --json` ],
 *    "findings": [ {"id","severity","subject","evidence","fix","fix_command"}, ... ]
 *                (in check order; fix_command: the command that carries out the fix,
 *                null when the fix is an action),
 *    "verdict":  {"status": "ready" | "problem" | "no-device" | "several",
 *                 "problem": the error to fix first or null: the first error finding,
 *                            but a crash loop (fixed by flashing) after the error that
 *                            keeps the bootloader out of reach,
 *                 "port": the port examined or null,
 *                 "chip": "ESP32" or null, "micropython": "v1.24.0" or null}}
 * With --flash FILE and a ready board (or one whose only problem is a crash loop, which
 * flashing fixes, with the bootloader answering), `flash FILE` runs next on the same port
 * (its output follows the doctor's; with --json, its document is the doctor's "flash", and
 * its error the doctor's "error": one document per run) and its exit code is the result.
 * With several boards, no -p and a terminal on stdin (not --json), the doctor asks which
 * board to examine (a wrong answer asks again) and examines that one.
 * Exit: 0 ready, 7 a problem was found, 2 usage or several boards without -p (and no one
 * to ask, or the question cancelled), 4 no device. */
#include "board_wait.h"
#include "cli.h"
#include "commands.h"
#include "out.h"
#include "portsel.h"
#include "render.h"
#include "wrap.h"

#include "espdoctor/doctor.h"
#include "espdoctor/error.h"
#include "espdoctor/image.h"
#include "espdoctor/shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every error found is one that flashing fixes, and the bootloader answers. */
static bool flashing_fixes_all(const struct ed_doctor *d)
{
    for (size_t i = 0; i < d->report.count; i++)
        if (d->report.items[i].severity == ED_SEV_ERROR &&
            !ed_fixed_by_flashing(&d->report.items[i]))
            return false;
    return d->bootloader_ok;
}

static const char *status_of(const struct ed_doctor *d, const struct ed_finding **problem)
{
    *problem = ed_first_problem(&d->report);
    if (ed_report_has(&d->report, "device.none") ||
        ed_report_has(&d->report, "device.nothing-appeared"))
        return "no-device";
    if (*problem)
        return "problem";
    if (ed_report_has(&d->report, "device.several"))
        return "several";   /* the system looks fine; which board to examine is the question */
    if (!d->bootloader_ok)
        return "problem";
    return "ready";
}

static json_object *ports_json(const struct ed_doctor *d)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < d->ports.count; i++)
        json_object_array_add(arr, ed_port_json(&d->ports.items[i]));
    return arr;
}

/* The last lines: the problem once, in full (ed_render_text ends with it), or what the
 * board is when nothing is wrong. */
static void print_summary(struct ed_cli *cli, const struct ed_doctor *d, const char *status,
                          const struct ed_text_style *st)
{
    FILE *o = cli->out;
    char line[512];
    if (strcmp(status, "ready") == 0) {
        snprintf(line, sizeof line, "Ready: %s on %s answers its bootloader%s%s%s.",
                 d->chip ? d->chip->name : "the chip", d->port_path,
                 d->micropython ? "; MicroPython " : "",
                 d->micropython ? d->micropython_version : "",
                 d->micropython ? " is installed" : "; no MicroPython on it yet (its fix is above)");
        char lead[32];
        snprintf(lead, sizeof lead, "\n%s%s%s ", ed_tone_on(cli->color, ED_TONE_OK),
                 ed_tone_mark(ED_TONE_OK), ed_tone_off(cli->color));
        ed_wrap(o, st->width, lead, "  ", line);
    } else if (strcmp(status, "several") == 0) {
        char lead[32];
        snprintf(lead, sizeof lead, "\n%s!%s ", ed_tone_on(cli->color, ED_TONE_WARN),
                 ed_tone_off(cli->color));
        ed_wrap(o, st->width, lead, "  ", "Several boards are connected; nothing wrong was "
                "found around them. Examine one:");
        for (size_t i = 0; i < d->ports.count; i++) {
            const struct ed_port *p = &d->ports.items[i];
            char quoted[300], command[320];
            if (!p->bridge || !p->devnode[0])
                continue;
            snprintf(command, sizeof command, "espdoctor -p %s",
                     ed_shell_quote(p->devnode, quoted, sizeof quoted));
            ed_print_command(o, "      ", command);
        }
    } else if (!ed_first_problem(&d->report)) {
        char lead[32];
        snprintf(lead, sizeof lead, "\n%s!%s ", ed_tone_on(cli->color, ED_TONE_WARN),
                 ed_tone_off(cli->color));
        ed_wrap(o, st->width, lead, "  ", "The bootloader was not reached; the findings "
                "above say what the board did.");
    }
}

/* --flash FILE: flash the board the doctor just found ready (or whose only problem is
 * what is in its flash), on the same port. */
static int hand_off_to_flash(struct ed_cli *cli, const struct ed_doctor *d, int doctor_rc,
                             json_object *root)
{
    if (doctor_rc != ED_EXIT_OK && !(doctor_rc == ED_EXIT_PROBLEM && flashing_fixes_all(d))) {
        if (!cli->json)
            fprintf(cli->err, "%s: not flashing %s: fix the problem above first.\n",
                    cli->prog, cli->flash_file);
        return doctor_rc;
    }
    if (!cli->json)
        fprintf(cli->out, "\nFlashing %s to %s...\n", cli->flash_file, d->port_path);
    char file[4096];
    snprintf(file, sizeof file, "%s", cli->flash_file);
    char *args[] = { file, NULL };
    cli->port = d->port_path;
    if (!cli->json)
        return cmd_flash(cli, 1, args);
    /* One document per run: flash's goes into the doctor's. */
    char *text = NULL;
    size_t len = 0;
    FILE *held = open_memstream(&text, &len), *real = cli->out;
    if (held)
        cli->out = held;
    int rc = cmd_flash(cli, 1, args);
    if (held) {
        fclose(held);
        cli->out = real;
    }
    json_object *flash = text ? json_tokener_parse(text) : NULL, *error = NULL;
    free(text);
    if (flash && json_object_object_get_ex(flash, "error", &error) && error)
        json_object_object_add(root, "error", json_object_get(error));
    json_object_object_add(root, "flash", flash);
    return rc;
}

/* The button watch, null when it did not run. */
static json_object *button_json(const struct ed_doctor *d)
{
    if (!d->button_watched)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "boot", json_object_new_string(d->button.names.boot));
    json_object_object_add(o, "reset", json_object_new_string(d->button.names.reset));
    json_object_object_add(o, "waited_ms", json_object_new_int((int)d->button.waited_ms));
    json_object_object_add(o, "banner_seen", json_object_new_boolean(d->button.banner_seen));
    json_object_object_add(o, "pressed", json_object_new_boolean(d->button_reached));
    return o;
}

static bool several_boards(void)
{
    struct ed_port_list ports;
    if (ed_ports_enumerate(&ports) != ED_OK)
        return false;
    bool several = ed_ports_count_boards(&ports) > 1;
    ed_ports_free(&ports);
    return several;
}

/* --flash FILE that no board could take (missing, a directory, a web page...): say so
 * before the board is examined, not after. The full checks run in 'flash'. */
static bool flash_file_usable(struct ed_cli *cli)
{
    struct ed_image_info info;
    char err[512];
    if (ed_image_open(cli->flash_file, &info, err, sizeof err) != ED_OK) {
        ed_cli_error(cli, "--flash: %s. Nothing was examined or written.", err);
        return false;
    }
    if (!ed_image_kind_is_firmware(info.kind) && info.kind != ED_IMAGE_TRUNCATED) {
        /* Said on stderr, and kept as the error a --json document carries. */
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        ed_image_explain_unusable(mem ? mem : cli->err, &info);
        if (mem) {
            fclose(mem);
            fprintf(cli->err, "%s: --flash: %s", cli->prog, text);
            if (cli->last_error)
                snprintf(cli->last_error, ED_CLI_ERROR_MAX, "--flash: %s", text);
            free(text);
        }
        return false;
    }
    return true;
}

int cmd_doctor(struct ed_cli *cli, int argc, char **argv)
{
    if (argc > 0) {
        ed_cli_error(cli, "'doctor' takes no arguments (got '%s'); name the port with -p.",
                     argv[0]);
        return ED_EXIT_USAGE;
    }
    if (cli->flash_file && !flash_file_usable(cli))
        return ED_EXIT_INPUT;
    /* Nothing plugged in yet: watch for it (--wait; by default on a terminal). The wait
     * is done here, so ed_select_port below does not wait again. */
    bool at_terminal = !cli->json && isatty(STDIN_FILENO);
    struct ed_board_wait waited = { 0 };
    unsigned wait_ms = cli->wait_given ? cli->wait_ms
                       : at_terminal && isatty(STDERR_FILENO) ? ED_WAIT_DEFAULT_MS : 0;
    if (wait_ms) {
        int rc = ed_wait_for_board(cli, wait_ms, !cli->wait_given, &waited);
        if (rc != ED_EXIT_OK)
            return rc;
    }
    cli->wait_ms = 0;
    /* VID:PID and serial=XXXX name a board; the doctor examines the port it has. */
    struct ed_port_spec spec;
    struct ed_port_choice choice;
    const char *requested = cli->port;
    if (cli->port) {
        ed_port_spec_parse(cli->port, &spec);
        if (spec.kind == ED_SPEC_USB_ID || spec.kind == ED_SPEC_SERIAL) {
            int rc = ed_select_port(cli, &choice);
            if (rc != ED_EXIT_OK)
                return rc;
            requested = choice.path;
        }
    }
    /* Several boards and someone at the terminal: ask which one, and examine it fully. */
    if (!requested && at_terminal && several_boards()) {
        int rc = ed_select_port(cli, &choice);
        if (rc != ED_EXIT_OK)
            return rc;
        requested = choice.path;
    }
    struct ed_doctor d;
    ed_doctor_init(&d, requested);
    struct ed_cli_button button_ui;
    ed_cli_button_prepare(cli, &button_ui, &d.button);
    d.waited_ms = waited.waited_ms;
    d.appeared_ms = waited.appeared_ms;
    if (!cli->json && !cli->quiet && isatty(STDERR_FILENO))
        fprintf(cli->err, "Examining %s...\n", requested ? requested : "USB serial devices");

    ed_doctor_run(&d);
    ed_doctor_close_port(&d);

    const struct ed_finding *problem;
    const char *status = status_of(&d, &problem);
    json_object *root = NULL;
    if (cli->json) {
        root = json_object_new_object();
        json_object_object_add(root, "ports", ports_json(&d));
        json_object_object_add(root, "findings", ed_render_findings_json(&d.report));
        json_object *v = json_object_new_object();
        json_object_object_add(v, "status", json_object_new_string(status));
        json_object_object_add(v, "problem", problem ? json_object_new_string(problem->diag->id) : NULL);
        json_object_object_add(v, "port", d.port_path[0] ? json_object_new_string(d.port_path) : NULL);
        json_object_object_add(v, "chip", d.chip ? json_object_new_string(d.chip->name) : NULL);
        json_object_object_add(v, "micropython",
                               d.micropython ? json_object_new_string(d.micropython_version) : NULL);
        json_object_object_add(root, "verdict", v);
        json_object_object_add(root, "button", button_json(&d));
        /* null when ready; on a problem the CLI layer makes it the problem (cli_json.h) */
        json_object_object_add(root, "error", NULL);
        if (cli->flash_file)
            json_object_object_add(root, "flash", NULL);   /* not flashed (yet) */
    } else {
        struct ed_text_style st;
        ed_cli_style(cli, false, &st);
        ed_render_text(cli->out, &d.report, problem, &st);
        print_summary(cli, &d, status, &st);
    }
    int rc = strcmp(status, "ready") == 0       ? ED_EXIT_OK
             : strcmp(status, "no-device") == 0 ? ED_EXIT_NODEV
             : strcmp(status, "several") == 0   ? ED_EXIT_USAGE   /* -p is wanted */
                                                : ED_EXIT_PROBLEM;
    if (cli->flash_file)
        rc = hand_off_to_flash(cli, &d, rc, root);
    if (root)
        ed_out_json(cli->out, root);
    ed_doctor_free(&d);
    return rc;
}
