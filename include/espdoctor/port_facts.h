/* What the system shows of a port node: its stat, its POSIX ACL as stored and what a real
 * open() does. The permissions and locks checks gather these facts, then judge them; tests
 * plant them (a root-owned node or an EBUSY cannot be made without privileges). */
#ifndef ESPDOCTOR_PORT_FACTS_H
#define ESPDOCTOR_PORT_FACTS_H

#include "espdoctor/doctor.h"

#include <stddef.h>
#include <sys/stat.h>

#define ED_ACL_MAX_ENTRIES 64

struct ed_port_facts {
    const char *path;
    int stat_errno;            /* 0: st holds the node's stat */
    struct stat st;
    /* system.posix_acl_access as the kernel stores it (version word, then entries); acl_len
     * 0: no ACL */
    unsigned char acl[4 + 8 * ED_ACL_MAX_ENTRIES];
    size_t acl_len;
    int open_errno;            /* open(O_RDWR | O_NONBLOCK) and close: 0 when it opened */
};

/* stat, getxattr and open the node at path (kept by pointer). */
void ed_port_facts_gather(const char *path, struct ed_port_facts *facts);

/* The families' verdicts on gathered (or planted) facts; ed_check_permissions and
 * ed_check_locks are gather + judge. */
bool ed_judge_permissions(struct ed_doctor *d, const struct ed_port_facts *facts);
bool ed_judge_locks(struct ed_doctor *d, const struct ed_port_facts *facts);

#endif
