/* The frames flash --all's board processes send the parent (src/board_pipe.c): whole frames
 * come out however the bytes are cut up on the way, in order, and a broken length stops the
 * reader instead of making it wait for gigabytes. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/board_pipe.h"

static int fds[2];

static void open_pipe(void)
{
    cr_assert_eq(pipe(fds), 0);
}

static void close_pipe(void)
{
    close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
}

/* Move what the pipe holds from its read end into a second pipe `dribble` bytes at a time,
 * the reader filling after each piece. */
Test(board_pipe, frames_survive_any_cut, .init = open_pipe, .fini = close_pipe)
{
    cr_assert(ed_frame_write(fds[1], 'B', "ESP32\n24:0a:c4:12:34:56\n", 24));
    cr_assert(ed_frame_write(fds[1], 'P', "writing 10 100", 14));
    cr_assert(ed_frame_write(fds[1], 'E', "", 0));
    close(fds[1]);
    fds[1] = -1;
    uint8_t all[256];
    ssize_t total = read(fds[0], all, sizeof all);
    cr_assert_eq(total, 3 * 5 + 24 + 14);

    for (size_t cut = 1; cut <= 7; cut++) {
        int p[2];
        cr_assert_eq(pipe(p), 0);
        struct ed_frame_reader r = { 0 };
        char types[4] = "";
        size_t got = 0;
        for (ssize_t at = 0; at < total; at += (ssize_t)cut) {
            size_t n = (size_t)(total - at) < cut ? (size_t)(total - at) : cut;
            cr_assert_eq(write(p[1], all + at, n), (ssize_t)n);
            cr_assert_eq(ed_frame_fill(&r, p[0]), (ssize_t)n);
            char type;
            const uint8_t *data;
            size_t len;
            while (ed_frame_next(&r, &type, &data, &len)) {
                cr_assert_lt(got, 3);
                types[got++] = type;
                if (type == 'P') {
                    cr_expect_eq(len, 14);
                    cr_expect_eq(memcmp(data, "writing 10 100", 14), 0);
                }
                if (type == 'E')
                    cr_expect_eq(len, 0);
            }
        }
        cr_expect_str_eq(types, "BPE", "cut every %zu bytes", cut);
        close(p[1]);
        cr_expect_eq(ed_frame_fill(&r, p[0]), 0, "end of file");
        close(p[0]);
        ed_frame_reader_free(&r);
    }
}

Test(board_pipe, a_large_frame_arrives_whole, .init = open_pipe, .fini = close_pipe)
{
    size_t size = 200 * 1024;   /* more than a pipe holds: written by a child */
    char *doc = malloc(size);
    cr_assert_not_null(doc);
    for (size_t i = 0; i < size; i++)
        doc[i] = (char)('a' + i % 26);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(ed_frame_write(fds[1], 'J', doc, size) ? 0 : 1);
    }
    close(fds[1]);
    fds[1] = -1;
    struct ed_frame_reader r = { 0 };
    char type = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    bool whole = false;
    while (!whole && ed_frame_fill(&r, fds[0]) > 0)
        whole = ed_frame_next(&r, &type, &data, &len);
    cr_assert(whole, "the frame never completed");
    cr_expect_eq(type, 'J');
    cr_expect_eq(len, size);
    cr_expect_eq(memcmp(data, doc, size), 0);
    int status;
    waitpid(pid, &status, 0);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ed_frame_reader_free(&r);
    free(doc);
}

Test(board_pipe, a_broken_length_stops_the_reader, .init = open_pipe, .fini = close_pipe)
{
    uint8_t junk[] = { 'J', 0xff, 0xff, 0xff, 0x7f, 'x' };
    cr_assert_eq(write(fds[1], junk, sizeof junk), (ssize_t)sizeof junk);
    struct ed_frame_reader r = { 0 };
    cr_assert_gt(ed_frame_fill(&r, fds[0]), 0);
    char type;
    const uint8_t *data;
    size_t len;
    cr_expect(!ed_frame_next(&r, &type, &data, &len));
    cr_expect(r.broken);
    ed_frame_reader_free(&r);
}

Test(board_pipe, a_frame_too_large_is_not_written, .init = open_pipe, .fini = close_pipe)
{
    cr_expect(!ed_frame_write(fds[1], 'J', "", ED_FRAME_MAX + 1u));
    int flags = fcntl(fds[0], F_GETFL);
    fcntl(fds[0], F_SETFL, flags | O_NONBLOCK);
    uint8_t b;
    cr_expect_eq(read(fds[0], &b, 1), -1, "something was written");
}
