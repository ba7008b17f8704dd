#include "usbrec.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* Where the boards are plugged in: the first xHCI root hub, as on most PCs; board 0 on
 * its port 2, board i on port 2 + i (sim_usb_place). */
#define PCI_PATH "/devices/pci0000:00/0000:00:14.0"
#define HUB_PATH PCI_PATH "/usb1"
#define HUB_PORTS 12
#define PCI_ID_PATH "pci-0000:00:14.0"
#define PCI_ID_PATH_TAG "pci-0000_00_14_0"

#define BULK 2
#define INTERRUPT 3

static const struct sim_bridge_model root_hub = {
    .name = "root-hub", .vid = 0x1d6b, .pid = 0x0002, .bcd_device = 0x0601, .bcd_usb = 0x0200,
    .dev_class = 0x09, .dev_protocol = 0x01, .manufacturer = "Linux 6.1.0 xhci-hcd",
    .product = "xHCI Host Controller", .serial = "0000:00:14.0", .iface_count = 1,
    .ifaces = { { .cls = 0x09, .driver = "hub", .endpoint_count = 1,
                  .endpoints = { { 0x81, INTERRUPT, 4, 12 } } } },
};

const char *sim_bridge_devnode(const struct sim_bridge_model *m)
{
    return m->cdc_acm ? "/dev/ttyACM0" : "/dev/ttyUSB0";
}

void sim_usb_place_for(const struct sim_bridge_model *m, unsigned board, unsigned tty_index,
                       struct sim_usb_place *place)
{
    place->hub_port = 2 + board;
    snprintf(place->tty, sizeof place->tty, "%s%u", m->cdc_acm ? "ttyACM" : "ttyUSB",
             tty_index);
    place->tty_index = tty_index;
}

unsigned sim_usb_max_boards(void)
{
    return HUB_PORTS - 1;   /* port 1 is left free, as on a machine with a keyboard */
}

/* Board 0 (hub port 2) is device 2 on bus 1; the root hub is device 1. */
const char *sim_bridge_usb_devnode(void)
{
    return "/dev/bus/usb/001/002";
}

bool sim_driver_state_find(const char *name, enum sim_driver_state *out)
{
    static const char *const names[] = { "bound", "none", "unbound", "usbfs" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (strcmp(names[i], name) == 0) {
            *out = (enum sim_driver_state)i;
            return true;
        }
    return false;
}

/* ---- strings the way udev spells them --------------------------------------------- */

/* ID_SERIAL and friends: whitespace becomes '_', anything outside udev's safe set too. */
static void udev_safe(GString *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        g_string_append_c(out, isalnum(c) || strchr("#+-.:=@_", c) ? (char)c : '_');
    }
}

/* ID_VENDOR_ENC: blanks and unsafe bytes as \xNN. */
static void udev_encoded(GString *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("#+-.:=@_", c))
            g_string_append_c(out, (char)c);
        else
            g_string_append_printf(out, "\\x%02x", c);
    }
}

/* Relative link from a sysfs device directory up to /sys. */
static void up_to_sys(GString *out, const char *devpath)
{
    for (const char *p = devpath; *p; p++)
        if (*p == '/')
            g_string_append(out, "../");
}

static void add_driver_link(GString *rec, const char *devpath, const char *bus,
                            const char *driver)
{
    g_string_append(rec, "L: driver=");
    up_to_sys(rec, devpath);
    g_string_append_printf(rec, "bus/%s/drivers/%s\n", bus, driver);
}

/* ---- USB descriptors (sysfs "descriptors": device + active configuration) --------- */

static void put16(GByteArray *a, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v & 0xff), (uint8_t)(v >> 8) };
    g_byte_array_append(a, b, 2);
}

static void put_bytes(GByteArray *a, const uint8_t *b, size_t n)
{
    g_byte_array_append(a, b, (guint)n);
}

