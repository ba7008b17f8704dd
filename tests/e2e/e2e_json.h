/* espdoctor's JSON on stdout, as an IDE reads it: one document or event a line (progress
 * events before flash, erase and read's document, the monitor's events after flash
 * --monitor's). e2e_json_doc is the command's document; e2e_json_log_output appends every
 * line to $ESPDOCTOR_JSON_LOG, so tests/run.sh validates all of them against the shipped
 * schema at the end. Header-only, like e2e_run.h. */
#ifndef ESPDOCTOR_E2E_JSON_H
#define ESPDOCTOR_E2E_JSON_H

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The line at text as a JSON value (NULL when it is not exactly one). */
static inline json_object *e2e_json_line(const char *line, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *v = tok ? json_tokener_parse_ex(tok, line, (int)len) : NULL;
    size_t used = v ? (size_t)json_tokener_get_parse_end(tok) : 0;
    if (tok)
        json_tokener_free(tok);
    for (size_t i = used; v && i < len; i++)
        if (!strchr(" \t\r", line[i])) {
            json_object_put(v);
            return NULL;
        }
    return v;
}

/* The command's document on stdout: the last line holding a JSON object without an
 * "event" key (events are progress and monitor lines). NULL when there is none; free it
 * with json_object_put. */
static inline json_object *e2e_json_doc(const char *text)
{
    json_object *doc = NULL;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len && line[0] == '{') {
            json_object *v = e2e_json_line(line, len);
            if (v && json_object_is_type(v, json_type_object) &&
                !json_object_object_get_ex(v, "event", NULL)) {
                json_object_put(doc);
                doc = v;
            } else {
                json_object_put(v);
            }
        }
        line = end ? end + 1 : NULL;
    }
    return doc;
}

/* The document when stdout is what --json promises: JSON lines, every one an object, the
 * events first and exactly one document, last. NULL otherwise, with why said in why. */
static inline json_object *e2e_json_sole_doc(const char *text, char *why, size_t why_len)
{
    json_object *doc = NULL;
    snprintf(why, why_len, "no document on stdout");
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        json_object *v = e2e_json_line(line, len);
        const char *fault = !end ? "the last line is not ended"
                            : doc ? "a line after the document"
                            : !v || !json_object_is_type(v, json_type_object)
                                ? "a line that is not one JSON object" : NULL;
        if (fault) {
            snprintf(why, why_len, "%s: %.*s", fault, (int)(len < 200 ? len : 200), line);
            json_object_put(v);
            json_object_put(doc);
            return NULL;
        }
        if (json_object_object_get_ex(v, "event", NULL))
            json_object_put(v);
        else
            doc = v;
        line = end + 1;
    }
    return doc;
}

/* How many lines of stdout start with '{' (documents and events). */
static inline size_t e2e_json_lines(const char *text)
{
    size_t n = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        n += line[0] == '{';
    return n;
}

/* A run asked for JSON: --json among its arguments (before espsim's "--" or after). */
static inline bool e2e_json_asked(const char *const *argv)
{
    for (size_t i = 0; argv[i]; i++)
        if (strcmp(argv[i], "--json") == 0)
            return true;
    return false;
}

/* Each line of a --json run's stdout to $ESPDOCTOR_JSON_LOG, tagged with where it came
 * from: "WHERE\tLINE". Every whole line goes, JSON or not: the validator names what is
 * not; a last line cut short (a run killed, or stdout past E2E_OUT_MAX) does not. */
static inline void e2e_json_log_output(const char *text, const char *const *argv)
{
    const char *log = getenv("ESPDOCTOR_JSON_LOG");
    if (!log || !*log || !e2e_json_asked(argv) || !*text)
        return;
    /* Where: the test program and the command line, without their directories. */
    char where[256], exe[256] = "";
    ssize_t got = readlink("/proc/self/exe", exe, sizeof exe - 1);   /* Criterion's worker */
    exe[got > 0 ? got : 0] = '\0';                                   /* renames argv[0] */
    int n = snprintf(where, sizeof where, "%s:", strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe);
    for (size_t i = 0; argv[i] && n > 0 && (size_t)n < sizeof where; i++) {
        const char *slash = strchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        n += snprintf(where + n, sizeof where - (size_t)n, " %s", slash);
    }
    for (char *c = where; *c; c++)
        if (*c == '\t' || *c == '\n')
            *c = ' ';
    /* One write per line on an O_APPEND descriptor: tests running at once (--jobs 2)
     * never interleave within a line. */
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    size_t head = strlen(where);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : 0;
        char *rec = len ? malloc(head + len + 2) : NULL;
        if (rec) {
            memcpy(rec, where, head);
            rec[head] = '\t';
            memcpy(rec + head + 1, line, len);
            rec[head + 1 + len] = '\n';
            ssize_t wrote = write(fd, rec, head + len + 2);
            (void)wrote;   /* a log that cannot be written loses the line, not the test */
            free(rec);
        }
        line = end ? end + 1 : NULL;
    }
    close(fd);
}

#endif
