/* espsim's fault options (--seed, --line-errors, --stall, --unplug-at, ...): their table,
 * their help text and their parsing into struct sim_faults, kept apart from options.c so
 * that the fault matrix's knobs live in one place and can be unit tested. */
#ifndef ESPSIM_FAULT_SPEC_H
#define ESPSIM_FAULT_SPEC_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "board/board.h"

/* Option ids, clear of the front end's own. */
enum {
    SIM_OPT_SEED = 0x1000,
    SIM_OPT_LINE_ERRORS,
    SIM_OPT_DROP_RATE,
    SIM_OPT_CORRUPT_RATE,
    SIM_OPT_STALL,
    SIM_OPT_UNPLUG_AT,
    SIM_OPT_BROWNOUT_AT,
    SIM_OPT_BAD_SECTOR,
    SIM_OPT_WRONG_SPEED,
    SIM_OPT_FAULT_END,
};

/* Entries for a getopt_long table. */
#define SIM_FAULT_LONG_OPTIONS                                              \
    { "seed", required_argument, NULL, SIM_OPT_SEED },                       \
    { "line-errors", required_argument, NULL, SIM_OPT_LINE_ERRORS },         \
    { "drop-rate", required_argument, NULL, SIM_OPT_DROP_RATE },             \
    { "corrupt-rate", required_argument, NULL, SIM_OPT_CORRUPT_RATE },       \
    { "stall", required_argument, NULL, SIM_OPT_STALL },                     \
    { "unplug-at", required_argument, NULL, SIM_OPT_UNPLUG_AT },             \
    { "brownout-at", required_argument, NULL, SIM_OPT_BROWNOUT_AT },         \
    { "bad-sector", required_argument, NULL, SIM_OPT_BAD_SECTOR },           \
    { "wrong-speed", required_argument, NULL, SIM_OPT_WRONG_SPEED }

/* Without a replug time the cable goes back in after this long. */
#define SIM_DEFAULT_REPLUG_MS 1000u

static inline bool sim_fault_option(int id)
{
    return id >= SIM_OPT_SEED && id < SIM_OPT_FAULT_END;
}

/* Parse one fault option into f; false with a one-paragraph reason in err. */
bool sim_fault_parse(int id, const char *arg, struct sim_faults *f, char *err,
                     size_t errlen);

/* The "Faults:" section of espsim --help. */
void sim_fault_usage(FILE *out);

#endif
