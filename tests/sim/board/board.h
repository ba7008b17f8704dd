/* The virtual board: a USB-UART bridge's modem lines driving a two-transistor auto-reset
 * circuit, and an ESP chip whose ROM bootloader speaks the serial protocol.
 *
 * The model owns no clock: every call carries "now" in microseconds, so the same model
 * runs against the real clock (espsim) or a virtual one (in-process tests). */
#ifndef ESPSIM_BOARD_H
#define ESPSIM_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim_board;

/* What the flash holds when the board is made (only written over a blank flash, so a
 * kept flash file or a test's own image wins). */
enum sim_firmware {
    SIM_FW_BLANK,        /* nothing: the ROM finds no image and loops */
    SIM_FW_APP,          /* an ESP-IDF style app: boot log, then a line every second */
    SIM_FW_MICROPYTHON,  /* MicroPython: banner and REPL */
    SIM_FW_CRASH,        /* an app that panics right after start, then reboots (loop) */
    SIM_FW_BROWNOUT,     /* the app, on a supply that sags when it starts (reset loop) */
};

#define SIM_MAX_BAD_SECTORS 4

/* Faults the board injects (tests/sim/README.md, "Faults"). All zero: none. Seeded, so
 * the same seed and the same traffic give the same faults. The byte counts are bytes that
 * reached the chip's UART (what the host sent, less what the line dropped). */
struct sim_faults {
    uint64_t seed;
    double drop_rate;          /* per byte, each direction: the byte is lost */
    double corrupt_rate;       /* per byte, each direction: the byte arrives changed */
    unsigned stall_ms;         /* 0: none; else the link freezes (both ways) this long... */
    uint64_t stall_at;         /* ...once this many bytes have reached the chip */
    bool brownout;             /* the supply dips and the chip resets (loader state lost)... */
    uint64_t brownout_at;      /* ...once this many bytes have reached the chip */
    uint32_t bad_sectors[SIM_MAX_BAD_SECTORS];   /* 4 KiB sectors whose programming does */
    size_t bad_sector_count;                     /* not stick (no error is reported) */
    double speed_error;        /* the chip's UART runs this fraction off its set rate */
    /* The front end's (espsim): the port vanishes once the host has sent unplug_at bytes
     * (the board loses power with it) and comes back as the same node replug_ms later. */
    bool unplug;
    uint64_t unplug_at;
    unsigned replug_ms;
};

/* What the host's USB cable reaches. */
enum sim_link {
    SIM_LINK_UART,             /* a USB-UART bridge; DTR/RTS drive the auto-reset circuit */
    SIM_LINK_USB_SERIAL_JTAG,  /* the chip's USB-Serial/JTAG controller (303a:1001) */
    SIM_LINK_USB_OTG,          /* the chip's USB-OTG: the ROM's CDC, an app's TinyUSB CDC */
};

/* On USB-OTG: whether the app in flash starts a TinyUSB CDC port. */
enum sim_app_usb {
    SIM_APP_USB_CDC,           /* it does (MicroPython, Arduino "USB CDC on boot") */
    SIM_APP_USB_NONE,          /* it does not: once it runs, the port never comes back */
};

/* What is on the bus at the board's USB connector. */
enum sim_usb_device {
    SIM_USB_ABSENT,            /* nothing: unpowered, or the chip's USB-OTG is down */
    SIM_USB_BRIDGE,            /* the bridge or the USB-Serial/JTAG controller: always */
    SIM_USB_ROM,               /* USB-OTG: the ROM's CDC (download mode) */
    SIM_USB_APP,               /* USB-OTG: the app's TinyUSB CDC */
};

