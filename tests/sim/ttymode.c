#include "ttymode.h"

#include <asm/termbits.h>
#include <sys/ioctl.h>

bool sim_ttymode_init(int fd, uint32_t baud)
{
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0)
        return false;
    t.c_iflag = 0;
    t.c_oflag = 0;
    t.c_lflag = 0;
    t.c_cflag = CS8 | CREAD | CLOCAL | HUPCL | BOTHER | (BOTHER << IBSHIFT);
    t.c_ispeed = baud;
    t.c_ospeed = baud;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    return ioctl(fd, TCSETS2, &t) == 0;
}

bool sim_ttymode_get(int fd, struct sim_ttymode *mode)
{
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0)
        return false;
    mode->baud = t.c_ospeed;
    mode->hang_up = (t.c_cflag & HUPCL) != 0;
    return true;
}
