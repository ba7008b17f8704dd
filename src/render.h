/* The only code that prints findings: as text for people, as JSON for tools. */
#ifndef ESPDOCTOR_RENDER_H
#define ESPDOCTOR_RENDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "espdoctor/findings.h"

/* The most important problem first with its fix, then every finding grouped by family in
 * the table's order. */
void ed_render_text(FILE *f, const struct ed_report *r, bool color);

/* [{"id","severity","subject","evidence","fix"}, ...] in report order. */
json_object *ed_render_findings_json(const struct ed_report *r);

#endif
