/* The command line is read by getopt_long alone: every legal short and long form of an
 * option works on either side of the command, an ambiguous prefix is a usage error, and
 * each command has a --help of its own. In-process, through ed_cli_parse. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/cli.h"

static struct ed_cli cli;
static struct ed_cli_parsed p;
static char *err_text, *out_text;
static size_t err_len, out_len;

static void setup(void)
{
    memset(&cli, 0, sizeof cli);
    cli.prog = "espdoctor";
    cli.err = open_memstream(&err_text, &err_len);
    cli.out = open_memstream(&out_text, &out_len);
    cli.out_width = cli.err_width = 80;
}

static void teardown(void)
{
    ed_cli_parsed_free(&p);
    fclose(cli.err);
    fclose(cli.out);
    free(err_text);
    free(out_text);
}

TestSuite(cli_parse, .init = setup, .fini = teardown);

/* Parse a NULL-terminated line (copied: getopt may reorder argv). */
static int parse(const char *const *line)
{
    static char *argv[32];
    int argc = 0;
    while (line[argc]) {
        argv[argc] = (char *)line[argc];
        argc++;
    }
    argv[argc] = NULL;
    ed_cli_parsed_free(&p);
    int rc = ed_cli_parse(&cli, argc, argv, &p);
    fflush(cli.err);
    return rc;
}

static void expect_info_on(const char *port)
{
    cr_assert_str_eq(p.name, "info", "stderr: %s", err_text);
    cr_assert_eq(p.argc, 0, "no arguments left over (first: %s)", p.argc ? p.argv[0] : "");
    cr_assert_not_null(cli.port);
    cr_assert_str_eq(cli.port, port);
}

Test(cli_parse, clustered_short_options_take_the_value_after_them)
{
    const char *line[] = { "espdoctor", "-vp", "/dev/ttyUSB3", "info", NULL };
    cr_assert_eq(parse(line), ED_EXIT_OK, "%s", err_text);
    expect_info_on("/dev/ttyUSB3");
    cr_assert_eq(cli.verbose, 1);
}

Test(cli_parse, an_unambiguous_prefix_of_a_long_option_is_that_option)
{
    const char *line[] = { "espdoctor", "--por", "/dev/ttyUSB3", "info", NULL };
    cr_assert_eq(parse(line), ED_EXIT_OK, "%s", err_text);
    expect_info_on("/dev/ttyUSB3");
}

Test(cli_parse, every_spelling_of_a_value)
{
    const char *joined[] = { "espdoctor", "-p/dev/ttyUSB4", "info", NULL };
    cr_assert_eq(parse(joined), ED_EXIT_OK, "%s", err_text);
    expect_info_on("/dev/ttyUSB4");
    const char *equals[] = { "espdoctor", "info", "--port=/dev/ttyUSB5", NULL };
    cr_assert_eq(parse(equals), ED_EXIT_OK, "%s", err_text);
    expect_info_on("/dev/ttyUSB5");
    const char *prefix_equals[] = { "espdoctor", "--po=/dev/ttyUSB6", "info", NULL };
    cr_assert_eq(parse(prefix_equals), ED_EXIT_OK, "%s", err_text);
    expect_info_on("/dev/ttyUSB6");
    const char *baud[] = { "espdoctor", "-qb460800", "erase", "-p", "/dev/ttyUSB7", NULL };
    cr_assert_eq(parse(baud), ED_EXIT_OK, "%s", err_text);
    cr_assert_str_eq(p.name, "erase", "stderr: %s", err_text);
    cr_assert_str_eq(cli.port, "/dev/ttyUSB7");
    cr_assert_eq(cli.baud, 460800u);
    cr_assert(cli.quiet);
}

