/* `espdoctor udev show|install|uninstall [GROUP]`: udev rules that give the user access to
 * the bridges and keep ModemManager away from them.
 *
 * Exit codes: 0 done (also "nothing to change", and when udevadm is missing or failed
 * after the file was written: the rules then apply from the next plug-in, and the warning
 * names the commands); 1 the file could not be written or removed (the message names
 * sudo when permission was the problem); 2 usage; 3 a file espdoctor did not write is in
 * the way, left untouched.
 *
 * --json prints {"action", "path", "changed", "group", "reload", "dry_run", "outcome",
 * "error"} (show: also "installed" and "rules"). reload is "done", "not-needed" (nothing
 * changed), "skipped" (--dry-run, or --root other than /), "udevadm-missing" or
 * "failed". outcome is what happened: "written", "removed", "unchanged", "absent",
 * "refused", "failed"; a dry run says what would happen ("would-write", "would-remove",
 * and "failed" when the change would fail: exit 1, as the change itself would). */
#include "cli.h"
#include "commands.h"
#include "out.h"

#include "espdoctor/error.h"
#include "espdoctor/udev.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>


enum udev_action { ACTION_SHOW, ACTION_INSTALL, ACTION_UNINSTALL };

static const char *const action_names[] = { "show", "install", "uninstall" };

/* Everything one run found out, for either the text or the JSON rendering. */
struct udev_report {
    enum udev_action action;
    const char *group;          /* NULL for uninstall */
    struct ed_udev_result result;
    const char *outcome;        /* "written", "unchanged", ..., "failed" */
    const char *reload;
    bool changed;               /* the file was written or removed (never in a dry run) */
    char error[8448];           /* the failure, "" if none (room for two paths) */
};

static bool is_system_root(const char *root)
{
    if (!root)
        return true;
    for (; *root; root++)
        if (*root != '/')
            return false;
    return true;
}

static const char *outcome_name(enum ed_udev_outcome outcome, bool dry_run)
{
    switch (outcome) {
    case ED_UDEV_WRITTEN: return dry_run ? "would-write" : "written";
    case ED_UDEV_UNCHANGED: return "unchanged";
    case ED_UDEV_REMOVED: return dry_run ? "would-remove" : "removed";
    case ED_UDEV_ABSENT: return "absent";
    case ED_UDEV_REFUSED: return "refused";
    }
    return "failed";
}

static const char *existing_name(enum ed_udev_existing existing)
{
    switch (existing) {
    case ED_UDEV_EXISTING_NONE: return "none";
    case ED_UDEV_EXISTING_SAME: return "same";
    case ED_UDEV_EXISTING_OURS: return "outdated";
    case ED_UDEV_EXISTING_FOREIGN: return "foreign";
    case ED_UDEV_EXISTING_EDITED: return "edited";
    }
    return "unknown";
}

/* "sudo espdoctor udev install dialout --root /mnt": the command that would succeed. */
static void privileged_command(const struct ed_cli *cli, const struct udev_report *rep,
                               const char *explicit_group, char *out, size_t size)
{
    snprintf(out, size, "sudo %s udev %s%s%s%s%s", cli->prog, action_names[rep->action],
             explicit_group ? " " : "", explicit_group ? explicit_group : "",
             cli->root ? " --root " : "", cli->root ? cli->root : "");
}

