/* Port enumeration through libudev: the only file that includes libudev.h. Mocked
 * devices report "not initialized" under umockdev, so nothing filters on that. */
#include "espdoctor/ports.h"
#include "espdoctor/error.h"
#include "espdoctor/pathlink.h"

#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static uint16_t hex16(const char *text)
{
    return text ? (uint16_t)strtoul(text, NULL, 16) : 0;
}

static struct ed_port *append(struct ed_port_list *list)
{
    struct ed_port *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    list->items = grown;
    struct ed_port *p = &list->items[list->count++];
    memset(p, 0, sizeof *p);
    return p;
}

/* The /dev/serial/by-id link among a device's links, if any. */
static void find_by_id(struct udev_device *dev, char *out, size_t len)
{
    struct udev_list_entry *e;
    udev_list_entry_foreach(e, udev_device_get_devlinks_list_entry(dev)) {
        const char *link = udev_list_entry_get_name(e);
        if (strncmp(link, "/dev/serial/by-id/", 18) == 0) {
            copy(out, len, link);
            return;
        }
    }
    /* umockdev keeps links as a property only */
    const char *links = udev_device_get_property_value(dev, "DEVLINKS");
    const char *at = links ? strstr(links, "/dev/serial/by-id/") : NULL;
    if (at) {
        size_t n = strcspn(at, " ");
        snprintf(out, len, "%.*s", (int)n, at);
    }
}

static bool property_true(struct udev_device *dev, const char *key)
{
    const char *v = udev_device_get_property_value(dev, key);
    return v && strcmp(v, "1") == 0;
}

static void fill_usb(struct ed_port *p, struct udev_device *usb)
{
    p->vid = hex16(udev_device_get_sysattr_value(usb, "idVendor"));
    p->pid = hex16(udev_device_get_sysattr_value(usb, "idProduct"));
    copy(p->serial, sizeof p->serial, udev_device_get_sysattr_value(usb, "serial"));
    copy(p->manufacturer, sizeof p->manufacturer,
         udev_device_get_sysattr_value(usb, "manufacturer"));
    copy(p->product, sizeof p->product, udev_device_get_sysattr_value(usb, "product"));
    copy(p->usb_name, sizeof p->usb_name, udev_device_get_sysname(usb));
    copy(p->usb_devnode, sizeof p->usb_devnode, udev_device_get_devnode(usb));
    copy(p->usb_syspath, sizeof p->usb_syspath, udev_device_get_syspath(usb));
    copy(p->power_control, sizeof p->power_control,
         udev_device_get_sysattr_value(usb, "power/control"));
    p->power_control[strcspn(p->power_control, "\n")] = '\0';
    p->bridge = ed_bridge_lookup(p->vid, p->pid);
    p->mm_ignore = property_true(usb, "ID_MM_DEVICE_IGNORE");
}

/* The first interface of a USB device: the serial one on every bridge in the table
 * (multi-port bridges repeat the same driver on the others). */
static struct udev_device *first_interface(struct udev *udev, struct udev_device *usb)
{
    char path[600];
    const char *sys = udev_device_get_syspath(usb);
    const char *name = udev_device_get_sysname(usb);
    const char *config = udev_device_get_sysattr_value(usb, "bConfigurationValue");
    snprintf(path, sizeof path, "%s/%s:%s.0", sys, name, config && *config ? config : "1");
    path[strcspn(path, "\n")] = '\0';
    return udev_device_new_from_syspath(udev, path);
}

static void fill_interface(struct ed_port *p, struct udev_device *intf)
{
    if (!intf)
        return;
    copy(p->driver, sizeof p->driver, udev_device_get_driver(intf));
    copy(p->modalias, sizeof p->modalias, udev_device_get_sysattr_value(intf, "modalias"));
    p->modalias[strcspn(p->modalias, "\n")] = '\0';
}

