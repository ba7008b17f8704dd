/* The only code that prints findings: as text for people, as JSON for tools. */
#ifndef ESPDOCTOR_RENDER_H
#define ESPDOCTOR_RENDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "espdoctor/findings.h"

/* How text is set: colour or not, and the width to wrap to. */
struct ed_text_style {
    bool color;
    unsigned width;
};

/* Nothing bootable, or firmware that crashes: flashing is the fix. */
bool ed_fixed_by_flashing(const struct ed_finding *f);

/* The problem to fix first, NULL if no error was found: the first error in check order,
 * except that one fixed by flashing waits behind an error that keeps the bootloader out
 * of reach (flashing needs the bootloader). The headline and the verdict both use it. */
const struct ed_finding *ed_first_problem(const struct ed_report *r);

/* Every finding but the problem, grouped by family in the table's order (ok and info
 * findings with their evidence, warnings and errors also with their fix), then the
 * problem once, in full, as the last thing on the screen (see ed_render_problem). */
void ed_render_text(FILE *f, const struct ed_report *r, const struct ed_finding *problem,
                    const struct ed_text_style *st);

/* "✗ Problem: TITLE (SUBJECT)  [ID]", its evidence, "Fix: ..." and the command alone on
 * an indented line; more_problems > 0 adds how many other errors wait behind it. */
void ed_render_problem(FILE *f, const struct ed_finding *problem, size_t more_problems,
                       const struct ed_text_style *st);

/* A fix as text: "<lead>SENTENCES" wrapped under indent, then the command (if any) alone
 * on a line indented four more. Shared by every renderer of fixes. */
void ed_render_fix(FILE *f, const char *lead, const char *indent, const char *fix,
                   const char *command, const struct ed_text_style *st);

/* "fix" and "fix_command" members (null when absent): every JSON fix goes through here. */
void ed_json_add_fix(json_object *o, const char *fix, const char *command);

/* A document's error object: {"id", "message", "fix", "fix_command"}; fix NULL takes the
 * diagnoses table's general fix for id. */
json_object *ed_json_error(const char *id, const char *message, const char *fix,
                           const char *command);

/* [{"id","severity","subject","evidence","fix","fix_command"}, ...] in report order. */
json_object *ed_render_findings_json(const struct ed_report *r);

#endif
