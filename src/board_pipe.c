/* Frames between a board's process and the parent (see board_pipe.h). */
#include "board_pipe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER 5u

static bool write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool ed_frame_write(int fd, char type, const void *data, size_t len)
{
    if (len > ED_FRAME_MAX) {
        errno = EMSGSIZE;
        return false;
    }
    uint8_t head[HEADER] = { (uint8_t)type, (uint8_t)len, (uint8_t)(len >> 8),
                             (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
    return write_all(fd, head, sizeof head) && write_all(fd, data, len);
}

ssize_t ed_frame_fill(struct ed_frame_reader *r, int fd)
{
    if (r->cap - r->len < 4096) {
        size_t cap = r->cap ? r->cap * 2 : 8192;
        uint8_t *grown = realloc(r->buf, cap);
        if (!grown) {
            errno = ENOMEM;
            return -1;
        }
        r->buf = grown;
        r->cap = cap;
    }
    ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
    if (n > 0)
        r->len += (size_t)n;
    return n;
}

bool ed_frame_next(struct ed_frame_reader *r, char *type, const uint8_t **data, size_t *len)
{
    if (r->consumed) {
        memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
        r->len -= r->consumed;
        r->consumed = 0;
    }
    if (r->broken || r->len < HEADER)
        return false;
    size_t n = (size_t)r->buf[1] | (size_t)r->buf[2] << 8 | (size_t)r->buf[3] << 16 |
               (size_t)r->buf[4] << 24;
    if (n > ED_FRAME_MAX) {
        r->broken = true;
        return false;
    }
    if (r->len < HEADER + n)
        return false;
    *type = (char)r->buf[0];
    *data = r->buf + HEADER;
    *len = n;
    r->consumed = HEADER + n;
    return true;
}

void ed_frame_reader_free(struct ed_frame_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}
