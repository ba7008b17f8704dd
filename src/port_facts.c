/* Gathering a port node's facts (see port_facts.h): the only place the permissions and
 * locks checks touch the node itself. */
#include "espdoctor/port_facts.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#define ACL_XATTR "system.posix_acl_access"

void ed_port_facts_gather(const char *path, struct ed_port_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    facts->path = path;
    if (stat(path, &facts->st) != 0) {
        facts->stat_errno = errno;
        return;
    }
    ssize_t n = getxattr(path, ACL_XATTR, facts->acl, sizeof facts->acl);
    facts->acl_len = n > 0 ? (size_t)n : 0;   /* none, or no ACL support: no entries */
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        facts->open_errno = errno;
    else
        close(fd);
}
