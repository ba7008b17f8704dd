/* The bridge's control endpoint as usbdevfs shows it (/dev/bus/usb/001/NNN): the vendor
 * requests Linux's USB serial drivers send to tell one part of a family from another,
 * answered as the part does. A program inside the testbed reaches it through libusb
 * (USBDEVFS_SUBMITURB and REAPURB on the node); umockdev hands those ioctls to us. */
#ifndef ESPSIM_USBCTL_H
#define ESPSIM_USBCTL_H

#include <stdbool.h>
#include <umockdev.h>

#include "host.h"
#include "usbrec.h"

struct sim_usbctl {
    const struct sim_bridge_model *model;
    struct sim_host *host;
    UMockdevIoctlBase *ioctl;
    GPtrArray *done;      /* UMockdevIoctlData of submitted URBs, answered, to be reaped */
    char devnode[32];
};

bool sim_usbctl_start(struct sim_usbctl *c, UMockdevTestbed *tb,
                      const struct sim_bridge_model *m, unsigned devnum, struct sim_host *host,
                      GError **err);
void sim_usbctl_stop(struct sim_usbctl *c, UMockdevTestbed *tb);

/* The answer to a device-to-host request (setup packet fields), into out (at most len
 * bytes): its length, or -1 for a stall. Exposed for the unit tests. */
int sim_usbctl_answer(const struct sim_bridge_model *m, uint8_t request_type, uint8_t request,
                      uint16_t value, uint16_t index, uint8_t *out, uint16_t len);

#endif