struct sim_board_opts {
    const char *chip;          /* "esp32" (default), "esp8266", "esp32s2", "esp32s3",
                                  "esp32c3", "esp32c6"; "none": not an ESP at all, a
                                  device that prints NMEA text at 9600 baud and ignores
                                  DTR, RTS and everything it is sent */
    uint8_t mac[6];
    bool mac_given;            /* false: a fixed default MAC for the chip */
    const char *flash_path;    /* raw file of the whole flash, kept between runs; NULL: RAM */
    const char *flash_chip;    /* the flash part: "gd25q32c" (NULL, the default), "w25q32jv" */
    uint32_t flash_size;       /* bytes; 0 = 4 MiB */
    bool no_autoreset;         /* DTR/RTS not wired to EN/GPIO0 */
    bool boot_held;            /* BOOT button held: GPIO0 low at every reset */
    /* A person's press into download mode (--press-boot-at): at press_boot_at_ms BOOT goes
     * down, EN is tapped 50 to 150 ms later, BOOT comes up at press_boot_hold_ms. */
    bool press_boot;
    unsigned press_boot_at_ms;
    unsigned press_boot_hold_ms;
    unsigned en_delay_ms;      /* EN capacitor: the chip leaves reset this long after release */
    unsigned md5_delay_ms;     /* tests: SPI_FLASH_MD5 takes this much longer (a window in
                                  which to catch a verify in progress); not a hardware fact */
    bool fast;                 /* timing model off: bytes and flash operations take no time */
    unsigned usb_latency_us;   /* added to every host->chip transfer (timing model) */
    FILE *trace;               /* line changes, decoded commands and replies; NULL: none */
    enum sim_firmware firmware;
    struct sim_faults faults;
    /* The crystal: 0 = the chip's usual one; 26 or 40 where modules with it exist. */
    unsigned xtal_mhz;
    /* ESP32: how far the ROM's estimate of its crystal is off (0.01 = 1 % high); see
     * board/clock.c. Default SIM_XTAL_DRIFT_DEFAULT. */
    double xtal_drift;
    bool flash_encrypted;      /* the eFuse crypt counter is odd: flash encryption is on */
    bool secure_download;      /* the ROM's download mode is Secure Download Mode */
    enum sim_link link;
    enum sim_app_usb app_usb;
    unsigned usb_enum_ms;      /* USB-OTG: from the chip's start to its port on the bus */
    /* Run any code MEM_END jumps to as the flasher stub. false: only the known stubs
     * (board/known_stubs.c) are; other code crashes, as it would on a chip. */
    bool any_stub;
};

/* A realistic drift of the ESP32 ROM's crystal estimate: 1 % (esptool issue #365: fine at
 * the usual rates, flaky only above 1 Mbaud). */
#define SIM_XTAL_DRIFT_DEFAULT 0.01
/* The documented extreme: ESP-IDF's rtc_clk_xtal_freq_estimate (soc/esp32/rtc_clk.c)
 * takes any estimate from 36 to 45 MHz for a 40 MHz crystal without a warning; 36 MHz is
 * 10 % low. */
#define SIM_XTAL_DRIFT_EXTREME (-0.10)

/* USB-OTG: a chip's port is back on the bus (and its tty made) this long after the chip
 * starts the ROM or its app. */
#define SIM_USB_ENUM_MS_DEFAULT 300

/* What one session cost, for benchmarks (see tests/sim/README.md, "Statistics"). All
 * times are 0 with the timing model off. */
struct sim_board_stats {
    uint64_t commands;          /* requests the loader decoded and acted on */
    uint64_t blocks_written;    /* FLASH_DATA and FLASH_DEFL_DATA blocks accepted */
    uint64_t flash_busy_ns;     /* erasing, programming, reading and hashing the flash */
    uint64_t wire_ns;           /* those requests and their replies on the UART */
    uint64_t latency_ns;        /* USB latency, once per request */
    uint64_t model_min_ns;      /* the floor for a client that waits for each reply */
    uint64_t model_min_flash_ns;/* the same from the first FLASH_(DEFL_)BEGIN to the last
                                   SPI_FLASH_MD5 reply; 0 if there was none */
};

/* Fill opts with the defaults (ESP32, 4 MiB, autoreset wired, timing on, 1 ms latency,
 * the usual crystal and a realistic drift of the ESP32 ROM's estimate of it). */
void sim_board_opts_default(struct sim_board_opts *opts);

/* NULL on failure, with a one-line reason in err. The chip starts powered and running. */
struct sim_board *sim_board_new(const struct sim_board_opts *opts, char *err, size_t errlen);
void sim_board_free(struct sim_board *b);