Test(cli_parse, options_after_the_command_even_when_posixly_correct)
{
    setenv("POSIXLY_CORRECT", "1", 1);
    const char *line[] = { "espdoctor", "flash", "0x10000", "app.bin", "--force", "-p",
                           "/dev/ttyUSB0", NULL };
    cr_assert_eq(parse(line), ED_EXIT_OK, "%s", err_text);
    cr_assert_str_eq(p.name, "flash");
    cr_assert_eq(p.argc, 2);
    cr_assert_str_eq(p.argv[0], "0x10000");
    cr_assert_str_eq(p.argv[1], "app.bin");
    cr_assert(cli.force);
    cr_assert_str_eq(cli.port, "/dev/ttyUSB0");
}

Test(cli_parse, after_a_double_dash_a_dash_is_a_file_name)
{
    const char *line[] = { "espdoctor", "image", "--", "-odd.bin", NULL };
    cr_assert_eq(parse(line), ED_EXIT_OK, "%s", err_text);
    cr_assert_str_eq(p.name, "image");
    cr_assert_eq(p.argc, 1);
    cr_assert_str_eq(p.argv[0], "-odd.bin");
}

/* flash --all takes every -p, in order, in every spelling, and --ports FILE; --por is
 * still --port, not ambiguous with --ports (the options it fits all start "port"). */
Test(cli_parse, flash_all_takes_every_p_and_a_ports_file)
{
    const char *line[] = { "espdoctor", "flash", "--all", "-p", "/dev/ttyUSB0",
                           "--port=rfc2217://bench1:4000", "--por", "socket://bench2:4000",
                           "-psocket://bench3:4000", "--ports", "bench.ports", "fw.bin", NULL };
    cr_assert_eq(parse(line), ED_EXIT_OK, "%s", err_text);
    cr_assert_str_eq(p.name, "flash");
    cr_assert_eq(p.argc, 1);
    cr_assert_str_eq(p.argv[0], "fw.bin");
    cr_assert_eq(cli.port_count, 4);
    const char *want[] = { "/dev/ttyUSB0", "rfc2217://bench1:4000", "socket://bench2:4000",
                           "socket://bench3:4000" };
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(cli.ports[i], want[i]);
    cr_assert_str_eq(cli.ports_file, "bench.ports");
    /* A line parsed after it starts its own list. */
    const char *next[] = { "espdoctor", "info", "--po=/dev/ttyUSB1", NULL };
    cr_assert_eq(parse(next), ED_EXIT_OK, "%s", err_text);
    cr_assert_eq(cli.port_count, 1);
    cr_assert_str_eq(cli.ports[0], "/dev/ttyUSB1");
}

Test(cli_parse, several_p_and_ports_need_flash_all)
{
    const char *two[] = { "espdoctor", "flash", "-p", "/dev/ttyUSB0", "-p", "/dev/ttyUSB1",
                          "fw.bin", NULL };
    cr_assert_eq(parse(two), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "several -p are for 'flash --all'") != NULL, "%s", err_text);
    const char *file[] = { "espdoctor", "flash", "--ports", "bench.ports", "fw.bin", NULL };
    cr_assert_eq(parse(file), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "add --all") != NULL, "%s", err_text);
    const char *info[] = { "espdoctor", "info", "--ports", "bench.ports", NULL };
    cr_assert_eq(parse(info), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "'--ports' does not apply to 'info'") != NULL, "%s", err_text);
}

Test(cli_parse, a_shortened_port_without_its_value_names_it_as_typed)
{
    const char *line[] = { "espdoctor", "info", "--por", NULL };
    cr_assert_eq(parse(line), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "option '--por' needs a value") != NULL, "%s", err_text);
    const char *all[] = { "espdoctor", "flash", "--al=1", "fw.bin", NULL };
    cr_assert_eq(parse(all), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "'--al'") != NULL, "%s", err_text);
}

Test(cli_parse, an_ambiguous_prefix_is_a_usage_error_naming_the_candidates)
{
    const char *line[] = { "espdoctor", "flash", "--no", "fw.bin", NULL };
    cr_assert_eq(parse(line), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "'--no' is ambiguous") != NULL, "%s", err_text);
    cr_assert(strstr(err_text, "--no-skip") && strstr(err_text, "--no-stub") &&
              strstr(err_text, "--no-color"), "%s", err_text);
}

