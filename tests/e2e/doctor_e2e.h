/* The doctor end to end: run the real espdoctor (under espsim, optionally as another
 * user: e2e_user.h), once for people and once with --json, and check that both tell the same story:
 * the exit code, the problem to fix first, and that its fix names the concrete thing.
 * Header-only, shared by the test_doctor*.c programs. */
#ifndef ESPDOCTOR_DOCTOR_E2E_H
#define ESPDOCTOR_DOCTOR_E2E_H

#include <criterion/criterion.h>
#include <json-c/json.h>

#include <ctype.h>

#include "e2e_run.h"
#include "e2e_user.h"

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define DOCTOR_ARGV_MAX 64
#define DOCTOR_LIMIT_S 40

/* How the doctor is run. */
struct doctor_run {
    const char *const *sim;    /* espsim options; NULL: no virtual board at all */
    const char *const *as;     /* command prefix inside the testbed (setpriv ...); NULL */
    const char *espdoctor;     /* the program (a copy another user can reach); NULL: build's */
    const char *const *args;   /* espdoctor's arguments before --json; NULL: none */
};

/* What the run must show. */
struct doctor_want {
    int exit;
    const char *problem;           /* the problem to fix first; NULL: none */
    const char *const *fix_names;  /* strings its fix must contain; NULL: none */
};

static struct e2e_result doctor_text, doctor_json;

static inline void doctor_exec(struct e2e_result *r, const struct doctor_run *run, bool json)
{
    const char *argv[DOCTOR_ARGV_MAX];
    size_t n = 0;
    if (run->sim) {
        argv[n++] = e2e_bin("espsim");
        for (size_t i = 0; run->sim[i] && n < DOCTOR_ARGV_MAX - 24; i++)
            argv[n++] = run->sim[i];
        argv[n++] = "--";
        for (size_t i = 0; run->as && run->as[i] && n < DOCTOR_ARGV_MAX - 16; i++)
            argv[n++] = run->as[i];
    }
    argv[n++] = run->espdoctor ? run->espdoctor : e2e_bin("espdoctor");
    for (size_t i = 0; run->args && run->args[i] && n < DOCTOR_ARGV_MAX - 2; i++)
        argv[n++] = run->args[i];
    if (json)
        argv[n++] = "--json";
    argv[n] = NULL;
    e2e_run(r, argv, DOCTOR_LIMIT_S);
}

/* The doctor's document on stdout (with --flash, flash's progress events come first). */
static inline json_object *doctor_parse_first(const char *text)
{
    return e2e_json_doc(text);
}

static inline json_object *doctor_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

/* A string member, or NULL for JSON null. */
static inline const char *doctor_str(json_object *o, const char *key)
{
    json_object *v = doctor_get(o, key);
    cr_assert(v == NULL || json_object_is_type(v, json_type_string),
              "\"%s\" is neither a string nor null in %s", key, json_object_to_json_string(o));
    return v ? json_object_get_string(v) : NULL;
}

static inline void doctor_assert_keys(json_object *o, const char *const *keys)
{
    cr_assert(json_object_is_type(o, json_type_object), "not an object: %s",
              json_object_to_json_string(o));
    size_t n = 0;
    for (; keys[n]; n++)
        doctor_get(o, keys[n]);
    cr_assert_eq((size_t)json_object_object_length(o), n, "other keys than expected in %s",
                 json_object_to_json_string(o));
}

static inline bool doctor_is_severity(const char *s)
{
    return s && (strcmp(s, "ok") == 0 || strcmp(s, "info") == 0 || strcmp(s, "warn") == 0 ||
                 strcmp(s, "error") == 0);
}

/* {"schema":1,"ports":[...],"findings":[{"id","severity","subject","evidence","fix","fix_command"}],
 *  "verdict":{"status","problem","port","chip","micropython"},
 *  "button":null|{"boot","reset","waited_ms","banner_seen","pressed"},"error"} and nothing
 * else. */
