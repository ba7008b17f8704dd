/* Gathering a port node's facts (see port_facts.h): the only place the permissions and
 * locks checks touch the node itself. */
#include "espdoctor/port_facts.h"

#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void ed_port_facts_gather(const char *path, struct ed_port_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    facts->path = path;
    if (stat(path, &facts->st) != 0) {
        facts->stat_errno = errno;
        return;
    }
    /* Without an ACL (or ACL support) libacl gives the mode's three entries: no news. */
    facts->acl = acl_get_file(path, ACL_TYPE_ACCESS);
    if (facts->acl && acl_equiv_mode(facts->acl, NULL) == 0) {
        acl_free(facts->acl);
        facts->acl = NULL;
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        facts->open_errno = errno;
    else
        close(fd);
}

void ed_port_facts_release(struct ed_port_facts *facts)
{
    if (facts->acl)
        acl_free(facts->acl);
    facts->acl = NULL;
}
