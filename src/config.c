/* The configuration file: parse, format, look up (see espdoctor/config.h). Writing it
 * lives in config_write.c. */
#include "espdoctor/config.h"
#include "espdoctor/error.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BAUD_MIN 300u
#define BAUD_MAX 12000000u

void ed_config_init(struct ed_config *c)
{
    memset(c, 0, sizeof *c);
}

void ed_config_free(struct ed_config *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->boards[i].kept);
    free(c->boards);
    free(c->kept);
    free(c->tail);
    ed_config_init(c);
}

bool ed_config_serial_ok(const char *serial)
{
    size_t n = strlen(serial);
    if (n == 0 || n >= ED_CONFIG_SERIAL_MAX || isspace((unsigned char)serial[0]) ||
        isspace((unsigned char)serial[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isprint((unsigned char)serial[i]) || serial[i] == ']')
            return false;
    return true;
}

const struct ed_config_board *ed_config_find(const struct ed_config *c, const char *serial)
{
    for (size_t i = 0; serial && i < c->count; i++)
        if (strcmp(c->boards[i].serial, serial) == 0)
            return &c->boards[i];
    return NULL;
}

struct ed_config_board *ed_config_board(struct ed_config *c, const char *serial)
{
    if (!serial || !ed_config_serial_ok(serial))
        return NULL;
    const struct ed_config_board *found = ed_config_find(c, serial);
    if (found)
        return &c->boards[found - c->boards];
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct ed_config_board *b = realloc(c->boards, cap * sizeof *b);
        if (!b)
            return NULL;
        c->boards = b;
        c->cap = cap;
    }
    struct ed_config_board *b = &c->boards[c->count++];
    memset(b, 0, sizeof *b);
    snprintf(b->serial, sizeof b->serial, "%s", serial);
    return b;
}

/* Append line and a newline to *text. */
static int keep(char **text, const char *line, size_t len)
{
    size_t had = *text ? strlen(*text) : 0;
    char *t = realloc(*text, had + len + 2);
    if (!t)
        return ED_E_NOMEM;
    memcpy(t + had, line, len);
    t[had + len] = '\n';
    t[had + len + 1] = '\0';
    *text = t;
    return ED_OK;
}

static void problem(struct ed_config *c, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct ed_config *c, unsigned line, const char *fmt, ...)
{
    if (c->problems++ > 0)
        return;   /* the first one is described; the rest only counted */
    int n = snprintf(c->warning, sizeof c->warning, "line %u: ", line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof c->warning)
        vsnprintf(c->warning + n, sizeof c->warning - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool parse_baud(const char *text, uint32_t *out)
{
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v < BAUD_MIN || v > BAUD_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Where the lines being read go. */
enum section { SEC_TOP, SEC_BOARD, SEC_OTHER };

struct reader {
    struct ed_config *c;
    enum section sec;
    size_t board;      /* index, with SEC_BOARD */
    unsigned line;
};

static char **kept_of(struct reader *r)
{
    return r->sec == SEC_TOP ? &r->c->kept
           : r->sec == SEC_BOARD ? &r->c->boards[r->board].kept : &r->c->tail;
}

static int section_line(struct reader *r, const char *raw, size_t rawlen, const char *s,
                        size_t n)
{
    char inner[ED_CONFIG_SERIAL_MAX + 16];
    size_t len = n - 2;
    const char *in = s + 1;
    while (len && isspace((unsigned char)*in))
        in++, len--;
    while (len && isspace((unsigned char)in[len - 1]))
        len--;
    if (len >= 6 && strncmp(in, "board", 5) == 0 && isspace((unsigned char)in[5]) &&
        len < sizeof inner) {
        memcpy(inner, in, len);
        inner[len] = '\0';
        const char *serial = inner + 5;
        while (isspace((unsigned char)*serial))
            serial++;
        if (ed_config_serial_ok(serial)) {
            bool again = ed_config_find(r->c, serial) != NULL;
            struct ed_config_board *b = ed_config_board(r->c, serial);
            if (!b)
                return ED_E_NOMEM;
            if (again)
                problem(r->c, r->line, "a second [board %s] section (merged with the first)",
                        serial);
            r->sec = SEC_BOARD;
            r->board = (size_t)(b - r->c->boards);
            return ED_OK;
        }
    }
    problem(r->c, r->line, "unknown section %.*s (kept, not used)", (int)(n > 80 ? 80 : n), s);
    r->sec = SEC_OTHER;
    return keep(&r->c->tail, raw, rawlen);
}

static int value_line(struct reader *r, const char *raw, size_t rawlen, const char *key,
                      const char *value)
{
    if (r->sec == SEC_OTHER)
        return keep(&r->c->tail, raw, rawlen);
    if (r->sec == SEC_TOP) {
        if (strcmp(key, "last") != 0) {
            problem(r->c, r->line, "unknown setting '%.40s' (kept, not used)", key);
            return keep(&r->c->kept, raw, rawlen);
        }
        if (value[0] && !ed_config_serial_ok(value)) {
            /* Kept as written: rewriting the file never loses what a person typed. */
            problem(r->c, r->line, "'last' is not a USB serial number (kept, not used)");
            return keep(&r->c->kept, raw, rawlen);
        }
        snprintf(r->c->last, sizeof r->c->last, "%s", value);
        return ED_OK;
    }
    struct ed_config_board *b = &r->c->boards[r->board];
    if (strcmp(key, "port") == 0) {
        if (!value[0] || strlen(value) >= sizeof b->port) {
            problem(r->c, r->line, "'port' wants a port name (kept, not used)");
            return keep(&b->kept, raw, rawlen);
        }
        snprintf(b->port, sizeof b->port, "%s", value);
    } else if (strcmp(key, "baud") == 0 || strcmp(key, "max_baud") == 0) {
        uint32_t *to = key[0] == 'b' ? &b->baud : &b->max_baud;
        if (!parse_baud(value, to)) {
            problem(r->c, r->line, "'%s' wants a rate from %u to %u, not '%.40s' (kept, "
                    "not used)", key, BAUD_MIN, BAUD_MAX, value);
            return keep(&b->kept, raw, rawlen);
        }
    } else {
        problem(r->c, r->line, "unknown setting '%.40s' (kept, not used)", key);
        return keep(&b->kept, raw, rawlen);
    }
    return ED_OK;
}

static int one_line(struct reader *r, const char *raw, size_t rawlen)
{
    char buf[1024];
    if (memchr(raw, '\0', rawlen)) {
        problem(r->c, r->line, "a NUL byte: not text (dropped)");
        return ED_OK;
    }
    if (rawlen >= sizeof buf) {
        problem(r->c, r->line, "a line of %zu bytes (kept, not used)", rawlen);
        return keep(kept_of(r), raw, rawlen);
    }
    memcpy(buf, raw, rawlen);
    buf[rawlen] = '\0';
    char *s = buf;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    if (n == 0)
        return ED_OK;   /* blank lines are the writer's to place */
    if (s[0] == '#')
        return keep(kept_of(r), raw, rawlen);
    if (s[0] == '[' && s[n - 1] == ']' && n >= 2)
        return section_line(r, raw, rawlen, s, n);
    char *eq = strchr(s, '=');
    if (!eq || eq == s) {
        if (r->sec != SEC_OTHER)
            problem(r->c, r->line, "not 'key = value', a [section] or a # comment "
                    "(kept, not used)");
        return keep(kept_of(r), raw, rawlen);
    }
    char *key_end = eq;
    while (key_end > s && isspace((unsigned char)key_end[-1]))
        key_end--;
    *key_end = '\0';
    char *value = eq + 1;
    while (isspace((unsigned char)*value))
        value++;
    return value_line(r, raw, rawlen, s, value);
}

int ed_config_parse(struct ed_config *c, const char *text, size_t len)
{
    struct reader r = { .c = c, .sec = SEC_TOP };
    size_t at = 0;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - at;
        if (n && text[at + n - 1] == '\r')
            n--;
        r.line++;
        int rc = one_line(&r, text + at, n);
        if (rc != ED_OK)
            return rc;
        at = end + 1;
    }
    return ED_OK;
}

int ed_config_read(struct ed_config *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return ED_OK;
        snprintf(c->warning, sizeof c->warning, "cannot read it: %s", strerror(errno));
        return ED_E_IO;
    }
    struct stat st;
    int rc = ED_E_IO;
    char *text = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(c->warning, sizeof c->warning, "it is not a regular file");
    } else if ((uint64_t)st.st_size > ED_CONFIG_FILE_MAX) {
        snprintf(c->warning, sizeof c->warning, "it is %lld bytes, more than a configuration "
                 "file of %u KiB can be", (long long)st.st_size, ED_CONFIG_FILE_MAX / 1024);
    } else if (!(text = malloc((size_t)st.st_size + 1))) {
        snprintf(c->warning, sizeof c->warning, "out of memory");
        rc = ED_E_NOMEM;
    } else {
        size_t got = 0;
        ssize_t n = 0;
        while (got < (size_t)st.st_size &&
               (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
            got += (size_t)n;
        if (n < 0)
            snprintf(c->warning, sizeof c->warning, "cannot read it: %s", strerror(errno));
        else if ((rc = ed_config_parse(c, text, got)) != ED_OK)
            snprintf(c->warning, sizeof c->warning, "out of memory");
    }
    free(text);
    close(fd);
    return rc;
}

/* Append to a growing string; false when out of memory. */
struct out {
    char *s;
    size_t len, cap;
    bool failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (o->len + (size_t)n + 1 > o->cap)) {
        size_t cap = o->cap ? o->cap : 256;
        while (n >= 0 && o->len + (size_t)n + 1 > cap)
            cap *= 2;
        char *s = n < 0 ? NULL : realloc(o->s, cap);
        if (!s) {
            o->failed = true;
            return;
        }
        o->s = s;
        o->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

char *ed_config_format(const struct ed_config *c)
{
    struct out o = { 0 };
    if (c->kept)
        put(&o, "%s", c->kept);
    else
        put(&o, "# What espdoctor remembers per board, by USB serial number (see\n"
                "# espdoctor(1), FILES). Edit freely: '#' starts a comment line.\n");
    put(&o, "last = %s\n", c->last);
    for (size_t i = 0; i < c->count; i++) {
        const struct ed_config_board *b = &c->boards[i];
        put(&o, "\n[board %s]\n", b->serial);
        if (b->port[0])
            put(&o, "port = %s\n", b->port);
        if (b->baud)
            put(&o, "baud = %u\n", b->baud);
        if (b->max_baud)
            put(&o, "max_baud = %u\n", b->max_baud);
        if (b->kept)
            put(&o, "%s", b->kept);
    }
    if (c->tail)
        put(&o, "\n%s", c->tail);
    if (o.failed || !o.s) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

bool ed_config_path(char *out, size_t len)
{
    out[0] = '\0';
    const char *env = getenv("ESPDOCTOR_CONFIG");
    if (env) {
        if (!env[0])
            return false;   /* set empty: no configuration file at all */
        return (size_t)snprintf(out, len, "%s", env) < len;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, len, "%s/espdoctor/config", xdg);
    else if (home && home[0] == '/')
        n = snprintf(out, len, "%s/.config/espdoctor/config", home);
    else
        return false;
    if (n < 0 || (size_t)n >= len) {
        out[0] = '\0';
        return false;
    }
    return true;
}

uint32_t ed_config_start_baud(const struct ed_config_board *b, uint32_t target)
{
    return b && b->max_baud && b->max_baud < target ? b->max_baud : target;
}

void ed_config_learn_baud(struct ed_config_board *b, uint32_t asked, uint32_t reached)
{
    if (!reached)
        return;
    if (reached < asked)
        b->max_baud = reached;   /* asked failed: start here next time */
    else if (b->max_baud && reached > b->max_baud)
        b->max_baud = reached;   /* a faster rate worked after all */
    b->baud = reached;
}