static inline void doctor_assert_shape(json_object *doc)
{
    doctor_assert_keys(doc, LIST("schema", "ports", "findings", "verdict", "button", "error"));
    json_object *button = doctor_get(doc, "button");
    if (button)
        doctor_assert_keys(button, LIST("boot", "reset", "waited_ms", "banner_seen", "pressed"));
    cr_assert(json_object_is_type(doctor_get(doc, "ports"), json_type_array));
    json_object *findings = doctor_get(doc, "findings");
    cr_assert(json_object_is_type(findings, json_type_array));
    cr_assert_gt(json_object_array_length(findings), 0, "no findings at all");
    for (size_t i = 0; i < json_object_array_length(findings); i++) {
        json_object *f = json_object_array_get_idx(findings, i);
        doctor_assert_keys(f, LIST("id", "severity", "subject", "evidence", "fix",
                                   "fix_command"));
        const char *id = doctor_str(f, "id");
        cr_assert(id && strchr(id, '.'), "finding id \"%s\"", id ? id : "(null)");
        cr_assert(doctor_is_severity(doctor_str(f, "severity")), "severity of %s", id);
        cr_assert_not_null(doctor_str(f, "subject"), "subject of %s", id);
        doctor_str(f, "evidence");
        doctor_str(f, "fix");
        doctor_str(f, "fix_command");
    }
    json_object *v = doctor_get(doc, "verdict");
    doctor_assert_keys(v, LIST("status", "problem", "port", "chip", "micropython"));
    const char *status = doctor_str(v, "status");
    cr_assert(status && (strcmp(status, "ready") == 0 || strcmp(status, "problem") == 0 ||
                         strcmp(status, "no-device") == 0 || strcmp(status, "several") == 0),
              "verdict.status \"%s\"", status ? status : "(null)");
    doctor_str(v, "problem");
    doctor_str(v, "port");
    doctor_str(v, "chip");
    doctor_str(v, "micropython");
}

/* The first finding with this id, or NULL. */
static inline json_object *doctor_finding(json_object *doc, const char *id)
{
    json_object *findings = doctor_get(doc, "findings");
    for (size_t i = 0; i < json_object_array_length(findings); i++) {
        json_object *f = json_object_array_get_idx(findings, i);
        if (strcmp(doctor_str(f, "id"), id) == 0)
            return f;
    }
    return NULL;
}

/* Assert the finding is there with this severity; return it. */
static inline json_object *doctor_expect_finding(json_object *doc, const char *id,
                                                 const char *severity)
{
    json_object *f = doctor_finding(doc, id);
    cr_assert_not_null(f, "no %s finding in:\n%s", id,
                       json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
    cr_assert_str_eq(doctor_str(f, "severity"), severity, "severity of %s", id);
    return f;
}

/* Findings of a severity, as "id id id" (for "nothing else is wrong" assertions). */
static inline void doctor_ids_of(json_object *doc, const char *severity, char *out, size_t len)
{
    json_object *findings = doctor_get(doc, "findings");
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_object_array_length(findings); i++) {
        json_object *f = json_object_array_get_idx(findings, i);
        if (strcmp(doctor_str(f, "severity"), severity) != 0)
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? " " : "", doctor_str(f, "id"));
        if (w > 0 && (size_t)w < len - used)
            used += (size_t)w;
    }
}

static inline const char *doctor_verdict(json_object *doc, const char *key)
{
    return doctor_str(doctor_get(doc, "verdict"), key);
}

/* The text's problem block: from its "Problem: " headline to the first blank line or the
 * end, its whitespace runs (the wrapping) made single spaces (a static copy). */
static inline const char *doctor_problem_block(const char *text)
{
    static char block[8192];
    const char *start = strstr(text, "Problem: ");
    if (!start)
        return NULL;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strstr(start, "\n\n");
    size_t n = end ? (size_t)(end - start) : strlen(start), used = 0;
    bool space = false;
    for (size_t i = 0; i < n && used + 1 < sizeof block; i++) {
        bool blank = start[i] == ' ' || start[i] == '\n';
        if (blank && space)
            continue;
        block[used++] = blank ? ' ' : start[i];
        space = blank;
    }
    block[used] = '\0';
    return block;
}

