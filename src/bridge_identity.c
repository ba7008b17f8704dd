/* Reading the bridge's identity over USB (bridge_identity.h). Sources, Linux
 * drivers/usb/serial/:
 * - cp210x.c: vendor request 0xFF (CP210X_VENDOR_SPECIFIC), wValue 0x370B
 *   (CP210X_GET_PARTNUM), device-to-host vendor (0xC0), index the interface: the part
 *   number; cp2102_determine_quirks asks with a two-byte buffer and flags a CP2102 that
 *   answers one byte as "possibly counterfeit"; cp210x_init_max_speed gives the rates.
 * - ftdi_sio.c, ftdi_determine_type: the chip type from bcdDevice.
 * - ch341.c: CH341_REQ_READ_VERSION (0x5F), two bytes, the chip version.
 * - pl2303.c, pl2303_detect_type: the type from bDeviceClass, bMaxPacketSize0, bcdUSB and
 *   bcdDevice, and the HX status read (request 0x01, wValue 0x8080) that the HXN (G)
 *   series refuses; max_baud_rate per type in pl2303_type_data. */
#include "espdoctor/bridge_identity.h"

#include <libusb.h>
#include <stdio.h>
#include <string.h>

#include "espdoctor/bridges.h"
#include "espdoctor/error.h"

#define VENDOR_IN (LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_DEVICE)
#define CONTROL_TIMEOUT_MS 200

struct part_row {
    uint16_t key;
    const char *name;
    uint32_t line_max_baud;
};

/* cp210x.c's part numbers; rates from cp210x_init_max_speed (CP2104: its datasheet). */
static const struct part_row cp210x_parts[] = {
    { 0x01, "CP2101", 921600 },   { 0x02, "CP2102", 1000000 }, { 0x03, "CP2103", 1000000 },
    { 0x04, "CP2104", 2000000 },  { 0x05, "CP2105", 2000000 }, { 0x08, "CP2108", 2000000 },
    { 0x20, "CP2102N", 3000000 }, { 0x21, "CP2102N", 3000000 }, { 0x22, "CP2102N", 3000000 },
};

/* ftdi_sio.c's bcdDevice to type; rates from the datasheets (FT232R 3 Mbaud, the H parts
 * 12 Mbaud). */
static const struct part_row ftdi_types[] = {
    { 0x0200, "FT232AM", 3000000 }, { 0x0400, "FT232BM", 3000000 },
    { 0x0500, "FT2232C", 3000000 }, { 0x0600, "FT232R", 3000000 },
    { 0x0700, "FT2232H", 12000000 }, { 0x0800, "FT4232H", 12000000 },
    { 0x0900, "FT232H", 12000000 }, { 0x1000, "FT-X", 3000000 },
};

static const struct part_row *find_row(const struct part_row *rows, size_t n, uint16_t key)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].key == key)
            return &rows[i];
    return NULL;
}

static void set_part(struct ed_bridge_identity *out, const char *name, uint32_t line_max)
{
    snprintf(out->part, sizeof out->part, "%s", name);
    out->line_max_baud = line_max;
}

/* pl2303_detect_type, and the per-type max_baud_rate. */
static void decode_pl2303(const struct ed_bridge_answers *a, struct ed_bridge_identity *out)
{
    if (a->dev_class == 0x02 || a->max_packet0 != 0x40) {
        set_part(out, "PL2303H", 1228800);
        return;
    }
    if (a->bcd_usb == 0x101 || a->bcd_usb == 0x110) {
        if (a->bcd_device == 0x400)
            set_part(out, "PL2303HXD", 12000000);
        else
            set_part(out, "PL2303HX", 6000000);
        return;
    }
    if (a->bcd_usb == 0x200 && (a->bcd_device == 0x300 || a->bcd_device == 0x500) &&
        a->hx_status) {
        if (a->bcd_device == 0x300)
            set_part(out, "PL2303TA", 6000000);
        else
            set_part(out, "PL2303TB", 12000000);
        return;
    }
    if (a->bcd_usb == 0x200)
        set_part(out, "PL2303HXN (G series)", 12000000);
}

void ed_bridge_decode(const struct ed_bridge_answers *a, struct ed_bridge_identity *out)
{
    const struct ed_bridge *b = ed_bridge_lookup(a->vid, a->pid);
    set_part(out, b ? b->chip : "unknown", b ? b->line_max_baud : 0);
    out->counterfeit = false;
    if (!b)
        return;
    const struct part_row *row;
    char name[40];
    switch (b->family) {
    case ED_FAMILY_CP210X:
        if (a->partnum_len > 0 &&
            (row = find_row(cp210x_parts, sizeof cp210x_parts / sizeof cp210x_parts[0],
                            a->partnum)))
            set_part(out, row->name, row->line_max_baud);
        /* Asked for two bytes, a genuine part gives two. */
        out->counterfeit = a->partnum_len == 1 && a->partnum == 0x02;
        break;
    case ED_FAMILY_FTDI:
        if ((row = find_row(ftdi_types, sizeof ftdi_types / sizeof ftdi_types[0],
                            a->bcd_device)))
            set_part(out, row->name, row->line_max_baud);
        break;
    case ED_FAMILY_CH34X:
        if (a->version_len > 0) {
            snprintf(name, sizeof name, "%s (version 0x%02x)", b->chip, a->version);
            set_part(out, name, b->line_max_baud);
        }
        break;
    case ED_FAMILY_PL2303:
        decode_pl2303(a, out);
        break;
    case ED_FAMILY_ESPRESSIF:
        break;
    }
}

