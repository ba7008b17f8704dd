/* SIGINT, SIGTERM and SIGHUP while a command works on a board: the handler only records which
 * signal came; the command's loops poll it and wind down, saying what was done. One module
 * for every command, so that a signal is never a silent exit. */
#ifndef ESPDOCTOR_INTERRUPT_H
#define ESPDOCTOR_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

/* Catch SIGINT, SIGTERM and SIGHUP (without SA_RESTART, so a blocking read returns EINTR). A
 * second signal while the first is being handled ends the process as that signal would
 * have: the way out when a command does not get round to looking. */
void ed_interrupt_install(void);

/* Put back what was there before ed_interrupt_install, and forget the signal. */
void ed_interrupt_restore(void);

/* The flag the handler sets (the signal's number, 0 while none came), for loops that
 * take a cancel pointer (struct ed_flash_opts). Process-wide by nature: a signal reaches
 * a process, not a board. */
const volatile sig_atomic_t *ed_interrupt_flag(void);

/* The signal that came (SIGINT, SIGTERM, SIGHUP), or 0. */
int ed_interrupted(void);

/* "SIGINT", "SIGTERM"; "a signal" for anything else. */
const char *ed_interrupt_name(int sig);

/* The exit status the shell gives a process ended by sig: 128 + sig (130, 143, 129). */
int ed_interrupt_exit_status(int sig);

#endif
