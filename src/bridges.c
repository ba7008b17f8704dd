/* The bridge table. Sources: the kernel's cp210x, ch341, ftdi_sio, pl2303 and cdc_acm
 * device tables; the vendors' data sheets for speeds (see linux-serial-failures.md). */
#include "espdoctor/bridges.h"

#include <string.h>

const struct ed_bridge ed_bridges[] = {
    { 0x10c4, 0xea60, ED_FAMILY_CP210X, "CP2102/CP2102N/CP2104", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x10c4, 0xea63, ED_FAMILY_CP210X, "CP210x", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x10c4, 0xea64, ED_FAMILY_CP210X, "CP210x", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x10c4, 0xea70, ED_FAMILY_CP210X, "CP2105", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x10c4, 0xea71, ED_FAMILY_CP210X, "CP2108", "cp210x", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x1a86, 0x7523, ED_FAMILY_CH34X, "CH340", "ch341", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x1a86, 0x7522, ED_FAMILY_CH34X, "CH340K", "ch341", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x1a86, 0x5523, ED_FAMILY_CH34X, "CH341", "ch341", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x1a86, 0x55d3, ED_FAMILY_CH34X, "CH343", "cdc_acm", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x1a86, 0x55d4, ED_FAMILY_CH34X, "CH9102", "cdc_acm", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x0403, 0x6001, ED_FAMILY_FTDI, "FT232R", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x0403, 0x6010, ED_FAMILY_FTDI, "FT2232", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x0403, 0x6011, ED_FAMILY_FTDI, "FT4232", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x0403, 0x6014, ED_FAMILY_FTDI, "FT232H", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x0403, 0x6015, ED_FAMILY_FTDI, "FT-X", "ftdi_sio", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x0403, 0x0000, ED_FAMILY_FTDI, "FTDI (PID zeroed: counterfeit bricked by a driver)", "ftdi_sio", 115200, ED_RESET_AUTO_CIRCUIT },
    { 0x067b, 0x2303, ED_FAMILY_PL2303, "PL2303", "pl2303", 460800, ED_RESET_AUTO_CIRCUIT },
    { 0x067b, 0x23a3, ED_FAMILY_PL2303, "PL2303GX", "pl2303", 921600, ED_RESET_AUTO_CIRCUIT },
    { 0x303a, 0x1001, ED_FAMILY_ESPRESSIF, "USB-Serial/JTAG", "cdc_acm", 921600, ED_RESET_USB_JTAG },
    { 0x303a, 0x0002, ED_FAMILY_ESPRESSIF, "ESP32-S2 ROM USB-OTG", "cdc_acm", 921600, ED_RESET_NONE },
    { 0x303a, 0x0009, ED_FAMILY_ESPRESSIF, "ESP32-S3 ROM USB-OTG", "cdc_acm", 921600, ED_RESET_NONE },
    { 0x303a, 0x0012, ED_FAMILY_ESPRESSIF, "ESP32-P4 ROM USB-OTG", "cdc_acm", 921600, ED_RESET_NONE },
};

const size_t ed_bridge_count = sizeof ed_bridges / sizeof ed_bridges[0];

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