static int add_ttys(struct udev *udev, struct ed_port_list *list)
{
    struct udev_enumerate *en = udev_enumerate_new(udev);
    if (!en)
        return ED_E_NOMEM;
    udev_enumerate_add_match_subsystem(en, "tty");
    udev_enumerate_scan_devices(en);
    struct udev_list_entry *e;
    int rc = ED_OK;
    udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
        struct udev_device *tty = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
        if (!tty)
            continue;
        struct udev_device *usb =
            udev_device_get_parent_with_subsystem_devtype(tty, "usb", "usb_device");
        struct udev_device *intf =
            udev_device_get_parent_with_subsystem_devtype(tty, "usb", "usb_interface");
        if (usb) {
            struct ed_port *p = append(list);
            if (!p) {
                udev_device_unref(tty);
                rc = ED_E_NOMEM;
                break;
            }
            fill_usb(p, usb);
            copy(p->devnode, sizeof p->devnode, udev_device_get_devnode(tty));
            if (!p->devnode[0])
                snprintf(p->devnode, sizeof p->devnode, "/dev/%s", udev_device_get_sysname(tty));
            copy(p->syspath, sizeof p->syspath, udev_device_get_syspath(tty));
            fill_interface(p, intf);
            p->mm_ignore = p->mm_ignore || property_true(tty, "ID_MM_DEVICE_IGNORE");
            find_by_id(tty, p->by_id, sizeof p->by_id);
        }
        udev_device_unref(tty);
    }
    udev_enumerate_unref(en);
    return rc;
}

static bool listed(const struct ed_port_list *list, const char *usb_name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].usb_name, usb_name) == 0)
            return true;
    return false;
}

/* USB devices of known bridges with no tty: driver missing or the interface claimed
 * from user space. They matter to the doctor as much as working ports. */
static int add_ttyless_bridges(struct udev *udev, struct ed_port_list *list)
{
    struct udev_enumerate *en = udev_enumerate_new(udev);
    if (!en)
        return ED_E_NOMEM;
    udev_enumerate_add_match_subsystem(en, "usb");
    udev_enumerate_add_match_property(en, "DEVTYPE", "usb_device");
    udev_enumerate_scan_devices(en);
    struct udev_list_entry *e;
    int rc = ED_OK;
    udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
        struct udev_device *usb = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
        if (!usb)
            continue;
        const char *devtype = udev_device_get_devtype(usb);
        uint16_t vid = hex16(udev_device_get_sysattr_value(usb, "idVendor"));
        if (devtype && strcmp(devtype, "usb_device") == 0 && ed_bridge_known_vendor(vid) &&
            !listed(list, udev_device_get_sysname(usb))) {
            struct ed_port *p = append(list);
            if (!p) {
                udev_device_unref(usb);
                rc = ED_E_NOMEM;
                break;
            }
            fill_usb(p, usb);
            copy(p->syspath, sizeof p->syspath, udev_device_get_syspath(usb));
            struct udev_device *intf = first_interface(udev, usb);
            fill_interface(p, intf);
            if (intf)
                udev_device_unref(intf);
        }
        udev_device_unref(usb);
    }
    udev_enumerate_unref(en);
    return rc;
}

int ed_ports_enumerate(struct ed_port_list *list)
{
    list->items = NULL;
    list->count = 0;
    struct udev *udev = udev_new();
    if (!udev)
        return ED_E_IO;
    int rc = add_ttys(udev, list);
    if (rc == ED_OK)
        rc = add_ttyless_bridges(udev, list);
    udev_unref(udev);
    if (rc != ED_OK)
        ed_ports_free(list);
    return rc;
}

void ed_ports_free(struct ed_port_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static const struct ed_port *find_exact(const struct ed_port_list *list, const char *path)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct ed_port *p = &list->items[i];
        if (p->devnode[0] && (strcmp(p->devnode, path) == 0 ||
                              (p->by_id[0] && strcmp(p->by_id, path) == 0)))
            return p;
    }
    return NULL;
}

const struct ed_port *ed_ports_find(const struct ed_port_list *list, const char *path)
{
    const struct ed_port *p = find_exact(list, path);
    if (p)
        return p;
    /* Another name for a node (a by-path link): where it leads, found without
     * realpath() (pathlink.h). */
    char want[PATH_MAX];
    if (!ed_path_follow_links(path, want, sizeof want) || strcmp(want, path) == 0)
        return NULL;
    return find_exact(list, want);
}

size_t ed_ports_count_boards(const struct ed_port_list *list)
{
    size_t n = 0;
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].devnode[0] && list->items[i].bridge)
            n++;
    return n;
}
