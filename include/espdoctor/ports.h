/* Serial ports and USB bridges present on this machine, read through libudev. */
#ifndef ESPDOCTOR_PORTS_H
#define ESPDOCTOR_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/bridges.h"

struct ed_port {
    char devnode[64];        /* /dev/ttyUSB0; empty for a bridge without a tty */
    char by_id[256];         /* /dev/serial/by-id/... if udev made one */
    char syspath[256];       /* of the tty, or of the USB device without one */
    char usb_name[32];       /* sysfs name of the USB device: "1-1.2" */
    uint16_t vid, pid;
    char serial[64];
    char manufacturer[64];
    char product[64];
    char driver[32];         /* kernel driver bound to the interface, "" if none */
    char modalias[160];      /* the serial interface's modalias (driver lookup) */
    char usb_devnode[64];    /* /dev/bus/usb/BBB/DDD: whoever claims it via usbfs opens it */
    char usb_syspath[256];   /* the USB device in /sys */
    char power_control[16];  /* power/control of the USB device: "on", "auto", "" */
    bool mm_ignore;          /* udev set ID_MM_DEVICE_IGNORE on the port or device */
    const struct ed_bridge *bridge;   /* NULL: not a bridge we know */
};

struct ed_port_list {
    struct ed_port *items;
    size_t count;
};

/* Every USB serial port, plus USB devices of known bridges that have no tty.
 * Returns ED_OK or an error (libudev unavailable). */
int ed_ports_enumerate(struct ed_port_list *list);
void ed_ports_free(struct ed_port_list *list);

/* The entry whose devnode or by-id path names `path` (symlinks resolved), or NULL. */
const struct ed_port *ed_ports_find(const struct ed_port_list *list, const char *path);

/* Ports that have a tty and a known bridge. */
size_t ed_ports_count_boards(const struct ed_port_list *list);

#endif
