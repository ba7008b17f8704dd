/* espsim's MicroPython REPL model (tests/sim/board/repl.c): what it prints for a typed
 * line, against what MicroPython prints (its tests/cmdline/repl_*.py.exp). */
#include <criterion/criterion.h>
#include <string.h>

#include "board/repl.h"

static const char *ran(const char *line)
{
    static char out[1024];
    repl_eval(line, strlen(line), out, sizeof out);
    return out;
}

#define TRACEBACK "Traceback (most recent call last):\r\n"
#define IN_MODULE "  File \"<stdin>\", line 1, in <module>\r\n"
#define SYNTAX TRACEBACK "  File \"<stdin>\", line 1\r\nSyntaxError: invalid syntax\r\n"

Test(repl, print_writes_the_value_and_a_bare_expression_echoes_its_repr)
{
    cr_assert_str_eq(ran("print(1+1)"), "2\r\n");
    cr_assert_str_eq(ran("1 + 2 + 3"), "6\r\n");
    cr_assert_str_eq(ran("print('hi', 2, None, True)"), "hi 2 None True\r\n");
    cr_assert_str_eq(ran("print()"), "\r\n");
    cr_assert_str_eq(ran("'abc'"), "'abc'\r\n");
    cr_assert_str_eq(ran("\"it's\""), "\"it's\"\r\n");
    cr_assert_str_eq(ran("'a\\nb'"), "'a\\nb'\r\n");
    cr_assert_str_eq(ran("None"), "", "None is not echoed");
    cr_assert_str_eq(ran("print"), "<function>\r\n");
    cr_assert_str_eq(ran(""), "");
    cr_assert_str_eq(ran("   "), "");
    cr_assert_str_eq(ran("# a comment"), "");
}

Test(repl, integer_arithmetic_has_pythons_precedence_and_floor_semantics)
{
    cr_assert_str_eq(ran("2 + 3 * 4"), "14\r\n");
    cr_assert_str_eq(ran("(2 + 3) * 4"), "20\r\n");
    cr_assert_str_eq(ran("10 - 2 - 3"), "5\r\n", "left to right");
    cr_assert_str_eq(ran("7 // 2"), "3\r\n");
    cr_assert_str_eq(ran("-7 // 2"), "-4\r\n", "floors, not truncates");
    cr_assert_str_eq(ran("7 // -2"), "-4\r\n");
    cr_assert_str_eq(ran("-7 % 3"), "2\r\n", "the sign of the divisor");
    cr_assert_str_eq(ran("7 % -3"), "-2\r\n");
    cr_assert_str_eq(ran("2 * -3"), "-6\r\n");
    cr_assert_str_eq(ran("- - 5"), "5\r\n");
    cr_assert_str_eq(ran("0x10 + 0o10 + 0b10"), "26\r\n");
    cr_assert_str_eq(ran("print(100 // 7 % 4, 3 - -1)"), "2 4\r\n");
    cr_assert_str_eq(ran("True + 1"), "2\r\n");
    cr_assert_str_eq(ran("'ab' * 3"), "'ababab'\r\n");
    cr_assert_str_eq(ran("'a' + 'b'"), "'ab'\r\n");
}

Test(repl, errors_are_micropythons_tracebacks)
{
    cr_assert_str_eq(ran("foo"), TRACEBACK IN_MODULE "NameError: name 'foo' isn't defined\r\n");
    cr_assert_str_eq(ran("print(x + 1)"),
                     TRACEBACK IN_MODULE "NameError: name 'x' isn't defined\r\n");
    cr_assert_str_eq(ran("machine.reset()"),
                     TRACEBACK IN_MODULE "NameError: name 'machine' isn't defined\r\n",
                     "nothing is imported at a fresh prompt");
    cr_assert_str_eq(ran("machine."), SYNTAX);
    cr_assert_str_eq(ran("reset()"),
                     TRACEBACK IN_MODULE "NameError: name 'reset' isn't defined\r\n");
    cr_assert_str_eq(ran("1 // 0"), TRACEBACK IN_MODULE "ZeroDivisionError: divide by zero\r\n");
    cr_assert_str_eq(ran("5 % 0"), TRACEBACK IN_MODULE "ZeroDivisionError: divide by zero\r\n");
    cr_assert_str_eq(ran("1 + 'a'"), TRACEBACK IN_MODULE
                     "TypeError: unsupported types for __add__: 'int', 'str'\r\n");
    cr_assert_str_eq(ran("1 +"), SYNTAX);
    cr_assert_str_eq(ran("print(1"), SYNTAX);
    cr_assert_str_eq(ran("(1 + 2"), SYNTAX);
    cr_assert_str_eq(ran("1 2"), SYNTAX);
    cr_assert_str_eq(ran("'open"), SYNTAX);
    cr_assert_str_eq(ran("007"), SYNTAX, "Python 3 has no octal without 0o");
    cr_assert_str_eq(ran(" 1"), TRACEBACK "  File \"<stdin>\", line 1\r\n"
                     "SyntaxError: unexpected indent\r\n");
}

/* Python compiles the line first: a syntax error prints nothing else, while a runtime
 * error comes after what print() already wrote. */
Test(repl, a_syntax_error_runs_nothing_a_runtime_error_comes_after_the_output)
{
    cr_assert_str_eq(ran("print(1) + ("), SYNTAX);
    cr_assert_str_eq(ran("print(1) + 1"), "1\r\n" TRACEBACK IN_MODULE
                     "TypeError: unsupported types for __add__: 'NoneType', 'int'\r\n");
}

/* MicroPython's integers grow without bound; the model's stop at 64 bits and says so
 * rather than print a wrong number. */
Test(repl, beyond_64_bits_the_model_says_so)
{
    cr_assert_str_eq(ran("9223372036854775807"), "9223372036854775807\r\n");
    const char *over = TRACEBACK IN_MODULE
                       "OverflowError: espsim's REPL model stops at 64-bit values\r\n";
    cr_assert_str_eq(ran("9223372036854775807 + 1"), over);
    cr_assert_str_eq(ran("99999999999999999999"), over);
    cr_assert_str_eq(ran("3037000500 * 3037000500"), over);
}

Test(repl, output_is_cut_to_fit)
{
    char out[8];
    size_t n = repl_eval("print('abcdefghijkl')", 21, out, sizeof out);
    cr_assert_lt(n, sizeof out);
    cr_assert_eq(strlen(out), n);
    cr_assert_eq(strncmp(out, "abcdefg", n), 0, "%s", out);
}
