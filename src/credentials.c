/* Who the doctor runs as: this process's ids and supplementary groups (this login's
 * groups, which may lag behind the group database until the user logs in again). */
#include "espdoctor/doctor.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ed_credentials_from_process(struct ed_credentials *cred)
{
    memset(cred, 0, sizeof *cred);
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

    const struct passwd *pw = getpwuid(cred->uid);
    if (pw)
        snprintf(cred->user, sizeof cred->user, "%s", pw->pw_name);
}
