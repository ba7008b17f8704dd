/* Linked into every Criterion test binary.
 *
 * Criterion's runner process loses BoxFort's per-test timeout records (48 bytes each,
 * bxfi_push_timeout) when workers end in parallel (--jobs 2, tests with .timeout), and
 * LeakSanitizer then fails a binary whose tests all passed. The runner runs no test code:
 * each test runs in its own worker process, which starts fresh and keeps leak checking.
 * So allocations made by the runner after it starts are not tracked; the leak report of
 * every worker, and of every espdoctor and espsim a test starts, is untouched. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
    (void) tests;
    __lsan_disable();
}
#endif
