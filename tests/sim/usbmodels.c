/* The USB parts espsim models (usbrec.h): the USB-UART bridges, and the chips' own USB
 * devices, with what their descriptors and records say and the highest rate each runs. */
#include "usbrec.h"

#include <string.h>

#define BULK 2
#define INTERRUPT 3

/* The highest rate each part runs (max_baud): Linux drivers/usb/serial/cp210x.c
 * (cp210x_init_max_speed: CP2102 1,000,000; CP2102N 3,000,000), pl2303.c (the G/HXN
 * series 12 Mbaud), the vendors' datasheets (CH340 2 Mbaud, CH9102 4 Mbaud, FT232R 3 Mbaud,
 * FT232H 12 Mbaud). Asked for more, the bridge runs at its maximum while the chip runs at
 * the rate asked: garbage both ways (host.c). Strings and serial numbers are as real
 * parts show them in /dev/serial/by-id (public udev rules and configs: a CP2102N's 32 hex
 * digits, a CH9102's "1a86_USB_Single_Serial_<10 hex>" with no manufacturer string, a
 * Prolific cable's "Prolific_Technology_Inc._USB-Serial_Controller_<serial>", an FT232H
 * with FTDI's default EEPROM: "Single RS232-HS", no serial); bcdDevice is the chip
 * generation where known (FTDI: 0x0600 FT232R, 0x0900 FT232H). */
static const struct sim_bridge_model bridges[] = {
    { .name = "cp2102", .vid = 0x10c4, .pid = 0xea60, .bcd_device = 0x0100, .bcd_usb = 0x0110,
      .manufacturer = "Silicon Labs", .product = "CP2102 USB to UART Bridge Controller",
      .serial = "0001", .max_power_ma = 100, .iface_count = 1, .max_baud = 1000000,
      .ifaces = { { .cls = 0xff, .driver = "cp210x", .endpoint_count = 2,
                    .endpoints = { { 0x81, BULK, 64, 0 }, { 0x01, BULK, 64, 0 } } } },
      .cp210x_partnum = 0x02, },
    /* A counterfeit CP2102: the same descriptors and strings, but one byte where a
     * genuine part answers a two-byte part-number request with two (Linux cp210x.c,
     * cp2102_determine_quirks, "possibly counterfeit"). */
    { .name = "cp2102-counterfeit", .vid = 0x10c4, .pid = 0xea60, .bcd_device = 0x0100, .bcd_usb = 0x0110,
      .manufacturer = "Silicon Labs", .product = "CP2102 USB to UART Bridge Controller",
      .serial = "0001", .max_power_ma = 100, .iface_count = 1, .max_baud = 1000000,
      .ifaces = { { .cls = 0xff, .driver = "cp210x", .endpoint_count = 2,
                    .endpoints = { { 0x81, BULK, 64, 0 }, { 0x01, BULK, 64, 0 } } } },
      .cp210x_partnum = 0x02, .partnum_one_byte = true, },
    { .name = "ch340", .vid = 0x1a86, .pid = 0x7523, .bcd_device = 0x0264, .bcd_usb = 0x0110,
      .dev_class = 0xff, .product = "USB Serial", .max_power_ma = 98, .iface_count = 1,
      .max_baud = 2000000,
      .ifaces = { { .cls = 0xff, .subclass = 0x01, .protocol = 0x02, .driver = "ch341",
                    .endpoint_count = 3,
                    .endpoints = { { 0x82, BULK, 32, 0 }, { 0x02, BULK, 32, 0 },
                                   { 0x81, INTERRUPT, 8, 1 } } } },
      .ch34x_version = 0x31, },
    { .name = "ftdi", .vid = 0x0403, .pid = 0x6001, .bcd_device = 0x0600, .bcd_usb = 0x0200,
      .manufacturer = "FTDI", .product = "FT232R USB UART", .serial = "A50285BI",
      .max_power_ma = 90, .iface_count = 1, .max_baud = 3000000,
      .ifaces = { { .cls = 0xff, .subclass = 0xff, .protocol = 0xff, .driver = "ftdi_sio",
                    .endpoint_count = 2,
                    .endpoints = { { 0x81, BULK, 64, 0 }, { 0x02, BULK, 64, 0 } } } } },
    { .name = "usb-jtag", .vid = 0x303a, .pid = 0x1001, .bcd_device = 0x0101, .bcd_usb = 0x0200,
      .dev_class = 0xef, .dev_subclass = 0x02, .dev_protocol = 0x01,
      .manufacturer = "Espressif", .product = "USB JTAG/serial debug unit",
      .serial = "00:00:00:00:00:00", .max_power_ma = 500, .cdc_acm = true, .iface_count = 3,
      .link = SIM_LINK_USB_SERIAL_JTAG,
      .ifaces = { { .cls = 0x02, .subclass = 0x02, .driver = "cdc_acm", .acm_control = true,
                    .endpoint_count = 1, .endpoints = { { 0x82, INTERRUPT, 64, 1 } } },
                  { .cls = 0x0a, .driver = "cdc_acm", .endpoint_count = 2,
                    .endpoints = { { 0x01, BULK, 64, 0 }, { 0x81, BULK, 64, 0 } } },
                  { .cls = 0xff, .subclass = 0xff, .protocol = 0x01, .endpoint_count = 2,
                    .endpoints = { { 0x02, BULK, 64, 0 }, { 0x83, BULK, 64, 0 } } } } },
    { .name = "cp2102n", .vid = 0x10c4, .pid = 0xea60, .bcd_device = 0x0100, .bcd_usb = 0x0200,
      .manufacturer = "Silicon Labs", .product = "CP2102N USB to UART Bridge Controller",
      .serial = "b8ae1d70e7fced118a889ffbf8a91825", .max_power_ma = 100, .iface_count = 1,
      .max_baud = 3000000,
      .ifaces = { { .cls = 0xff, .driver = "cp210x", .endpoint_count = 2,
                    .endpoints = { { 0x82, BULK, 64, 0 }, { 0x02, BULK, 64, 0 } } } },
      .cp210x_partnum = 0x20, },
    { .name = "ch9102", .vid = 0x1a86, .pid = 0x55d4, .bcd_device = 0x0442, .bcd_usb = 0x0110,
      .dev_class = 0x02, .product = "USB Single Serial", .serial = "58FA096927",
      .max_power_ma = 134, .cdc_acm = true, .iface_count = 2, .max_baud = 4000000,
      .ifaces = { { .cls = 0x02, .subclass = 0x02, .protocol = 0x01, .driver = "cdc_acm",
                    .acm_control = true, .endpoint_count = 1,
                    .endpoints = { { 0x83, INTERRUPT, 16, 1 } } },
                  { .cls = 0x0a, .driver = "cdc_acm", .endpoint_count = 2,
                    .endpoints = { { 0x02, BULK, 32, 0 }, { 0x82, BULK, 32, 0 } } } } },
    { .name = "pl2303gx", .vid = 0x067b, .pid = 0x23a3, .bcd_device = 0x0605, .bcd_usb = 0x0200,
      .manufacturer = "Prolific Technology Inc.", .product = "USB-Serial Controller",
      .serial = "EHDSb2A5414", .max_power_ma = 100, .iface_count = 1, .max_baud = 12000000,
      .ifaces = { { .cls = 0xff, .driver = "pl2303", .endpoint_count = 3,
                    .endpoints = { { 0x81, INTERRUPT, 10, 1 }, { 0x02, BULK, 64, 0 },
                                   { 0x83, BULK, 64, 0 } } } } },
    { .name = "ft232h", .vid = 0x0403, .pid = 0x6014, .bcd_device = 0x0900, .bcd_usb = 0x0200,
      .manufacturer = "FTDI", .product = "Single RS232-HS", .max_power_ma = 90,
      .iface_count = 1, .max_baud = 12000000, .speed_mbps = 480,
      .ifaces = { { .cls = 0xff, .subclass = 0xff, .protocol = 0xff, .driver = "ftdi_sio",
                    .endpoint_count = 2,
                    .endpoints = { { 0x81, BULK, 512, 0 }, { 0x02, BULK, 512, 0 } } } } },
};

