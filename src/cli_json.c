/* One JSON document per run, with an error object on failure (see cli_json.h). */
#include "cli_json.h"

#include "out.h"
#include "render.h"

#include "espdoctor/interrupt.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

void ed_cli_json_begin(struct ed_cli *cli, struct ed_cli_json *j)
{
    memset(j, 0, sizeof *j);
    if (!cli->json)
        return;
    cli->events = cli->out;   /* events are not held back: an IDE shows them as they come */
    j->held = open_memstream(&j->text, &j->len);
    if (!j->held)
        return;   /* out of memory: the command prints straight to stdout */
    j->real = cli->out;
    cli->out = j->held;
}

const char *ed_cli_json_error_id(int rc)
{
    switch (rc) {
    case ED_EXIT_USAGE: return "usage.invalid";
    case ED_EXIT_REFUSED: return "run.refused";
    case ED_EXIT_NODEV: return "device.none";
    case ED_EXIT_PORT: return "port.unusable";
    case ED_EXIT_INPUT: return "input.unusable";
    case ED_EXIT_PROBLEM: return "doctor.problem";
    }
    return rc > 128 ? "run.interrupted" : "run.failed";
}

static const char *result_of(int rc)
{
    switch (rc) {
    case ED_EXIT_USAGE: return "usage-error";
    case ED_EXIT_REFUSED: return "refused";
    case ED_EXIT_INPUT: return "input-error";
    }
    return rc > 128 ? "interrupted" : "failed";
}

/* The doctor's problem: its first error finding, as the error; several boards and no -p:
 * device.several. NULL for any other document. */
static json_object *doctor_error(json_object *doc)
{
    json_object *verdict, *problem, *findings, *status;
    if (!json_object_object_get_ex(doc, "verdict", &verdict))
        return NULL;
    if (json_object_object_get_ex(verdict, "status", &status) &&
        strcmp(json_object_get_string(status), "several") == 0)
        return ed_json_error("device.several", "Several boards are connected and none was "
                             "named with -p.", NULL, NULL);
    if (!json_object_object_get_ex(verdict, "problem", &problem) || !problem ||
        !json_object_object_get_ex(doc, "findings", &findings))
        return NULL;
    const char *id = json_object_get_string(problem);
    for (size_t i = 0; i < json_object_array_length(findings); i++) {
        json_object *f = json_object_array_get_idx(findings, i), *fid, *ev, *fix, *cmd;
        if (!json_object_object_get_ex(f, "id", &fid) ||
            strcmp(json_object_get_string(fid), id) != 0)
            continue;
        json_object_object_get_ex(f, "evidence", &ev);
        json_object_object_get_ex(f, "fix", &fix);
        json_object_object_get_ex(f, "fix_command", &cmd);
        const struct ed_diagnosis *d = ed_diagnosis_find(id);
        return ed_json_error(id, ev ? json_object_get_string(ev) : d ? d->title : id,
                             fix ? json_object_get_string(fix) : NULL,
                             cmd ? json_object_get_string(cmd) : NULL);
    }
    return NULL;
}

/* Make doc's "error" an object with id, message, fix and fix_command. */
static void complete_error(json_object *doc, const struct ed_cli *cli, int rc)
{
    json_object *e = NULL;
    json_object_object_get_ex(doc, "error", &e);
    const char *id = ed_cli_json_error_id(rc);
    /* A finding named with the last error (the port is busy: lock.busy, its holder's PID)
     * says more than the exit code's id and the table's general fix. */
    const struct ed_cli_problem *named = ed_cli_last_problem(cli);
    if (e && json_object_is_type(e, json_type_object)) {
        json_object *v;
        if ((!json_object_object_get_ex(e, "id", &v) || !v) && named) {
            json_object_object_add(e, "id", json_object_new_string(named->id));
            if (!json_object_object_get_ex(e, "fix", &v) || !v)
                ed_json_add_fix(e, named->fix[0] ? named->fix : NULL,
                                named->fix_command[0] ? named->fix_command : NULL);
        }
        if (!json_object_object_get_ex(e, "id", &v) || !v)
            json_object_object_add(e, "id", json_object_new_string(id));
        json_object_object_get_ex(e, "id", &v);
        const struct ed_diagnosis *d = ed_diagnosis_find(json_object_get_string(v));
        if (!json_object_object_get_ex(e, "message", &v) || !v)
            json_object_object_add(e, "message", json_object_new_string(
                                                     ed_cli_last_error(cli)[0]
                                                         ? ed_cli_last_error(cli)
                                                         : d ? d->title : "failed"));
        if (!json_object_object_get_ex(e, "fix", &v))
            json_object_object_add(e, "fix", ed_json_str(d ? d->fix : NULL));
        if (!json_object_object_get_ex(e, "fix_command", &v))
            json_object_object_add(e, "fix_command", NULL);
        return;
    }
    json_object *made = rc > 128 ? NULL : doctor_error(doc);
    if (!made) {
        /* A bare string (image, udev) is the message; else the last error said. */
        const char *message = e && json_object_is_type(e, json_type_string)
                                  ? json_object_get_string(e) : ed_cli_last_error(cli);
        const char *use = named ? named->id : id;
        const struct ed_diagnosis *d = ed_diagnosis_find(use);
        made = ed_json_error(use, message[0] ? message : d ? d->title : "failed",
                             named ? named->fix : NULL,
                             named && named->fix_command[0] ? named->fix_command : NULL);
    }
    json_object_object_add(doc, "error", made);
}

static json_object *fallback_document(const struct ed_cli *cli, const char *command, int rc)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "command", json_object_new_string(command));
    json_object_object_add(o, "result", json_object_new_string(result_of(rc)));
    json_object_object_add(o, "exit_status", json_object_new_int(rc));
    json_object_object_add(o, "error", NULL);
    complete_error(o, cli, rc);
    return o;
}

/* The one document in text, or NULL when text is not exactly one JSON value. */
static json_object *one_document(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
    size_t used = doc ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    for (size_t i = used; doc && i < len; i++)
        if (!strchr(" \t\r\n", text[i])) {
            json_object_put(doc);   /* a second document, or trailing text: leave it be */
            return NULL;
        }
    return doc;
}

int ed_cli_json_end(struct ed_cli *cli, struct ed_cli_json *j, const char *command, int rc)
{
    if (!j->held)
        return rc;
    fclose(j->held);
    cli->out = j->real;
    cli->events = NULL;
    size_t start = 0;
    while (start < j->len && strchr(" \t\r\n", j->text[start]))
        start++;
    if (start == j->len) {
        if (rc != ED_EXIT_OK)
            ed_out_json(cli->out, fallback_document(cli, command, rc));
    } else {
        json_object *doc = rc != ED_EXIT_OK ? one_document(j->text, j->len) : NULL;
        if (doc && json_object_is_type(doc, json_type_object)) {
            complete_error(doc, cli, rc);
            ed_out_json(cli->out, doc);
        } else {
            json_object_put(doc);
            fwrite(j->text, 1, j->len, cli->out);   /* as the command wrote it */
        }
    }
    fflush(cli->out);
    free(j->text);
    j->text = NULL;
    return rc;
}
