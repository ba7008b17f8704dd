/* A scratch directory for one end-to-end test: scratch_make(tag) in the test's .init,
 * scratch_remove in its .fini, scratch_path(name) for "<dir>/<name>". Header-only, like
 * e2e_run.h: each test program is its own process, and so is each test. */
#ifndef ESPDOCTOR_E2E_DIR_H
#define ESPDOCTOR_E2E_DIR_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_NAMES 48

static char scratch_dir[64];

/* /tmp/ed_e2e_<tag>.XXXXXX */
static inline void scratch_make(const char *tag)
{
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/ed_e2e_%s.XXXXXX", tag);
    cr_assert_not_null(mkdtemp(scratch_dir), "mkdtemp %s failed", scratch_dir);
}

static inline void scratch_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch_dir);
    cr_assert_eq(system(cmd), 0);
}

/* "<dir>/<name>": the same pointer for the same name for the whole test, so callers may
 * keep as many as they like alive. */
static inline const char *scratch_path(const char *name)
{
    static char names[SCRATCH_NAMES][48], paths[SCRATCH_NAMES][128];
    static size_t count;
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return paths[i];
    cr_assert_lt(count, SCRATCH_NAMES, "scratch_path: too many names");
    cr_assert_lt(strlen(name), sizeof names[0], "scratch_path: name too long: %s", name);
    snprintf(names[count], sizeof names[0], "%s", name);
    snprintf(paths[count], sizeof paths[0], "%s/%s", scratch_dir, name);
    return paths[count++];
}

#endif
