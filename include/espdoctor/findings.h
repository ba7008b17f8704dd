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
    const char *fix;             /* the generic fix (man page), sentences that end; findings
                                    carry a specific one */
};

extern const struct ed_diagnosis ed_diagnoses[];
extern const size_t ed_diagnosis_count;
const struct ed_diagnosis *ed_diagnosis_find(const char *id);
const char *ed_severity_name(enum ed_severity sev);

/* A fix is data: one or two sentences for people, and, when the fix is a command, that
 * command alone (it passes `bash -n` and is safe to paste: every word from outside went
 * through ed_shell_quote). NULL command: the fix is an action (press a button, change a
 * cable). Renderers print the command on a line of its own, never wrapped. */
struct ed_finding {
    const struct ed_diagnosis *diag;
    enum ed_severity severity;   /* the table's, unless raised (ed_finding_raise) */
    char subject[256];           /* "/dev/ttyUSB0", "1-1.2 (10c4:ea60)" */
    char *evidence;              /* what was observed */
    char *fix;                   /* what to do, in sentences; NULL: nothing needed */
    char *fix_command;           /* the command that does it; NULL: the fix is an action */
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
/* The command that carries the fix out (see struct ed_finding); words from outside must
 * be quoted by the caller (ed_shell_quote). */
void ed_finding_command(struct ed_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Make the finding weigh more than its table row says: what was a side remark turned out
 * to explain everything (a port of no known bridge where nothing answered). */
void ed_finding_raise(struct ed_finding *f, enum ed_severity severity);
/* The first finding with this id, or NULL. */
struct ed_finding *ed_report_find(struct ed_report *r, const char *id);

/* Take back the first finding with this id (a later check heard what proves it wrong);
 * false when there is none. */
bool ed_report_drop(struct ed_report *r, const char *id);

/* The most severe finding (first of equals), or NULL for an empty report. */
const struct ed_finding *ed_report_worst(const struct ed_report *r);
bool ed_report_has(const struct ed_report *r, const char *id);
void ed_report_free(struct ed_report *r);

#endif
