/* The configuration file for commands (see config_cli.h). */
#include "config_cli.h"

#include "espdoctor/error.h"

#include <stdlib.h>
#include <string.h>

/* One warning per run, whatever goes wrong and however often the file is read. */
static void warn(struct ed_cli *cli, const char *path, const char *what)
{
    if (cli->config_warned)
        return;
    cli->config_warned = true;
    fprintf(cli->err, "%s: warning: the configuration file %s: %s\n", cli->prog, path,
            what);
}

static bool load(struct ed_cli *cli, struct ed_config *c, char *path, size_t len)
{
    ed_config_init(c);
    if (cli->no_config || !ed_config_path(path, len))
        return false;
    if (ed_config_read(c, path) != ED_OK) {
        char what[400];
        snprintf(what, sizeof what, "%s; it is not used", c->warning);
        warn(cli, path, what);
        ed_config_free(c);
        return false;
    }
    if (c->problems) {
        char what[400];
        snprintf(what, sizeof what, "%s%s", c->warning,
                 c->problems > 1 ? " (and more lines like it)" : "");
        warn(cli, path, what);
    }
    return true;
}

bool ed_cli_config_load(struct ed_cli *cli, struct ed_config *c)
{
    char path[4096];
    return load(cli, c, path, sizeof path);
}

void ed_cli_config_remember(struct ed_cli *cli, const struct ed_port_choice *pc,
                            bool learn_baud, uint32_t asked, uint32_t reached)
{
    if (!pc->known || !ed_config_serial_ok(pc->info.serial))
        return;   /* a network port, or a board without a serial number */
    char path[4096];
    if (cli->no_config || !ed_config_path(path, sizeof path))
        return;
    int lock = ed_config_lock(path);
    struct ed_config c;
    if (!load(cli, &c, path, sizeof path)) {
        ed_config_unlock(lock);
        return;
    }
    char *before = ed_config_format(&c);
    struct ed_config_board *b = ed_config_board(&c, pc->info.serial);
    if (b) {
        snprintf(c.last, sizeof c.last, "%s", b->serial);
        if (strlen(pc->path) < sizeof b->port && !strchr(pc->path, '\n'))
            snprintf(b->port, sizeof b->port, "%s", pc->path);
        if (learn_baud)
            ed_config_learn_baud(b, asked, reached);
        char *after = ed_config_format(&c);
        char why[4400];
        if (after && (!before || strcmp(before, after) != 0) &&
            ed_config_write(&c, path, why, sizeof why) != ED_OK)
        {
            char what[4500];
            snprintf(what, sizeof what, "the board is not remembered: %s",
                     why[0] ? why : "out of memory");
            warn(cli, path, what);
        }
        free(after);
    }
    free(before);
    ed_config_free(&c);
    ed_config_unlock(lock);
}

uint32_t ed_cli_config_start_baud(struct ed_cli *cli, const struct ed_port_choice *pc,
                                  uint32_t target)
{
    if (!pc->known || !ed_config_serial_ok(pc->info.serial))
        return target;
    struct ed_config c;
    uint32_t start = target;
    if (ed_cli_config_load(cli, &c))
        start = ed_config_start_baud(ed_config_find(&c, pc->info.serial), target);
    ed_config_free(&c);
    return start;
}
