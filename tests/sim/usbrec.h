/* The USB side of the virtual board: for each bridge, the sysfs and udev records a real
 * Linux machine shows (USB device, interface bound to its driver, usb-serial port or
 * cdc_acm tty, tty node with its udev properties and /dev/serial links), loaded into a
 * umockdev testbed. */
#ifndef ESPSIM_USBREC_H
#define ESPSIM_USBREC_H

#include <stdbool.h>
#include <stdint.h>

#include <umockdev.h>

#include "board/board.h"

#define SIM_USB_MAX_IFACES 3
#define SIM_USB_MAX_EPS 3

struct sim_usb_endpoint {
    uint8_t address;        /* 0x81 = IN 1 */
    uint8_t attributes;     /* 2 bulk, 3 interrupt */
    uint16_t max_packet;
    uint8_t interval;
};

struct sim_usb_iface {
    uint8_t cls, subclass, protocol;
    const char *driver;     /* bound kernel driver; NULL: none */
    bool acm_control;       /* CDC ACM communication interface (functional descriptors) */
    uint8_t endpoint_count;
    struct sim_usb_endpoint endpoints[SIM_USB_MAX_EPS];
};

struct sim_bridge_model {
    const char *name;           /* option value: "cp2102" */
    uint16_t vid, pid, bcd_device, bcd_usb;
    uint8_t dev_class, dev_subclass, dev_protocol;
    const char *manufacturer;   /* NULL: the device has no such string */
    const char *product;
    const char *serial;         /* NULL: none; replaced by the MAC for usb-jtag */
    unsigned max_power_ma;
    bool cdc_acm;               /* tty is ttyACM0 on interface 0 (else usb-serial ttyUSB0) */
    enum sim_link link;         /* a bridge (UART), or the chip's own USB */
    uint32_t max_baud;          /* the highest rate the part runs; 0: no UART (native) */
    unsigned speed_mbps;        /* the USB speed: 12 (full speed, 0 means it too) or 480 */
    uint8_t iface_count;
    struct sim_usb_iface ifaces[SIM_USB_MAX_IFACES];
    /* What the part answers on its control endpoint (usbctl.c). */
    uint8_t cp210x_partnum;     /* CP210x GET_PARTNUM; 0: not a CP210x */
    bool partnum_one_byte;      /* a counterfeit CP2102: one byte to a two-byte request */
    uint8_t ch34x_version;      /* CH34x READ_VERSION; 0: not a CH34x */
    bool pl2303_hx_status;      /* PL2303 HX/TA/TB: the HX status read works (HXN: stall) */
};

/* The chip's own USB-OTG device as the host sees it: the ROM's CDC (chip "esp32s2" or
 * "esp32s3"), or the app's TinyUSB CDC. */
const struct sim_bridge_model *sim_otg_model(const char *chip, bool app);

/* NULL if name is not a bridge espsim models. */
const struct sim_bridge_model *sim_bridge_find(const char *name);
/* The bridge names espsim takes, for messages. */
const char *sim_bridge_names(void);

/* Board 0's tty: "/dev/ttyUSB0" or "/dev/ttyACM0". */
const char *sim_bridge_devnode(const struct sim_bridge_model *m);

/* What the kernel made of the bridge's interface. */
enum sim_driver_state {
    SIM_DRIVER_BOUND,     /* its driver bound it and made the tty */
    SIM_DRIVER_NONE,      /* no driver: the module is missing */
    SIM_DRIVER_UNBOUND,   /* no driver: the module exists but is not loaded */
    SIM_DRIVER_USBFS,     /* claimed from user space (usbfs), as brltty does: no tty */
};

struct sim_usb_setup {
    const char *serial;            /* replaces the model's serial string; NULL: keep it */
    enum sim_driver_state driver;
    bool autosuspend;              /* power/control of the USB device is "auto", not "on" */
    bool mm_ignore;                /* udev tagged the device ID_MM_DEVICE_IGNORE=1 */
    bool node_exists;              /* the tty's node (its pty) is already in the testbed,
                                      from an earlier life of this device: make no new one */
};

/* False if name is not a driver state espsim models ("bound", "none", "unbound",
 * "usbfs"). */
bool sim_driver_state_find(const char *name, enum sim_driver_state *out);

/* The kernel module that drives this bridge ("cp210x"). */
const char *sim_bridge_module(const struct sim_bridge_model *m);

/* Board 0's usb device node: "/dev/bus/usb/001/002". */
const char *sim_bridge_usb_devnode(void);

/* Where a board is plugged in: its port on the root hub (the USB device is 1-PORT and
 * device number PORT on bus 1) and its tty ("ttyUSB0"; the minor number is tty_index). */
struct sim_usb_place {
    unsigned hub_port;
    unsigned tty_index;
    char tty[16];
};

/* Board number `board` (0-based) is on hub port 2 + board; its tty is the bridge's kind
 * (ttyUSB or ttyACM) numbered tty_index. */
void sim_usb_place_for(const struct sim_bridge_model *m, unsigned board, unsigned tty_index,
                       struct sim_usb_place *place);

/* How many boards fit on the root hub. */
unsigned sim_usb_max_boards(void);

/* Add the root hub the boards hang off (once per testbed). */
bool sim_usb_add_hub(UMockdevTestbed *tb, GError **err);

/* The USB device's place in the testbed's sysfs ("/sys/devices/.../usb1/1-2"). */
void sim_usb_syspath(const struct sim_usb_place *place, char *out, size_t len);
/* After umockdev_testbed_remove_device: remove the /sys/bus/<bus>/devices and
 * /sys/class/<class> links that pointed into the removed device (umockdev leaves those of
 * its children, and they would stop the same device from being added again). */
void sim_usb_remove_bus_links(UMockdevTestbed *tb);
/* Remove the /dev/serial links of a bridge at place whose tty is gone. */
void sim_usb_remove_links(UMockdevTestbed *tb, const struct sim_bridge_model *m,
                          const struct sim_usb_setup *setup, const struct sim_usb_place *place);

/* Add one bridge, plugged in at place, to the testbed. */
bool sim_usb_add(UMockdevTestbed *tb, const struct sim_bridge_model *m,
                 const struct sim_usb_setup *setup, const struct sim_usb_place *place,
                 GError **err);

#endif
