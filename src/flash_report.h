/* What `flash` says about its files (CLI layer): every problem the checks found, for
 * people (wrapped, the fix command alone on its line) and into the JSON document's
 * "problems"; and, when no board answered, which checks waited for one ("unchecked").
 * A chip mismatch comes first: the other problems' fixes are for the board that answered,
 * and no fix ever writes a file to a board of another chip. */
#ifndef ESPDOCTOR_FLASH_REPORT_H
#define ESPDOCTOR_FLASH_REPORT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "cli.h"
#include "espdoctor/flash.h"

struct ed_flash_report {
    struct ed_cli *cli;
    const struct ed_flash_plan *plan;
    const char *port;            /* the port of the board that answered; NULL: none */
    json_object *problems;       /* owned; NULL until the first problem */
    json_object *unchecked;      /* owned; NULL unless no board answered */
};

/* One problem into the JSON (not printed). */
void ed_flash_report_problem(struct ed_flash_report *rep, const char *file, const char *id,
                             bool blocking, bool forced, const char *message,
                             const char *fix, const char *command);

/* Print every issue of the plan, a chip mismatch first, and put them into the JSON
 * (replacing earlier ones). True when the write must not go ahead ("Nothing was written."
 * is said): blocking issues, unless --force and none of them is unforceable. */
bool ed_flash_report_judge(struct ed_flash_report *rep, size_t blocking, size_t unforceable);

/* No board answered: remember the checks that waited for it (ed_image_checks_waiting). */
void ed_flash_report_unchecked(struct ed_flash_report *rep);

/* For people: what each file is, known without the board, and that the rest waits for
 * it. Never a command: the board may be of another chip than the file. */
void ed_flash_report_say_unchecked(const struct ed_flash_report *rep);

/* "problems" and "unchecked" (arrays, empty when nothing) into o. */
void ed_flash_report_json(const struct ed_flash_report *rep, json_object *o);

void ed_flash_report_free(struct ed_flash_report *rep);

#endif