Test(cli_parse, json_after_a_mistake_still_makes_the_error_a_document)
{
    const char *line[] = { "espdoctor", "info", "--frobnicate", "--js", NULL };
    cr_assert_eq(parse(line), ED_EXIT_USAGE);
    cr_assert(cli.json, "--js (a prefix of --json) was read past the mistake");
    cr_assert(strstr(err_text, "unknown option '--frobnicate'") != NULL, "%s", err_text);
}

Test(cli_parse, a_missing_value_names_the_option_as_typed)
{
    const char *line[] = { "espdoctor", "info", "--port", NULL };
    cr_assert_eq(parse(line), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "option '--port' needs a value") != NULL, "%s", err_text);
}

Test(cli_parse, an_option_another_command_takes_is_refused)
{
    const char *line[] = { "espdoctor", "--region", "0x9000", "list", NULL };
    cr_assert_eq(parse(line), ED_EXIT_USAGE);
    cr_assert(strstr(err_text, "'--region' does not apply to 'list'") != NULL, "%s",
              err_text);
}

/* The command names `espdoctor --help` lists. */
static size_t help_commands(char names[][16], size_t max)
{
    FILE *f = cli.out;
    char *text = NULL;
    size_t len = 0;
    cli.out = open_memstream(&text, &len);
    ed_cli_print_help(&cli, cli.out, NULL);
    fclose(cli.out);
    cli.out = f;
    size_t n = 0;
    char *in = strstr(text, "Commands:\n");
    cr_assert_not_null(in, "%s", text);
    for (char *line = strtok(in + 10, "\n"); line && strncmp(line, "  ", 2) == 0 && n < max;
         line = strtok(NULL, "\n"))
        if (strspn(line, " ") == 2 && sscanf(line, " %15[a-z-]", names[n]) == 1)
            n++;
    free(text);
    return n;
}

static char *help_of(const char *command)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ed_cli_print_help(&cli, f, command);
    fclose(f);
    return text;
}

Test(cli_parse, every_command_has_its_own_help_within_80_columns)
{
    char names[16][16];
    size_t n = help_commands(names, 16);
    cr_assert_geq(n, 9u, "commands in --help: %zu", n);
    char *global = help_of(NULL);
    for (size_t i = 0; i < n; i++) {
        char *own = help_of(names[i]);
        cr_expect_str_neq(own, global, "'%s --help' is the global help", names[i]);
        char usage[64];
        snprintf(usage, sizeof usage, "espdoctor %s", names[i]);
        if (strcmp(names[i], "doctor") == 0)
            snprintf(usage, sizeof usage, "espdoctor [doctor]");
        cr_expect(strstr(own, usage) != NULL, "no synopsis in:\n%s", own);
        for (char *line = own; *line;) {
            size_t w = strcspn(line, "\n");
            cr_expect_leq(w, 80u, "%s --help: a line of %zu columns: %.*s", names[i], w,
                          (int)w, line);
            line += w + (line[w] == '\n');
        }
        free(own);
    }
    free(global);
}

Test(cli_parse, a_commands_help_lists_only_the_options_it_takes)
{
    char *list = help_of("list"), *erase = help_of("erase");
    cr_expect(strstr(list, "--region") == NULL, "%s", list);
    cr_expect(strstr(list, "--json") != NULL, "%s", list);
    cr_expect(strstr(erase, "--region") != NULL, "%s", erase);
    free(list);
    free(erase);
}

Test(cli_parse, help_after_the_command_asks_for_that_commands_help)
{
    const char *line[] = { "espdoctor", "--help", "flash", NULL };
    cr_assert_eq(parse(line), ED_EXIT_OK, "%s", err_text);
    cr_assert(p.help && p.named);
    cr_assert_str_eq(p.name, "flash");
    const char *global[] = { "espdoctor", "-h", NULL };
    cr_assert_eq(parse(global), ED_EXIT_OK, "%s", err_text);
    cr_assert(p.help && !p.named);
}
