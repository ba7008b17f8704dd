/* Findings: appending, querying and freeing (see findings.h). */
#include "espdoctor/findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ed_diagnosis *ed_diagnosis_find(const char *id)
{
    for (size_t i = 0; i < ed_diagnosis_count; i++)
        if (strcmp(ed_diagnoses[i].id, id) == 0)
            return &ed_diagnoses[i];
    return NULL;
}

const char *ed_severity_name(enum ed_severity sev)
{
    switch (sev) {
    case ED_SEV_OK: return "ok";
    case ED_SEV_INFO: return "info";
    case ED_SEV_WARN: return "warn";
    case ED_SEV_ERROR: return "error";
    }
    return "info";
}

struct ed_finding *ed_report_add(struct ed_report *r, const char *id, const char *subject)
{
    const struct ed_diagnosis *d = ed_diagnosis_find(id);
    if (!d)
        return NULL;
    struct ed_finding *grown = realloc(r->items, (r->count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    r->items = grown;
    struct ed_finding *f = &r->items[r->count++];
    memset(f, 0, sizeof *f);
    f->diag = d;
    f->severity = d->severity;
    snprintf(f->subject, sizeof f->subject, "%s", subject ? subject : "");
    return f;
}

static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

void ed_finding_evidence(struct ed_finding *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    free(f->evidence);
    f->evidence = vformat(fmt, ap);
    va_end(ap);
}

void ed_finding_fix(struct ed_finding *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    free(f->fix);
    f->fix = vformat(fmt, ap);
    va_end(ap);
}

void ed_finding_command(struct ed_finding *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    free(f->fix_command);
    f->fix_command = vformat(fmt, ap);
    va_end(ap);
}

void ed_finding_raise(struct ed_finding *f, enum ed_severity severity)
{
    if (f && severity > f->severity)
        f->severity = severity;
}

struct ed_finding *ed_report_find(struct ed_report *r, const char *id)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->items[i].diag->id, id) == 0)
            return &r->items[i];
    return NULL;
}

bool ed_report_drop(struct ed_report *r, const char *id)
{
    struct ed_finding *f = ed_report_find(r, id);
    if (!f)
        return false;
    free(f->evidence);
    free(f->fix);
    free(f->fix_command);
    size_t at = (size_t)(f - r->items);
    memmove(f, f + 1, (r->count - at - 1) * sizeof *f);
    r->count--;
    return true;
}

const struct ed_finding *ed_report_worst(const struct ed_report *r)
{
    const struct ed_finding *worst = NULL;
    for (size_t i = 0; i < r->count; i++)
        if (!worst || r->items[i].severity > worst->severity)
            worst = &r->items[i];
    return worst;
}

bool ed_report_has(const struct ed_report *r, const char *id)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->items[i].diag->id, id) == 0)
            return true;
    return false;
}

void ed_report_free(struct ed_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].evidence);
        free(r->items[i].fix);
        free(r->items[i].fix_command);
    }
    free(r->items);
    r->items = NULL;
    r->count = 0;
}
