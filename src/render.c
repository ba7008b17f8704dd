/* Rendering findings (see render.h). */
#include "render.h"
#include "out.h"

#include <string.h>

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

/* Print text indented, one output line per input line. */
static void print_indented(FILE *f, const char *indent, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        fprintf(f, "%s%.*s\n", indent, (int)n, text);
        text += n;
        if (*text == '\n')
            text++;
    }
}

static void print_finding(FILE *f, const struct ed_finding *x, bool color, bool with_fix)
{
    enum ed_tone tone = tone_of(x->diag->severity);
    fprintf(f, "  %s%s %s%s", ed_tone_on(color, tone), ed_tone_mark(tone), x->diag->title,
            ed_tone_off(color));
    if (x->subject[0])
        fprintf(f, " (%s)", x->subject);
    fprintf(f, "  %s[%s]%s\n", ed_tone_on(color, ED_TONE_DIM), x->diag->id, ed_tone_off(color));
    if (x->evidence)
        print_indented(f, "      ", x->evidence);
    if (with_fix && x->fix && x->diag->severity >= ED_SEV_WARN) {
        fprintf(f, "      %sfix:%s ", ed_tone_on(color, ED_TONE_BOLD), ed_tone_off(color));
        size_t n = strcspn(x->fix, "\n");
        fprintf(f, "%.*s\n", (int)n, x->fix);
        if (x->fix[n])
            print_indented(f, "           ", x->fix + n + 1);
    }
}

bool ed_fixed_by_flashing(const struct ed_finding *f)
{
    return strcmp(f->diag->id, "boot.crash-loop") == 0;
}

const struct ed_finding *ed_first_problem(const struct ed_report *r)
{
    const struct ed_finding *first = NULL, *blocking = NULL;
    for (size_t i = 0; i < r->count; i++) {
        const struct ed_finding *f = &r->items[i];
        if (f->diag->severity != ED_SEV_ERROR)
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

void ed_render_text(FILE *f, const struct ed_report *r, const struct ed_finding *problem,
                    bool color)
{
    size_t problems = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].diag->severity == ED_SEV_ERROR)
            problems++;
    if (problem) {
        fprintf(f, "%sProblem:%s\n", ed_tone_on(color, ED_TONE_ERROR), ed_tone_off(color));
        print_finding(f, problem, color, true);
        fputc('\n', f);
    }
    /* Families in the order the diagnosis table first names them. */
    const char *done[32];
    size_t ndone = 0;
    for (size_t d = 0; d < ed_diagnosis_count && ndone < 32; d++) {
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
            if (strcmp(x->diag->family, family) != 0)
                continue;
            if (!header) {
                fprintf(f, "%s%s%s\n", ed_tone_on(color, ED_TONE_BOLD), family,
                        ed_tone_off(color));
                header = true;
            }
            print_finding(f, x, color, x != problem);
        }
    }
    if (problems > 1)
        fprintf(f, "\n%zu problems found; fix the first one above, then run espdoctor again.\n",
                problems);
}

json_object *ed_render_findings_json(const struct ed_report *r)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < r->count; i++) {
        const struct ed_finding *x = &r->items[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(x->diag->id));
        json_object_object_add(o, "severity",
                               json_object_new_string(ed_severity_name(x->diag->severity)));
        json_object_object_add(o, "subject", json_object_new_string(x->subject));
        json_object_object_add(o, "evidence", ed_json_str(x->evidence));
        json_object_object_add(o, "fix", ed_json_str(x->fix));
        json_object_array_add(arr, o);
    }
    return arr;
}
