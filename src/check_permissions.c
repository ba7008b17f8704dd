/* Permissions: may this user open the port read-write? The node's mode, owner and group
 * (names from the sysroot's account files), its POSIX ACL (udev's uaccess grants one to
 * the user at the seat), and a real open() that confirms (all in struct ed_port_facts). A
 * denial is explained by the group database: not in the group, in it but not in this login
 * yet, or a sandbox. */
#include "espdoctor/port_facts.h"
#include "espdoctor/shell.h"

#include <acl/libacl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>

#define OVERFLOW_ID 65534u   /* what a user namespace shows for ids it cannot map */
#define PERM_RW 6u

/* One ACL entry as libacl gives it: tag, rwx bits (4, 2, 1), and the uid or gid of a
 * named entry. */
struct acl_item {
    acl_tag_t tag;
    unsigned perm;
    id_t id;
};

struct node_facts {
    const char *path;
    struct stat st;
    char owner[64], group[64];
    char mode[11];                       /* "crw-rw----" */
    acl_t acl;                           /* borrowed from the facts; NULL: the mode alone */
};

/* What the mode and ACL say for our credentials. */
struct access_view {
    bool allowed;         /* read and write */
    char via[160];        /* "owner", "group dialout", "ACL entry for user alice" */
};

static unsigned permset_bits(acl_permset_t set)
{
    return (acl_get_perm(set, ACL_READ) == 1 ? 4u : 0u) |
           (acl_get_perm(set, ACL_WRITE) == 1 ? 2u : 0u) |
           (acl_get_perm(set, ACL_EXECUTE) == 1 ? 1u : 0u);
}

/* The ACL's next entry: *which starts at ACL_FIRST_ENTRY. False at the end, with no ACL,
 * or on an entry libacl cannot read. libacl keeps one cursor per ACL, so walks over it
 * never nest. */
static bool acl_next(acl_t acl, int *which, struct acl_item *item)
{
    acl_entry_t entry;
    acl_permset_t set;
    if (!acl || acl_get_entry(acl, *which, &entry) != 1)
        return false;
    *which = ACL_NEXT_ENTRY;
    if (acl_get_tag_type(entry, &item->tag) != 0 || acl_get_permset(entry, &set) != 0)
        return false;
    item->perm = permset_bits(set);
    item->id = (id_t)-1;
    if (item->tag == ACL_USER || item->tag == ACL_GROUP) {
        void *qualifier = acl_get_qualifier(entry);   /* a uid_t or gid_t to acl_free */
        if (!qualifier)
            return false;
        item->id = item->tag == ACL_USER ? *(uid_t *)qualifier : *(gid_t *)qualifier;
        acl_free(qualifier);
    }
    return true;
}

static void mode_string(mode_t mode, char out[11])
{
    const char *bits = "rwxrwxrwx";
    out[0] = S_ISCHR(mode) ? 'c' : S_ISBLK(mode) ? 'b' : S_ISDIR(mode) ? 'd'
           : S_ISFIFO(mode) ? 'p' : S_ISLNK(mode) ? 'l' : '-';
    for (int i = 0; i < 9; i++)
        out[1 + i] = (mode & (0400u >> i)) ? bits[i] : '-';
    out[10] = '\0';
}

static void user_label(const struct ed_sysroot *s, uid_t uid, char *out, size_t len)
{
    if (!ed_sysroot_user_name(s, uid, out, len))
        snprintf(out, len, "%u", (unsigned)uid);
}

static void group_label(const struct ed_sysroot *s, gid_t gid, char *out, size_t len)
{
    if (!ed_sysroot_group_name(s, gid, out, len))
        snprintf(out, len, "%u", (unsigned)gid);
}

static bool in_login_groups(const struct ed_credentials *c, gid_t gid)
{
    if (c->gid == gid)
        return true;
    for (int i = 0; i < c->ngroups; i++)
        if (c->groups[i] == gid)
            return true;
    return false;
}

/* The permission bits of the ACL's entry with this tag, or fallback when it has none. */
static unsigned acl_tag_perm(const struct node_facts *n, acl_tag_t tag, unsigned fallback)
{
    struct acl_item item;
    for (int which = ACL_FIRST_ENTRY; acl_next(n->acl, &which, &item);)
        if (item.tag == tag)
            return item.perm;
    return fallback;
}

/* The owning group's permission bits: the ACL's group entry when there is an ACL (the
 * mode's group bits then hold the mask). */
static unsigned group_obj_perm(const struct node_facts *n)
{
    unsigned perm = acl_tag_perm(n, ACL_GROUP_OBJ, (n->st.st_mode >> 3) & 7u);
    return perm & acl_tag_perm(n, ACL_MASK, 7u);
}

/* The access check of acl(5): owner, named users, then every matching group entry, then
 * others. */