/* The host opened or closed the port. While closed, the chip's output is lost. */
void sim_board_host_open(struct sim_board *b, bool open, uint64_t now_us);

/* The host's DTR/RTS (true = asserted), as the bridge drives them. */
void sim_board_set_lines(struct sim_board *b, bool dtr, bool rts, uint64_t now_us);

/* The host's line speed. If it differs from the chip's UART speed, each side sees garbage. */
void sim_board_set_host_baud(struct sim_board *b, uint32_t baud, uint64_t now_us);

/* Bytes the host wrote at now_us. */
void sim_board_host_write(struct sim_board *b, const uint8_t *data, size_t len,
                          uint64_t now_us);

/* Bytes that have reached the host by now_us (up to cap). */
size_t sim_board_host_read(struct sim_board *b, uint8_t *out, size_t cap, uint64_t now_us);

/* The earliest time at which the board changes on its own (a byte reaches the host, the
 * chip leaves reset, a flash operation completes); UINT64_MAX when idle. Drivers sleep
 * until then or until the host does something. */
uint64_t sim_board_next_event_us(struct sim_board *b, uint64_t now_us);

/* The USB cable was pulled (on = false: the chip loses power) or plugged back in (the
 * chip powers on and boots as at power-on). */
void sim_board_set_power(struct sim_board *b, bool on, uint64_t now_us);

/* The flash contents (the whole chip), for tests and the flash-file sync. */
const uint8_t *sim_board_flash(const struct sim_board *b, size_t *size);

/* The chip's name as its ROM reports it ("ESP32"), and whether it is in download mode. */
const char *sim_board_chip_name(const struct sim_board *b);
bool sim_board_in_download_mode(const struct sim_board *b);

/* The time the model has reached (the latest now_us it was given). */
uint64_t sim_board_now_us(const struct sim_board *b);
/* The chip's UART speed right now (it changes with autobaud, CHANGE_BAUDRATE, reset). */
uint32_t sim_board_chip_baud(const struct sim_board *b);
/* Whether the timing model is on (opts.fast not set). */
bool sim_board_timing(const struct sim_board *b);
/* Whether an uploaded flasher stub is running (after MEM_END and "OHAI"). */
bool sim_board_stub_running(const struct sim_board *b);
/* The known stub that ran last ("esptool-js 0.7.0"), or NULL (none, or only code that
 * --any-stub took). */
const char *sim_board_stub_package(const struct sim_board *b);

/* What is on the bus at the board's USB connector now (USB-OTG comes and goes with the
 * chip: see board/usbdev.c). */
enum sim_usb_device sim_board_usb_device(struct sim_board *b, uint64_t now_us);

/* The chip's MAC (the given one, or the chip's default). */
void sim_board_mac(const struct sim_board *b, uint8_t mac[6]);

void sim_board_get_stats(const struct sim_board *b, struct sim_board_stats *out);

/* The timing model the statistics come from ("stub-overlapped": board/stub_pipe.c), and
 * the flash part whose timings it uses ("gd25q32c"). */
#define SIM_TIMING_MODEL "stub-overlapped"
const char *sim_board_flash_chip(const struct sim_board *b);
/* True if name is a flash part the board models ("gd25q32c", "w25q32jv"). */
bool sim_flash_chip_known(const char *name);

/* What the front end may ask of the chip table (board/chipsim.c) before a board exists. */
struct sim_chip_info {
    const char *name;             /* "ESP32-C3" */
    bool usb_serial_jtag;         /* has the USB-Serial/JTAG controller (303a:1001) */
    bool usb_otg;                 /* its ROM can talk over USB-OTG */
    bool rom_estimates_xtal;      /* --xtal-drift means something */
    bool security_info;           /* its ROM answers GET_SECURITY_INFO */
    unsigned xtal_mhz, xtal_alt_mhz;   /* the usual crystal, the other one (0: none) */
};

/* False if key ("esp32c3") is not a chip the board models. */
bool sim_chip_info(const char *key, struct sim_chip_info *out);
/* "esp8266, esp32, ...", for messages. */
const char *sim_chip_keys(void);

#endif
