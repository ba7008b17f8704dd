/* Where a flasher stub comes from (see stub.h for the places and their order). Never the
 * current directory: a project folder someone downloaded could otherwise supply code that
 * runs on the chip and fakes the MD5 a verification rests on. */
#include "espdoctor/stub.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espdoctor/error.h"

/* The install prefix's data folder, compiled in by the Makefile (PREFIX/share/espdoctor). */
#ifndef ESPDOCTOR_DATADIR
#define ESPDOCTOR_DATADIR "/usr/local/share/espdoctor"
#endif

#define PACKAGE_SUBDIR "lib/targets/stub_flasher"
#define SHARE_SUBDIR "share/espdoctor/stub_flasher"

const char *ed_stub_origin_key(enum ed_stub_origin origin)
{
    switch (origin) {
    case ED_STUB_FROM_OPTION: return "--stub";
    case ED_STUB_FROM_ENV: return "ESPDOCTOR_STUB_DIR";
    case ED_STUB_FROM_INSTALL: return "installed";
    case ED_STUB_FROM_BUILD: return "build";
    }
    return "?";
}

const char *ed_stub_origin_text(enum ed_stub_origin origin)
{
    switch (origin) {
    case ED_STUB_FROM_OPTION: return "given with --stub";
    case ED_STUB_FROM_ENV: return "from $ESPDOCTOR_STUB_DIR";
    case ED_STUB_FROM_INSTALL: return "installed";
    case ED_STUB_FROM_BUILD: return "from the build tree";
    }
    return "?";
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool try_file(char *path, size_t len, const char *fmt, const char *dir, const char *key)
{
    int n = snprintf(path, len, fmt, dir, key);
    return n > 0 && (size_t)n < len && is_file(path);
}

/* A directory the user named: a stub_flasher directory, an esptool-js package, or a
 * node_modules directory holding one. */
static bool find_in_named_dir(const char *dir, const char *key, char *path, size_t len)
{
    static const char *const layouts[] = {
        "%s/%s.json",
        "%s/" PACKAGE_SUBDIR "/%s.json",
        "%s/esptool-js/" PACKAGE_SUBDIR "/%s.json",
        "%s/node_modules/esptool-js/" PACKAGE_SUBDIR "/%s.json",
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (try_file(path, len, layouts[i], dir, key))
            return true;
    return false;
}

/* The folder the running program is in (from /proc/self/exe, not argv[0] or the cwd). */
static bool program_dir(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash || slash == exe)
        return false;
    *slash = '\0';
    return (size_t)snprintf(out, len, "%s", exe) < len;
}

/* The share folders espdoctor's own install and build put stubs in, in search order. */
struct share_dirs {
    char dir[3][ED_STUB_PATH_MAX];
    enum ed_stub_origin origin[3];
    size_t count;
};

static void add_dir(struct share_dirs *d, enum ed_stub_origin origin, const char *fmt,
                    const char *base)
{
    int n = snprintf(d->dir[d->count], sizeof d->dir[0], fmt, base);
    if (n <= 0 || (size_t)n >= sizeof d->dir[0])
        return;
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->dir[i], d->dir[d->count]) == 0)
            return;   /* the same folder twice (a program installed in PREFIX/bin) */
    d->origin[d->count++] = origin;
}

static void share_dirs(struct share_dirs *d)
{
    d->count = 0;
    char bin[ED_STUB_PATH_MAX];
    bool have_bin = program_dir(bin, sizeof bin);
    if (have_bin) {
        /* PREFIX/bin/espdoctor with PREFIX/share beside it, wherever PREFIX is (the
         * install may have gone to another PREFIX than the one compiled in). */
        char parent[ED_STUB_PATH_MAX];
        snprintf(parent, sizeof parent, "%s", bin);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            add_dir(d, ED_STUB_FROM_INSTALL, "%s/" SHARE_SUBDIR, parent);
        }
    }
    add_dir(d, ED_STUB_FROM_INSTALL, "%s/stub_flasher", ESPDOCTOR_DATADIR);
    if (have_bin)
        add_dir(d, ED_STUB_FROM_BUILD, "%s/" SHARE_SUBDIR, bin);   /* build/espdoctor */
}

void ed_stub_describe_search(char *out, size_t len)
{
    struct share_dirs d;
    share_dirs(&d);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < d.count && used < len; i++) {
        int n = snprintf(out + used, len - used, "%s%s", i == 0 ? "" : " or ", d.dir[i]);
        if (n > 0)
            used += (size_t)n;
    }
}

int ed_stub_locate(const char *where, const struct ed_chip *chip, struct ed_stub_place *place,
                   char *err, size_t errlen)
{
    if (!chip || !place)
        return ED_E_ARG;
    if (err && errlen)
        err[0] = '\0';
    char *path = place->path;
    size_t len = sizeof place->path;
    path[0] = '\0';
    if (where) {
        place->origin = ED_STUB_FROM_OPTION;
        if (is_file(where)) {
            snprintf(path, len, "%s", where);
            return ED_OK;
        }
        if (is_dir(where) && find_in_named_dir(where, chip->key, path, len))
            return ED_OK;
        if (err)
            snprintf(err, errlen, "%s %s, so there is no %s.json stub in it (give the "
                     "esptool-js stub_flasher directory or a stub .json file)", where,
                     is_dir(where)              ? "has no stub for this chip"
                     : access(where, F_OK) == 0 ? "is neither a file nor a directory"
                                                : "does not exist",
                     chip->key);
        path[0] = '\0';
        return ED_E_NOTFOUND;
    }
    const char *env = getenv("ESPDOCTOR_STUB_DIR");
    if (env && *env && find_in_named_dir(env, chip->key, path, len)) {
        place->origin = ED_STUB_FROM_ENV;
        return ED_OK;
    }
    struct share_dirs d;
    share_dirs(&d);
    for (size_t i = 0; i < d.count; i++)
        if (try_file(path, len, "%s/%s.json", d.dir[i], chip->key)) {
            place->origin = d.origin[i];
            return ED_OK;
        }
    path[0] = '\0';
    return ED_E_NOTFOUND;
}

int ed_stub_find(const char *where, const struct ed_chip *chip, char *path, size_t len,
                 char *err, size_t errlen)
{
    if (!path || len == 0)
        return ED_E_ARG;
    struct ed_stub_place place;
    int rc = ed_stub_locate(where, chip, &place, err, errlen);
    if (rc == ED_OK && (size_t)snprintf(path, len, "%s", place.path) >= len)
        return ED_E_ARG;
    return rc;
}