static GByteArray *descriptors(const struct sim_bridge_model *m)
{
    GByteArray *a = g_byte_array_new();
    uint8_t dev_head[] = { 18, 1 };
    put_bytes(a, dev_head, 2);
    put16(a, m->bcd_usb);
    uint8_t cls[] = { m->dev_class, m->dev_subclass, m->dev_protocol, 64 };
    put_bytes(a, cls, sizeof cls);
    put16(a, m->vid);
    put16(a, m->pid);
    put16(a, m->bcd_device);
    uint8_t strings[] = { m->manufacturer ? 1 : 0, m->product ? 2 : 0, m->serial ? 3 : 0, 1 };
    put_bytes(a, strings, sizeof strings);

    guint config_at = a->len;
    uint8_t config[] = { 9, 2, 0, 0, m->iface_count, 1, 0, 0x80, (uint8_t)(m->max_power_ma / 2) };
    put_bytes(a, config, sizeof config);
    if (m->cdc_acm) {
        /* Interface association: the two CDC interfaces form one function. */
        uint8_t iad[] = { 8, 0x0b, 0, 2, 0x02, 0x02, 0x00, 0 };
        put_bytes(a, iad, sizeof iad);
    }
    for (uint8_t i = 0; i < m->iface_count; i++) {
        const struct sim_usb_iface *f = &m->ifaces[i];
        uint8_t iface[] = { 9, 4, i, 0, f->endpoint_count, f->cls, f->subclass, f->protocol, 0 };
        put_bytes(a, iface, sizeof iface);
        if (f->acm_control) {
            uint8_t header[] = { 5, 0x24, 0x00, 0x10, 0x01 };
            uint8_t call[] = { 5, 0x24, 0x01, 0x03, 1 };
            uint8_t acm[] = { 4, 0x24, 0x02, 0x02 };
            uint8_t cdc_union[] = { 5, 0x24, 0x06, i, (uint8_t)(i + 1) };
            put_bytes(a, header, sizeof header);
            put_bytes(a, call, sizeof call);
            put_bytes(a, acm, sizeof acm);
            put_bytes(a, cdc_union, sizeof cdc_union);
        }
        for (uint8_t e = 0; e < f->endpoint_count; e++) {
            const struct sim_usb_endpoint *ep = &f->endpoints[e];
            uint8_t head[] = { 7, 5, ep->address, ep->attributes };
            put_bytes(a, head, sizeof head);
            put16(a, ep->max_packet);
            g_byte_array_append(a, &ep->interval, 1);
        }
    }
    uint16_t total = (uint16_t)(a->len - config_at);
    a->data[config_at + 2] = (uint8_t)(total & 0xff);
    a->data[config_at + 3] = (uint8_t)(total >> 8);
    return a;
}

/* ---- records ------------------------------------------------------------------------ */

/* The udev properties a USB device and every device below it carry (from usb_id). */
static void usb_id_props(GString *rec, const struct sim_bridge_model *m, const char *serial)
{
    GString *vendor = g_string_new(NULL);
    if (m->manufacturer)
        udev_safe(vendor, m->manufacturer);
    else
        g_string_append_printf(vendor, "%04x", m->vid);
    GString *model = g_string_new(NULL);
    udev_safe(model, m->product);

    g_string_append_printf(rec, "E: ID_VENDOR=%s\nE: ID_VENDOR_ENC=", vendor->str);
    udev_encoded(rec, m->manufacturer ? m->manufacturer : vendor->str);
    g_string_append_printf(rec, "\nE: ID_VENDOR_ID=%04x\nE: ID_MODEL=%s\nE: ID_MODEL_ENC=",
                           m->vid, model->str);
    udev_encoded(rec, m->product);
    g_string_append_printf(rec, "\nE: ID_MODEL_ID=%04x\nE: ID_REVISION=%04x\n", m->pid,
                           m->bcd_device);
    g_string_append_printf(rec, "E: ID_SERIAL=%s_%s", vendor->str, model->str);
    if (serial) {
        g_string_append_c(rec, '_');
        udev_safe(rec, serial);
        g_string_append(rec, "\nE: ID_SERIAL_SHORT=");
        udev_safe(rec, serial);
    }
    g_string_append(rec, "\nE: ID_BUS=usb\nE: ID_USB_INTERFACES=:");
    for (uint8_t i = 0; i < m->iface_count; i++)
        g_string_append_printf(rec, "%02x%02x%02x:", m->ifaces[i].cls, m->ifaces[i].subclass,
                               m->ifaces[i].protocol);
    g_string_append_c(rec, '\n');
    g_string_free(vendor, TRUE);
    g_string_free(model, TRUE);
}

