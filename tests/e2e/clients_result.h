/* A conformance row's verdict, cell by cell, and its results file, from which
 * tests/conformance.sh renders the table in tests/sim/README.md. Header-only, for
 * test_espsim_clients.c.
 *
 * <build>/conformance/rows/NN.txt, one "key<TAB>value" per line:
 *   chip, bridge, loader, client        the row
 *   cell <TAB> STEP <TAB> VALUE [<TAB> NOTE]   VALUE: pass, FAIL, not-reached, n/a (the
 *                                       board has no such step), cannot (the client
 *                                       cannot; NOTE says why, from its source), none
 *   done                                the row finished; without it the row is a FAIL
 * The NOTE is static text from clients_rows.h; failure details go to the test output
 * only, so the table is the same from run to run. */
#ifndef ESPDOCTOR_CLIENTS_RESULT_H
#define ESPDOCTOR_CLIENTS_RESULT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clients_reference.h"
#include "clients_rows.h"

enum cell { CELL_PASS, CELL_FAIL, CELL_NOT_REACHED, CELL_NA, CELL_CANNOT, CELL_NONE };
static const char *const cell_names[] = { "pass", "FAIL", "not-reached", "n/a", "cannot",
                                          "none" };

struct verdict {
    const struct row *row;
    size_t index;
    enum cell cells[STEP_COUNT];
    const char *notes[STEP_COUNT];
    char failures[4096];     /* what failed, for the test output */
};

static inline void verdict_fail(struct verdict *v, enum step s, const char *fmt, ...)
{
    v->cells[s] = CELL_FAIL;
    size_t len = strlen(v->failures);
    if (len + 2 >= sizeof v->failures)
        return;
    int n = snprintf(v->failures + len, sizeof v->failures - len, "  %s: ", step_keys[s]);
    if (n < 0 || len + (size_t)n >= sizeof v->failures)
        return;
    len += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->failures + len, sizeof v->failures - len, fmt, ap);
    va_end(ap);
    len = strlen(v->failures);
    if (len + 1 < sizeof v->failures)
        strcat(v->failures, "\n");
}

static inline bool verdict_failed(const struct verdict *v)
{
    for (int s = 0; s < STEP_COUNT; s++)
        if (v->cells[s] == CELL_FAIL)
            return true;
    return false;
}

static inline void result_path(char *out, size_t cap, size_t index)
{
    char dir[REF_DIR];
    conformance_dir(dir, sizeof dir, "rows");
    snprintf(out, cap, "%s/%02u.txt", dir, (unsigned)(index % 100));
}

/* Written at the start (no cells, no "done": a row that dies shows as a failure) and
 * again at the end. */
static inline bool result_write(const struct verdict *v, bool done)
{
    char dir[REF_DIR], path[REF_PATH], cmd[REF_DIR + 16];
    conformance_dir(dir, sizeof dir, "rows");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        return false;
    result_path(path, sizeof path, v->index);
    char text[8192];
    const struct row *r = v->row;
    int len = snprintf(text, sizeof text, "chip\t%s\nbridge\t%s\nloader\t%s\nclient\t%s\n",
                       r->chip->name, r->bridge, loader_names[r->loader],
                       client_names[r->client]);
    for (int s = 0; done && s < STEP_COUNT && len > 0 && (size_t)len < sizeof text; s++)
        len += snprintf(text + len, sizeof text - (size_t)len, "cell\t%s\t%s%s%s\n",
                        step_keys[s], cell_names[v->cells[s]], v->notes[s] ? "\t" : "",
                        v->notes[s] ? v->notes[s] : "");
    if (done && len > 0 && (size_t)len < sizeof text)
        snprintf(text + len, sizeof text - (size_t)len, "done\n");
    return write_small_file(path, text);
}

#endif
