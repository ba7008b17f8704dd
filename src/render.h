/* The only code that prints findings: as text for people, as JSON for tools. */
#ifndef ESPDOCTOR_RENDER_H
#define ESPDOCTOR_RENDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "espdoctor/findings.h"

/* Nothing bootable, or firmware that crashes: flashing is the fix. */
bool ed_fixed_by_flashing(const struct ed_finding *f);

/* The problem to fix first, NULL if no error was found: the first error in check order,
 * except that one fixed by flashing waits behind an error that keeps the bootloader out
 * of reach (flashing needs the bootloader). The headline and the verdict both use it. */
const struct ed_finding *ed_first_problem(const struct ed_report *r);

/* The problem to fix first (ed_first_problem, or NULL) with its fix, then every
 * finding grouped by family in the table's order. */
void ed_render_text(FILE *f, const struct ed_report *r, const struct ed_finding *problem,
                    bool color);

/* [{"id","severity","subject","evidence","fix"}, ...] in report order. */
json_object *ed_render_findings_json(const struct ed_report *r);

#endif