static void usb_device_record(GString *rec, const char *path, const struct sim_bridge_model *m,
                              const char *serial, unsigned devnum, const char *port_path,
                              unsigned speed, unsigned maxchild, const char *power_control,
                              bool mm_ignore)
{
    GByteArray *desc = descriptors(m);
    g_string_append_printf(rec, "P: %s\nN: bus/usb/001/%03u\n", path, devnum);
    g_string_append_printf(rec,
        "E: DEVNAME=/dev/bus/usb/001/%03u\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
        "E: PRODUCT=%x/%x/%x\nE: TYPE=%u/%u/%u\nE: BUSNUM=001\nE: DEVNUM=%03u\n"
        "E: MAJOR=189\nE: MINOR=%u\nE: SUBSYSTEM=usb\n",
        devnum, m->vid, m->pid, m->bcd_device, m->dev_class, m->dev_subclass,
        m->dev_protocol, devnum, devnum - 1);
    usb_id_props(rec, m, serial);
    if (mm_ignore)
        g_string_append(rec, "E: ID_MM_DEVICE_IGNORE=1\n");
    g_string_append_printf(rec, "E: ID_PATH=" PCI_ID_PATH "-usb-0:%s\n", port_path);
    g_string_append_printf(rec, "E: ID_PATH_TAG=" PCI_ID_PATH_TAG "-usb-0_%s\n", port_path);
    g_string_append_printf(rec,
        "A: idVendor=%04x\nA: idProduct=%04x\nA: bcdDevice=%04x\nA: bDeviceClass=%02x\n"
        "A: bDeviceSubClass=%02x\nA: bDeviceProtocol=%02x\nA: bMaxPacketSize0=64\n"
        "A: bNumConfigurations=1\nA: bNumInterfaces=%2u\nA: bConfigurationValue=1\n"
        "A: bmAttributes=80\nA: bMaxPower=%umA\nA: busnum=1\nA: devnum=%u\nA: devpath=%s\n"
        "A: speed=%u\nA: version=%2x.%02x\nA: maxchild=%u\nA: removable=%s\n"
        "A: authorized=1\nA: avoid_reset_quirk=0\nA: quirks=0x0\nA: dev=189:%u\n",
        m->vid, m->pid, m->bcd_device, m->dev_class, m->dev_subclass, m->dev_protocol,
        m->iface_count, m->max_power_ma, devnum, port_path, speed, m->bcd_usb >> 8,
        m->bcd_usb & 0xff, maxchild, maxchild ? "unknown" : "removable", devnum - 1);
    if (m->manufacturer)
        g_string_append_printf(rec, "A: manufacturer=%s\n", m->manufacturer);
    g_string_append_printf(rec, "A: product=%s\n", m->product);
    if (serial)
        g_string_append_printf(rec, "A: serial=%s\n", serial);
    g_string_append_printf(rec, "A: power/control=%s\nA: power/autosuspend_delay_ms=2000\n",
                           power_control);
    g_string_append(rec, "H: descriptors=");
    for (guint i = 0; i < desc->len; i++)
        g_string_append_printf(rec, "%02X", desc->data[i]);
    g_string_append_c(rec, '\n');
    add_driver_link(rec, path, "usb", "usb");
    g_string_append_c(rec, '\n');
    g_byte_array_unref(desc);
}

