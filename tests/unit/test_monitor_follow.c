/* Finding a vanished board again in the port enumeration: by USB serial number and USB
 * path, under any name, never another board that was there all along. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../src/monitor_follow.h"   /* the tests have no -Isrc */

static struct ed_port port(const char *devnode, const char *usb_name, const char *serial)
{
    struct ed_port p;
    memset(&p, 0, sizeof p);
    snprintf(p.devnode, sizeof p.devnode, "%s", devnode);
    snprintf(p.usb_name, sizeof p.usb_name, "%s", usb_name);
    snprintf(p.serial, sizeof p.serial, "%s", serial);
    return p;
}

static const char *found(struct ed_port *now, size_t n, const struct ed_port *was,
                         struct ed_port *before, size_t before_n)
{
    struct ed_port_list list = { now, n }, had = { before, before_n };
    const struct ed_port *p = ed_port_refind(&list, was, before ? &had : NULL);
    return p ? p->devnode : NULL;
}

Test(monitor_follow, back_under_the_same_name)
{
    struct ed_port was = port("/dev/ttyUSB0", "1-2", "0001");
    struct ed_port now[] = { port("/dev/ttyUSB0", "1-2", "0001") };
    cr_assert_str_eq(found(now, 1, &was, NULL, 0), "/dev/ttyUSB0");
}

Test(monitor_follow, back_under_another_name_on_the_same_usb_port)
{
    /* A native-USB chip re-enumerating while ttyACM0 was still held: ttyACM1. */
    struct ed_port was = port("/dev/ttyACM0", "1-2", "58:CF:79:12:34:56");
    struct ed_port now[] = { port("/dev/ttyUSB3", "1-4", "A50285BI"),
                             port("/dev/ttyACM1", "1-2", "58:CF:79:12:34:56") };
    cr_assert_str_eq(found(now, 2, &was, NULL, 0), "/dev/ttyACM1");
}

Test(monitor_follow, the_same_serial_in_another_socket)
{
    struct ed_port was = port("/dev/ttyUSB0", "1-2", "0001");
    struct ed_port now[] = { port("/dev/ttyUSB1", "3-1", "0001") };
    cr_assert_str_eq(found(now, 1, &was, NULL, 0), "/dev/ttyUSB1");
}

Test(monitor_follow, serial_and_path_beat_either_alone)
{
    struct ed_port was = port("/dev/ttyACM0", "1-2", "ABC");
    struct ed_port now[] = { port("/dev/ttyACM2", "1-2", "OTHER"),
                             port("/dev/ttyACM3", "2-1", "ABC"),
                             port("/dev/ttyACM1", "1-2", "ABC") };
    cr_assert_str_eq(found(now, 3, &was, NULL, 0), "/dev/ttyACM1");
    /* Without the full match, the serial number wins over the path. */
    cr_assert_str_eq(found(now, 2, &was, NULL, 0), "/dev/ttyACM3");
}

Test(monitor_follow, no_serial_number_means_the_usb_path)
{
    /* A CH340 has none: the socket it is plugged into is all there is to go by. */
    struct ed_port was = port("/dev/ttyUSB0", "1-2", "");
    struct ed_port now[] = { port("/dev/ttyUSB1", "1-3", ""), port("/dev/ttyUSB2", "1-2", "") };
    cr_assert_str_eq(found(now, 2, &was, NULL, 0), "/dev/ttyUSB2");
    struct ed_port elsewhere[] = { port("/dev/ttyUSB1", "1-3", "") };
    cr_assert_null(found(elsewhere, 1, &was, NULL, 0));
}

Test(monitor_follow, a_board_that_was_there_all_along_is_not_taken)
{
    /* Two clones that share the serial number 0001: the other one stays where it was. */
    struct ed_port was = port("/dev/ttyUSB0", "1-2", "0001");
    struct ed_port before[] = { port("/dev/ttyUSB1", "1-3", "0001") };
    struct ed_port now[] = { port("/dev/ttyUSB1", "1-3", "0001") };
    cr_assert_null(found(now, 1, &was, before, 1));
    /* Until ours comes back. */
    struct ed_port back[] = { port("/dev/ttyUSB1", "1-3", "0001"),
                              port("/dev/ttyUSB0", "1-2", "0001") };
    cr_assert_str_eq(found(back, 2, &was, before, 1), "/dev/ttyUSB0");
    /* Our own record lingering in `before` does not hide it. */
    struct ed_port with_ours[] = { port("/dev/ttyUSB0", "1-2", "0001") };
    cr_assert_str_eq(found(back + 1, 1, &was, with_ours, 1), "/dev/ttyUSB0");
}

Test(monitor_follow, bridges_without_a_tty_are_not_ports)
{
    struct ed_port was = port("/dev/ttyUSB0", "1-2", "0001");
    struct ed_port now[] = { port("", "1-2", "0001") };   /* driver not bound (yet) */
    cr_assert_null(found(now, 1, &was, NULL, 0));
    cr_assert_null(found(now, 0, &was, NULL, 0));
}
