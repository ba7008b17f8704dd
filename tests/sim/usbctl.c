/* The bridge's control endpoint (usbctl.h). Sources, Linux drivers/usb/serial/:
 * - cp210x.c: CP210X_VENDOR_SPECIFIC (bRequest 0xFF) with wValue CP210X_GET_PARTNUM
 *   (0x370B), device-to-host vendor request (0xC0), answers the part number (0x01 CP2101,
 *   0x02 CP2102, 0x03 CP2103, 0x04 CP2104, 0x05 CP2105, 0x08 CP2108, 0x20-0x22 CP2102N);
 *   cp2102_determine_quirks sends the same request with a two-byte buffer: "Some
 *   (possibly counterfeit) CP2102 ... return one instead of two bytes".
 * - ch341.c: CH341_REQ_READ_VERSION (0x5F), device-to-host vendor, two bytes, the first
 *   the chip version the driver logs.
 * - pl2303.c: pl2303_supports_hx_status: VENDOR_READ_REQUEST (0x01), type 0xC0, wValue
 *   PL2303_READ_TYPE_HX_STATUS (0x8080), one byte; the HXN (G) series does not support it
 *   (the request fails), which tells a TA/TB from a GT/GE with the same bcdDevice.
 * Anything else a part does not know it stalls (-EPIPE in the URB's status). */
#include "usbctl.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define VENDOR_IN 0xC0
#define CP210X_VENDOR_SPECIFIC 0xFF
#define CP210X_GET_PARTNUM 0x370B
#define CH341_REQ_READ_VERSION 0x5F
#define PL2303_VENDOR_READ 0x01
#define PL2303_READ_TYPE_HX_STATUS 0x8080
#define SETUP_LEN 8

int sim_usbctl_answer(const struct sim_bridge_model *m, uint8_t request_type, uint8_t request,
                      uint16_t value, uint16_t index, uint8_t *out, uint16_t len)
{
    (void)index;
    if (request_type != VENDOR_IN || len == 0)
        return -1;
    if (m->cp210x_partnum && request == CP210X_VENDOR_SPECIFIC && value == CP210X_GET_PARTNUM) {
        /* The genuine part fills what it is asked for; what follows the part number is
         * not documented: zero here. */
        uint8_t reply[2] = { m->cp210x_partnum, 0 };
        uint16_t n = m->partnum_one_byte ? 1 : (len < 2 ? len : 2);
        memcpy(out, reply, n);
        return n;
    }
    if (m->ch34x_version && request == CH341_REQ_READ_VERSION) {
        uint8_t reply[2] = { m->ch34x_version, 0 };
        uint16_t n = len < 2 ? len : 2;
        memcpy(out, reply, n);
        return n;
    }
    if (m->pl2303_hx_status && request == PL2303_VENDOR_READ &&
        value == PL2303_READ_TYPE_HX_STATUS) {
        out[0] = 0;
        return 1;
    }
    return -1;
}

static void reply_errno(UMockdevIoctlClient *client, int err)
{
    umockdev_ioctl_client_complete(client, err ? -1 : 0, err);
}

/* A control URB: its setup packet and data stage are answered at once; the URB waits in
 * `done` for the client's REAPURB, as a completed transfer does in the kernel. */
