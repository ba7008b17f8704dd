/* Fuzz the command line's number parsers (src/cli.c): sizes and addresses
 * (ed_cli_parse_size: flash ADDR FILE, read ADDR SIZE, erase --region), --baud
 * (ed_cli_parse_baud) and --timeout (ed_cli_parse_seconds), and --eol's names.
 *
 * The input is up to eight arguments separated by NUL bytes, each given to every parser.
 * Properties: what a parser accepts is within its range, starts the way the manual says
 * (a digit; no sign, no blank, no C octal), and reads back the same when printed in the
 * forms the manual lists (0x hex, decimal, K and M suffixes); what it refuses leaves the
 * output untouched. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "monitor_input.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 8
#define UNTOUCHED 0xA5A5A5A5u

static void check_size(const char *arg)
{
    uint32_t v = UNTOUCHED;
    if (!ed_cli_parse_size(arg, &v)) {
        require(v == UNTOUCHED);
        return;
    }
    require(isdigit((unsigned char)arg[0]));
    require(!(arg[0] == '0' && isdigit((unsigned char)arg[1])));
    char text[32];
    uint32_t again = 0;
    snprintf(text, sizeof text, "0x%x", (unsigned)v);
    require(ed_cli_parse_size(text, &again) && again == v);
    snprintf(text, sizeof text, "%u", (unsigned)v);
    require(ed_cli_parse_size(text, &again) && again == v);
    if (v % 1024 == 0 && v) {
        snprintf(text, sizeof text, "%uK", (unsigned)(v / 1024));
        require(ed_cli_parse_size(text, &again) && again == v);
    }
    if (v % (1024 * 1024) == 0 && v) {
        snprintf(text, sizeof text, "%uMB", (unsigned)(v / (1024 * 1024)));
        require(ed_cli_parse_size(text, &again) && again == v);
    }
}

static void check_baud(const char *arg)
{
    uint32_t v = UNTOUCHED;
    if (!ed_cli_parse_baud(arg, &v)) {
        require(v == UNTOUCHED);
        return;
    }
    require(v >= 300 && v <= 12000000);
    char text[16];
    snprintf(text, sizeof text, "%u", (unsigned)v);
    uint32_t again = 0;
    require(ed_cli_parse_baud(text, &again) && again == v);
}

static void check_seconds(const char *arg)
{
    unsigned ms = UNTOUCHED;
    if (!ed_cli_parse_seconds(arg, &ms)) {
        require(ms == UNTOUCHED);
        return;
    }
    require(ms >= 1 && ms <= 86400u * 1000u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    require(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *arg = copy;
    for (int i = 0; i < MAX_ARGS && arg <= copy + size; i++) {
        check_size(arg);
        check_baud(arg);
        check_seconds(arg);
        enum ed_eol eol;
        (void)ed_eol_parse(arg, &eol);
        arg += strlen(arg) + 1;
    }
    free(copy);
    return 0;
}
