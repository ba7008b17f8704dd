/* Port selection without udev: what -p means, which ports of a hand-made list match
 * VID:PID and serial=, and the numbered choice read from a stream. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../src/portsel.h"   /* the tests have no -Isrc */
#include "espdoctor/bridges.h"

static struct ed_port items[5];
static struct ed_port_list list = { items, 5 };

static void add(size_t i, const char *devnode, uint16_t vid, uint16_t pid, const char *serial)
{
    memset(&items[i], 0, sizeof items[i]);
    snprintf(items[i].devnode, sizeof items[i].devnode, "%s", devnode);
    items[i].vid = vid;
    items[i].pid = pid;
    snprintf(items[i].serial, sizeof items[i].serial, "%s", serial);
    items[i].bridge = ed_bridge_lookup(vid, pid);
}

static void setup(void)
{
    add(0, "/dev/ttyUSB0", 0x10c4, 0xea60, "0001");
    add(1, "/dev/ttyUSB1", 0x10c4, 0xea60, "0002");
    add(2, "/dev/ttyUSB2", 0x1a86, 0x7523, "");
    add(3, "", 0x0403, 0x6001, "A50285BI");            /* no driver: no tty */
    add(4, "/dev/ttyACM0", 0x303a, 0x1001, "34:85:18:5E:00:01");
}

TestSuite(portsel, .init = setup);

Test(portsel, what_a_port_argument_means)
{
    struct ed_port_spec s;
    ed_port_spec_parse("/dev/ttyUSB0", &s);
    cr_assert_eq(s.kind, ED_SPEC_PATH);
    ed_port_spec_parse("/dev/serial/by-id/usb-Silicon_Labs_CP2102_0001-if00-port0", &s);
    cr_assert_eq(s.kind, ED_SPEC_PATH);
    ed_port_spec_parse("10c4:ea60", &s);
    cr_assert_eq(s.kind, ED_SPEC_USB_ID);
    cr_assert_eq(s.vid, 0x10c4);
    cr_assert_eq(s.pid, 0xea60);
    ed_port_spec_parse("303A:1001", &s);
    cr_assert_eq(s.kind, ED_SPEC_USB_ID);
    cr_assert_eq(s.vid, 0x303a);
    ed_port_spec_parse("serial=A50285BI", &s);
    cr_assert_eq(s.kind, ED_SPEC_SERIAL);
    cr_assert_str_eq(s.serial, "A50285BI");
    ed_port_spec_parse("rfc2217://localhost:4000", &s);
    cr_assert_eq(s.kind, ED_SPEC_URL);
    ed_port_spec_parse("tcp://localhost:4000", &s);
    cr_assert_eq(s.kind, ED_SPEC_URL, "an unknown scheme is still a URL (and an error later)");
    /* near misses stay paths, so the user hears "does not exist" */
    const char *paths[] = { "10c4:ea60x", "10c4:", ":ea60", "10c45:ea60", "g0c4:ea60",
                            "10c4:ea60:1" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ed_port_spec_parse(paths[i], &s);
        cr_assert_eq(s.kind, ED_SPEC_PATH, "%s", paths[i]);
    }
}

static size_t match(const char *text, bool with_tty, size_t *idx, size_t cap)
{
    struct ed_port_spec s;
    ed_port_spec_parse(text, &s);
    return ed_ports_match(&list, &s, with_tty, idx, cap);
}

Test(portsel, vid_pid_matches_every_port_of_that_bridge)
{
    size_t idx[4];
    cr_assert_eq(match("10c4:ea60", true, idx, 4), 2);
    cr_assert_eq(idx[0], 0);
    cr_assert_eq(idx[1], 1);
    cr_assert_eq(match("1a86:7523", true, idx, 4), 1);
    cr_assert_eq(idx[0], 2);
    cr_assert_eq(match("303a:1001", true, idx, 4), 1);
    cr_assert_eq(idx[0], 4);
    cr_assert_eq(match("dead:beef", true, idx, 4), 0);
    cr_assert_eq(match("10c4:ea60", true, idx, 1), 2, "the count goes past cap");
    cr_assert_eq(idx[0], 0);
}

