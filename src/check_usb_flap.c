/* No port now, but is one coming and going? A chip's own USB (USB-OTG with a TinyUSB
 * CDC port, 303a:xxxx) leaves the bus whenever the chip resets and comes back when its
 * firmware starts USB again (Espressif, ESP-IDF "USB OTG Console" and esptool's notes on
 * re-enumerating ports); firmware that crashes at start makes it flicker. Watched in
 * sysfs for a moment: a cable that is not plugged in shows nothing at all. */
#include "espdoctor/doctor.h"

#include "espdoctor/error.h"
#include "espdoctor/ports.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#define WATCH_MS 1500u
#define POLL_MS 40u
#define ESPRESSIF_VID 0x303a

static void sleep_ms(unsigned ms)
{
    struct timespec left = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* An Espressif USB device in the list: its id, or 0. */
static unsigned espressif_in(const struct ed_port_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].vid == ESPRESSIF_VID)
            return list->items[i].pid ? list->items[i].pid : 1;
    return 0;
}

bool ed_watch_usb_flapping(struct ed_doctor *d)
{
    unsigned appearances = 0, pid = 0;
    bool present = false;
    for (unsigned t = 0; t < WATCH_MS; t += POLL_MS) {
        sleep_ms(POLL_MS);
        struct ed_port_list now = { 0 };
        unsigned seen = ed_ports_enumerate(&now) == ED_OK ? espressif_in(&now) : 0;
        ed_ports_free(&now);
        if (seen && !present) {
            appearances++;
            pid = seen;
        }
        present = seen != 0;
    }
    /* Once and still there: a board being plugged in, not a loop. */
    if (appearances == 0 || (appearances == 1 && present))
        return false;
    struct ed_finding *f = ed_report_add(&d->report, "port.reset-loop", "USB");
    ed_finding_evidence(f, "an Espressif USB device (303a:%04x) appeared %u time%s in %.1f s "
                           "and vanished again%s: the chip's own USB port leaves the bus at "
                           "every reset, so its firmware restarts over and over",
                        pid, appearances, appearances == 1 ? "" : "s", WATCH_MS / 1000.0,
                        present ? " (it is there at this moment)" : "");
    ed_finding_fix(f, "Put the chip into download mode by hand: hold BOOT, tap RST (EN), "
                      "release BOOT. The ROM's own port then stays; flash working firmware "
                      "(espdoctor flash FILE) or erase the flash (espdoctor erase).");
    return true;
}