static void warn(const struct ed_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(const struct ed_cli *cli, const char *fmt, ...)
{
    va_list ap;
    fprintf(cli->err, "%s: %s%s%s ", cli->prog, ed_tone_on(cli->color, ED_TONE_WARN),
            ed_tone_mark(ED_TONE_WARN), ed_tone_off(cli->color));
    va_start(ap, fmt);
    vfprintf(cli->err, fmt, ap);
    va_end(ap);
    fputc('\n', cli->err);
}

/* A line of progress on stdout; silent with -q and --json. */
static void say(const struct ed_cli *cli, enum ed_tone tone, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const struct ed_cli *cli, enum ed_tone tone, const char *fmt, ...)
{
    if (cli->quiet || cli->json)
        return;
    va_list ap;
    fprintf(cli->out, "%s%s%s ", ed_tone_on(cli->color, tone), ed_tone_mark(tone),
            ed_tone_off(cli->color));
    va_start(ap, fmt);
    vfprintf(cli->out, fmt, ap);
    va_end(ap);
    fputc('\n', cli->out);
}

static void print_json(const struct ed_cli *cli, const struct udev_report *rep,
                       const char *rules)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "action", json_object_new_string(action_names[rep->action]));
    json_object_object_add(o, "path", ed_json_str(rep->result.path));
    json_object_object_add(o, "changed", json_object_new_boolean(rep->changed));
    json_object_object_add(o, "group", ed_json_str(rep->group));
    json_object_object_add(o, "reload", json_object_new_string(rep->reload));
    json_object_object_add(o, "dry_run", json_object_new_boolean(cli->dry_run));
    json_object_object_add(o, "outcome", ed_json_str(rep->outcome));
    json_object_object_add(o, "error", ed_json_str(rep->error[0] ? rep->error : NULL));
    if (rep->action == ACTION_SHOW) {
        json_object_object_add(o, "installed",
                               ed_json_str(rep->outcome ? existing_name(rep->result.existing)
                                                        : NULL));
        json_object_object_add(o, "rules", json_object_new_string(rules));
    }
    ed_out_json(cli->out, o);
}

/* After a change under the real root: have udev re-read the rules and apply them to the
 * ports already there. A failure here is a warning: the file is in place either way. */
static void reload_udev(const struct ed_cli *cli, struct udev_report *rep)
{
    struct ed_udev_reload_result rr;
    int rc = ed_udev_reload(&rr);
    if (rc == ED_OK) {
        rep->reload = "done";
        say(cli, ED_TONE_OK, "udev reloaded its rules and re-applied them to the ports "
                             "plugged in now.");
        return;
    }
    char commands[512] = "";
    for (size_t i = 0; i < ED_UDEV_RELOAD_STEPS; i++) {
        char line[160];
        ed_udev_reload_command(i, line, sizeof line);
        size_t used = strlen(commands);
        snprintf(commands + used, sizeof commands - used, "%ssudo %s", i ? " && " : "", line);
    }
    if (rc == ED_E_NOTFOUND) {
        rep->reload = "udevadm-missing";
        warn(cli, "udevadm is not on PATH, so udev has not re-read the rules yet. Run: %s "
                  "(or unplug and replug the board).", commands);
        return;
    }
    char failed[160];
    ed_udev_reload_command(rr.failed_step, failed, sizeof failed);
    rep->reload = "failed";
    if (rr.sys_errno)
        warn(cli, "could not run '%s': %s. Run it yourself, or replug the board.", failed,
             strerror(rr.sys_errno));
    else
        warn(cli, "'%s' failed (see above). To apply the rules now run: %s, or replug the "
                  "board.", failed, commands);
}

static int report_failure(const struct ed_cli *cli, struct udev_report *rep, int rc,
                          const char *explicit_group)
{
    const struct ed_udev_result *r = &rep->result;
    rep->outcome = "failed";
    if (r->step)
        snprintf(rep->error, sizeof rep->error, "%scannot %s %s: %s",
                 cli->dry_run ? "(dry run) would fail: " : "", r->step, r->step_path,
                 r->reason ? r->reason : strerror(r->sys_errno));
    else
        snprintf(rep->error, sizeof rep->error, "cannot %s the rules: %s",
                 action_names[rep->action], ed_strerror(rc));
    if (rc == ED_E_PERM) {
        char sudo[512];
        privileged_command(cli, rep, explicit_group, sudo, sizeof sudo);
        ed_cli_error(cli, "%s. Changing udev rules needs root: run '%s'.", rep->error, sudo);
    } else {
        ed_cli_error(cli, "%s.", rep->error);
    }
    return ED_EXIT_FAIL;
}