static void submit(struct sim_usbctl *c, UMockdevIoctlClient *client)
{
    GError *err = NULL;
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    UMockdevIoctlData *urb_data = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb),
                                                              &err);
    if (!urb_data) {
        g_clear_error(&err);
        reply_errno(client, EFAULT);
        return;
    }
    struct usbdevfs_urb *urb = (struct usbdevfs_urb *)urb_data->data;
    if (urb->type != USBDEVFS_URB_TYPE_CONTROL || urb->buffer_length < SETUP_LEN) {
        g_object_unref(urb_data);
        reply_errno(client, EINVAL);   /* the bridge's data goes through its tty */
        return;
    }
    UMockdevIoctlData *buffer = umockdev_ioctl_data_resolve(
        urb_data, offsetof(struct usbdevfs_urb, buffer), (gsize)urb->buffer_length, &err);
    if (!buffer) {
        g_clear_error(&err);
        g_object_unref(urb_data);
        reply_errno(client, EFAULT);
        return;
    }
    uint8_t *setup = buffer->data;
    uint16_t value = (uint16_t)(setup[2] | setup[3] << 8);
    uint16_t index = (uint16_t)(setup[4] | setup[5] << 8);
    uint16_t length = (uint16_t)(setup[6] | setup[7] << 8);
    if (length > urb->buffer_length - SETUP_LEN)
        length = (uint16_t)(urb->buffer_length - SETUP_LEN);
    int n = sim_usbctl_answer(c->model, setup[0], setup[1], value, index, setup + SETUP_LEN,
                              length);
    urb->status = n < 0 ? -EPIPE : 0;
    urb->actual_length = n < 0 ? 0 : n;
    sim_host_trace(c->host, "usb: control 0x%02x 0x%02x value 0x%04x index %u length %u -> %s",
                   setup[0], setup[1], value, index, length, n < 0 ? "stall" : "answered");
    g_object_unref(buffer);
    g_ptr_array_add(c->done, urb_data);
    reply_errno(client, 0);
}

static void reap(struct sim_usbctl *c, UMockdevIoctlClient *client)
{
    if (c->done->len == 0) {
        reply_errno(client, EAGAIN);
        return;
    }
    GError *err = NULL;
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    UMockdevIoctlData *slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &err);
    if (!slot) {
        g_clear_error(&err);
        reply_errno(client, EFAULT);
        return;
    }
    UMockdevIoctlData *urb_data = g_ptr_array_steal_index(c->done, 0);
    umockdev_ioctl_data_set_ptr(slot, 0, urb_data);
    g_object_unref(urb_data);
    g_object_unref(slot);
    reply_errno(client, 0);
}

static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer ctx)
{
    (void)base;
    struct sim_usbctl *c = ctx;
    gulong request = umockdev_ioctl_client_get_request(client);
    switch (request) {
    case USBDEVFS_GET_CAPABILITIES: {
        GError *err = NULL;
        UMockdevIoctlData *caps = umockdev_ioctl_data_resolve(
            umockdev_ioctl_client_get_arg(client), 0, sizeof(uint32_t), &err);
        if (!caps) {
            g_clear_error(&err);
            reply_errno(client, EFAULT);
            break;
        }
        memset(caps->data, 0, sizeof(uint32_t));
        g_object_unref(caps);
        reply_errno(client, 0);
        break;
    }
    case USBDEVFS_CLAIMINTERFACE:
    case USBDEVFS_RELEASEINTERFACE:
        reply_errno(client, 0);
        break;
    case USBDEVFS_SUBMITURB:
        submit(c, client);
        break;
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
        reap(c, client);
        break;
    default:
        reply_errno(client, ENOTTY);
        break;
    }
    return TRUE;
}

bool sim_usbctl_start(struct sim_usbctl *c, UMockdevTestbed *tb,
                      const struct sim_bridge_model *m, unsigned devnum, struct sim_host *host,
                      GError **err)
{
    memset(c, 0, sizeof *c);
    c->model = m;
    c->host = host;
    snprintf(c->devnode, sizeof c->devnode, "/dev/bus/usb/001/%03u", devnum);
    c->done = g_ptr_array_new_with_free_func(g_object_unref);
    c->ioctl = umockdev_ioctl_base_new();
    g_signal_connect(c->ioctl, "handle-ioctl", G_CALLBACK(on_ioctl), c);
    return umockdev_testbed_attach_ioctl(tb, c->devnode, c->ioctl, err);
}

void sim_usbctl_stop(struct sim_usbctl *c, UMockdevTestbed *tb)
{
    if (!c->ioctl)
        return;
    umockdev_testbed_detach_ioctl(tb, c->devnode, NULL);
    g_clear_object(&c->ioctl);
    g_ptr_array_unref(c->done);
    c->done = NULL;
}
