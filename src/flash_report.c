/* Reporting the flash plan's problems (see flash_report.h). */
#include "flash_report.h"

#include "escape.h"
#include "out.h"
#include "render.h"
#include "wrap.h"

#include "espdoctor/shell.h"

#include <stdio.h>
#include <string.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void ed_flash_report_problem(struct ed_flash_report *rep, const char *file, const char *id,
                             bool blocking, bool forced, const char *message,
                             const char *fix, const char *command)
{
    if (!rep->problems)
        rep->problems = json_object_new_array();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "file", json_object_new_string(file));
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "blocking", json_object_new_boolean(blocking));
    json_object_object_add(o, "forced", json_object_new_boolean(forced));
    json_object_object_add(o, "message", json_object_new_string(message));
    ed_json_add_fix(o, fix, command);
    json_object_array_add(rep->problems, o);
}

/* A command for this board: "espdoctor flash ..." gets the port that answered, so pasted
 * it reaches the same board even when others are plugged in. */
static void for_this_port(const struct ed_flash_report *rep, const char *command, char *out,
                          size_t len)
{
    static const char prog[] = "espdoctor ";
    char port[300];
    if (!command[0] || !rep->port || strncmp(command, prog, sizeof prog - 1) != 0 ||
        strstr(command, " -p ")) {
        snprintf(out, len, "%s", command);
        return;
    }
    snprintf(out, len, "espdoctor -p %s %s", ed_shell_quote(rep->port, port, sizeof port),
             command + sizeof prog - 1);
}

/* Print one issue and put it into the JSON. */
static void report_issue(struct ed_flash_report *rep, const struct ed_flash_item *it,
                         const struct ed_flash_issue *is, bool refuse)
{
    struct ed_cli *cli = rep->cli;
    struct ed_text_style st;
    ed_cli_style(cli, true, &st);
    bool forced = is->blocking && !refuse;
    char command[ED_IMAGE_FIX_MAX + 300];
    for_this_port(rep, is->fix_command, command, sizeof command);
    ed_flash_report_problem(rep, it->path, is->id, is->blocking, forced, is->message, is->fix,
                            command);
    const char *head = !is->blocking ? "warning"
                       : forced      ? "warning (--force: writing anyway)"
                       : is->forceable ? "refused" : "refused (--force cannot override)";
    char lead[128];
    snprintf(lead, sizeof lead, "%s%s%s: ",
             ed_tone_on(cli->color, is->blocking && !forced ? ED_TONE_ERROR : ED_TONE_WARN),
             head, ed_tone_off(cli->color));
    char message[4 * sizeof is->message];   /* a file name may hold control characters */
    ed_wrap(cli->err, st.width, lead, "  ", ed_escape_name(is->message, message,
                                                            sizeof message));
    ed_render_fix(cli->err, "Fix: ", "  ", is->fix, command[0] ? command : NULL, &st);
}

/* A chip mismatch first: it makes every other fix moot. */
bool ed_flash_report_judge(struct ed_flash_report *rep, size_t blocking, size_t unforceable)
{
    struct ed_cli *cli = rep->cli;
    bool refuse = blocking && (!cli->force || unforceable);
    json_object_put(rep->problems);
    rep->problems = json_object_new_array();
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < rep->plan->count; i++) {
            const struct ed_flash_item *it = &rep->plan->items[i];
            for (size_t k = 0; k < it->issue_count; k++) {
                const struct ed_flash_issue *is = &it->issues[k];
                bool chip = strcmp(is->id, "image.wrong-chip") == 0;
                if (chip == (pass == 0))
                    report_issue(rep, it, is, refuse);
            }
        }
    if (refuse)
        fprintf(cli->err, "Nothing was written.\n");
    return refuse;
}

void ed_flash_report_unchecked(struct ed_flash_report *rep)
{
    json_object_put(rep->unchecked);
    rep->unchecked = json_object_new_array();
    for (size_t i = 0; ed_image_checks_waiting[i]; i++)
        json_object_array_add(rep->unchecked, json_object_new_string(ed_image_checks_waiting[i]));
}

void ed_flash_report_say_unchecked(const struct ed_flash_report *rep)
{
    struct ed_cli *cli = rep->cli;
    if (cli->json || cli->quiet)
        return;
    struct ed_text_style st;
    ed_cli_style(cli, true, &st);
    for (size_t i = 0; i < rep->plan->count; i++) {
        const struct ed_flash_item *it = &rep->plan->items[i];
        if (it->img.kind == ED_IMAGE_UNKNOWN)
            continue;
        char what[256] = "", where[160] = "";
        if (it->img.micropython)
            snprintf(what, sizeof what, "MicroPython %s, ", it->img.micropython_version);
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s",
                 ed_image_kind_describe(it->img.kind));
        if (it->img.chip && it->img.base_known)
            snprintf(where, sizeof where, ", laid out for flash address 0x%x on that chip",
                     it->img.flash_base);
        char aimed[48] = "";
        if (it->addr_given)
            snprintf(aimed, sizeof aimed, " (it was aimed at 0x%x)", it->addr);
        char text[1024], name[400];
        snprintf(text, sizeof text, "%s was checked without the board: it is %s%s%s%s%s. "
                 "Whether it is for the board's chip, belongs at that address, fits its flash "
                 "and suits its revision waits for the board to answer. Nothing was "
                 "written.", ed_escape_name(base_name(it->path), name, sizeof name), what, it->img.chip ? " for the " : "",
                 it->img.chip ? it->img.chip->name : "", where, aimed);
        fputc('\n', cli->err);
        ed_wrap(cli->err, st.width, "", "  ", text);
    }
}

void ed_flash_report_json(const struct ed_flash_report *rep, json_object *o)
{
    json_object_object_add(o, "problems", rep->problems ? json_object_get(rep->problems)
                                                        : json_object_new_array());
    json_object_object_add(o, "unchecked", rep->unchecked ? json_object_get(rep->unchecked)
                                                          : json_object_new_array());
}

void ed_flash_report_free(struct ed_flash_report *rep)
{
    json_object_put(rep->problems);
    json_object_put(rep->unchecked);
    rep->problems = rep->unchecked = NULL;
}
