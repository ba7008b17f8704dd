/* espsim's state (board, host, pty queues) is touched from two threads: the GLib main loop
 * (timers, the pty master, RFC 2217) and umockdev's worker thread, which emits the ioctl
 * handler's "handle-ioctl", "handle-read", "handle-write" and "client-connected" signals.
 * Unserialised, a DTR change arriving while the main loop flushes output corrupted the
 * output queue (memcpy crash in flush_out). One recursive lock serialises them: the main
 * loop holds it except while it waits in poll(), so a handler runs only between two
 * dispatches. It guards the process's one default main context, so it is one per process. */
#include "loop_lock.h"

#include <glib.h>

static GRecMutex loop_lock;

static gint poll_unlocked(GPollFD *fds, guint nfds, gint timeout_ms)
{
    g_rec_mutex_unlock(&loop_lock);
    gint n = g_poll(fds, nfds, timeout_ms);
    g_rec_mutex_lock(&loop_lock);
    return n;
}

void sim_loop_lock_install(void)
{
    g_rec_mutex_lock(&loop_lock);
    g_main_context_set_poll_func(g_main_context_default(), poll_unlocked);
}

void sim_loop_lock_release(void)
{
    g_main_context_set_poll_func(g_main_context_default(), g_poll);
    g_rec_mutex_unlock(&loop_lock);
}

void sim_loop_enter(void)
{
    g_rec_mutex_lock(&loop_lock);
}

void sim_loop_leave(void)
{
    g_rec_mutex_unlock(&loop_lock);
}
