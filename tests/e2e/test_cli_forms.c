/* The command line as a user types it, through the real binary against espsim: the
 * forms getopt_long allows for a port (clustered, abbreviated, joined) reach the board,
 * and `espdoctor COMMAND --help` is that command's own help. */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e_run.h"

static struct e2e_result r;

/* espsim --fast -- espdoctor WORDS... */
static void run_on_board(const char *const *words)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--fast";
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; words[i]; i++)
        argv[n++] = words[i];
    argv[n] = NULL;
    e2e_run(&r, argv, 30);
}

static void expect_identified(void)
{
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = e2e_json_doc(r.out), *chip;
    cr_assert_not_null(o, "%s", r.out);
    cr_assert(json_object_object_get_ex(o, "chip", &chip) && chip, "%s", r.out);
    cr_assert_str_eq(json_object_get_string(chip), "ESP32");
    json_object_put(o);
}

Test(cli_forms, clustered_verbose_and_port_before_the_command)
{
    const char *words[] = { "-vp", "/dev/ttyUSB0", "info", "--json", NULL };
    run_on_board(words);
    expect_identified();
}

Test(cli_forms, abbreviated_long_option_before_the_command)
{
    const char *words[] = { "--por", "/dev/ttyUSB0", "info", "--json", NULL };
    run_on_board(words);
    expect_identified();
}

Test(cli_forms, joined_value_after_the_command)
{
    const char *words[] = { "info", "-p/dev/ttyUSB0", "--js", NULL };
    run_on_board(words);
    expect_identified();
}

Test(cli_forms, ambiguous_prefix_is_a_usage_error_and_touches_no_board)
{
    const char *words[] = { "--no", "-p", "/dev/ttyUSB0", "info", "--json", NULL };
    run_on_board(words);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "ambiguous") != NULL, "the JSON error says why: %s", r.out);
}

static void help_of(const char *command, struct e2e_result *out)
{
    const char *argv[] = { e2e_bin("espdoctor"), command ? command : "--help",
                           command ? "--help" : NULL, NULL };
    e2e_run(out, argv, 10);
    cr_assert_eq(out->status, 0, "%s --help: exit %d: %s", command ? command : "",
                 out->status, out->err);
}

Test(cli_forms, flash_help_differs_from_the_global_help)
{
    static struct e2e_result global, flash;
    help_of(NULL, &global);
    help_of("flash", &flash);
    cr_assert_str_neq(flash.out, global.out);
    cr_assert(strstr(flash.out, "usage: espdoctor flash [OPTIONS] [ADDR] FILE") != NULL,
              "%s", flash.out);
    cr_assert(strstr(flash.out, "--erase-all") != NULL, "%s", flash.out);
    cr_assert(strstr(flash.out, "--dry-run") == NULL, "a udev option: %s", flash.out);
}
