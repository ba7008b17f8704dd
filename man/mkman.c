/* mkman: build the manual page from man/espdoctor.1.in and the program's own tables.
 *
 *   mkman TEMPLATE OUTPUT [VERSION]
 *
 * Copies TEMPLATE to OUTPUT with @VERSION@ (default: the ESPDOCTOR_VERSION it was built
 * with) and @DATE@ (from SOURCE_DATE_EPOCH when set, for reproducible builds; else today)
 * substituted, the line `.\" @DIAGNOSTICS@` replaced by one mdoc subsection per finding
 * family of ed_diagnoses[], and the line `.\" @REFUSALS@` by the list of the flasher's
 * pre-write checks (ed_image_problem_rules[]). The page can then never list an id the
 * program does not have, nor miss one it does; the prose around the lists stays in the
 * template. OUTPUT is written under a temporary name and renamed, so a failed run leaves
 * no half page behind. Exit: 0 done, 1 failed, 2 usage. */
#include "espdoctor/findings.h"
#include "espdoctor/image.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TEMPLATE_MAX (1024 * 1024)

/* ---- roff text -------------------------------------------------------------------------- */

/* Characters that make a word look like code (a path, a command, a variable, an id): its
 * hyphens are then minus signs, typed as \- so they copy and search as ASCII '-'. */
static bool is_code_char(char c)
{
    return c != '\0' && strchr("$()/_=.:~*@<>|`[]{}", c) != NULL;
}

static bool is_opening(char c) { return c == '(' || c == '"' || c == '\''; }
static bool is_closing(char c) { return c != '\0' && strchr(".,;:!?)\"'", c) != NULL; }

/* Does the word [start, end) read as code? Sentence punctuation around it does not count. */
static bool word_is_code(const char *start, const char *end)
{
    while (start < end && is_opening(*start))
        start++;
    while (end > start && is_closing(end[-1]))
        end--;
    for (const char *p = start; p < end; p++)
        if (is_code_char(*p))
            return true;
    return false;
}

/* Is the '-' at p a minus sign: part of a code word, or an option dash at a word's start
 * (after opening punctuation or other dashes)? Otherwise it is a hyphen ("charge-only"). */
static bool dash_is_minus(const char *word, const char *word_end, const char *p)
{
    if (word_is_code(word, word_end))
        return true;
    const char *q = word;
    while (q < p && is_opening(*q))
        q++;
    while (q < p && *q == '-')
        q++;
    return q == p;
}

/* Does a sentence end at p (after [.!?] and closing quotes/parentheses, before a space and
 * a word that does not start in lower case)? "e.g." and "i.e." are not sentence ends. */
static bool sentence_ends_before_space(const char *p, const char *word)
{
    const char *q = p;
    while (q > word && (q[-1] == ')' || q[-1] == '"' || q[-1] == '\''))
        q--;
    if (q == word || q[-1] == '\0' || !strchr(".!?", q[-1]))
        return false;
    while (word < q && is_opening(*word))
        word++;
    size_t len = (size_t)(q - word);
    if (len == 4 && (strncmp(word, "e.g.", 4) == 0 || strncmp(word, "i.e.", 4) == 0))
        return false;
    const char *next = p;
    while (*next == ' ' || *next == '\t' || *next == '\n')
        next++;
    return *next && !(*next >= 'a' && *next <= 'z');
}

/* Decode one UTF-8 sequence at p; returns its length, 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
    size_t len;
    if (p[0] >= 0xF0 && p[0] <= 0xF4) { len = 4; *cp = p[0] & 0x07u; }
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) { len = 3; *cp = p[0] & 0x0Fu; }
    else if (p[0] >= 0xC2 && p[0] < 0xE0) { len = 2; *cp = p[0] & 0x1Fu; }
    else return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3Fu);
    }
    return len;
}

#define WRAP_COLUMN 72     /* mandoc flags input lines over 80 bytes */
#define WORD_MAX 512       /* longer "words" are not text a table should hold */
#define HYPHENATABLE 5     /* roff leaves shorter words whole anyway */

