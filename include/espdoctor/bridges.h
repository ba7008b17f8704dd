/* USB-UART bridges as one table: what each VID:PID is, which kernel driver serves it,
 * how fast it can go and how to reset a board behind it. The udev rules are generated
 * from this table too. */
#ifndef ESPDOCTOR_BRIDGES_H
#define ESPDOCTOR_BRIDGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ed_bridge_family {
    ED_FAMILY_CP210X,
    ED_FAMILY_CH34X,      /* CH340/CH341/CH343/CH9102 */
    ED_FAMILY_FTDI,
    ED_FAMILY_PL2303,
    ED_FAMILY_ESPRESSIF,  /* the chip's own USB */
};

enum ed_reset_style {
    ED_RESET_AUTO_CIRCUIT, /* DTR/RTS through the two-transistor circuit */
    ED_RESET_USB_JTAG,     /* USB-Serial/JTAG peripheral's own sequence */
    ED_RESET_NONE,         /* USB-OTG/TinyUSB: no line-driven reset */
};

struct ed_bridge {
    uint16_t vid, pid;
    enum ed_bridge_family family;
    const char *chip;          /* "CP2102/CP2102N/CP2104" */
    const char *driver;        /* kernel driver expected to bind: "cp210x" */
    uint32_t max_baud;         /* highest baud worth trying for flashing */
    enum ed_reset_style reset;
    uint32_t line_max_baud;    /* the highest rate it can set at all (datasheet, driver);
                                  0: none documented. -b above it is stepped down to it */
};

/* Drivers from bridge makers, built outside the kernel, that claim bridges the kernel's
 * own driver serves. Such a driver binds again at every plug-in, so giving the device
 * back to the usual driver means blacklisting its module, not just unloading it. */
struct ed_vendor_driver {
    const char *driver;        /* the name it binds under (its usb_driver's): "usb_ch343" */
    const char *module;        /* its module, the name to blacklist: "ch343" */
    const char *maker;         /* "WCH's CH343SER driver" */
};

extern const struct ed_vendor_driver ed_vendor_drivers[];
extern const size_t ed_vendor_driver_count;

/* The row for a bound driver's name, or NULL for a driver that is not a vendor's. */
const struct ed_vendor_driver *ed_vendor_driver_lookup(const char *driver);

extern const struct ed_bridge ed_bridges[];
extern const size_t ed_bridge_count;

const struct ed_bridge *ed_bridge_lookup(uint16_t vid, uint16_t pid);

/* Parts that share a USB id but not a ceiling, told apart by their USB product string
 * (Silicon Labs programs "CP2102N USB to UART Bridge Controller", "CP2104 ..."). */
struct ed_bridge_variant {
    uint16_t vid, pid;
    const char *product_prefix;   /* "CP2102N " */
    uint32_t line_max_baud;
};

extern const struct ed_bridge_variant ed_bridge_variants[];
extern const size_t ed_bridge_variant_count;

/* The highest rate the bridge can set: its variant's when the product string names one,
 * else the row's (0: none documented). */
uint32_t ed_bridge_line_max(const struct ed_bridge *b, const char *product);
const char *ed_bridge_family_name(enum ed_bridge_family family);
/* True if the vendor id belongs to a bridge maker (unknown PID of a known vendor). */
bool ed_bridge_known_vendor(uint16_t vid);

#endif
