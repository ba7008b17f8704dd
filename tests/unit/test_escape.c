/* Names in text output keep to their line (control characters escaped), and a bridge's
 * ceiling comes from its variant when its product string names one. */
#include <criterion/criterion.h>

#include <string.h>

#include "espdoctor/bridges.h"

#include "../../src/escape.h"   /* the tests have no -Isrc */

Test(escape, control_characters_are_escaped_and_the_rest_kept)
{
    char out[64];
    cr_assert_str_eq(ed_escape_name("a\nb.bin", out, sizeof out), "a\\nb.bin");
    cr_assert_str_eq(ed_escape_name("t\tr\r\x1b[2J\x7f", out, sizeof out),
                     "t\\tr\\r\\x1b[2J\\x7f");
    cr_assert_str_eq(ed_escape_name("Grüße firmware.bin", out, sizeof out),
                     "Grüße firmware.bin");
}

Test(escape, a_short_buffer_never_cuts_an_escape_in_half)
{
    char out[5];
    cr_assert_str_eq(ed_escape_name("ab\ncd", out, sizeof out), "ab\\n");
    cr_assert_str_eq(ed_escape_name("abc\n", out, sizeof out), "abc");
}

Test(escape, the_cp210x_ceiling_follows_the_part)
{
    const struct ed_bridge *b = ed_bridge_lookup(0x10c4, 0xea60);
    cr_assert_not_null(b);
    cr_assert_eq(ed_bridge_line_max(b, "CP2102 USB to UART Bridge Controller"), 1000000);
    cr_assert_eq(ed_bridge_line_max(b, "CP2102N USB to UART Bridge Controller"), 3000000);
    cr_assert_eq(ed_bridge_line_max(b, "CP2104 USB to UART Bridge Controller"), 2000000);
    /* An unknown product string: the highest of the parts behind the id. */
    cr_assert_eq(ed_bridge_line_max(b, ""), 3000000);
    cr_assert_eq(ed_bridge_line_max(ed_bridge_lookup(0x1a86, 0x7523), NULL), 2000000);
    cr_assert_eq(ed_bridge_line_max(NULL, NULL), 0);
}