static int vendor_in(libusb_device_handle *h, uint8_t request, uint16_t value, uint16_t index,
                     uint8_t *buf, uint16_t len)
{
    int n = libusb_control_transfer(h, VENDOR_IN, request, value, index, buf, len,
                                    CONTROL_TIMEOUT_MS);
    return n < 0 ? -1 : n;
}

static void ask(libusb_device_handle *h, const struct ed_bridge *b,
                struct ed_bridge_answers *a)
{
    uint8_t buf[2] = { 0, 0 };
    switch (b->family) {
    case ED_FAMILY_CP210X:
        a->partnum_len = vendor_in(h, 0xFF, 0x370B, 0, buf, 2);
        a->partnum = buf[0];
        break;
    case ED_FAMILY_CH34X:
        /* Documented for the parts ch341.c drives; a CH9102 is cdc_acm's, not asked. */
        if (strcmp(b->driver, "ch341") == 0) {
            a->version_len = vendor_in(h, 0x5F, 0, 0, buf, 2);
            a->version = buf[0];
        }
        break;
    case ED_FAMILY_PL2303:
        if (a->bcd_usb == 0x200 && (a->bcd_device == 0x300 || a->bcd_device == 0x500))
            a->hx_status = vendor_in(h, 0x01, 0x8080, 0, buf, 1) == 1;
        break;
    case ED_FAMILY_FTDI:
    case ED_FAMILY_ESPRESSIF:
        break;
    }
}

static void from_table(const struct ed_port *p, struct ed_bridge_identity *out,
                       const char *why, const char *detail)
{
    struct ed_bridge_answers none = { .vid = p->vid, .pid = p->pid, .partnum_len = -1,
                                      .version_len = -1 };
    ed_bridge_decode(&none, out);
    out->from_usb = false;
    snprintf(out->note, sizeof out->note, "from the table: %s%s%s", why, detail ? ": " : "",
             detail ? detail : "");
}

int ed_bridge_identify(const struct ed_port *p, struct ed_bridge_identity *out)
{
    memset(out, 0, sizeof *out);
    unsigned bus, addr;
    if (!p->bridge || p->bridge->family == ED_FAMILY_ESPRESSIF) {
        from_table(p, out, "the chip's own USB has no bridge part to ask", NULL);
        return ED_OK;
    }
    if (sscanf(p->usb_devnode, "/dev/bus/usb/%u/%u", &bus, &addr) != 2) {
        from_table(p, out, "no usbfs node for the device", NULL);
        return ED_OK;
    }
    libusb_context *ctx = NULL;
    if (libusb_init(&ctx) != 0) {
        from_table(p, out, "libusb could not start", NULL);
        return ED_OK;
    }
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(ctx, &list);
    libusb_device *dev = NULL;
    for (ssize_t i = 0; i < n && !dev; i++)
        if (libusb_get_bus_number(list[i]) == bus && libusb_get_device_address(list[i]) == addr)
            dev = list[i];
    struct libusb_device_descriptor d;
    libusb_device_handle *h = NULL;
    int rc = dev ? libusb_get_device_descriptor(dev, &d) : LIBUSB_ERROR_NOT_FOUND;
    if (rc == 0)
        rc = libusb_open(dev, &h);
    if (rc != 0) {
        char why[96];
        snprintf(why, sizeof why, "cannot open %s", p->usb_devnode);
        from_table(p, out, why, rc == LIBUSB_ERROR_ACCESS ? "permission denied"
                                                          : libusb_strerror(rc));
    } else {
        struct ed_bridge_answers a = { .vid = d.idVendor, .pid = d.idProduct,
                                       .bcd_device = d.bcdDevice, .bcd_usb = d.bcdUSB,
                                       .dev_class = d.bDeviceClass,
                                       .max_packet0 = d.bMaxPacketSize0,
                                       .partnum_len = -1, .version_len = -1 };
        ask(h, p->bridge, &a);
        libusb_close(h);
        ed_bridge_decode(&a, out);
        out->from_usb = true;
    }
    libusb_free_device_list(list, 1);
    libusb_exit(ctx);
    return ED_OK;
}