/* How a text is set: prose may be hyphenated at line ends, except its code words; a fix
 * is mostly commands, so none of its words are (a hyphen added to "espdoctor" or to
 * "modprobe" would be copied along with it). */
enum text_kind { TEXT_PROSE, TEXT_FIX };

/* Escape one word into buf (at the start of a line when line_start; guarded by \% against
 * hyphenation when whole). Returns its length, or -1 when it is too long or not valid
 * UTF-8. Each input byte becomes at most 5 bytes (\[uXXXX] stands for 2 to 4 of them). */
static int escape_word(const char *word, const char *word_end, bool line_start, bool whole,
                       char *buf, size_t cap)
{
    if (word_end - word > WORD_MAX || cap < 5 * WORD_MAX + 8)
        return -1;
    size_t n = 0;
    if (line_start && (*word == '.' || *word == '\''))
        n += (size_t)snprintf(buf + n, cap - n, "\\&");
    if (whole)
        n += (size_t)snprintf(buf + n, cap - n, "\\%%");
    for (const char *c = word; c < word_end; c++) {
        unsigned char u = (unsigned char)*c;
        if (*c == '\\') {
            n += (size_t)snprintf(buf + n, cap - n, "\\e");
        } else if (*c == '-') {
            n += (size_t)snprintf(buf + n, cap - n, "%s",
                                  dash_is_minus(word, word_end, c) ? "\\-" : "-");
        } else if (u >= 0x80) {
            uint32_t cp;
            size_t len = utf8_decode((const unsigned char *)c, &cp);
            if (len == 0 || c + len > word_end)
                return -1;
            n += (size_t)snprintf(buf + n, cap - n, "\\[u%04X]", (unsigned)cp);
            c += len - 1;
        } else {
            buf[n++] = *c;
        }
    }
    buf[n] = '\0';
    return (int)n;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

/* Write text as roff text lines: each sentence on a new line (what roff needs to space
 * sentences, and what mandoc checks), lines wrapped before WRAP_COLUMN, whitespace runs
 * collapsed, backslashes as \e, a leading '.' or '\'' guarded by \&, minus signs as \-,
 * non-ASCII as \[uXXXX]. False for a word over WORD_MAX bytes or invalid UTF-8. */
static bool put_text(FILE *out, const char *text, enum text_kind kind)
{
    char buf[5 * WORD_MAX + 8];
    size_t column = 0;
    bool new_line = true;
    const char *p = text;
    while (*p) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        const char *word = p;
        while (*p && !is_space(*p))
            p++;
        bool whole = word_is_code(word, p) || *word == '-' ||
                     (kind == TEXT_FIX && p - word >= HYPHENATABLE);
        int len = escape_word(word, p, false, whole, buf, sizeof buf);
        if (len < 0)
            return false;
        if (!new_line && column + 1 + (size_t)len > WRAP_COLUMN)
            new_line = true;
        if (new_line) {
            if (column > 0)
                fputc('\n', out);
            len = escape_word(word, p, true, whole, buf, sizeof buf);
            column = 0;
        } else {
            fputc(' ', out);
            column++;
        }
        fputs(buf, out);
        column += (size_t)len;
        new_line = sentence_ends_before_space(p, word);
    }
    if (column > 0)
        fputc('\n', out);
    return true;
}

/* An id goes on a macro line: allow only what ids are made of, so nothing in it can be
 * read as a macro, a delimiter or an escape; \% keeps it from being hyphenated and from
 * being taken for a macro name. */
static bool put_id(FILE *out, const char *id)
{
    if (!id || !*id)
        return false;
    for (const char *c = id; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                  *c == '-' || *c == '_';
        if (!ok)
            return false;
    }
    fputs("\\%", out);
    for (const char *c = id; *c; c++) {
        if (*c == '-')
            fputc('\\', out);
        fputc(*c, out);
    }
    return true;
}

