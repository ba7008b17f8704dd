/* The chip's own USB port (opts.link), in place of a USB-UART bridge and its two-transistor
 * auto-reset circuit.
 *
 * USB-Serial/JTAG (303a:1001; C3, S3, C6). The controller decodes the CDC-ACM line state
 * itself (TRM, chapter "USB Serial/JTAG Controller": the host can reset the chip and put
 * it in download mode through RTS and DTR). The decode below is the one that makes the
 * documented sequences work and the others not: esptool's USBJTAGSerialReset (reset.py)
 * goes (DTR,RTS) = (0,0), (1,0), (1,1), (0,1), (0,0), setting RTS before clearing DTR "to
 * go through (1,1) instead of (0,0)", and its comments name RTS "reset" and DTR "IO0"; its
 * hard reset is (0,1), then (0,0). So: entering (0,1) resets the chip, which stays in reset
 * while the lines stay there; the reset is into download mode when it came from (1,1)
 * (DTR was up as RTS rose), else an ordinary reset. Opening the port raises both lines at
 * once, (0,0) -> (1,1): no reset. The reset is a core reset: "the USB-Serial/JTAG
 * peripheral can only trigger a core reset, which does not re-sample the state of the boot
 * strapping pin" (esptool docs, "Leaving Download Mode in USB-Serial/JTAG Mode"), so a
 * chip that came up in download mode by its BOOT button stays there. The controller is not
 * reset with the core: the tty stays.
 *
 * USB-OTG (ESP32-S2 ROM 303a:0002, ESP32-S3 ROM 303a:0009; an app's TinyUSB CDC 303a:4001).
 * The USB device is the chip's own: when the chip resets it leaves the bus, and it comes
 * back only when the ROM (download mode) or an app that starts TinyUSB enumerates again;
 * an app built without USB never brings it back. The ROM's CDC does nothing with DTR and
 * RTS ("esptool's auto-reset does nothing over ROM OTG CDC", so esptool connects with
 * --before no-reset there); an app's TinyUSB CDC reboots into the ROM's download mode on
 * RTS rising while DTR falls out of (1,1) (the Arduino-ESP32 and ESP-IDF TinyUSB console
 * "reset to bootloader" sequence, which esptool's tight reset contains). */
#include "board_internal.h"

/* CDC-ACM on a full-speed bus moves about 800 KB/s: as fast as a UART at 8 Mbaud, and
 * the line speed the host sets means nothing to it. */
#define USB_LINE_BAUD 8000000u

bool usbdev_native(const struct sim_board *b)
{
    return b->opts.link != SIM_LINK_UART;
}

uint32_t usbdev_line_baud(const struct sim_board *b, uint32_t uart_baud)
{
    return usbdev_native(b) ? USB_LINE_BAUD : uart_baud;
}

static bool both(bool dtr, bool rts)
{
    return dtr && rts;
}

/* The USB-Serial/JTAG controller's decode (see above). */
static void serial_jtag_lines(struct sim_board *b, bool dtr, bool rts, uint64_t t_ns)
{
    bool reset_state = !dtr && rts;
    bool was_reset_state = !b->dtr && b->rts;
    if (reset_state && !was_reset_state) {
        b->usb_download_request = both(b->dtr, b->rts);
        chip_hold(b, t_ns, b->usb_download_request ? "USB-Serial/JTAG: reset into download "
                  "mode (RTS rose with DTR up)" : "USB-Serial/JTAG: core reset");
    } else if (!reset_state && was_reset_state && b->powered) {
        b->gpio0_low = b->usb_download_request || b->strap_download;
        chip_release(b, t_ns, b->sim->cause_usb_reset);
    }
}

/* An app's TinyUSB CDC: the reset-to-bootloader sequence reboots into the ROM. */
static void otg_lines(struct sim_board *b, bool dtr, bool rts, uint64_t t_ns)
{
    bool app_port = b->mode == MODE_APP && b->usb_device == SIM_USB_APP;
    if (app_port && !dtr && rts && both(b->dtr, b->rts)) {
        board_trace(b, t_ns, "TinyUSB CDC: reset to bootloader: the app reboots into the "
                    "ROM's download mode");
        chip_restart(b, t_ns, b->sim->cause_sw, true);
    } else if (b->usb_device == SIM_USB_ROM) {
        board_trace(b, t_ns, "ROM USB-OTG CDC: DTR/RTS do nothing");
    }
}

void usbdev_lines(struct sim_board *b, bool dtr, bool rts, uint64_t t_ns)
{
    if (b->opts.link == SIM_LINK_USB_SERIAL_JTAG)
        serial_jtag_lines(b, dtr, rts, t_ns);
    else if (b->opts.link == SIM_LINK_USB_OTG)
        otg_lines(b, dtr, rts, t_ns);
}

/* ---- USB-OTG: the device leaves the bus with the chip and comes back with its code ---- */

static void usb_leaves(struct sim_board *b, uint64_t t_ns)
{
    if (b->usb_device != SIM_USB_ABSENT || b->usb_up_ns != NO_TIME)
        board_trace(b, t_ns, "USB-OTG: the chip resets, its USB device leaves the bus");
    b->usb_device = SIM_USB_ABSENT;
    b->usb_up_ns = NO_TIME;
}

static void usb_will_enumerate(struct sim_board *b, enum sim_usb_device as, uint64_t t_ns)
{
    b->usb_pending = as;
    b->usb_up_ns = t_ns + (uint64_t)b->opts.usb_enum_ms * NS_PER_MS;
}

void usbdev_chip_stopped(struct sim_board *b, uint64_t t_ns)
{
    if (b->opts.link == SIM_LINK_USB_OTG)
        usb_leaves(b, t_ns);
}

void usbdev_rom_started(struct sim_board *b, bool download, uint64_t t_ns)
{
    if (b->opts.link == SIM_LINK_USB_OTG && download)
        usb_will_enumerate(b, SIM_USB_ROM, t_ns);
}

void usbdev_app_started(struct sim_board *b, uint64_t t_ns)
{
    if (b->opts.link != SIM_LINK_USB_OTG)
        return;
    if (b->opts.app_usb == SIM_APP_USB_NONE) {
        board_trace(b, t_ns, "USB-OTG: this app does not start USB: no port");
        return;
    }
    usb_will_enumerate(b, SIM_USB_APP, t_ns);
}

uint64_t usbdev_next_ns(const struct sim_board *b)
{
    return b->usb_up_ns;
}

void usbdev_advance(struct sim_board *b, uint64_t t_ns)
{
    if (b->usb_up_ns == NO_TIME || b->usb_up_ns > t_ns)
        return;
    b->usb_up_ns = NO_TIME;
    b->usb_device = b->usb_pending;
    board_trace(b, t_ns, "USB-OTG: enumerates as %s", b->usb_device == SIM_USB_ROM
                ? "the ROM's CDC (download mode)" : "the app's TinyUSB CDC");
}

enum sim_usb_device usbdev_device(const struct sim_board *b)
{
    if (b->opts.link != SIM_LINK_USB_OTG)
        return b->powered ? SIM_USB_BRIDGE : SIM_USB_ABSENT;
    return b->usb_device;
}