Test(portsel, a_match_without_a_tty_only_counts_when_asked)
{
    size_t idx[4];
    cr_assert_eq(match("0403:6001", true, idx, 4), 0);
    cr_assert_eq(match("0403:6001", false, idx, 4), 1);
    cr_assert_eq(idx[0], 3);
    cr_assert_eq(match("serial=A50285BI", true, idx, 4), 0);
    cr_assert_eq(match("serial=A50285BI", false, idx, 4), 1);
}

Test(portsel, serial_numbers_match_exactly)
{
    size_t idx[4];
    cr_assert_eq(match("serial=0002", true, idx, 4), 1);
    cr_assert_eq(idx[0], 1);
    cr_assert_eq(match("serial=34:85:18:5E:00:01", true, idx, 4), 1);
    cr_assert_eq(idx[0], 4);
    cr_assert_eq(match("serial=000", true, idx, 4), 0, "no prefix matching");
    cr_assert_eq(match("serial=", false, idx, 4), 0, "an empty serial matches nothing");
    cr_assert_eq(match("/dev/ttyUSB0", false, idx, 4), 0, "paths are not matched here");
}

/* ed_port_pick with `answer` typed; returns the choice and leaves what it printed in shown. */
static int pick(const char *answer, size_t n, char *shown, size_t shown_len)
{
    static const size_t idx[] = { 0, 1, 4 };
    FILE *in = fmemopen((void *)answer, strlen(answer), "r");
    FILE *err = fmemopen(shown, shown_len, "w");
    cr_assert(in && err);
    int at = ed_port_pick(in, err, items, idx, n);
    fclose(in);
    fclose(err);
    return at;
}

Test(portsel, the_numbered_choice)
{
    char shown[1024];
    cr_assert_eq(pick("2\n", 3, shown, sizeof shown), 1);
    cr_assert(strstr(shown, "1) /dev/ttyUSB0") != NULL, "%s", shown);
    cr_assert(strstr(shown, "2) /dev/ttyUSB1") != NULL, "%s", shown);
    cr_assert(strstr(shown, "3) /dev/ttyACM0") != NULL, "%s", shown);
    cr_assert(strstr(shown, "10c4:ea60") != NULL, "%s", shown);
    cr_assert(strstr(shown, "serial 0002") != NULL, "%s", shown);
    cr_assert(strstr(shown, "[1-3, Enter cancels]") != NULL, "%s", shown);
    cr_assert_eq(pick(" 3 \r\n", 3, shown, sizeof shown), 2);
    cr_assert_eq(pick("1", 3, shown, sizeof shown), 0, "no newline before end of input");
}

Test(portsel, an_empty_answer_or_the_end_of_input_cancels)
{
    char shown[1024];
    const char *answers[] = { "\n", "", "  \n" };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        cr_assert_eq(pick(answers[i], 3, shown, sizeof shown), -1, "'%s'", answers[i]);
}

/* A wrong number is not the end: it is said to be wrong, and the question comes again. */
Test(portsel, a_wrong_answer_asks_again)
{
    char shown[4096];
    const char *wrong[] = { "0", "4", "-1", "x", "1x", "2 3", "99999999999999999999", "+2" };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        char answers[64];
        snprintf(answers, sizeof answers, "%s\n2\n", wrong[i]);
        cr_assert_eq(pick(answers, 3, shown, sizeof shown), 1, "'%s' then 2", wrong[i]);
        char said[96];
        snprintf(said, sizeof said, "'%s' is not one of the numbers 1 to 3.", wrong[i]);
        cr_assert(strstr(shown, said) != NULL, "%s", shown);
        const char *first = strstr(shown, "Which one?");
        cr_assert(first && strstr(first + 1, "Which one?"), "asked once only:\n%s", shown);
    }
    /* A line far longer than a number is one wrong answer, not several. */
    char longline[300];
    memset(longline, '7', 200);
    snprintf(longline + 200, sizeof longline - 200, "\n3\n");
    cr_assert_eq(pick(longline, 3, shown, sizeof shown), 2);
    /* Wrong every time: it gives up after a few tries, and nothing is chosen. */
    cr_assert_eq(pick("9\n9\n9\n9\n9\n9\n9\n", 3, shown, sizeof shown), -1);
    /* Wrong, then nothing more: cancelled. */
    cr_assert_eq(pick("9\n", 3, shown, sizeof shown), -1);
}
