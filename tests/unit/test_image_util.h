/* Helpers for the image tests: synthetic images come from build/mkimage (the build dir is
 * $ESPDOCTOR_BUILD, default "build"); files live in a private temporary directory. */
#ifndef TEST_IMAGE_UTIL_H
#define TEST_IMAGE_UTIL_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/image.h"

static inline const char *ti_build_dir(void)
{
    const char *b = getenv("ESPDOCTOR_BUILD");
    return b && *b ? b : "build";
}

static char ti_dir[64];

static inline int ti_remove_entry(const char *path, const struct stat *st, int type,
                                  struct FTW *ftw)
{
    (void)st; (void)type; (void)ftw;
    return remove(path);
}

static inline void ti_cleanup(void)
{
    if (ti_dir[0])
        nftw(ti_dir, ti_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* One temporary directory per test process (Criterion runs each test in its own),
 * removed when the process exits. */
static inline const char *ti_tmpdir(void)
{
    if (!ti_dir[0]) {
        snprintf(ti_dir, sizeof ti_dir, "/tmp/espdoctor-image-XXXXXX");
        cr_assert_not_null(mkdtemp(ti_dir), "mkdtemp failed");
        atexit(ti_cleanup);
    }
    return ti_dir;
}

/* A path for name inside the temporary directory (static storage, rotating). */
static inline const char *ti_path(const char *name)
{
    static char paths[8][PATH_MAX];
    static unsigned next;
    char *p = paths[next++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", ti_tmpdir(), name);
    return p;
}

/* Run mkimage with the given arguments, writing to name; returns the path. */
static inline const char *ti_mkimage(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline const char *ti_mkimage(const char *name, const char *fmt, ...)
{
    char args[512], cmd[PATH_MAX * 2 + 600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *path = ti_path(name);
    snprintf(cmd, sizeof cmd, "'%s/mkimage' %s -o '%s'", ti_build_dir(), args, path);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "mkimage failed (%d): %s", rc, cmd);
    return path;
}

static inline const char *ti_write(const char *name, const void *data, size_t len)
{
    const char *path = ti_path(name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static inline void ti_truncate(const char *path, off_t len)
{
    cr_assert_eq(truncate(path, len), 0, "truncate %s", path);
}

/* Flip one byte of a file at off. */
static inline void ti_flip(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, off, SEEK_SET), 0);
    int c = fgetc(f);
    cr_assert_neq(c, EOF);
    cr_assert_eq(fseek(f, off, SEEK_SET), 0);
    fputc(c ^ 0xA5, f);
    cr_assert_eq(fclose(f), 0);
}

/* A fixture from tests/fixtures: found next to the build directory, else from the cwd. */
static inline const char *ti_fixture(const char *name)
{
    static char path[2 * PATH_MAX];
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", ti_build_dir());
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        snprintf(path, sizeof path, "%s/tests/fixtures/%s", dir, name);
        if (access(path, R_OK) == 0)
            return path;
    }
    snprintf(path, sizeof path, "tests/fixtures/%s", name);
    return path;
}

static inline void ti_open(const char *path, struct ed_image_info *info)
{
    char err[256] = "";
    int rc = ed_image_open(path, info, err, sizeof err);
    cr_assert_eq(rc, ED_OK, "ed_image_open(%s): %d %s", path, rc, err);
}

#endif