/* The id in brackets on the headline: the block's first [...]. */
static inline void doctor_headline_id(const char *block, char *id, size_t len)
{
    const char *open = strchr(block, '[');
    cr_assert_not_null(open, "no [id] on the headline: %s", block);
    size_t n = strcspn(open + 1, "]");
    snprintf(id, len, "%.*s", (int)n, open + 1);
}

/* text with its line breaks and indentation (the wrapping) made single spaces, for
 * looking up phrases (a static copy). */
static inline const char *doctor_flat(const char *text)
{
    static char flat[E2E_OUT_MAX];
    size_t used = 0;
    bool space = false;
    for (const char *c = text; *c && used + 1 < sizeof flat; c++) {
        bool blank = *c == ' ' || *c == '\n';
        if (blank && space)
            continue;
        flat[used++] = blank ? ' ' : *c;
        space = blank;
    }
    flat[used] = '\0';
    return flat;
}

/* How often needle occurs in text. */
static inline size_t doctor_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* line (len bytes) with its leading and trailing blanks left out equals word, where a run
 * of digits matches any run of digits (the text and the --json run are two runs: a
 * process id in a command differs). */
static inline bool doctor_line_is(const char *line, size_t len, const char *word)
{
    while (len && (*line == ' ' || *line == '\t'))
        line++, len--;
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\r'))
        len--;
    size_t i = 0, k = 0, n = strlen(word);
    while (i < len && k < n) {
        if (isdigit((unsigned char)line[i]) && isdigit((unsigned char)word[k])) {
            while (i < len && isdigit((unsigned char)line[i]))
                i++;
            while (k < n && isdigit((unsigned char)word[k]))
                k++;
        } else if (line[i++] != word[k++]) {
            return false;
        }
    }
    return i == len && k == n;
}

/* Columns a line takes: UTF-8 sequences count once. */
static inline size_t doctor_columns(const char *line, size_t len)
{
    size_t cols = 0;
    for (size_t i = 0; i < len; i++)
        cols += ((unsigned char)line[i] & 0xC0) != 0x80;
    return cols;
}

/* The text was set for 80 columns: every warning's and error's fix_command stands whole on
 * a line of its own, and no line is wider than 80 unless it is such a command or a single
 * word (a path too long for any line). */
static inline void doctor_expect_fits(const char *name, const char *text, json_object *doc)
{
    json_object *findings = doctor_get(doc, "findings");
    for (size_t i = 0; i < json_object_array_length(findings); i++) {
        json_object *f = json_object_array_get_idx(findings, i);
        const char *command = doctor_str(f, "fix_command"), *sev = doctor_str(f, "severity");
        if (!command || strcmp(sev, "ok") == 0 || strcmp(sev, "info") == 0)
            continue;
        bool whole = false;
        for (const char *line = text; *line && !whole;) {
            size_t n = strcspn(line, "\n");
            whole = doctor_line_is(line, n, command);
            line += n + (line[n] == '\n');
        }
        cr_expect(whole, "%s: the fix_command of %s is not whole on a line of its own: "
                  "\"%s\" in\n%s", name, doctor_str(f, "id"), command, text);
    }
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        const char *word = line;
        size_t k = n;
        while (k && *word == ' ')
            word++, k--;
        bool one_word = memchr(word, ' ', k) == NULL;
        bool a_command = false;
        for (size_t i = 0; i < json_object_array_length(findings) && !a_command; i++) {
            const char *command = doctor_str(json_object_array_get_idx(findings, i),
                                             "fix_command");
            a_command = command && doctor_line_is(line, n, command);
        }
        cr_expect(doctor_columns(line, n) <= 80 || one_word || a_command,
                  "%s: a line wider than 80 columns: \"%.*s\"", name, (int)n, line);
        line += n + (line[n] == '\n');
    }
}

