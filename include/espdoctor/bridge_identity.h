/* The bridge's own identity, read over USB with libusb: which part of its family it is
 * (CP2102 or CP2102N, FT232R or FT232H, CH340's version, PL2303 type), the highest rate
 * that part can set, and whether it answers as a counterfeit CP2102 does. */
#ifndef ESPDOCTOR_BRIDGE_IDENTITY_H
#define ESPDOCTOR_BRIDGE_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "espdoctor/ports.h"

/* What the device said: its descriptor and the vendor requests' answers. */
struct ed_bridge_answers {
    uint16_t vid, pid, bcd_device, bcd_usb;
    uint8_t dev_class, max_packet0;
    int partnum_len;          /* bytes a CP210x gave to a two-byte GET_PARTNUM; <0 stall */
    uint8_t partnum;
    int version_len;          /* bytes a CH34x gave to READ_VERSION; <0 stall */
    uint8_t version;
    bool hx_status;           /* a PL2303 answered the HX status read */
};

struct ed_bridge_identity {
    char part[40];            /* "CP2102N", "FT232R", "CH340 (version 0x31)", "PL2303HXN" */
    uint32_t line_max_baud;   /* the part's highest rate; 0: not known */
    bool counterfeit;         /* answers as a counterfeit CP2102 does */
    bool from_usb;            /* read from the device; false: the table's guess */
    char note[200];           /* without from_usb: why the device could not be asked */
};

/* Name the part from what it said. */
void ed_bridge_decode(const struct ed_bridge_answers *a, struct ed_bridge_identity *out);

/* Ask the port's USB device (its usbfs node). When it cannot be opened (permissions, no
 * node, not a bridge), out has the table's guess and says why, and ED_OK is returned all
 * the same: the identity is a detail, never a reason to stop. */
int ed_bridge_identify(const struct ed_port *p, struct ed_bridge_identity *out);

#endif
