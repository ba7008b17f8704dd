/* Naming the bridge's part from its descriptor and answers (Linux cp210x.c, ftdi_sio.c,
 * ch341.c and pl2303.c), and the table's guess when the device cannot be asked. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "espdoctor/bridge_identity.h"
#include "espdoctor/bridges.h"
#include "espdoctor/error.h"

static struct ed_bridge_identity decode(struct ed_bridge_answers a)
{
    struct ed_bridge_identity id;
    memset(&id, 0x5A, sizeof id);
    ed_bridge_decode(&a, &id);
    return id;
}

Test(bridge_identity, cp210x_part_numbers_and_the_counterfeit)
{
    struct ed_bridge_identity id = decode((struct ed_bridge_answers){
        .vid = 0x10c4, .pid = 0xea60, .partnum_len = 2, .partnum = 0x20, .version_len = -1 });
    cr_expect_str_eq(id.part, "CP2102N");
    cr_expect_eq(id.line_max_baud, 3000000);
    cr_expect_not(id.counterfeit);
    id = decode((struct ed_bridge_answers){ .vid = 0x10c4, .pid = 0xea60, .partnum_len = 2,
                                            .partnum = 0x02, .version_len = -1 });
    cr_expect_str_eq(id.part, "CP2102");
    cr_expect_eq(id.line_max_baud, 1000000);
    cr_expect_not(id.counterfeit);
    id = decode((struct ed_bridge_answers){ .vid = 0x10c4, .pid = 0xea60, .partnum_len = 1,
                                            .partnum = 0x02, .version_len = -1 });
    cr_expect(id.counterfeit, "one byte to a two-byte part-number request");
    /* No answer: the table's entry for the VID:PID. */
    id = decode((struct ed_bridge_answers){ .vid = 0x10c4, .pid = 0xea60, .partnum_len = -1,
                                            .version_len = -1 });
    cr_expect_str_eq(id.part, ed_bridge_lookup(0x10c4, 0xea60)->chip);
    cr_expect_not(id.counterfeit);
}

Test(bridge_identity, ftdi_type_from_bcd_device)
{
    struct ed_bridge_identity id = decode((struct ed_bridge_answers){
        .vid = 0x0403, .pid = 0x6001, .bcd_device = 0x0600, .partnum_len = -1,
        .version_len = -1 });
    cr_expect_str_eq(id.part, "FT232R");
    id = decode((struct ed_bridge_answers){ .vid = 0x0403, .pid = 0x6014, .bcd_device = 0x0900,
                                            .partnum_len = -1, .version_len = -1 });
    cr_expect_str_eq(id.part, "FT232H");
    cr_expect_eq(id.line_max_baud, 12000000);
}

Test(bridge_identity, pl2303_types_as_the_kernel_tells_them)
{
    struct ed_bridge_answers a = { .vid = 0x067b, .pid = 0x2303, .max_packet0 = 0x40,
                                   .bcd_usb = 0x110, .bcd_device = 0x300, .partnum_len = -1,
                                   .version_len = -1 };
    cr_expect_str_eq(decode(a).part, "PL2303HX");
    a.dev_class = 0x02;
    cr_expect_str_eq(decode(a).part, "PL2303H");
    a.dev_class = 0;
    a.bcd_usb = 0x200;
    a.hx_status = true;
    cr_expect_str_eq(decode(a).part, "PL2303TA");
    a.hx_status = false;   /* the same bcdDevice on a GT, which refuses the HX status read */
    cr_expect_str_eq(decode(a).part, "PL2303HXN (G series)");
}

Test(bridge_identity, ch340_version)
{
    struct ed_bridge_identity id = decode((struct ed_bridge_answers){
        .vid = 0x1a86, .pid = 0x7523, .partnum_len = -1, .version_len = 2, .version = 0x31 });
    cr_expect_str_eq(id.part, "CH340 (version 0x31)");
    cr_expect_eq(id.line_max_baud, 2000000);
}

/* A port whose USB device cannot be reached: the table's guess, and why, never an error. */
Test(bridge_identity, unreachable_device_falls_back_to_the_table_and_says_so)
{
    struct ed_port p;
    memset(&p, 0, sizeof p);
    p.vid = 0x10c4;
    p.pid = 0xea60;
    p.bridge = ed_bridge_lookup(p.vid, p.pid);
    struct ed_bridge_identity id;
    cr_assert_eq(ed_bridge_identify(&p, &id), ED_OK);
    cr_expect_not(id.from_usb);
    cr_expect_not_null(strstr(id.note, "no usbfs node"), "%s", id.note);
    snprintf(p.usb_devnode, sizeof p.usb_devnode, "/dev/bus/usb/250/127");
    cr_assert_eq(ed_bridge_identify(&p, &id), ED_OK);
    cr_expect_not(id.from_usb);
    cr_expect_not_null(strstr(id.note, "from the table"), "%s", id.note);
    cr_expect_eq(id.line_max_baud, p.bridge->line_max_baud);
}
