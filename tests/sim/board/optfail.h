/* Reporting a bad espsim option: one formatted reason into the caller's buffer. */
#ifndef ESPSIM_OPTFAIL_H
#define ESPSIM_OPTFAIL_H

#include <stdbool.h>
#include <stddef.h>

/* Write the reason into err and return false, so parsers can `return sim_optfail(...)`. */
bool sim_optfail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
