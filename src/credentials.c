/* Who the doctor runs as: real uid, real gid and supplementary groups (this login's groups,
 * which may lag behind the group database until the user logs in again), read from
 * <sysroot>/proc/self/status like every other fact about the system, so tests plant them.
 * A root that does not describe this process (no such file, no Uid/Gid lines) means this
 * process's own ids; the name comes from the root's passwd file. */
#include "espdoctor/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The text after "KEY:" at the start of a line, or NULL. */
static const char *status_field(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *line = text; *line;) {
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            return line + n + 1;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return NULL;
}

/* The first number of a "Uid:\t1000\t1000\t1000\t1000" line (the real id). */
static bool first_id(const char *field, unsigned long *id)
{
    char *end;
    field += strspn(field, " \t");
    *id = strtoul(field, &end, 10);
    return end != field;
}

/* "Groups:\t4 24 27 \n": up to ED_DOCTOR_MAX_GROUPS ids, to the end of the line. */
static void read_groups(const char *field, struct ed_credentials *cred)
{
    const char *p = field;
    while (*p && *p != '\n' && cred->ngroups < ED_DOCTOR_MAX_GROUPS) {
        char *end;
        p += strspn(p, " \t");
        unsigned long gid = strtoul(p, &end, 10);
        if (end == p)
            break;
        cred->groups[cred->ngroups++] = (gid_t)gid;
        p = end;
    }
}

static bool from_status(const struct ed_sysroot *s, struct ed_credentials *cred)
{
    char *text = ed_sysroot_read(s, "/proc/self/status", 1u << 16);
    if (!text)
        return false;
    const char *uid_field = status_field(text, "Uid");
    const char *gid_field = status_field(text, "Gid");
    const char *groups_field = status_field(text, "Groups");
    unsigned long uid, gid;
    bool ok = uid_field && gid_field && first_id(uid_field, &uid) && first_id(gid_field, &gid);
    if (ok) {
        cred->uid = (uid_t)uid;
        cred->gid = (gid_t)gid;
        if (groups_field)
            read_groups(groups_field, cred);
    }
    free(text);
    return ok;
}

static void from_process(struct ed_credentials *cred)
{
    cred->uid = getuid();
    cred->gid = getgid();
    int count = getgroups(0, NULL);
    gid_t *groups = count > 0 ? calloc((size_t)count, sizeof *groups) : NULL;
    if (groups) {
        count = getgroups(count, groups);
        for (int i = 0; i < count && cred->ngroups < ED_DOCTOR_MAX_GROUPS; i++)
            cred->groups[cred->ngroups++] = groups[i];
        free(groups);
    }
}

void ed_credentials_read(const struct ed_sysroot *s, struct ed_credentials *cred)
{
    memset(cred, 0, sizeof *cred);
    if (!from_status(s, cred)) {
        memset(cred, 0, sizeof *cred);
        from_process(cred);
    }
    if (!ed_sysroot_user_name(s, cred->uid, cred->user, sizeof cred->user))
        cred->user[0] = '\0';
}
