/* flash --all's list of ports: -p, then --ports FILE (see flash_all_ports.h). */
#include "flash_all_ports.h"

#include "portsel.h"

#include "espdoctor/error.h"
#include "espdoctor/netport.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096   /* a longer line is reported, not split */

/* Why text cannot be a port, or NULL when it can be one. */
static const char *entry_problem(const char *text, char *buf, size_t len)
{
    struct ed_port_url url;
    int rc = ed_port_url_parse(text, &url);
    if (rc != ED_OK) {
        snprintf(buf, len, "%s", url.problem ? url.problem : "not a port address");
        return buf;
    }
    if (url.scheme != ED_PORT_LOCAL)
        return NULL;
    struct ed_port_spec spec;
    ed_port_spec_parse(text, &spec);
    if (spec.kind == ED_SPEC_SERIAL && !spec.serial[0])
        return "serial= needs the USB serial number after it";
    if (spec.kind == ED_SPEC_PATH && text[0] != '/')
        return "not a port: a path starts with '/' (/dev/ttyUSB0)";
    return NULL;
}

static bool already(const struct ed_port_entries *e, const char *text)
{
    for (size_t i = 0; i < e->count; i++)
        if (strcmp(e->items[i].text, text) == 0)
            return true;
    return false;
}

static bool add(struct ed_port_entries *e, const char *text, const char *where)
{
    if (already(e, text))
        return true;   /* one process per port: a second one would find it busy */
    struct ed_port_entry *grown = realloc(e->items, (e->count + 1) * sizeof *grown);
    if (!grown)
        return false;
    e->items = grown;
    struct ed_port_entry *item = &e->items[e->count++];
    snprintf(item->text, sizeof item->text, "%s", text);
    snprintf(item->where, sizeof item->where, "%s", where);
    return true;
}

/* The port on a line: blanks around it and a '#' comment (at the start or after a
 * blank) removed. Returns the number of words left; *start is the first one. */
static int line_words(char *line, char **start)
{
    for (char *c = line; *c; c++)
        if (*c == '#' && (c == line || isspace((unsigned char)c[-1]))) {
            *c = '\0';
            break;
        }
    int words = 0;
    *start = NULL;
    for (char *c = line; *c;) {
        while (*c && isspace((unsigned char)*c))
            *c++ = '\0';
        if (!*c)
            break;
        if (!words++)
            *start = c;
        while (*c && !isspace((unsigned char)*c))
            c++;
    }
    return words;
}

struct file_read {
    size_t bad, named;
    bool oom;
    char first[512];   /* the first bad line, for the one message a JSON error keeps */
};

static void bad_line(const struct ed_cli *cli, struct file_read *fr, const char *where,
                     const char *text, const char *problem)
{
    ed_cli_error(cli, "%s: '%.200s': %s", where, text, problem);
    if (!fr->bad++)
        snprintf(fr->first, sizeof fr->first, "%.200s: '%.200s': %.100s", where, text, problem);
}

static void read_line(const struct ed_cli *cli, struct ed_port_entries *e, char *line,
                      const char *where, struct file_read *fr)
{
    char whole[LINE_MAX_LEN + 1];
    snprintf(whole, sizeof whole, "%s", line);
    whole[strcspn(whole, "\r\n")] = '\0';
    char *port;
    int words = line_words(line, &port);
    char why[160];
    const char *problem = NULL;
    if (words == 0)
        return;
    if (words > 1)
        problem = "one port a line, and this one has more than one word";
    else if (strlen(port) >= sizeof e->items[0].text)
        problem = "too long for a port";
    else
        problem = entry_problem(port, why, sizeof why);
    if (problem) {
        bad_line(cli, fr, where, words > 1 ? whole : port, problem);
        return;
    }
    fr->named++;
    if (!add(e, port, where))
        fr->oom = true;
}

static int read_file(const struct ed_cli *cli, struct ed_port_entries *e)
{
    const char *path = cli->ports_file;
    FILE *f = fopen(path, "r");
    if (!f) {
        ed_cli_error(cli, "--ports %s: %s: nothing was flashed", path, strerror(errno));
        return ED_EXIT_INPUT;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned number = 0;
    struct file_read fr = { 0 };
    while ((len = getline(&line, &cap, f)) >= 0 && !fr.oom) {
        char where[288];
        snprintf(where, sizeof where, "%s:%u", path, ++number);
        if ((size_t)len > LINE_MAX_LEN) {
            bad_line(cli, &fr, where, "...", "a line too long to be a port");
            continue;
        }
        read_line(cli, e, line, where, &fr);
    }
    bool failed = ferror(f);
    free(line);
    fclose(f);
    if (fr.oom) {
        ed_cli_error(cli, "out of memory");
        return ED_EXIT_FAIL;
    }
    if (failed) {
        ed_cli_error(cli, "--ports %s: a read failed: nothing was flashed", path);
        return ED_EXIT_INPUT;
    }
    if (fr.bad) {
        char more[48] = "";
        if (fr.bad > 1)
            snprintf(more, sizeof more, " (and %zu more bad lines)", fr.bad - 1);
        ed_cli_error(cli, "%s%s; nothing was flashed: each line of --ports takes one port "
                          "as -p does (/dev/ttyUSB0, VID:PID, serial=XXXX, "
                          "rfc2217://HOST:PORT or socket://HOST:PORT; '#' comments)",
                     fr.first, more);
        return ED_EXIT_USAGE;
    }
    if (!fr.named) {
        ed_cli_error(cli, "--ports %s names no port (one a line; '#' comments): nothing "
                          "was flashed", path);
        return ED_EXIT_USAGE;
    }
    return ED_EXIT_OK;
}

int ed_port_entries_read(const struct ed_cli *cli, struct ed_port_entries *out)
{
    memset(out, 0, sizeof *out);
    size_t bad = 0;
    bool ok = true;
    for (size_t i = 0; i < cli->port_count && ok; i++) {
        char why[160];
        const char *problem = entry_problem(cli->ports[i], why, sizeof why);
        if (problem) {
            ed_cli_error(cli, "-p '%s': %s", cli->ports[i], problem);
            bad++;
        } else {
            ok = add(out, cli->ports[i], "-p");
        }
    }
    /* $ESPDOCTOR_PORT only when the line names no port itself. */
    if (!cli->port_count && !cli->ports_file && cli->port && ok)
        ok = add(out, cli->port, "$ESPDOCTOR_PORT");
    int rc = ED_EXIT_OK;
    if (!ok) {
        ed_cli_error(cli, "out of memory");
        rc = ED_EXIT_FAIL;
    } else if (bad) {
        ed_cli_error(cli, "nothing was flashed: -p takes /dev/ttyUSB0, VID:PID, serial=XXXX, "
                          "rfc2217://HOST:PORT or socket://HOST:PORT");
        rc = ED_EXIT_USAGE;
    } else if (cli->ports_file) {
        rc = read_file(cli, out);
    }
    if (rc != ED_EXIT_OK)
        ed_port_entries_free(out);   /* the caller has nothing to free after an error */
    return rc;
}

void ed_port_entries_free(struct ed_port_entries *e)
{
    free(e->items);
    e->items = NULL;
    e->count = 0;
}
