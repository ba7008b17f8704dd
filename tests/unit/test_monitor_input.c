/* What the user types into the monitor: Enter as the chosen line end, the quit key, and
 * the terminal's raw mode (on a pty, restored afterwards). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/monitor_input.h"   /* the tests have no -Isrc */

static bool translate(enum ed_eol eol, const char *in, char *out, size_t *out_len)
{
    struct ed_mon_keys k = { .eol = eol };
    uint8_t buf[256];
    bool quit = ed_mon_keys_translate(&k, (const uint8_t *)in, strlen(in), buf, out_len);
    memcpy(out, buf, *out_len);
    out[*out_len] = '\0';
    return quit;
}

Test(monitor_input, eol_names)
{
    enum ed_eol e;
    cr_assert(ed_eol_parse("CR", &e) && e == ED_EOL_CR);
    cr_assert(ed_eol_parse("lf", &e) && e == ED_EOL_LF);
    cr_assert(ed_eol_parse("CrLf", &e) && e == ED_EOL_CRLF);
    cr_assert_not(ed_eol_parse("LFCR", &e));
    cr_assert_not(ed_eol_parse("", &e));
    cr_assert_not(ed_eol_parse(NULL, &e));
    cr_assert_str_eq(ed_eol_name(ED_EOL_CRLF), "CRLF");
}

Test(monitor_input, enter_becomes_the_chosen_line_end)
{
    char out[256];
    size_t n;
    cr_assert_not(translate(ED_EOL_CR, "print(1+1)\n", out, &n));
    cr_assert_str_eq(out, "print(1+1)\r");
    translate(ED_EOL_LF, "a\rb\n", out, &n);
    cr_assert_str_eq(out, "a\nb\n");
    translate(ED_EOL_CRLF, "a\rb\n", out, &n);
    cr_assert_str_eq(out, "a\r\nb\r\n");
    /* CR LF from a file is one Enter, not two; LF CR is two. */
    translate(ED_EOL_CR, "a\r\nb\r\n", out, &n);
    cr_assert_str_eq(out, "a\rb\r");
    translate(ED_EOL_CRLF, "\n\r", out, &n);
    cr_assert_str_eq(out, "\r\n\r\n");
    /* Control keys the REPL needs go through: Ctrl-C, Ctrl-D, Ctrl-E. */
    translate(ED_EOL_CR, "\x03\x04\x05", out, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(out, "\x03\x04\x05", 3), 0);
}

Test(monitor_input, cr_lf_split_across_reads_is_one_enter)
{
    struct ed_mon_keys k = { .eol = ED_EOL_CRLF };
    uint8_t out[8];
    size_t n;
    ed_mon_keys_translate(&k, (const uint8_t *)"x\r", 2, out, &n);
    cr_assert_eq(n, 3);
    ed_mon_keys_translate(&k, (const uint8_t *)"\ny", 2, out, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0], 'y');
}

Test(monitor_input, the_quit_key_ends_and_drops_what_follows)
{
    char out[256];
    size_t n;
    cr_assert(translate(ED_EOL_CR, "ab\x1dgone", out, &n));
    cr_assert_str_eq(out, "ab");
    cr_assert(translate(ED_EOL_CR, "\x1d", out, &n));
    cr_assert_eq(n, 0);
}

Test(monitor_input, raw_mode_on_a_terminal_and_back)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0);
    cr_assert(grantpt(master) == 0 && unlockpt(master) == 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    cr_assert_geq(slave, 0);
    struct termios before, during, after;
    cr_assert_eq(tcgetattr(slave, &before), 0);
    cr_assert(before.c_lflag & ICANON);
    struct ed_mon_tty t;
    cr_assert_eq(ed_mon_tty_raw(&t, slave), 0);
    cr_assert(t.raw);
    cr_assert_eq(tcgetattr(slave, &during), 0);
    cr_assert_not(during.c_lflag & (ICANON | ECHO | ISIG), "keys go as typed, Ctrl-C too");
    cr_assert_not(during.c_iflag & (ICRNL | IXON));
    cr_assert(during.c_oflag & OPOST && during.c_oflag & ONLCR);
    ed_mon_tty_restore(&t);
    cr_assert_not(t.raw);
    cr_assert_eq(tcgetattr(slave, &after), 0);
    cr_assert_eq(after.c_lflag, before.c_lflag);
    cr_assert_eq(after.c_iflag, before.c_iflag);
    ed_mon_tty_restore(&t);   /* twice: harmless */
    close(master);
    close(slave);
    /* Not a terminal: an error, nothing to restore. */
    int fd = open("/dev/null", O_RDONLY);
    cr_assert_neq(ed_mon_tty_raw(&t, fd), 0);
    cr_assert_not(t.raw);
    close(fd);
}