static void usb_iface_record(GString *rec, const char *dev_path, const char *port_path,
                             const struct sim_bridge_model *m, uint8_t n, const char *driver)
{
    const struct sim_usb_iface *f = &m->ifaces[n];
    char modalias[96];
    snprintf(modalias, sizeof modalias,
             "usb:v%04Xp%04Xd%04Xdc%02Xdsc%02Xdp%02Xic%02Xisc%02Xip%02Xin%02X", m->vid,
             m->pid, m->bcd_device, m->dev_class, m->dev_subclass, m->dev_protocol, f->cls,
             f->subclass, f->protocol, n);
    char *path = g_strdup_printf("%s/1-%s:1.%u", dev_path, port_path, n);
    g_string_append_printf(rec, "P: %s\nE: DEVTYPE=usb_interface\n", path);
    if (driver)
        g_string_append_printf(rec, "E: DRIVER=%s\n", driver);
    g_string_append_printf(rec,
        "E: PRODUCT=%x/%x/%x\nE: TYPE=%u/%u/%u\nE: INTERFACE=%u/%u/%u\nE: MODALIAS=%s\n"
        "E: SUBSYSTEM=usb\nA: bInterfaceClass=%02x\nA: bInterfaceSubClass=%02x\n"
        "A: bInterfaceProtocol=%02x\nA: bInterfaceNumber=%02x\nA: bAlternateSetting= 0\n"
        "A: bNumEndpoints=%02x\nA: modalias=%s\nA: authorized=1\nA: supports_autosuspend=1\n",
        m->vid, m->pid, m->bcd_device, m->dev_class, m->dev_subclass, m->dev_protocol,
        f->cls, f->subclass, f->protocol, modalias, f->cls, f->subclass, f->protocol, n,
        f->endpoint_count, modalias);
    if (driver)
        add_driver_link(rec, path, "usb", driver);
    g_string_append_c(rec, '\n');
    g_free(path);
}

static void by_id_name(GString *out, const struct sim_bridge_model *m, const char *serial)
{
    g_string_append(out, "usb-");
    if (m->manufacturer)
        udev_safe(out, m->manufacturer);
    else
        g_string_append_printf(out, "%04x", m->vid);
    g_string_append_c(out, '_');
    udev_safe(out, m->product);
    if (serial) {
        g_string_append_c(out, '_');
        udev_safe(out, serial);
    }
    g_string_append(out, m->cdc_acm ? "-if00" : "-if00-port0");
}

static void tty_record(GString *rec, const char *iface_path, const struct sim_bridge_model *m,
                       const struct sim_usb_place *place, const char *serial,
                       const char *by_id, const char *by_path, bool mm_ignore, bool new_node)
{
    const char *name = place->tty;
    unsigned major = m->cdc_acm ? 166u : 188u;
    char *port_path = g_strdup_printf("%s/%s", iface_path, name);

    if (!m->cdc_acm) {
        /* usb-serial drivers put a port device between the interface and the tty. */
        g_string_append_printf(rec, "P: %s\nE: DRIVER=%s\nE: SUBSYSTEM=usb-serial\n"
                               "A: port_number=0\n", port_path, m->ifaces[0].driver);
        add_driver_link(rec, port_path, "usb-serial", m->ifaces[0].driver);
        g_string_append_c(rec, '\n');
    }
    const char *parent = m->cdc_acm ? iface_path : port_path;
    g_string_append_printf(rec, "P: %s/tty/%s\n", parent, name);
    if (new_node)
        g_string_append_printf(rec, "N: %s\n", name);
    g_string_append_printf(rec, "E: DEVNAME=/dev/%s\nE: MAJOR=%u\nE: MINOR=%u\n"
                           "E: SUBSYSTEM=tty\n", name, major, place->tty_index);
    g_string_append_printf(rec, "E: DEVLINKS=/dev/serial/by-id/%s /dev/serial/by-path/%s\n",
                           by_id, by_path);
    usb_id_props(rec, m, serial);
    if (mm_ignore)
        g_string_append(rec, "E: ID_MM_DEVICE_IGNORE=1\n");
    g_string_append_printf(rec,
        "E: ID_USB_INTERFACE_NUM=00\nE: ID_USB_DRIVER=%s\nE: ID_TYPE=generic\n"
        "E: ID_PATH=" PCI_ID_PATH "-usb-0:%u:1.0\nE: ID_PATH_TAG=" PCI_ID_PATH_TAG
        "-usb-0_%u_1_0\nE: TAGS=:systemd:\nA: dev=%u:%u\n",
        m->ifaces[0].driver, place->hub_port, place->hub_port, major, place->tty_index);
    /* libserialport follows this link to find the USB device above the tty. */
    if (m->cdc_acm)
        g_string_append_printf(rec, "L: device=../../../1-%u:1.0\n", place->hub_port);
    else
        g_string_append_printf(rec, "L: device=../../../%s\n", name);
    g_string_append_printf(rec, "S: serial/by-id/%s\nS: serial/by-path/%s\n\n", by_id, by_path);
    g_free(port_path);
}

