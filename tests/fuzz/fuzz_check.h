/* What the harnesses use to state a property of the code under test: when it does not
 * hold, say which one and where, then abort, which libFuzzer reports like a crash and
 * keeps the input for. */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static inline void fuzz_check_failed(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: does not hold: %s\n", file, line, what);
    abort();
}

#define require(cond) ((cond) ? (void)0 : fuzz_check_failed(#cond, __FILE__, __LINE__))

#endif
