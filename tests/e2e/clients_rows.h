/* The rows of the conformance table (tests/sim/README.md): every chip x bridge x loader
 * path x client that exists, and what each step of a row expects. Header-only, for
 * test_espsim_clients.c. */
#ifndef ESPDOCTOR_CLIENTS_ROWS_H
#define ESPDOCTOR_CLIENTS_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum client { ESPTOOL_JS, ESP_WEB_FLASHER, CLIENT_COUNT };
enum loader { LOADER_ROM, LOADER_STUB, LOADER_COUNT, LOADER_ANY = LOADER_COUNT };

static const char *const client_names[] = { "esptool-js", "esp-web-flasher" };
static const char *const loader_names[] = { "rom", "stub" };

/* The steps of a row, in order; each is one cell of the table. */
enum step {
    STEP_CONNECT, STEP_IDENTIFY, STEP_STUB, STEP_BAUD, STEP_FLASH_ID, STEP_WRITE,
    STEP_VERIFY, STEP_SAME_BYTES, STEP_COUNT
};

/* Keys as tests/js/row.mjs reports them (same_bytes is the test's own step). */
static const char *const step_keys[] = {
    "connect", "identify", "stub", "baud", "flash_id", "write", "verify", "same_bytes",
};

/* What espsim is configured with for each chip, and the image a row writes. MACs and
 * flash sizes are not espsim's defaults, so a client that reads them proves it read
 * them. Crystal: espsim's default, 40 MHz (26 MHz on the ESP8266). */
struct chip_setup {
    const char *key;         /* espsim --chip, mkimage --chip */
    const char *name;        /* what the clients call it */
    const char *mac;         /* espsim --mac */
    const char *flash_size;  /* espsim --flash-size */
    uint32_t flash_bytes;
    unsigned crystal_mhz;
    bool usb_jtag;           /* has the USB-Serial/JTAG peripheral */
    const char *image_kind;  /* mkimage --kind */
    uint32_t address;        /* where the image goes (its usual place) */
};

static const struct chip_setup chip_setups[] = {
    { "esp8266", "ESP8266", "5C:CF:7F:A0:B1:01", "4MB", 4u << 20, 26, false, "v1", 0x0 },
    { "esp32", "ESP32", "24:0A:C4:A0:B1:02", "4MB", 4u << 20, 40, false, "app", 0x10000 },
    { "esp32s2", "ESP32-S2", "7C:DF:A1:A0:B1:03", "2MB", 2u << 20, 40, false, "app", 0x10000 },
    { "esp32s3", "ESP32-S3", "F4:12:FA:A0:B1:04", "8MB", 8u << 20, 40, true, "app", 0x10000 },
    { "esp32c3", "ESP32-C3", "58:CF:79:A0:B1:05", "4MB", 4u << 20, 40, true, "app", 0x10000 },
    { "esp32c6", "ESP32-C6", "60:55:F9:A0:B1:06", "16MB", 16u << 20, 40, true, "app", 0x10000 },
};
#define CHIP_COUNT (sizeof chip_setups / sizeof chip_setups[0])
#define IMAGE_SIZE "64K"   /* mkimage --size: a few dozen ROM blocks, four stub blocks */
#define ROW_BAUD 921600    /* the rate every row changes to (row.mjs --baud) */

/* Steps the board cannot do on a loader path: not run, "n/a" in the table. */
static const struct board_limit {
    const char *chip;
    enum loader loader;
    enum step step;
    const char *why;
} board_limits[] = {
    { "esp8266", LOADER_ROM, STEP_BAUD,
      "The ESP8266 ROM loader has no CHANGE_BAUDRATE (esptool docs, Serial Protocol); "
      "it stays at 115200." },
    { "esp8266", LOADER_ROM, STEP_VERIFY,
      "The ESP8266 ROM loader has neither SPI_FLASH_MD5 nor READ_FLASH (esptool docs, "
      "Serial Protocol); the flash file comparison with espdoctor's is what checks the bytes." },
};

/* Steps a client cannot do (from its source). The row runs the step anyway and expects
 * the client to give up with `message`; if it does not, the row fails ("update this
 * table"). Steps after a refused one are not reached, except after a refused baud
 * change, which leaves the link as it was. (esp-web-flasher's setBaudrate() means to
 * refuse the ESP8266, but tests this.chipFamily, which only the ROM loader object has:
 * on the stub loader the check passes and the change works, as the rows show.) */
static const struct client_limit {
    enum client client;
    const char *chip;
    enum loader loader;      /* LOADER_ANY: both */
    enum step step;
    const char *message;     /* part of the client's error */
    const char *why;
} client_limits[] = {
    { ESP_WEB_FLASHER, "esp32c6", LOADER_ANY, STEP_CONNECT, "Unknown Chip: Hex: 0x2ce0806f",
      "esp-web-flasher 5.1.5 knows the ESP32-C6 only by the beta's magic value 0x0da1806f "
      "(src/const.ts, CHIP_DETECT_MAGIC_VALUES) and has no C6 registers or stub." },
    { ESPTOOL_JS, "esp8266", LOADER_ROM, STEP_WRITE, "Failed to write to target Flash after seq 0",
      "esptool-js 0.7.0 sends the ESP8266 ROM 16 KiB FLASH_DATA blocks: its ESP8266 target's "
      "FLASH_WRITE_SIZE is the stub's 0x4000 (lib/targets/esp8266.js); a ROM takes 0x400 "
      "(esptool's ROM block size)." },
};

struct row {
    const struct chip_setup *chip;
    const char *bridge;      /* espsim --bridge */
    const char *usb_id;      /* what a browser reports for that bridge */
    enum loader loader;
    enum client client;
};

/* Every combination that exists: each chip on espsim's default UART bridge (cp2102),
 * the chips with the peripheral also on usb-jtag; both loader paths; both clients. */
static inline size_t rows_make(struct row *rows, size_t cap)
{
    size_t n = 0;
    for (size_t c = 0; c < CHIP_COUNT; c++)
        for (int usb = 0; usb < 2; usb++) {
            if (usb && !chip_setups[c].usb_jtag)
                continue;
            for (int l = 0; l < LOADER_COUNT; l++)
                for (int k = 0; k < CLIENT_COUNT; k++) {
                    if (n == cap)
                        return n;
                    rows[n++] = (struct row){
                        &chip_setups[c], usb ? "usb-jtag" : "cp2102",
                        usb ? "303a:1001" : "10c4:ea60", (enum loader)l, (enum client)k,
                    };
                }
        }
    return n;
}
#define ROWS_MAX 64

static inline const struct board_limit *board_limit_for(const struct row *r, enum step s)
{
    for (size_t i = 0; i < sizeof board_limits / sizeof board_limits[0]; i++) {
        const struct board_limit *b = &board_limits[i];
        if (b->step == s && b->loader == r->loader && strcmp(b->chip, r->chip->key) == 0)
            return b;
    }
    return NULL;
}

static inline const struct client_limit *client_limit_for(const struct row *r, enum step s)
{
    if (board_limit_for(r, s))
        return NULL;   /* the board has no such step: nothing for the client to refuse */
    for (size_t i = 0; i < sizeof client_limits / sizeof client_limits[0]; i++) {
        const struct client_limit *c = &client_limits[i];
        if (c->step == s && c->client == r->client && strcmp(c->chip, r->chip->key) == 0 &&
            (c->loader == LOADER_ANY || c->loader == r->loader))
            return c;
    }
    return NULL;
}

#endif