/* The chip's own USB-OTG device: the ROM's CDC in download mode, an app's TinyUSB CDC when
 * it runs (board/usbdev.c). Not bridges one picks by name: --bridge usb-otg shows the one
 * the chip is at (sim_otg_model). The ROMs' strings are as lsusb and system_profiler show
 * the ESP32-S2 ROM ("303a:0002 Espressif ESP32-S2", serial "0"); the ESP32-S3 ROM's
 * (303a:0009) follow the same pattern. The app's are ESP-IDF esp_tinyusb's defaults
 * ("Espressif Systems", "Espressif Device", "123456"; PID 0x4000 | 1 for one CDC). */
#define CDC_IFACES(notify, out, in)                                                         \
    .dev_class = 0xef, .dev_subclass = 0x02, .dev_protocol = 0x01, .cdc_acm = true,       \
    .link = SIM_LINK_USB_OTG,                                                             \
    .iface_count = 2,                                                                     \
    .ifaces = { { .cls = 0x02, .subclass = 0x02, .driver = "cdc_acm", .acm_control = true,\
                  .endpoint_count = 1, .endpoints = { { notify, INTERRUPT, 64, 1 } } },   \
                { .cls = 0x0a, .driver = "cdc_acm", .endpoint_count = 2,                  \
                  .endpoints = { { out, BULK, 64, 0 }, { in, BULK, 64, 0 } } } }

static const struct sim_bridge_model otg_models[] = {
    { .name = "usb-otg", .vid = 0x303a, .pid = 0x0002, .bcd_device = 0x0100,
      .bcd_usb = 0x0200, .manufacturer = "Espressif", .product = "ESP32-S2", .serial = "0",
      .max_power_ma = 100, CDC_IFACES(0x81, 0x02, 0x82) },
    { .name = "usb-otg", .vid = 0x303a, .pid = 0x0009, .bcd_device = 0x0100,
      .bcd_usb = 0x0200, .manufacturer = "Espressif", .product = "ESP32-S3", .serial = "0",
      .max_power_ma = 100, CDC_IFACES(0x81, 0x02, 0x82) },
    { .name = "tinyusb", .vid = 0x303a, .pid = 0x4001, .bcd_device = 0x0100,
      .bcd_usb = 0x0200, .manufacturer = "Espressif Systems", .product = "Espressif Device",
      .serial = "123456", .max_power_ma = 100, CDC_IFACES(0x81, 0x02, 0x82) },
};

const struct sim_bridge_model *sim_otg_model(const char *chip, bool app)
{
    if (app)
        return &otg_models[2];
    return strcmp(chip, "esp32s2") == 0 ? &otg_models[0] : &otg_models[1];
}

const struct sim_bridge_model *sim_bridge_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bridges); i++)
        if (strcmp(bridges[i].name, name) == 0)
            return &bridges[i];
    if (strcmp(name, "usb-otg") == 0)
        return &otg_models[1];   /* the front end shows the chip's own (sim_otg_model) */
    return NULL;
}

const char *sim_bridge_names(void)
{
    return "cp2102, cp2102-counterfeit, cp2102n, ch340, ch9102, ftdi, ft232h, pl2303gx, "
           "usb-jtag or usb-otg";
}

const char *sim_bridge_module(const struct sim_bridge_model *m)
{
    return m->ifaces[0].driver;
}

