/* The libserialport transport's refusals: each bad path gets its own status and errno,
 * so the CLI can say what is wrong instead of "open failed". */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/transport.h"

static void expect_refusal(const char *path, int status, int err)
{
    struct ed_transport *t = (struct ed_transport *)0x1;
    errno = 0;
    int rc = ed_serial_open(path, 115200, &t);
    int saved = errno;
    cr_assert_eq(rc, status, "%s: status %d (%s), wanted %d", path, rc, ed_strerror(rc), status);
    cr_assert_null(t, "%s: no transport on failure", path);
    cr_assert_eq(saved, err, "%s: errno %d, wanted %d", path, saved, err);
}

Test(serial, missing_port_is_not_found)
{
    expect_refusal("/dev/ttyUSB-espdoctor-does-not-exist", ED_E_NOTFOUND, ENOENT);
}

Test(serial, dev_null_is_not_a_serial_port)
{
    expect_refusal("/dev/null", ED_E_ARG, ENOTTY);
}

Test(serial, regular_file_is_not_a_serial_port)
{
    char path[] = "/tmp/espdoctor-serial-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    expect_refusal(path, ED_E_ARG, ENOTTY);
    unlink(path);
}

Test(serial, directory_is_not_a_serial_port)
{
    expect_refusal("/tmp", ED_E_ARG, ENOTTY);
}

Test(serial, pty_without_sysfs_entry_is_not_a_serial_port)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0);
    cr_assert_eq(grantpt(master), 0);
    cr_assert_eq(unlockpt(master), 0);
    char name[64];
    snprintf(name, sizeof name, "%s", ptsname(master));
    expect_refusal(name, ED_E_ARG, ENOTTY);
    close(master);
}

Test(serial, bad_arguments)
{
    struct ed_transport *t;
    cr_assert_eq(ed_serial_open("/dev/null", 0, &t), ED_E_ARG);
    cr_assert_null(t);
    cr_assert_eq(ed_serial_open("", 115200, &t), ED_E_ARG);
    cr_assert_null(t);
}