/* A heading on a macro line: every word guarded by \& so none is taken for a macro. */
static bool put_heading(FILE *out, const char *heading)
{
    fputs(".Ss", out);
    for (const char *p = heading; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        fputs(" \\&", out);
        for (; *p && *p != ' '; p++) {
            unsigned char u = (unsigned char)*p;
            if (u < 0x20 || u >= 0x7F || *p == '\\' || *p == '"')
                return false;
            fputc(*p, out);
        }
    }
    fputc('\n', out);
    return true;
}

/* ---- the generated section -------------------------------------------------------------- */

static bool family_seen_before(size_t index)
{
    for (size_t i = 0; i < index; i++)
        if (strcmp(ed_diagnoses[i].family, ed_diagnoses[index].family) == 0)
            return true;
    return false;
}

static bool put_diagnosis(FILE *out, const struct ed_diagnosis *d)
{
    if (!d->title || !d->meaning) {
        fprintf(stderr, "mkman: diagnosis %s has no title or meaning\n", d->id);
        return false;
    }
    fputs(".It Sy ", out);
    if (!put_id(out, d->id)) {
        fprintf(stderr, "mkman: diagnosis id '%s' has characters ids may not have\n", d->id);
        return false;
    }
    fprintf(out, " Pq %s\n", ed_severity_name(d->severity));
    char title[512];
    snprintf(title, sizeof title, "%s.", d->title);
    bool ok = put_text(out, title, TEXT_PROSE) && put_text(out, d->meaning, TEXT_PROSE);
    if (ok && d->fix) {
        fputs(".Pp\nFix:\n", out);
        ok = put_text(out, d->fix, TEXT_FIX);
    }
    if (!ok)
        fprintf(stderr, "mkman: diagnosis %s: a word over %d bytes, or not UTF-8\n", d->id,
                WORD_MAX);
    return ok;
}

/* Families in the order the table first names them; each with all of its ids. */
static bool put_diagnoses(FILE *out)
{
    for (size_t f = 0; f < ed_diagnosis_count; f++) {
        const char *family = ed_diagnoses[f].family;
        if (!family || !*family) {
            fprintf(stderr, "mkman: diagnosis %s has no family\n", ed_diagnoses[f].id);
            return false;
        }
        if (family_seen_before(f))
            continue;
        if (!put_heading(out, family)) {
            fprintf(stderr, "mkman: family name '%s' cannot be a heading\n", family);
            return false;
        }
        fputs(".Bl -tag -width Ds\n", out);
        for (size_t i = f; i < ed_diagnosis_count; i++)
            if (strcmp(ed_diagnoses[i].family, family) == 0 && !put_diagnosis(out, &ed_diagnoses[i]))
                return false;
        fputs(".El\n", out);
    }
    return true;
}

static bool put_image_problems(FILE *out)
{
    fputs(".Bl -tag -width Ds\n", out);
    for (size_t i = 0; i < ED_IMAGE_P_COUNT; i++) {
        const struct ed_image_problem_rule *r = &ed_image_problem_rules[i];
        fputs(".It Sy ", out);
        if (!put_id(out, r->id)) {
            fprintf(stderr, "mkman: image problem id '%s' has characters ids may not have\n",
                    r->id ? r->id : "(null)");
            return false;
        }
        fprintf(out, " Pq %s\n", r->blocking ? "refused" : "warn");
        bool ok = put_text(out, r->summary, TEXT_PROSE);
        if (ok && r->remedy) {
            fputs(".Pp\nFix:\n", out);
            ok = put_text(out, r->remedy, TEXT_FIX);
        }
        if (!ok) {
            fprintf(stderr, "mkman: image problem %s: a word over %d bytes, or not "
                    "UTF-8\n", r->id, WORD_MAX);
            return false;
        }
    }
    fputs(".El\n", out);
    return true;
}

