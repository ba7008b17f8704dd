/* Every fix espdoctor prints for scripts is data that must hold: e2e_run passes each run's
 * stdout through here, so every "fix_command" of every end-to-end scenario is checked.
 * A fix_command is a string or null; a string passes `bash -n` (it parses as a shell
 * command), names no placeholder a person would have to replace (PORT, FILE, ...), and is
 * one line. A "fix" next to it is sentences that end.
 *
 * With ESPDOCTOR_FIX_LOG set to a file, every command checked is appended to it, one per
 * line, so tests/run.sh can count them and check them all again at the end.
 * Header-only, like e2e_run.h. */
#ifndef ESPDOCTOR_E2E_FIX_H
#define ESPDOCTOR_E2E_FIX_H

#include <criterion/criterion.h>
#include <json-c/json.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Words that stand for something the reader must fill in. */
static const char *const e2e_fix_placeholders[] = {
    "PORT", "FILE", "FIRMWARE", "MODULE", "GROUP", "PID", "DEV", "ADDR", "APP", "SIZE",
    "RELEASE", "USER", NULL,
};

/* bash -n -c COMMAND: 0 when it parses. */
static inline int e2e_bash_n(const char *command)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execlp("bash", "bash", "-n", "-c", command, (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The placeholder command holds as a whole word ("$USER" is a variable, not one), or NULL. */
static inline const char *e2e_fix_placeholder_in(const char *command)
{
    for (size_t i = 0; e2e_fix_placeholders[i]; i++) {
        const char *w = e2e_fix_placeholders[i];
        size_t n = strlen(w);
        for (const char *p = strstr(command, w); p; p = strstr(p + 1, w)) {
            bool start = p == command || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
                                           p[-1] == '$' || p[-1] == '-');
            bool end = !(isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-');
            if (start && end)
                return w;
        }
    }
    return NULL;
}

static inline void e2e_fix_log(const char *command)
{
    const char *log = getenv("ESPDOCTOR_FIX_LOG");
    if (!log || !*log)
        return;
    FILE *f = fopen(log, "a");
    if (!f)
        return;
    fprintf(f, "%s\n", command);
    fclose(f);
}

static inline void e2e_fix_check_command(const char *command, const char *where)
{
    cr_expect(strchr(command, '\n') == NULL, "%s: a fix_command of several lines: %s", where,
              command);
    int rc = e2e_bash_n(command);
    cr_expect_eq(rc, 0, "%s: fix_command does not pass bash -n (exit %d): %s", where, rc,
                 command);
    const char *placeholder = e2e_fix_placeholder_in(command);
    cr_expect_null(placeholder, "%s: fix_command has the placeholder %s: %s", where,
                   placeholder, command);
    e2e_fix_log(command);
}

/* Walk a JSON value: every object with "fix_command" (and "fix") is checked. Returns how
 * many commands were seen. */
static inline size_t e2e_fix_walk(json_object *v, const char *where)
{
    size_t seen = 0;
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            seen += e2e_fix_walk(json_object_array_get_idx(v, i), where);
        return seen;
    }
    if (!json_object_is_type(v, json_type_object))
        return 0;
    json_object_object_foreach(v, key, val) {
        if (strcmp(key, "fix_command") == 0) {
            cr_expect(val == NULL || json_object_is_type(val, json_type_string),
                      "%s: fix_command is neither a string nor null: %s", where,
                      json_object_to_json_string(val));
            if (val && json_object_is_type(val, json_type_string)) {
                e2e_fix_check_command(json_object_get_string(val), where);
                seen++;
            }
        } else if (strcmp(key, "fix") == 0 && val && json_object_is_type(val, json_type_string)) {
            const char *fix = json_object_get_string(val);
            size_t n = strlen(fix);
            cr_expect(n > 0 && strchr(".!?", fix[n - 1]) != NULL,
                      "%s: a fix whose sentence does not end: \"%s\"", where, fix);
        } else {
            seen += e2e_fix_walk(val, where);
        }
    }
    return seen;
}

/* Every JSON document on text (commands print one, doctor --flash two). */
static inline size_t e2e_fix_check_output(const char *text, const char *where)
{
    if (!strstr(text, "\"fix"))
        return 0;
    size_t seen = 0, len = strlen(text), at = 0;
    json_tokener *tok = json_tokener_new();
    while (at < len) {
        while (at < len && isspace((unsigned char)text[at]))
            at++;
        if (at >= len || (text[at] != '{' && text[at] != '['))
            break;   /* not JSON (text output): nothing to walk */
        json_tokener_reset(tok);
        json_object *doc = json_tokener_parse_ex(tok, text + at, (int)(len - at));
        if (!doc)
            break;
        seen += e2e_fix_walk(doc, where);
        json_object_put(doc);
        at += (size_t)json_tokener_get_parse_end(tok);
    }
    json_tokener_free(tok);
    return seen;
}

#endif
