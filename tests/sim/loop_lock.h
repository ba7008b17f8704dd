/* One lock between espsim's two threads (see loop_lock.c). */
#ifndef ESPSIM_LOOP_LOCK_H
#define ESPSIM_LOOP_LOCK_H

/* From the main thread, just before g_main_loop_run(): the main loop holds the lock from now
 * on, except while it waits in poll(). */
void sim_loop_lock_install(void);
/* From the main thread, once g_main_loop_run() has returned: give the lock up for good. */
void sim_loop_lock_release(void);

/* Around each umockdev handler (they run on umockdev's worker thread). */
void sim_loop_enter(void);
void sim_loop_leave(void);

#endif
