/* Line settings of the testbed's pty, read and written with termios2 so that any baud
 * (74880 too) is seen exactly. Kept apart because <asm/termbits.h> and <termios.h> clash. */
#ifndef ESPSIM_TTYMODE_H
#define ESPSIM_TTYMODE_H

#include <stdbool.h>
#include <stdint.h>

struct sim_ttymode {
    uint32_t baud;     /* output speed the client set */
    bool hang_up;      /* HUPCL: drop DTR/RTS on last close */
};

/* Raw 8N1 at baud with HUPCL, as a USB serial driver starts (except the cooked line
 * discipline: raw, so that no byte is ever translated). False with errno set on failure. */
bool sim_ttymode_init(int fd, uint32_t baud);

bool sim_ttymode_get(int fd, struct sim_ttymode *mode);

#endif
