/* Filling the deflate cache in a thread while the board connects (deflate_warm.c). */
#ifndef ESPDOCTOR_DEFLATE_WARM_H
#define ESPDOCTOR_DEFLATE_WARM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ED_DEFLATE_WARM_MAX 16

struct ed_deflate_warm {
    pthread_t thread;
    bool started;
    char dir[FILENAME_MAX];
    size_t count;
    int fds[ED_DEFLATE_WARM_MAX];      /* the caller keeps them open until the wait */
    uint32_t sizes[ED_DEFLATE_WARM_MAX];
    size_t region[ED_DEFLATE_WARM_MAX];   /* the index each was given at */
    bool made[ED_DEFLATE_WARM_MAX];       /* compressed here, not found in the cache */
};

/* Start compressing [0, sizes[i]) of each fds[i] into the cache at dir (NULL: nothing to
 * do). Regions too large to compress whole are left out. */
void ed_deflate_warm_start(struct ed_deflate_warm *w, const char *dir, const int *fds,
                           const uint32_t *sizes, size_t count);

/* Wait for the thread (at once when none runs); safe to call more than once. */
void ed_deflate_warm_wait(struct ed_deflate_warm *w);

/* After the wait: did the thread compress region (an index given to start), rather than
 * find it in the cache? */
bool ed_deflate_warm_made(const struct ed_deflate_warm *w, size_t region);

#endif
