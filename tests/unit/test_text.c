/* Text for people and for shells: words quoted for pasting, paragraphs wrapped at spaces
 * only (a command or a path is never broken), the width taken from the terminal or
 * $COLUMNS, links followed without realpath(), and the diagnosis table's sentences. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espdoctor/findings.h"
#include "espdoctor/image.h"
#include "espdoctor/pathlink.h"
#include "espdoctor/shell.h"

#include "../../src/wrap.h"   /* the tests have no -Isrc */

Test(text, shell_words_are_quoted_only_when_needed)
{
    char out[256];
    cr_assert_str_eq(ed_shell_quote("/dev/ttyUSB0", out, sizeof out), "/dev/ttyUSB0");
    cr_assert_str_eq(ed_shell_quote("/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0",
                                    out, sizeof out),
                     "/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0");
    cr_assert_str_eq(ed_shell_quote("my firmware.bin", out, sizeof out), "'my firmware.bin'");
    cr_assert_str_eq(ed_shell_quote("it's.bin", out, sizeof out), "'it'\\''s.bin'");
    cr_assert_str_eq(ed_shell_quote("$(reboot)", out, sizeof out), "'$(reboot)'");
    cr_assert_str_eq(ed_shell_quote("", out, sizeof out), "''");
    /* Too long for the buffer: an empty word, never a cut-off one. */
    char tiny[8];
    cr_assert_str_eq(ed_shell_quote("a path with spaces", tiny, sizeof tiny), "''");
}

/* Wrap text into a memory stream and return it (free it). */
static char *wrapped(unsigned width, const char *first, const char *indent, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    ed_wrap(f, width, first, indent, text);
    fclose(f);
    return buf;
}

Test(text, wrapping_breaks_at_spaces_and_keeps_long_words_whole)
{
    char *s = wrapped(20, "  fix: ", "      ", "one two three four five six seven");
    cr_assert_str_eq(s, "  fix: one two three\n      four five six\n      seven\n");
    free(s);
    const char *url = "https://micropython.org/download/ESP8266_GENERIC/";
    char text[200];
    snprintf(text, sizeof text, "Download it from %s, then flash it.", url);
    s = wrapped(40, "", "  ", text);
    char line[120];
    snprintf(line, sizeof line, "\n  %s,\n", url);   /* wider than the line: alone */
    cr_assert_not_null(strstr(s, line), "the URL was broken or not alone:\n%s", s);
    free(s);
    /* The text's own line breaks stay, each continued with the indent. */
    s = wrapped(80, "    ", "    ", "first line\nsecond line");
    cr_assert_str_eq(s, "    first line\n    second line\n");
    free(s);
}

Test(text, columns_count_characters_not_bytes_or_colour)
{
    cr_assert_eq(ed_text_columns("\u2713 ok", strlen("\u2713 ok")), 4);
    const char *coloured = "\033[31;1mred\033[0m";
    cr_assert_eq(ed_text_columns(coloured, strlen(coloured)), 3);
}

Test(text, width_comes_from_columns_when_not_a_terminal)
{
    int fd = fileno(tmpfile());
    setenv("COLUMNS", "120", 1);
    cr_assert_eq(ed_term_width(fd), 120);
    setenv("COLUMNS", "junk", 1);
    cr_assert_eq(ed_term_width(fd), ED_WRAP_DEFAULT_WIDTH);
    unsetenv("COLUMNS");
    cr_assert_eq(ed_term_width(fd), 80);
    setenv("COLUMNS", "10", 1);
    cr_assert_eq(ed_term_width(fd), ED_WRAP_MIN_WIDTH);
    unsetenv("COLUMNS");
}

Test(text, links_are_followed_by_hand)
{
    char dir[] = "/tmp/espdoctor-links-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char node[128], byid[128], link[160], two[160], out[256];
    snprintf(node, sizeof node, "%s/ttyUSB0", dir);
    snprintf(byid, sizeof byid, "%s/serial/by-id", dir);
    FILE *f = fopen(node, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(out, sizeof out, "%s/serial", dir);
    cr_assert_eq(mkdir(out, 0755), 0);
    cr_assert_eq(mkdir(byid, 0755), 0);
    snprintf(link, sizeof link, "%s/usb-x-if00-port0", byid);
    cr_assert_eq(symlink("../../ttyUSB0", link), 0);
    snprintf(two, sizeof two, "%s/again", byid);
    cr_assert_eq(symlink(link, two), 0);
    cr_assert(ed_path_follow_links(link, out, sizeof out));
    cr_assert_str_eq(out, node);
    cr_assert(ed_path_follow_links(two, out, sizeof out), "a link to a link");
    cr_assert_str_eq(out, node);
    cr_assert(ed_path_follow_links(node, out, sizeof out), "no link: the path itself");
    cr_assert_str_eq(out, node);
    char loop[160];
    snprintf(loop, sizeof loop, "%s/loop", dir);
    cr_assert_eq(symlink(loop, loop), 0);
    cr_assert_not(ed_path_follow_links(loop, out, sizeof out), "a link to itself");
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static bool ends_a_sentence(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    return n > 0 && strchr(".!?", text[n - 1]) != NULL;
}

/* Every sentence ends: the man page and the fixes are made of these. */
Test(text, the_diagnosis_table_speaks_in_sentences)
{
    for (size_t i = 0; i < ed_diagnosis_count; i++) {
        const struct ed_diagnosis *d = &ed_diagnoses[i];
        cr_expect(ends_a_sentence(d->meaning), "%s: meaning \"%s\"", d->id, d->meaning);
        if (d->severity >= ED_SEV_WARN)
            cr_expect(ends_a_sentence(d->fix), "%s: fix \"%s\"", d->id,
                      d->fix ? d->fix : "(none)");
    }
    for (size_t i = 0; i < ED_IMAGE_P_COUNT; i++) {
        const struct ed_image_problem_rule *r = &ed_image_problem_rules[i];
        cr_expect(ends_a_sentence(r->summary), "%s: \"%s\"", r->id, r->summary);
        cr_expect(ends_a_sentence(r->remedy), "%s: \"%s\"", r->id, r->remedy);
    }
}
