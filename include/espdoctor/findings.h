/* A diagnosis is data: checks append findings to a report; only the renderer prints.
 * One table (diagnoses.c) holds every finding id with its meaning and generic fix; the
 * man page's DIAGNOSTICS section is generated from the same table. */
#ifndef ESPDOCTOR_FINDINGS_H
#define ESPDOCTOR_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

enum ed_severity { ED_SEV_OK, ED_SEV_INFO, ED_SEV_WARN, ED_SEV_ERROR };

struct ed_diagnosis {
    const char *id;              /* stable, for scripts: "perm.not-in-group" */
    enum ed_severity severity;
    const char *family;          /* heading it is grouped under: "Permissions" */
    const char *title;           /* one line: "You are not in the port's group" */
    const char *meaning;         /* what is really wrong (man page) */
    const char *fix;             /* the generic fix (man page); findings carry a specific one */
};

extern const struct ed_diagnosis ed_diagnoses[];
extern const size_t ed_diagnosis_count;
const struct ed_diagnosis *ed_diagnosis_find(const char *id);
const char *ed_severity_name(enum ed_severity sev);

struct ed_finding {
    const struct ed_diagnosis *diag;
    char subject[256];           /* "/dev/ttyUSB0", "1-1.2 (10c4:ea60)" */
    char *evidence;              /* what was observed */
    char *fix;                   /* pasteable command or precise action; NULL: none needed */
};

struct ed_report {
    struct ed_finding *items;
    size_t count;
};

/* Append a finding for `id` (which must be in the table). Returns NULL if id is unknown
 * or memory ran out. Evidence and fix are printf-style and optional. */
struct ed_finding *ed_report_add(struct ed_report *r, const char *id, const char *subject);
void ed_finding_evidence(struct ed_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ed_finding_fix(struct ed_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The most severe finding (first of equals), or NULL for an empty report. */
const struct ed_finding *ed_report_worst(const struct ed_report *r);
bool ed_report_has(const struct ed_report *r, const char *id);
void ed_report_free(struct ed_report *r);

#endif
