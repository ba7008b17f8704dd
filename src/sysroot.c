/* Paths under the system root (see sysroot.h). */
#include "espdoctor/sysroot.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ed_sysroot_init(struct ed_sysroot *s, const char *root)
{
    if (!root)
        root = getenv("ESPDOCTOR_SYSROOT");
    if (!root || strcmp(root, "/") == 0)
        root = "";
    snprintf(s->root, sizeof s->root, "%s", root);
    size_t n = strlen(s->root);
    while (n > 0 && s->root[n - 1] == '/')
        s->root[--n] = '\0';
}

bool ed_sysroot_path(const struct ed_sysroot *s, const char *rel, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s", s->root, rel);
    return n >= 0 && (size_t)n < len;
}

char *ed_sysroot_read(const struct ed_sysroot *s, const char *rel, size_t max)
{
    char path[1024];
    if (!ed_sysroot_path(s, rel, path, sizeof path))
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        if (cap >= max) {
            free(buf);
            buf = NULL;
            break;
        }
        cap = cap * 2 > max ? max : cap * 2;
        char *grown = realloc(buf, cap + 1);
        if (!grown) {
            free(buf);
            buf = NULL;
        }
        buf = grown;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

void ed_sysroot_comm(const struct ed_sysroot *s, pid_t pid, char *out, size_t len)
{
    char rel[64];
    snprintf(rel, sizeof rel, "/proc/%d/comm", (int)pid);
    char *text = ed_sysroot_read(s, rel, 256);
    out[0] = '\0';
    if (text) {
        text[strcspn(text, "\n")] = '\0';
        snprintf(out, len, "%s", text);
        free(text);
    }
}

bool ed_sysroot_process_running(const struct ed_sysroot *s, const char *name, pid_t *pid)
{
    char path[1024];
    if (!ed_sysroot_path(s, "/proc", path, sizeof path))
        return false;
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t p = (pid_t)atoi(e->d_name);
        char comm[64];
        ed_sysroot_comm(s, p, comm, sizeof comm);
        if (strcmp(comm, name) == 0) {
            found = true;
            if (pid)
                *pid = p;
        }
    }
    closedir(d);
    return found;
}