static void evaluate(const struct ed_doctor *d, const struct node_facts *n,
                     struct access_view *v)
{
    const struct ed_credentials *c = &d->cred;
    unsigned mask = acl_tag_perm(n, ACL_MASK, 7u);
    struct acl_item item;
    if (c->uid == n->st.st_uid) {
        v->allowed = ((n->st.st_mode >> 6) & PERM_RW) == PERM_RW;
        snprintf(v->via, sizeof v->via, "owner %s", n->owner);
        return;
    }
    for (int which = ACL_FIRST_ENTRY; acl_next(n->acl, &which, &item);) {
        if (item.tag == ACL_USER && item.id == (id_t)c->uid) {
            v->allowed = (item.perm & mask & PERM_RW) == PERM_RW;
            snprintf(v->via, sizeof v->via, "ACL entry for user %s (uaccess)",
                     c->user[0] ? c->user : "you");
            return;
        }
    }
    bool matched = false;
    if (in_login_groups(c, n->st.st_gid)) {
        matched = true;
        v->allowed = (group_obj_perm(n) & PERM_RW) == PERM_RW;
        snprintf(v->via, sizeof v->via, "group %s", n->group);
    }
    for (int which = ACL_FIRST_ENTRY; !v->allowed && acl_next(n->acl, &which, &item);) {
        if (item.tag == ACL_GROUP && in_login_groups(c, (gid_t)item.id)) {
            matched = true;
            v->allowed = (item.perm & mask & PERM_RW) == PERM_RW;
            char name[64];
            group_label(&d->sys, (gid_t)item.id, name, sizeof name);
            snprintf(v->via, sizeof v->via, "ACL entry for group %s", name);
        }
    }
    if (matched)
        return;
    v->allowed = (n->st.st_mode & PERM_RW) == PERM_RW;
    snprintf(v->via, sizeof v->via, "others");
}

static bool is_overflow_name(const char *name)
{
    return strcmp(name, "nobody") == 0 || strcmp(name, "nogroup") == 0 ||
           strcmp(name, "nfsnobody") == 0;
}

static bool in_group_database(const struct ed_doctor *d, gid_t gid)
{
    const char *user = d->cred.user;
    gid_t primary;
    if (!user[0])
        return false;
    if (ed_sysroot_user_primary_gid(&d->sys, user, &primary) && primary == gid)
        return true;
    return ed_sysroot_group_lists_member(&d->sys, gid, user);
}

static void perm_bits(unsigned perm, char out[4])
{
    out[0] = perm & 4u ? 'r' : '-';
    out[1] = perm & 2u ? 'w' : '-';
    out[2] = perm & 1u ? 'x' : '-';
    out[3] = '\0';
}

/* "/dev/ttyUSB0 is crw-rw---- root:dialout", plus the ACL's named entries. */
static void describe_node(const struct ed_sysroot *s, const struct node_facts *n, char *out,
                          size_t len)
{
    int used = snprintf(out, len, "%s is %s %s:%s", n->path, n->mode, n->owner, n->group);
    const char *separator = ", ACL ";
    struct acl_item e;
    for (int which = ACL_FIRST_ENTRY;
         used > 0 && (size_t)used < len && acl_next(n->acl, &which, &e);) {
        char name[64], bits[4];
        perm_bits(e.perm, bits);
        if (e.tag == ACL_USER)
            user_label(s, (uid_t)e.id, name, sizeof name);
        else if (e.tag == ACL_GROUP)
            group_label(s, (gid_t)e.id, name, sizeof name);
        else if (e.tag != ACL_MASK)
            continue;
        int w = snprintf(out + used, len - (size_t)used, "%s%s:%s:%s", separator,
                         e.tag == ACL_USER ? "user" : e.tag == ACL_GROUP ? "group" : "mask",
                         e.tag == ACL_MASK ? "" : name, bits);
        if (w > 0)
            used += w;
        separator = " ";
    }
}