/* The /dev/serial links as udev makes them, and the driver directories the driver links
 * point at, so that readlink() and realpath() answer as on a real system. */
static bool make_links(UMockdevTestbed *tb, const struct sim_bridge_model *m,
                       const struct sim_usb_setup *setup, const char *name,
                       const char *by_id, const char *by_path, GError **err)
{
    char *root = umockdev_testbed_get_root_dir(tb);
    char *sys = umockdev_testbed_get_sys_dir(tb);
    bool bound = setup->driver == SIM_DRIVER_BOUND;
    bool ok = true;
    /* A driver's directory exists once its module is loaded. */
    const char *module = setup->driver == SIM_DRIVER_USBFS ? "usbfs"
                         : bound ? m->ifaces[0].driver : "hub";
    char *dirs[] = {
        g_strdup_printf("%s/dev/serial/by-id", root),
        g_strdup_printf("%s/dev/serial/by-path", root),
        g_strdup_printf("%s/bus/usb/drivers/usb", sys),
        g_strdup_printf("%s/bus/usb/drivers/hub", sys),
        g_strdup_printf("%s/bus/usb/drivers/%s", sys, module),
        g_strdup_printf("%s/bus/usb-serial/drivers/%s", sys,
                        bound ? m->ifaces[0].driver : "generic"),
    };
    for (size_t i = 0; i < G_N_ELEMENTS(dirs) && ok; i++)
        if (g_mkdir_with_parents(dirs[i], 0755) != 0) {
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "cannot create %s: %s", dirs[i], g_strerror(errno));
            ok = false;
        }
    const char *links[2][2] = { { "by-id", by_id }, { "by-path", by_path } };
    for (size_t i = 0; i < 2 && ok && bound; i++) {
        char *link = g_strdup_printf("%s/dev/serial/%s/%s", root, links[i][0], links[i][1]);
        char *target = g_strdup_printf("../../%s", name);
        /* Relative, as udev makes them (umockdev's own are absolute testbed paths). */
        if ((unlink(link) != 0 && errno != ENOENT) || symlink(target, link) != 0) {
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "cannot create %s: %s", link, g_strerror(errno));
            ok = false;
        }
        g_free(link);
        g_free(target);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++)
        g_free(dirs[i]);
    g_free(root);
    g_free(sys);
    return ok;
}

/* The driver interface n is bound to in this setup, or NULL. */
static const char *iface_driver(const struct sim_bridge_model *m, uint8_t n,
                                const struct sim_usb_setup *setup)
{
    switch (setup->driver) {
    case SIM_DRIVER_BOUND:
        return m->ifaces[n].driver;
    case SIM_DRIVER_USBFS:
        return n == 0 ? "usbfs" : NULL;
    default:
        return NULL;
    }
}

bool sim_usb_add_hub(UMockdevTestbed *tb, GError **err)
{
    GString *rec = g_string_new(NULL);
    usb_device_record(rec, HUB_PATH, &root_hub, root_hub.serial, 1, "0", 480, HUB_PORTS,
                      "auto", false);
    usb_iface_record(rec, HUB_PATH, "0", &root_hub, 0, root_hub.ifaces[0].driver);
    bool ok = umockdev_testbed_add_from_string(tb, rec->str, err);
    g_string_free(rec, TRUE);
    return ok;
}

void sim_usb_syspath(const struct sim_usb_place *place, char *out, size_t len)
{
    snprintf(out, len, "/sys" HUB_PATH "/1-%u", place->hub_port);
}

