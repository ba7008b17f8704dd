/* SIGINT and SIGTERM as a flag the command polls (see espdoctor/interrupt.h). */
#include "espdoctor/interrupt.h"

#include <string.h>

static volatile sig_atomic_t caught;

static const int handled[] = { SIGINT, SIGTERM, SIGHUP };   /* SIGHUP: the terminal went */
#define HANDLED_COUNT (sizeof handled / sizeof handled[0])

static struct sigaction previous[HANDLED_COUNT];
static bool installed;

static void on_signal(int sig)
{
    if (caught) {
        /* Asked twice: the command is not listening; end as the signal would. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    caught = sig;
}

void ed_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;   /* no SA_RESTART: a read in progress returns, its caller looks */
    caught = 0;
    for (size_t i = 0; i < HANDLED_COUNT; i++)
        sigaction(handled[i], &sa, installed ? NULL : &previous[i]);
    installed = true;
}

void ed_interrupt_restore(void)
{
    if (installed)
        for (size_t i = 0; i < HANDLED_COUNT; i++)
            sigaction(handled[i], &previous[i], NULL);
    installed = false;
    caught = 0;
}

const volatile sig_atomic_t *ed_interrupt_flag(void)
{
    return &caught;
}

int ed_interrupted(void)
{
    return caught;
}

const char *ed_interrupt_name(int sig)
{
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    }
    return "a signal";
}

int ed_interrupt_exit_status(int sig)
{
    return 128 + (sig > 0 ? sig : SIGINT);
}