static inline void doctor_expect_names(const char *where, const char *text,
                                       const char *const *names, const char *context)
{
    for (size_t i = 0; names && names[i]; i++)
        cr_expect(text && strstr(text, names[i]) != NULL, "%s does not name \"%s\":\n%s", where,
                  names[i], context);
}

static inline const char *doctor_status_for(int exit_code)
{
    return exit_code == 0 ? "ready" : exit_code == 4 ? "no-device"
           : exit_code == 2 ? "several" : "problem";
}

/* Run the doctor for people and with --json, assert the verdict in both, print the time
 * each took to its verdict; returns the parsed --json document (json_object_put it). */
static inline json_object *doctor_check(const char *name, const struct doctor_run *run,
                                        const struct doctor_want *want)
{
    /* For people. */
    doctor_exec(&doctor_text, run, false);
    struct e2e_result *t = &doctor_text;
    cr_assert_eq(t->status, want->exit, "%s: text exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s",
                 name, t->status, want->exit, t->out, t->err);
    cr_expect(strchr(t->out, '\033') == NULL && strchr(t->err, '\033') == NULL,
              "%s: escape codes in output that is not a terminal:\n%s", name, t->out);
    const char *block = doctor_problem_block(t->out);
    if (want->problem) {
        cr_assert_not_null(block, "%s: no Problem: headline in\n%s", name, t->out);
        char id[96];
        doctor_headline_id(block, id, sizeof id);
        cr_assert_str_eq(id, want->problem, "%s: the headline is [%s]:\n%s", name, id, t->out);
        cr_expect(strstr(block, "Fix: ") != NULL, "%s: no fix under the headline:\n%s", name,
                  block);
        doctor_expect_names("the headline's fix", strstr(block, "Fix: "), want->fix_names,
                            t->out);
        char tag[128];
        snprintf(tag, sizeof tag, "[%s]", want->problem);
        cr_expect_eq(doctor_count(t->out, "Problem: "), 1, "%s: several problem blocks:\n%s",
                     name, t->out);
        cr_expect_eq(doctor_count(t->out, tag), 1, "%s: the problem %s is printed more than "
                     "once:\n%s", name, tag, t->out);
    } else {
        cr_assert_null(block, "%s: a Problem: headline where none was expected:\n%s", name,
                       t->out);
    }

    /* For scripts. */
    doctor_exec(&doctor_json, run, true);
    struct e2e_result *j = &doctor_json;
    cr_assert_eq(j->status, want->exit, "%s: --json exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s",
                 name, j->status, want->exit, j->out, j->err);
    json_object *doc = doctor_parse_first(j->out);
    cr_assert_not_null(doc, "%s: no JSON on stdout:\n%s\nstderr:\n%s", name, j->out, j->err);
    doctor_assert_shape(doc);
    cr_assert_str_eq(doctor_verdict(doc, "status"), doctor_status_for(want->exit), "%s", name);
    const char *problem = doctor_verdict(doc, "problem");
    if (want->problem) {
        cr_assert(problem && strcmp(problem, want->problem) == 0,
                  "%s: verdict.problem is %s, wanted %s", name, problem ? problem : "null",
                  want->problem);
        json_object *f = doctor_expect_finding(doc, want->problem, "error");
        const char *fix = doctor_str(f, "fix"), *command = doctor_str(f, "fix_command");
        cr_assert_not_null(fix, "%s: %s has no fix", name, want->problem);
        char both[4096];
        snprintf(both, sizeof both, "%s %s", fix, command ? command : "");
        doctor_expect_names("verdict.problem's fix", both, want->fix_names, both);
    } else {
        cr_assert_null(problem, "%s: verdict.problem is %s", name, problem);
    }
    doctor_expect_fits(name, t->out, doc);
    fprintf(stderr, "[time] doctor %s: verdict in %.2f s (text), %.2f s (--json), "
                    "exit %d%s%s\n",
            name, t->seconds, j->seconds, want->exit, want->problem ? ", " : "",
            want->problem ? want->problem : "");
    return doc;
}

#endif