static int report_refusal(const struct ed_cli *cli, struct udev_report *rep)
{
    if (rep->result.existing == ED_UDEV_EXISTING_EDITED)
        snprintf(rep->error, sizeof rep->error,
                 "%s was written by espdoctor but changed since (its checksum no longer "
                 "matches); leaving it alone",
                 rep->result.path);
    else
        snprintf(rep->error, sizeof rep->error,
                 "%s was not written by espdoctor (its first line is not espdoctor's "
                 "marker line, '" ED_UDEV_MARKER " VERSION ...'); leaving it alone",
                 rep->result.path);
    ed_cli_error(cli, "%s. Move it away or merge it by hand, then run '%s udev %s' again.",
                 rep->error, cli->prog, action_names[rep->action]);
    return ED_EXIT_REFUSED;
}

/* Text for a successful install or uninstall, then the reload when one is due. */
static void finish_change(const struct ed_cli *cli, struct udev_report *rep)
{
    const char *path = rep->result.path;
    bool changes = rep->result.outcome == ED_UDEV_WRITTEN ||
                   rep->result.outcome == ED_UDEV_REMOVED;
    bool system = is_system_root(cli->root);
    rep->changed = changes && !cli->dry_run;
    switch (rep->result.outcome) {
    case ED_UDEV_WRITTEN:
        say(cli, ED_TONE_OK, "%s %s", cli->dry_run ? "would write" : "wrote", path);
        break;
    case ED_UDEV_UNCHANGED:
        say(cli, ED_TONE_OK, "%s is already installed, nothing changed.", path);
        break;
    case ED_UDEV_REMOVED:
        say(cli, ED_TONE_OK, "%s %s", cli->dry_run ? "would remove" : "removed", path);
        break;
    case ED_UDEV_ABSENT:
        say(cli, ED_TONE_INFO, "%s is not installed, nothing to remove.", path);
        break;
    case ED_UDEV_REFUSED:
        break;
    }
    if (!changes) {
        rep->reload = "not-needed";
    } else if (cli->dry_run || !system) {
        rep->reload = "skipped";
        if (cli->dry_run && system)
            for (size_t i = 0; i < ED_UDEV_RELOAD_STEPS; i++) {
                char line[160];
                ed_udev_reload_command(i, line, sizeof line);
                say(cli, ED_TONE_INFO, "would run %s", line);
            }
        else if (!cli->dry_run)
            say(cli, ED_TONE_INFO, "%s is not /, so udev was not asked to reload.",
                cli->root);
    } else {
        reload_udev(cli, rep);
    }
    if (rep->action == ACTION_INSTALL && rep->changed)
        say(cli, ED_TONE_INFO,
            "The user at the local desktop gets access through uaccess; other accounts "
            "need the group: sudo usermod -aG %s $USER (then log in again).", rep->group);
}

static bool parse_action(const char *name, enum udev_action *action)
{
    for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
        if (strcmp(name, action_names[i]) == 0) {
            *action = (enum udev_action)i;
            return true;
        }
    return false;
}

/* The group for GROUP="...": the one named on the command line, or the system's. */
static bool choose_group(const struct ed_cli *cli, enum udev_action action,
                         const char *explicit_group, char group[ED_UDEV_GROUP_MAX])
{
    char group_file[4200];
    snprintf(group_file, sizeof group_file, "%s/etc/group",
             is_system_root(cli->root) ? "" : cli->root);
    if (explicit_group) {
        if (!ed_udev_group_name_valid(explicit_group)) {
            ed_cli_error(cli, "'%s' is not a group name (letters, digits, '_', '-', '.').",
                         explicit_group);
            return false;
        }
        if (action == ACTION_INSTALL && !ed_udev_group_exists(cli->root, explicit_group)) {
            ed_cli_error(cli, "group '%s' is not in %s, and udev ignores GROUP= with an "
                              "unknown group. Create it (sudo groupadd %s) or leave it out "
                              "to use the system's serial group.",
                         explicit_group, group_file, explicit_group);
            return false;
        }
        snprintf(group, ED_UDEV_GROUP_MAX, "%s", explicit_group);
        return true;
    }
    bool found;
    ed_udev_detect_group(cli->root, group, &found);
    if (!found)
        warn(cli, "neither 'dialout' nor 'uucp' is in %s; the rules use GROUP=\"%s\", which "
                  "udev skips while the group is missing (uaccess still works). Name another "
                  "group as the last argument to use it.", group_file, group);
    return true;
}