/* ---- the template ------------------------------------------------------------------------ */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "mkman: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(TEMPLATE_MAX + 1);
    size_t n = buf ? fread(buf, 1, TEMPLATE_MAX + 1, f) : 0;
    bool failed = !buf || ferror(f) || n > TEMPLATE_MAX;
    fclose(f);
    if (failed) {
        fprintf(stderr, "mkman: cannot read %s (unreadable, or larger than %d bytes)\n", path,
                TEMPLATE_MAX);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* "November 23, 2025": mdoc's .Dd form, in English whatever the locale. */
static bool page_date(char *out, size_t len)
{
    static const char *const months[] = {
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    };
    time_t when = time(NULL);
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    if (epoch && *epoch) {
        char *end;
        errno = 0;
        long long v = strtoll(epoch, &end, 10);
        if (errno || *end || v < 0) {
            fprintf(stderr, "mkman: SOURCE_DATE_EPOCH is not a number of seconds: '%s'\n", epoch);
            return false;
        }
        when = (time_t)v;
    }
    struct tm tm;
    if (!gmtime_r(&when, &tm))
        return false;
    snprintf(out, len, "%s %d, %d", months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
    return true;
}

/* Copy one template line, substituting the placeholders. */
static void put_line(FILE *out, const char *line, size_t len, const char *version,
                     const char *date)
{
    static const struct { const char *name; size_t len; } keys[] = {
        { "@VERSION@", 9 }, { "@DATE@", 6 },
    };
    const char *values[] = { version, date };
    size_t i = 0;
    while (i < len) {
        bool replaced = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (len - i >= keys[k].len && memcmp(line + i, keys[k].name, keys[k].len) == 0) {
                fputs(values[k], out);
                i += keys[k].len;
                replaced = true;
                break;
            }
        if (!replaced)
            fputc(line[i++], out);
    }
    fputc('\n', out);
}

/* The generated parts, each replacing one comment line of the template. */
static const struct {
    const char *line;
    bool (*put)(FILE *out);
} generated[] = {
    { ".\\\" @DIAGNOSTICS@", put_diagnoses },
    { ".\\\" @REFUSALS@", put_image_problems },
};
#define GENERATED_COUNT (sizeof generated / sizeof generated[0])

static bool write_page(FILE *out, const char *template, const char *version, const char *date)
{
    int seen[GENERATED_COUNT] = { 0 };
    for (const char *line = template; *line;) {
        size_t len = strcspn(line, "\n");
        size_t k = 0;
        while (k < GENERATED_COUNT &&
               !(len == strlen(generated[k].line) && memcmp(line, generated[k].line, len) == 0))
            k++;
        if (k < GENERATED_COUNT) {
            seen[k]++;
            if (!generated[k].put(out))
                return false;
        } else {
            put_line(out, line, len, version, date);
        }
        line += len + (line[len] == '\n');
    }
    bool ok = true;
    for (size_t k = 0; k < GENERATED_COUNT; k++)
        if (seen[k] != 1) {
            fprintf(stderr, "mkman: the template must have the line '%s' exactly once (found "
                    "%d)\n", generated[k].line, seen[k]);
            ok = false;
        }
    return ok;
}

int main(int argc, char **argv)
{
#ifdef ESPDOCTOR_VERSION
    const char *version = ESPDOCTOR_VERSION;
#else
    const char *version = NULL;
#endif
    if (argc == 4)
        version = argv[3];
    if (argc < 3 || argc > 4 || !version || !*version) {
        fprintf(stderr, "usage: mkman TEMPLATE OUTPUT [VERSION]\n");
        return 2;
    }
    const char *output = argv[2];
    char date[64];
    char *template = read_file(argv[1]);
    if (!template || !page_date(date, sizeof date)) {
        free(template);
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", output);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "mkman: cannot create %s: %s\n", tmp, strerror(errno));
        free(template);
        return 1;
    }
    bool ok = write_page(out, template, version, date);
    free(template);
    ok = !ferror(out) && ok;
    if (fclose(out) != 0)
        ok = false;
    if (ok && rename(tmp, output) != 0) {
        fprintf(stderr, "mkman: cannot rename %s to %s: %s\n", tmp, output, strerror(errno));
        ok = false;
    }
    if (!ok)
        unlink(tmp);
    return ok ? 0 : 1;
}
