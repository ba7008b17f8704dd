/* The virtual board with espdoctor inside it, for end-to-end tests of how espdoctor copes
 * with a hardware behaviour: run `espsim OPTIONS... -- espdoctor ARGS...`, read its JSON,
 * its trace and the flash file it keeps. Header-only, like e2e_run.h. */
#ifndef ESPDOCTOR_E2E_SIM_H
#define ESPDOCTOR_E2E_SIM_H

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_dir.h"
#include "e2e_run.h"

#define SIM_ARGV_MAX 64
#define SIM_LIMIT_S 120

/* espsim SIM_OPTS... -- espdoctor DOCTOR_ARGS... (both NULL-terminated). */
static inline void sim_run(struct e2e_result *r, const char *const *sim_opts,
                           const char *const *doctor_args)
{
    const char *argv[SIM_ARGV_MAX];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; sim_opts[i] && n < SIM_ARGV_MAX - 4; i++)
        argv[n++] = sim_opts[i];
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; doctor_args[i] && n < SIM_ARGV_MAX - 1; i++)
        argv[n++] = doctor_args[i];
    argv[n] = NULL;
    e2e_run(r, argv, (int)(SIM_LIMIT_S * e2e_time_scale()));
}

/* build/mkimage ARGS... -o <scratch>/name */
static inline const char *sim_mkimage(const char *name, const char *const *args)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = e2e_bin("mkimage");
    for (size_t i = 0; args[i] && n < 20; i++)
        argv[n++] = args[i];
    const char *out = scratch_path(name);
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n] = NULL;
    struct e2e_result *m = malloc(sizeof *m);
    cr_assert_not_null(m);
    e2e_run(m, argv, 60);
    cr_assert_eq(m->status, 0, "mkimage failed: %s", m->err);
    free(m);
    return out;
}

static inline json_object *sim_json(const struct e2e_result *r)
{
    json_object *o = e2e_json_doc(r->out);
    cr_assert_not_null(o, "no JSON on stdout (exit %d)\nstdout:\n%s\nstderr:\n%s", r->status,
                       r->out, r->err);
    return o;
}

static inline json_object *sim_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

/* The whole of a file (NUL added), or NULL. */
static inline char *sim_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n > 0 ? (size_t)n + 1 : 1);
    cr_assert_not_null(buf);
    size_t got = n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

/* The flash file holds the image file's bytes at addr. */
static inline bool sim_flash_holds(const char *flash, const char *image, uint32_t addr)
{
    size_t nf, ni;
    char *f = sim_slurp(flash, &nf), *img = sim_slurp(image, &ni);
    cr_assert(f && img, "cannot read %s or %s", flash, image);
    bool ok = addr + ni <= nf && memcmp(f + addr, img, ni) == 0;
    free(f);
    free(img);
    return ok;
}

#endif
