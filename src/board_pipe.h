/* Frames on a pipe from a board's process to the parent (flash --all): a type byte, the
 * payload's length as 4 bytes (little-endian), then the payload. One writer per pipe, so
 * frames never interleave; the reader collects bytes as they come and hands out whole
 * frames. */
#ifndef ESPDOCTOR_BOARD_PIPE_H
#define ESPDOCTOR_BOARD_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ED_FRAME_MAX (16u << 20)   /* a frame longer than this is a broken stream */

/* Write one frame, all of it (retrying short writes). False on an error (errno set). */
bool ed_frame_write(int fd, char type, const void *data, size_t len);

struct ed_frame_reader {
    uint8_t *buf;
    size_t len, cap;
    size_t consumed;            /* the frame last handed out, dropped at the next call */
    bool broken;                /* a length past ED_FRAME_MAX: nothing more is read */
};

/* Read what fd has now into r. Returns the bytes read, 0 at end of file, -1 on an error
 * (errno set; EAGAIN/EINTR: try again later). */
ssize_t ed_frame_fill(struct ed_frame_reader *r, int fd);

/* The next whole frame: its type, and its payload (valid until the next call). False
 * when no whole frame has arrived yet. */
bool ed_frame_next(struct ed_frame_reader *r, char *type, const uint8_t **data, size_t *len);

void ed_frame_reader_free(struct ed_frame_reader *r);

#endif
