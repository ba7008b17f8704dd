/* Compressing the files while the board is being connected: a thread fills the deflate
 * cache (deflate_best.c) for every region small enough to be compressed whole, so the
 * write finds its stream ready when it covers the whole region (a first flash, --no-skip).
 * pread leaves the descriptors' offsets alone, so the main thread may read them meanwhile.
 * The write waits for the thread first: the two never compress the same run at once. */
#include "espdoctor/deflate_warm.h"

#include <string.h>

#include "espdoctor/deflate_best.h"

static void *warm(void *arg)
{
    struct ed_deflate_warm *w = arg;
    for (size_t i = 0; i < w->count; i++) {
        struct ed_deflated d;
        if (ed_deflate_best(w->fds[i], 0, w->sizes[i], w->dir, &d) == 0) {
            w->made[i] = d.data && !d.from_cache;
            ed_deflated_free(&d);
        }
    }
    return NULL;
}

void ed_deflate_warm_start(struct ed_deflate_warm *w, const char *dir, const int *fds,
                           const uint32_t *sizes, size_t count)
{
    memset(w, 0, sizeof *w);
    if (!dir)
        return;
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    for (size_t i = 0; i < count && w->count < ED_DEFLATE_WARM_MAX; i++)
        if (fds[i] >= 0 && sizes[i] > 0 && sizes[i] <= ED_DEFLATE_WHOLE_MAX) {
            w->region[w->count] = i;
            w->fds[w->count] = fds[i];
            w->sizes[w->count++] = sizes[i];
        }
    /* Without a thread the write compresses as it always did: nothing is lost. */
    w->started = w->count > 0 && pthread_create(&w->thread, NULL, warm, w) == 0;
}

void ed_deflate_warm_wait(struct ed_deflate_warm *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = false;
}

bool ed_deflate_warm_made(const struct ed_deflate_warm *w, size_t region)
{
    for (size_t i = 0; i < w->count; i++)
        if (w->region[i] == region)
            return !w->started && w->made[i];
    return false;
}
