/* The button watch: when the reset ladder cannot reach download mode because DTR/RTS do
 * not reach EN and GPIO0 (no auto-reset circuit), a person can: hold BOOT, tap EN, let go
 * of BOOT. The watch says which buttons the board has, counts down, lets the person try
 * again or stop, and listens on the port: the moment the ROM's download banner appears
 * (or the ROM, already waiting, answers SYNC) the caller carries on with a synced loader.
 * Nothing is printed here: what the person should see goes to a callback. */
#ifndef ESPDOCTOR_BUTTON_H
#define ESPDOCTOR_BUTTON_H

#include <stdbool.h>

#include "espdoctor/bridges.h"
#include "espdoctor/loader.h"

/* How long a person gets for the press unless told otherwise (--button-wait). */
#define ED_BUTTON_WAIT_DEFAULT_MS 30000u

/* The buttons' names as printed on the board. */
struct ed_button_names {
    const char *boot;     /* "BOOT", "FLASH", or "BOOT (FLASH on NodeMCU)" */
    const char *reset;    /* "EN", "RST", or "EN (RST on NodeMCU)" */
};

/* What is known about the chip before it answered. */
enum ed_button_chip {
    ED_BUTTON_CHIP_UNKNOWN,
    ED_BUTTON_CHIP_ESP8266,     /* an ESP8266 ROM log was heard */
    ED_BUTTON_CHIP_ESP32,       /* an ESP32-family ROM log was heard */
};

/* From the boot logs of the ladder's attempts. */
enum ed_button_chip ed_button_chip_heard(const struct ed_loader *ld);

/* NodeMCU-style ESP8266 boards (a CP2102 or CH340 bridge and an ESP8266) label their
 * buttons FLASH and RST; ESP32 boards and the rest, BOOT and EN. bridge may be NULL. */
void ed_button_names_for(const struct ed_bridge *bridge, enum ed_button_chip chip,
                         struct ed_button_names *out);

enum ed_button_event {
    ED_BUTTON_ASK,          /* the instructions (names, seconds_left: the whole wait) */
    ED_BUTTON_TICK,         /* a second went by (seconds_left) */
    ED_BUTTON_RETRY,        /* Enter: trying at once; the countdown starts over */
    ED_BUTTON_BANNER,       /* the download banner appeared: syncing */
    ED_BUTTON_REACHED,      /* the bootloader answers */
    ED_BUTTON_EXPIRED,      /* the wait is over without an answer */
};

struct ed_button_status {
    enum ed_button_event event;
    unsigned seconds_left;
    const struct ed_button_names *names;
};

struct ed_button_watch {
    unsigned timeout_ms;             /* how long to wait (a retry starts it over) */
    struct ed_button_names names;
    void (*on_event)(void *ctx, const struct ed_button_status *st);   /* NULL: none */
    bool (*enter_pressed)(void *ctx);   /* polled; NULL: no keyboard */
    void *ctx;
    /* Results */
    bool banner_seen;                /* the ROM announced download mode */
    unsigned waited_ms;              /* from the instructions to the end */
};

/* Watch ld's port. ED_OK: the ROM answered SYNC (detect the chip next); ED_E_TIMEOUT:
 * no answer in time; ED_E_CANCELLED: a signal (ed_interrupted() says which); ED_E_GONE:
 * the port vanished. */
int ed_button_watch_run(struct ed_loader *ld, struct ed_button_watch *w);

#endif
