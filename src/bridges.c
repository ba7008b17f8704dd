/* The bridge table. Sources: the kernel's cp210x, ch341, ftdi_sio, pl2303 and cdc_acm
 * device tables; the vendors' data sheets for speeds (see linux-serial-failures.md).
 * The last column, the highest rate the bridge can set at all (hardware-fidelity.md,
 * "Bridges: the highest rate each really does"): 10c4:ea60 is the CP2102 (1 Mbaud), the
 * CP2104 (2 Mbaud) or the CP2102N (3 Mbaud, Linux cp210x_init_max_speed), so the highest;
 * CH340/CH341 2 Mbaud and CH9102 4 Mbaud (WCH datasheets); FT232R 3 Mbaud (FTDI
 * datasheet); PL2303 H/HX/TA up to 6 Mbaud, G-series 12 Mbaud (Linux pl2303.c). 0 where
 * the notes give no figure (the chip's own USB has no line rate). */
#include "espdoctor/bridges.h"

#include <string.h>

const struct ed_bridge ed_bridges[] = {
    { 0x10c4, 0xea60, ED_FAMILY_CP210X, "CP2102/CP2102N/CP2104", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT, 3000000 },
    { 0x10c4, 0xea63, ED_FAMILY_CP210X, "CP210x", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x10c4, 0xea64, ED_FAMILY_CP210X, "CP210x", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x10c4, 0xea70, ED_FAMILY_CP210X, "CP2105", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x10c4, 0xea71, ED_FAMILY_CP210X, "CP2108", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x1a86, 0x7523, ED_FAMILY_CH34X, "CH340", "ch341", 921600, ED_RESET_AUTO_CIRCUIT, 2000000 },
    { 0x1a86, 0x7522, ED_FAMILY_CH34X, "CH340K", "ch341", 921600, ED_RESET_AUTO_CIRCUIT, 2000000 },
    { 0x1a86, 0x5523, ED_FAMILY_CH34X, "CH341", "ch341", 921600, ED_RESET_AUTO_CIRCUIT, 2000000 },
    { 0x1a86, 0x55d3, ED_FAMILY_CH34X, "CH343", "cdc_acm", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x1a86, 0x55d4, ED_FAMILY_CH34X, "CH9102", "cdc_acm", 921600, ED_RESET_AUTO_CIRCUIT, 4000000 },
    { 0x0403, 0x6001, ED_FAMILY_FTDI, "FT232R", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT, 3000000 },
    { 0x0403, 0x6010, ED_FAMILY_FTDI, "FT2232", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x0403, 0x6011, ED_FAMILY_FTDI, "FT4232", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x0403, 0x6014, ED_FAMILY_FTDI, "FT232H", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x0403, 0x6015, ED_FAMILY_FTDI, "FT-X", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x0403, 0x0000, ED_FAMILY_FTDI, "FTDI (PID zeroed: counterfeit bricked by a driver)", "ftdi_sio", 115200, ED_RESET_AUTO_CIRCUIT, 0 },
    { 0x067b, 0x2303, ED_FAMILY_PL2303, "PL2303", "pl2303", 460800, ED_RESET_AUTO_CIRCUIT, 6000000 },
    { 0x067b, 0x23a3, ED_FAMILY_PL2303, "PL2303GX", "pl2303", 921600, ED_RESET_AUTO_CIRCUIT, 12000000 },
    { 0x303a, 0x1001, ED_FAMILY_ESPRESSIF, "USB-Serial/JTAG", "cdc_acm", 921600, ED_RESET_USB_JTAG, 0 },
    { 0x303a, 0x0002, ED_FAMILY_ESPRESSIF, "ESP32-S2 ROM USB-OTG", "cdc_acm", 921600, ED_RESET_NONE, 0 },
    { 0x303a, 0x0009, ED_FAMILY_ESPRESSIF, "ESP32-S3 ROM USB-OTG", "cdc_acm", 921600, ED_RESET_NONE, 0 },
    { 0x303a, 0x0012, ED_FAMILY_ESPRESSIF, "ESP32-P4 ROM USB-OTG", "cdc_acm", 921600, ED_RESET_NONE, 0 },
};

const size_t ed_bridge_count = sizeof ed_bridges / sizeof ed_bridges[0];

/* Linux drivers/usb/serial/cp210x.c, cp210x_init_max_speed: CP2102 1,000,000 baud; CP2104
 * 2 Mbaud (its datasheet); CP2102N 3,000,000. Longest prefix first. */
const struct ed_bridge_variant ed_bridge_variants[] = {
    { 0x10c4, 0xea60, "CP2102N ", 3000000 },
    { 0x10c4, 0xea60, "CP2104 ", 2000000 },
    { 0x10c4, 0xea60, "CP2102 ", 1000000 },
};

const size_t ed_bridge_variant_count = sizeof ed_bridge_variants / sizeof ed_bridge_variants[0];

uint32_t ed_bridge_line_max(const struct ed_bridge *b, const char *product)
{
    if (!b)
        return 0;
    for (size_t i = 0; product && i < ed_bridge_variant_count; i++) {
        const struct ed_bridge_variant *v = &ed_bridge_variants[i];
        if (v->vid == b->vid && v->pid == b->pid &&
            strncmp(product, v->product_prefix, strlen(v->product_prefix)) == 0)
            return v->line_max_baud;
    }
    return b->line_max_baud;
}

/* WCH's ch343ser_linux: module ch343.ko, usb_driver .name "usb_ch343", ports
 * /dev/ttyCH343USB*; it serves the CH342/CH343/CH9102 the kernel's cdc_acm serves. */
const struct ed_vendor_driver ed_vendor_drivers[] = {
    { "usb_ch343", "ch343", "WCH's CH343SER driver" },
};

const size_t ed_vendor_driver_count = sizeof ed_vendor_drivers / sizeof ed_vendor_drivers[0];

const struct ed_vendor_driver *ed_vendor_driver_lookup(const char *driver)
{
    for (size_t i = 0; driver && i < ed_vendor_driver_count; i++)
        if (strcmp(ed_vendor_drivers[i].driver, driver) == 0)
            return &ed_vendor_drivers[i];
    return NULL;
}

const struct ed_bridge *ed_bridge_lookup(uint16_t vid, uint16_t pid)
{
    for (size_t i = 0; i < ed_bridge_count; i++)
        if (ed_bridges[i].vid == vid && ed_bridges[i].pid == pid)
            return &ed_bridges[i];
    return NULL;
}

bool ed_bridge_known_vendor(uint16_t vid)
{
    for (size_t i = 0; i < ed_bridge_count; i++)
        if (ed_bridges[i].vid == vid)
            return true;
    return false;
}

const char *ed_bridge_family_name(enum ed_bridge_family family)
{
    switch (family) {
    case ED_FAMILY_CP210X: return "CP210x";
    case ED_FAMILY_CH34X: return "CH340/CH9102";
    case ED_FAMILY_FTDI: return "FTDI";
    case ED_FAMILY_PL2303: return "PL2303";
    case ED_FAMILY_ESPRESSIF: return "Espressif USB";
    }
    return "unknown";
}
