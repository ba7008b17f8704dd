/* What the system shows of a port node: its stat, its POSIX ACL (libacl) and what a real
 * open() does. The permissions and locks checks gather these facts, then judge them; tests
 * plant them (a root-owned node or an EBUSY cannot be made without privileges). */
#ifndef ESPDOCTOR_PORT_FACTS_H
#define ESPDOCTOR_PORT_FACTS_H

#include "espdoctor/doctor.h"

#include <stddef.h>
#include <sys/acl.h>
#include <sys/stat.h>

struct ed_port_facts {
    const char *path;
    int stat_errno;            /* 0: st holds the node's stat */
    struct stat st;
    /* The access ACL when it says more than the mode (named entries, a mask); NULL when
     * the mode says it all. Owned: ed_port_facts_release frees it. */
    acl_t acl;
    int open_errno;            /* open(O_RDWR | O_NONBLOCK) and close: 0 when it opened */
};

/* stat, acl_get_file and open the node at path (kept by pointer). */
void ed_port_facts_gather(const char *path, struct ed_port_facts *facts);

/* Free what gathering (or a test planting an ACL) allocated; facts may be gathered again. */
void ed_port_facts_release(struct ed_port_facts *facts);

/* The families' verdicts on gathered (or planted) facts; ed_check_permissions and
 * ed_check_locks are gather + judge. */
bool ed_judge_permissions(struct ed_doctor *d, const struct ed_port_facts *facts);
bool ed_judge_locks(struct ed_doctor *d, const struct ed_port_facts *facts);

#endif
