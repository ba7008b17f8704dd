/* deflate_best.c: libdeflate's stream where it is smaller than zlib -9's, a valid zlib
 * stream of the input, and the cache: a second call does not compress again, and a damaged
 * entry is never used. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "espdoctor/deflate_best.h"
#include "espdoctor/deflate_warm.h"
#include "espdoctor/error.h"

#define INPUT_LEN (256u * 1024)

static char dir[64], file[96], cache[96];
static uint8_t input[INPUT_LEN];

/* Something firmware-like: runs of text-ish bytes with repeats at varying distances, and a
 * stretch of erased flash. */
static void make_input(void)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < INPUT_LEN; i++) {
        x = x * 1103515245u + 12345u;
        if (i >= 3 * INPUT_LEN / 4)
            input[i] = 0xFF;
        else if (i > 4096 && (x >> 28) < 9)
            input[i] = input[i - 1 - ((x >> 8) % 3000)];
        else
            input[i] = (uint8_t)('a' + (x >> 24) % 20);
    }
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_deflate_best.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/image.bin", dir);
    snprintf(cache, sizeof cache, "%s/cache/espdoctor/deflate", dir);
    make_input();
    FILE *f = fopen(file, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(input, 1, INPUT_LEN, f), INPUT_LEN);
    fclose(f);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void assert_inflates_to_input(const struct ed_deflated *d)
{
    uint8_t *out = malloc(INPUT_LEN);
    uLongf len = INPUT_LEN;
    cr_assert_eq(uncompress(out, &len, d->data, d->len), Z_OK, "not a zlib stream");
    cr_assert_eq(len, INPUT_LEN);
    cr_assert_eq(memcmp(out, input, INPUT_LEN), 0);
    free(out);
}

static void best(const char *cache_dir, struct ed_deflated *d)
{
    int fd = open(file, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ed_deflate_best(fd, 0, INPUT_LEN, cache_dir, d), ED_OK);
    close(fd);
}

/* The single entry in the cache directory. */
static void entry(char *path, size_t cap)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls '%s'", cache);
    FILE *p = popen(cmd, "r");
    char name[128] = "";
    cr_assert_not_null(fgets(name, sizeof name, p));
    pclose(p);
    name[strcspn(name, "\n")] = '\0';
    cr_assert(strstr(name, "-12.z"), "entry %s", name);
    snprintf(path, cap, "%s/%s", cache, name);
}

TestSuite(deflate_best, .init = setup, .fini = teardown);

Test(deflate_best, libdeflate_beats_zlib_and_is_a_zlib_stream)
{
    struct ed_deflated d;
    best(NULL, &d);
    cr_assert_not_null(d.data, "zlib -9 won (%llu bytes)", (unsigned long long)d.zlib_len);
    cr_assert_gt(d.zlib_len, 0);
    cr_assert_lt(d.libdeflate_len, d.zlib_len);
    cr_assert_eq(d.len, d.libdeflate_len);
    cr_assert_not(d.from_cache);
    assert_inflates_to_input(&d);
    ed_deflated_free(&d);
}

Test(deflate_best, second_call_comes_from_the_cache)
{
    struct ed_deflated first, second;
    best(cache, &first);
    cr_assert_not(first.from_cache);
    best(cache, &second);
    cr_assert(second.from_cache, "compressed again");
    cr_assert_eq(second.len, first.len);
    cr_assert_eq(second.zlib_len, first.zlib_len);
    cr_assert_eq(memcmp(second.data, first.data, first.len), 0);
    struct stat st;
    char path[256];
    entry(path, sizeof path);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    ed_deflated_free(&first);
    ed_deflated_free(&second);
}

static void damage(long at, const uint8_t *bytes, size_t n, bool truncate_after)
{
    char path[256];
    entry(path, sizeof path);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, bytes, n, at), (ssize_t)n);
    if (truncate_after)
        cr_assert_eq(ftruncate(fd, at + (long)n), 0);
    close(fd);
}

static void assert_damage_ignored_and_rewritten(void)
{
    struct ed_deflated d, again;
    best(cache, &d);
    cr_assert_not(d.from_cache, "a damaged entry was used");
    assert_inflates_to_input(&d);
    best(cache, &again);
    cr_assert(again.from_cache, "the damaged entry was not written again");
    assert_inflates_to_input(&again);
    ed_deflated_free(&d);
    ed_deflated_free(&again);
}

Test(deflate_best, a_changed_byte_in_the_stream_is_ignored)
{
    struct ed_deflated d;
    best(cache, &d);
    ed_deflated_free(&d);
    const uint8_t x[1] = { 0x5A };
    damage(48 + 1000, x, 1, false);
    assert_damage_ignored_and_rewritten();
}

Test(deflate_best, a_truncated_entry_is_ignored)
{
    struct ed_deflated d;
    best(cache, &d);
    ed_deflated_free(&d);
    const uint8_t x[1] = { 0x78 };
    damage(48, x, 1, true);
    assert_damage_ignored_and_rewritten();
}

Test(deflate_best, cache_dir_from_xdg_else_home)
{
    char path[256];
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    cr_assert(ed_deflate_cache_dir(path, sizeof path));
    cr_assert_str_eq(path, "/x/cache/espdoctor/deflate");
    setenv("XDG_CACHE_HOME", "relative", 1);   /* the spec: ignored */
    setenv("HOME", "/home/u", 1);
    cr_assert(ed_deflate_cache_dir(path, sizeof path));
    cr_assert_str_eq(path, "/home/u/.cache/espdoctor/deflate");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    cr_assert_not(ed_deflate_cache_dir(path, sizeof path));
}

Test(deflate_best, the_warm_thread_fills_the_cache_the_write_then_finds_it)
{
    int fd = open(file, O_RDONLY);
    cr_assert_geq(fd, 0);
    struct ed_deflate_warm w;
    const int fds[] = { fd };
    const uint32_t sizes[] = { INPUT_LEN };
    ed_deflate_warm_start(&w, cache, fds, sizes, 1);
    cr_assert(w.started, "no thread");
    ed_deflate_warm_wait(&w);
    cr_assert(ed_deflate_warm_made(&w, 0));
    cr_assert_not(ed_deflate_warm_made(&w, 1));
    close(fd);
    struct ed_deflated d;
    best(cache, &d);
    cr_assert(d.from_cache, "the thread left nothing in the cache");
    assert_inflates_to_input(&d);
    ed_deflated_free(&d);

    ed_deflate_warm_start(&w, NULL, fds, sizes, 1);   /* no cache: nothing to do */
    cr_assert_not(w.started);
    ed_deflate_warm_wait(&w);
}