static int run_show(const struct ed_cli *cli, struct udev_report *rep, const char *rules)
{
    if (!ed_udev_rules_path(cli->root, rep->result.path, sizeof rep->result.path)) {
        ed_cli_error(cli, "--root is too long.");
        return ED_EXIT_USAGE;
    }
    rep->reload = "not-needed";
    if (cli->json) {
        int err;
        if (ed_udev_inspect(cli->root, rules, &rep->result.existing, &err) == ED_OK)
            rep->outcome = "shown";
        print_json(cli, rep, rules);
    } else {
        fputs(rules, cli->out);
    }
    return ED_EXIT_OK;
}

int cmd_udev(struct ed_cli *cli, int argc, char **argv)
{
    struct udev_report rep;
    memset(&rep, 0, sizeof rep);
    if (argc < 1 || !parse_action(argv[0], &rep.action)) {
        ed_cli_error(cli, "'udev' takes show, install or uninstall%s%s%s (e.g. 'sudo %s udev "
                          "install').", argc ? ", not '" : "", argc ? argv[0] : "",
                     argc ? "'" : "", cli->prog);
        return ED_EXIT_USAGE;
    }
    /* "" once meant the live system's /etc; whoever typed it meant something else. */
    if (cli->root && !*cli->root) {
        ed_cli_error(cli, "--root \"\" names no directory. Leave --root out to change "
                          "the running system, or name the directory that holds its /etc.");
        return ED_EXIT_USAGE;
    }
    const char *explicit_group = argc > 1 ? argv[1] : NULL;
    if (argc > 2 || (rep.action == ACTION_UNINSTALL && explicit_group)) {
        ed_cli_error(cli, "too many arguments: 'udev %s' takes %s.", argv[0],
                     rep.action == ACTION_UNINSTALL ? "none" : "at most a group name");
        return ED_EXIT_USAGE;
    }

    if (rep.action == ACTION_UNINSTALL) {
        int rc = ed_udev_uninstall(cli->root, cli->dry_run, &rep.result);
        int exit_code = ED_EXIT_OK;
        rep.reload = "not-needed";
        if (rc != ED_OK)
            exit_code = report_failure(cli, &rep, rc, NULL);
        else if (rep.result.outcome == ED_UDEV_REFUSED)
            exit_code = report_refusal(cli, &rep);
        else
            finish_change(cli, &rep);
        if (!rep.outcome)
            rep.outcome = outcome_name(rep.result.outcome, cli->dry_run);
        if (cli->json)
            print_json(cli, &rep, NULL);
        return exit_code;
    }

    char group[ED_UDEV_GROUP_MAX];
    if (!choose_group(cli, rep.action, explicit_group, group))
        return ED_EXIT_USAGE;
    rep.group = group;
    char *rules = ed_udev_rules_text(group);
    if (!rules) {
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    int exit_code = ED_EXIT_OK;
    if (rep.action == ACTION_SHOW) {
        exit_code = run_show(cli, &rep, rules);
    } else {
        int rc = ed_udev_install(cli->root, rules, cli->dry_run, &rep.result);
        rep.reload = "not-needed";
        if (rc != ED_OK)
            exit_code = report_failure(cli, &rep, rc, explicit_group);
        else if (rep.result.outcome == ED_UDEV_REFUSED)
            exit_code = report_refusal(cli, &rep);
        else
            finish_change(cli, &rep);
        if (!rep.outcome)
            rep.outcome = outcome_name(rep.result.outcome, cli->dry_run);
        if (cli->json)
            print_json(cli, &rep, rules);
    }
    free(rules);
    return exit_code;
}