/* Remove the dangling links in each dir/<x>/<sub> (sub NULL: dir/<x> itself). */
static void remove_dangling(const char *dir, const char *sub)
{
    GDir *top = g_dir_open(dir, 0, NULL);
    const char *x;
    while (top && (x = g_dir_read_name(top))) {
        char *in = sub ? g_strdup_printf("%s/%s/%s", dir, x, sub) : g_strdup_printf("%s/%s", dir, x);
        GDir *d = g_dir_open(in, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            char *link = g_strdup_printf("%s/%s", in, n);
            if (g_file_test(link, G_FILE_TEST_IS_SYMLINK) &&
                !g_file_test(link, G_FILE_TEST_EXISTS))
                unlink(link);   /* its device is gone */
            g_free(link);
        }
        if (d)
            g_dir_close(d);
        g_free(in);
    }
    if (top)
        g_dir_close(top);
}

void sim_usb_remove_bus_links(UMockdevTestbed *tb)
{
    char *sys = umockdev_testbed_get_sys_dir(tb);
    char *bus = g_strdup_printf("%s/bus", sys);
    char *cls = g_strdup_printf("%s/class", sys);
    remove_dangling(bus, "devices");
    remove_dangling(cls, NULL);
    g_free(bus);
    g_free(cls);
    g_free(sys);
}

void sim_usb_remove_links(UMockdevTestbed *tb, const struct sim_bridge_model *m,
                          const struct sim_usb_setup *setup, const struct sim_usb_place *place)
{
    const char *serial = setup->serial ? setup->serial : m->serial;
    GString *by_id = g_string_new(NULL);
    by_id_name(by_id, m, serial);
    char *root = umockdev_testbed_get_root_dir(tb);
    char *id_link = g_strdup_printf("%s/dev/serial/by-id/%s", root, by_id->str);
    char *path_link = g_strdup_printf("%s/dev/serial/by-path/" PCI_ID_PATH "-usb-0:%u:1.0%s",
                                      root, place->hub_port, m->cdc_acm ? "" : "-port0");
    unlink(id_link);
    unlink(path_link);
    g_free(id_link);
    g_free(path_link);
    g_free(root);
    g_string_free(by_id, TRUE);
}

bool sim_usb_add(UMockdevTestbed *tb, const struct sim_bridge_model *m,
                 const struct sim_usb_setup *setup, const struct sim_usb_place *place,
                 GError **err)
{
    const char *serial = setup->serial ? setup->serial : m->serial;
    GString *rec = g_string_new(NULL);
    GString *by_id = g_string_new(NULL);
    by_id_name(by_id, m, serial);
    char port[8];
    snprintf(port, sizeof port, "%u", place->hub_port);
    char *dev_path = g_strdup_printf(HUB_PATH "/1-%u", place->hub_port);
    char *iface_path = g_strdup_printf("%s/1-%u:1.0", dev_path, place->hub_port);
    char *by_path = g_strdup_printf(PCI_ID_PATH "-usb-0:%u:1.0%s", place->hub_port,
                                    m->cdc_acm ? "" : "-port0");

    usb_device_record(rec, dev_path, m, serial, place->hub_port, port,
                      m->speed_mbps ? m->speed_mbps : 12, 0,
                      setup->autosuspend ? "auto" : "on", setup->mm_ignore);
    for (uint8_t i = 0; i < m->iface_count; i++)
        usb_iface_record(rec, dev_path, port, m, i, iface_driver(m, i, setup));
    if (setup->driver == SIM_DRIVER_BOUND)
        tty_record(rec, iface_path, m, place, serial, by_id->str, by_path, setup->mm_ignore,
                   !setup->node_exists);

    bool ok = umockdev_testbed_add_from_string(tb, rec->str, err) &&
              make_links(tb, m, setup, place->tty, by_id->str, by_path, err);
    g_string_free(rec, TRUE);
    g_string_free(by_id, TRUE);
    g_free(by_path);
    g_free(iface_path);
    g_free(dev_path);
    return ok;
}