/* The open was refused: say why, from the group database's point of view. */
static void explain_denial(struct ed_doctor *d, const struct node_facts *n,
                           const struct access_view *v, int err)
{
    char node[400];
    describe_node(&d->sys, n, node, sizeof node);
    const char *user = d->cred.user[0] ? d->cred.user : "$USER";
    char group[96], user_word[96];
    if (d->cred.user[0])
        ed_shell_quote(d->cred.user, user_word, sizeof user_word);
    else
        snprintf(user_word, sizeof user_word, "\"$USER\"");
    struct ed_finding *f;
    if (v->allowed) {
        f = ed_report_add(&d->report, "perm.denied", n->path);
        ed_finding_evidence(f, "%s, which grants read and write through %s, but open() failed: "
                               "%s",
                            node, v->via, strerror(err));
        ed_finding_fix(f, "A security module or sandbox refuses it: run espdoctor outside a "
                          "Snap/Flatpak, or look for AppArmor/SELinux denials in the kernel "
                          "log.");
        ed_finding_command(f, "sudo dmesg | grep -i denied");
        return;
    }
    if (n->st.st_gid == OVERFLOW_ID || is_overflow_name(n->group)) {
        f = ed_report_add(&d->report, "perm.sandboxed", n->path);
        ed_finding_evidence(f, "%s: the group shows as %s (gid %u), the id a sandbox shows for "
                               "a group it cannot map; open() failed: %s",
                            node, n->group, (unsigned)n->st.st_gid, strerror(err));
        ed_finding_fix(f, "Run espdoctor outside the sandbox, or give the sandboxed app the "
                          "device (flatpak's override of its device access, for one).");
        return;
    }
    bool group_rw = (group_obj_perm(n) & PERM_RW) == PERM_RW;
    if (group_rw && in_group_database(d, n->st.st_gid) &&
        !in_login_groups(&d->cred, n->st.st_gid)) {
        f = ed_report_add(&d->report, "perm.relogin-needed", n->path);
        ed_finding_evidence(f, "%s; the group database lists %s in %s, but this login's groups "
                               "do not include it (it was added after logging in); open() "
                               "failed: %s",
                            node, user, n->group, strerror(err));
        ed_finding_fix(f, "Log out and back in (or start a shell in the group with the "
                          "command below); %s is already in %s, no need to add it again.",
                       user, n->group);
        ed_finding_command(f, "newgrp %s", ed_shell_quote(n->group, group, sizeof group));
        return;
    }
    if (group_rw) {
        f = ed_report_add(&d->report, "perm.not-in-group", n->path);
        ed_finding_evidence(f, "%s; %s is not in group %s; open() failed: %s", node, user,
                            n->group, strerror(err));
        ed_finding_fix(f, "Add %s to the group, then log out and back in (or install "
                          "espdoctor's udev rules as root, then unplug and replug the "
                          "board).", user);
        ed_finding_command(f, "sudo usermod -aG %s %s",
                           ed_shell_quote(n->group, group, sizeof group), user_word);
        return;
    }
    f = ed_report_add(&d->report, "perm.denied", n->path);
    ed_finding_evidence(f, "%s: neither its group nor others may read and write it; open() "
                           "failed: %s",
                        node, strerror(err));
    ed_finding_fix(f, "Install espdoctor's udev rules, then unplug and replug the board.");
    ed_finding_command(f, "sudo espdoctor udev install");
}

static const char *port_path(const struct ed_doctor *d)
{
    return d->port_path[0] ? d->port_path : d->target.devnode;
}

bool ed_judge_permissions(struct ed_doctor *d, const struct ed_port_facts *facts)
{
    struct node_facts n;
    memset(&n, 0, sizeof n);
    n.path = facts->path;
    if (facts->stat_errno) {
        struct ed_finding *f = ed_report_add(&d->report, "port.vanished", n.path);
        ed_finding_evidence(f, "stat(%s) failed: %s", n.path, strerror(facts->stat_errno));
        return false;
    }
    n.st = facts->st;
    user_label(&d->sys, n.st.st_uid, n.owner, sizeof n.owner);
    group_label(&d->sys, n.st.st_gid, n.group, sizeof n.group);
    mode_string(n.st.st_mode, n.mode);
    n.acl = facts->acl;

    struct access_view view = { 0 };
    evaluate(d, &n, &view);
    int err = facts->open_errno;
    char node[400];
    describe_node(&d->sys, &n, node, sizeof node);

    bool refused = err == EACCES || err == EPERM;
    if (refused) {
        explain_denial(d, &n, &view, err);
        return false;
    }
    char opened[160] = "";
    if (err)
        snprintf(opened, sizeof opened, "; open() failed with another error: %s", strerror(err));
    struct ed_finding *f;
    if (d->cred.uid == 0) {
        f = ed_report_add(&d->report, "perm.root", n.path);
        ed_finding_evidence(f, "%s; running as root, which may open any port%s", node, opened);
    } else if (view.allowed) {
        f = ed_report_add(&d->report, "perm.ok", n.path);
        ed_finding_evidence(f, "%s; read and write through %s%s", node, view.via, opened);
    } else {
        f = ed_report_add(&d->report, "perm.ok", n.path);
        ed_finding_evidence(f, "%s; the mode does not grant you read and write, yet open() %s",
                            node, err ? "failed with no permission error" : "worked");
    }
    return true;
}

bool ed_check_permissions(struct ed_doctor *d)
{
    const char *path = port_path(d);
    if (!d->has_target || !path[0])
        return false;
    struct ed_port_facts facts;
    ed_port_facts_gather(path, &facts);
    bool ok = ed_judge_permissions(d, &facts);
    ed_port_facts_release(&facts);
    return ok;
}
