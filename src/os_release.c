/* Which distribution runs, from os-release(5) under the system root (see sysroot.h): the
 * packages that hold kernel modules have other names on Debian and on Ubuntu. */
#include "espdoctor/sysroot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OS_RELEASE_MAX 65536

static const struct { const char *id; enum ed_os_family family; } known[] = {
    { "ubuntu", ED_OS_UBUNTU }, { "debian", ED_OS_DEBIAN }, { "fedora", ED_OS_FEDORA },
    { "arch", ED_OS_ARCH },
};

/* The value of KEY=... in text (quotes removed) into out; false when absent. */
static bool value_of(const char *text, const char *key, char *out, size_t len)
{
    size_t k = strlen(key);
    for (const char *line = text; line; ) {
        if (strncmp(line, key, k) == 0 && line[k] == '=') {
            const char *v = line + k + 1;
            size_t n = strcspn(v, "\n");
            if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                v++;
                n -= 2;
            }
            snprintf(out, len, "%.*s", (int)n, v);
            return true;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return false;
}

static enum ed_os_family family_of(const char *word, size_t n)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].id) == n && strncmp(known[i].id, word, n) == 0)
            return known[i].family;
    return ED_OS_UNKNOWN;
}

enum ed_os_family ed_sysroot_os_family(const struct ed_sysroot *s, char *name, size_t len)
{
    if (len)
        name[0] = '\0';
    char *text = ed_sysroot_read(s, "/etc/os-release", OS_RELEASE_MAX);
    if (!text)
        text = ed_sysroot_read(s, "/usr/lib/os-release", OS_RELEASE_MAX);
    if (!text)
        return ED_OS_UNKNOWN;
    char id[64] = "", like[256] = "";
    value_of(text, "ID", id, sizeof id);
    value_of(text, "ID_LIKE", like, sizeof like);
    if (!value_of(text, "PRETTY_NAME", name, len))
        snprintf(name, len, "%s", id);
    free(text);
    enum ed_os_family family = family_of(id, strlen(id));
    for (const char *w = like; family == ED_OS_UNKNOWN && *w;) {
        w += strspn(w, " ");
        size_t n = strcspn(w, " ");
        family = family_of(w, n);
        w += n;
    }
    return family;
}
