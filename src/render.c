/* Rendering findings (see render.h). */
#include "render.h"
#include "out.h"
#include "wrap.h"

#include <string.h>

#define FAMILIES_MAX 32

static enum ed_tone tone_of(enum ed_severity sev)
{
    switch (sev) {
    case ED_SEV_OK: return ED_TONE_OK;
    case ED_SEV_INFO: return ED_TONE_INFO;
    case ED_SEV_WARN: return ED_TONE_WARN;
    case ED_SEV_ERROR: return ED_TONE_ERROR;
    }
    return ED_TONE_INFO;
}

void ed_render_fix(FILE *f, const char *lead, const char *indent, const char *fix,
                   const char *command, const struct ed_text_style *st)
{
    char first[96], command_indent[64];
    snprintf(first, sizeof first, "%s%s%s%s", indent, ed_tone_on(st->color, ED_TONE_BOLD),
             lead, ed_tone_off(st->color));
    snprintf(command_indent, sizeof command_indent, "%s    ", indent);
    if (fix)
        ed_wrap(f, st->width, first, indent, fix);
    else if (command)
        ed_wrap(f, st->width, first, indent, "");
    if (command)
        ed_print_command(f, command_indent, command);
}

/* "  ✓ Title (subject)  [id]", wrapped like prose. */
static void print_title(FILE *f, const struct ed_finding *x, const char *indent,
                        const char *label, const struct ed_text_style *st)
{
    enum ed_tone tone = tone_of(x->severity);
    char head[1024], first[64];
    snprintf(head, sizeof head, "%s%s%s%s%s%s%s  %s[%s]%s", ed_tone_on(st->color, tone),
             label, x->diag->title, ed_tone_off(st->color), x->subject[0] ? " (" : "",
             x->subject, x->subject[0] ? ")" : "", ed_tone_on(st->color, ED_TONE_DIM),
             x->diag->id, ed_tone_off(st->color));
    snprintf(first, sizeof first, "%s%s%s%s ", indent, ed_tone_on(st->color, tone),
             ed_tone_mark(tone), ed_tone_off(st->color));
    char rest[64];
    snprintf(rest, sizeof rest, "%s    ", indent);
    ed_wrap(f, st->width, first, rest, head);
}

static void print_finding(FILE *f, const struct ed_finding *x, const struct ed_text_style *st)
{
    print_title(f, x, "  ", "", st);
    if (x->evidence)
        ed_wrap(f, st->width, "      ", "      ", x->evidence);
    if (x->severity >= ED_SEV_WARN && (x->fix || x->fix_command))
        ed_render_fix(f, "fix: ", "      ", x->fix, x->fix_command, st);
}

bool ed_fixed_by_flashing(const struct ed_finding *f)
{
    return strcmp(f->diag->id, "boot.crash-loop") == 0 ||
           strcmp(f->diag->id, "firmware.blank") == 0;
}

const struct ed_finding *ed_first_problem(const struct ed_report *r)
{
    const struct ed_finding *first = NULL, *blocking = NULL;
    for (size_t i = 0; i < r->count; i++) {
        const struct ed_finding *f = &r->items[i];
        if (f->severity != ED_SEV_ERROR)
            continue;
        if (!first)
            first = f;
        if (!blocking && !ed_fixed_by_flashing(f))
            blocking = f;
    }
    if (first && ed_fixed_by_flashing(first) && blocking && !ed_report_has(r, "bootloader.ok"))
        return blocking;
    return first;
}

void ed_render_problem(FILE *f, const struct ed_finding *problem, size_t more_problems,
                       const struct ed_text_style *st)
{
    print_title(f, problem, "", "Problem: ", st);
    if (problem->evidence)
        ed_wrap(f, st->width, "  ", "  ", problem->evidence);
    if (problem->fix || problem->fix_command)
        ed_render_fix(f, "Fix: ", "  ", problem->fix, problem->fix_command, st);
    if (more_problems) {
        char more[160];
        snprintf(more, sizeof more, "%zu more problem%s %s listed above; fix this one first, "
                 "then run espdoctor again.", more_problems, more_problems == 1 ? "" : "s",
                 more_problems == 1 ? "is" : "are");
        ed_wrap(f, st->width, "  ", "  ", more);
    }
}

void ed_render_text(FILE *f, const struct ed_report *r, const struct ed_finding *problem,
                    const struct ed_text_style *st)
{
    size_t problems = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].severity == ED_SEV_ERROR)
            problems++;
    /* Families in the order the diagnosis table first names them. */
    const char *done[FAMILIES_MAX];
    size_t ndone = 0;
    for (size_t d = 0; d < ed_diagnosis_count && ndone < FAMILIES_MAX; d++) {
        const char *family = ed_diagnoses[d].family;
        bool seen = false;
        for (size_t k = 0; k < ndone; k++)
            seen = seen || strcmp(done[k], family) == 0;
        if (seen)
            continue;
        done[ndone++] = family;
        bool header = false;
        for (size_t i = 0; i < r->count; i++) {
            const struct ed_finding *x = &r->items[i];
            if (x == problem || strcmp(x->diag->family, family) != 0)
                continue;
            if (!header) {
                fprintf(f, "%s%s%s\n", ed_tone_on(st->color, ED_TONE_BOLD), family,
                        ed_tone_off(st->color));
                header = true;
            }
            print_finding(f, x, st);
        }
    }
    if (problem) {
        fputc('\n', f);
        ed_render_problem(f, problem, problems ? problems - 1 : 0, st);
    }
}

void ed_json_add_fix(json_object *o, const char *fix, const char *command)
{
    json_object_object_add(o, "fix", ed_json_str(fix && *fix ? fix : NULL));
    json_object_object_add(o, "fix_command", ed_json_str(command && *command ? command : NULL));
}

json_object *ed_render_findings_json(const struct ed_report *r)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < r->count; i++) {
        const struct ed_finding *x = &r->items[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(x->diag->id));
        json_object_object_add(o, "severity",
                               json_object_new_string(ed_severity_name(x->severity)));
        json_object_object_add(o, "subject", json_object_new_string(x->subject));
        json_object_object_add(o, "evidence", ed_json_str(x->evidence));
        ed_json_add_fix(o, x->fix, x->fix_command);
        json_object_array_add(arr, o);
    }
    return arr;
}

json_object *ed_json_error(const char *id, const char *message, const char *fix,
                           const char *command)
{
    const struct ed_diagnosis *d = ed_diagnosis_find(id);
    json_object *e = json_object_new_object();
    json_object_object_add(e, "id", json_object_new_string(id));
    json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
    ed_json_add_fix(e, fix && *fix ? fix : d ? d->fix : NULL, command);
    return e;
}
