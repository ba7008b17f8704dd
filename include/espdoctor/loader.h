/* Talking to the ROM bootloader (or a flasher stub) over a transport: commands and their
 * replies, sync, the connect loop with its evidence, chip detection, registers, SPI flash
 * and the flash/RAM download primitives.
 *
 * The context is caller-owned (no globals) and large (about 64 KiB of buffers): put it in
 * static storage or on the heap rather than a small stack, call
 * ed_loader_init() once, then ed_loader_connect() (or ed_loader_sync() if the caller has
 * done the reset). Every operation returns ED_OK or a negative ed_status. When a command
 * fails, the context keeps the evidence: last_op, the raw ROM status bytes, the OS errno
 * (in the transport) and the text the chip printed outside frames (the boot log). */
#ifndef ESPDOCTOR_LOADER_H
#define ESPDOCTOR_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/bootlog.h"
#include "espdoctor/bridges.h"
#include "espdoctor/chips.h"
#include "espdoctor/proto.h"
#include "espdoctor/reset.h"
#include "espdoctor/slip.h"
#include "espdoctor/transport.h"

#define ED_BOOTLOG_MAX 8192         /* text kept from outside frames (newest kept) */
#define ED_LOADER_MAX_ATTEMPTS 16
#define ED_LOADER_FOREIGN_FRAMES 32 /* frames skipped while waiting before giving up */
#define ED_CONNECT_FOLLOWS 3        /* a re-enumerating port is found again this often */

/* Timeouts (ms) and size-scaled rates (ms per MiB), as esptool uses them. */
#define ED_TIMEOUT_DEFAULT_MS 3000u
#define ED_TIMEOUT_SYNC_MS 100u
#define ED_TIMEOUT_ERASE_ALL_MS 120000u
#define ED_RATE_ERASE_MS_PER_MB 40000u    /* FLASH_BEGIN on a ROM, ERASE_REGION */
#define ED_RATE_DEFL_MS_PER_MB 40000u     /* FLASH_DEFL_DATA, per uncompressed MiB */
#define ED_RATE_MD5_MS_PER_MB 8000u

/* Block sizes. */
#define ED_RAM_BLOCK 0x1800u
#define ED_FLASH_BLOCK_ROM 0x400u
#define ED_FLASH_BLOCK_STUB 0x4000u
#define ED_FLASH_SECTOR 0x1000u

/* max(3 s, rate_ms_per_mb x size / 1 MiB). */
unsigned ed_timeout_for_size(unsigned rate_ms_per_mb, uint32_t size);

/* What the boot log said about the last reset. */
enum ed_boot_mode {
    ED_BOOT_UNSEEN,     /* no recognisable boot banner */
    ED_BOOT_DOWNLOAD,   /* "boot:0x3 (DOWNLOAD_BOOT...)", ESP8266 "boot mode:(1,x)" */
    ED_BOOT_FLASH,      /* "boot:0x13 (SPI_FAST_FLASH_BOOT)", ESP8266 "boot mode:(3,x)" */
    ED_BOOT_OTHER,      /* a banner with another boot value */
};

const char *ed_boot_mode_name(enum ed_boot_mode mode);

/* Boil a decoded boot log down to the mode it shows. */
enum ed_boot_mode ed_boot_mode_of(const struct ed_bootlog *log);

/* One connect attempt, kept as evidence. */
struct ed_connect_attempt {
    bool reset_done;             /* false in no-reset mode */
    enum ed_reset_seq seq;
    unsigned delay_ms;
    int result;                  /* ED_OK when the chip answered SYNC */
    enum ed_boot_mode boot;      /* what the boot log showed after this reset */
    int boot_value;              /* ESP32 boot:0xNN or ESP8266 boot mode N; -1: none seen */
    size_t log_bytes;            /* text bytes received during the attempt */
    struct ed_bootlog log;       /* the text of this attempt, decoded */
    char banner[96];             /* the line with the boot value, for reports */
    char followed[192];          /* the port vanished in this attempt and was found again
                                    ("/dev/ttyACM0 -> /dev/ttyACM1 ..."); "" otherwise */
};

struct ed_connect_opts {
    enum ed_reset_style style;   /* from the bridge table: which sequences to try */
    bool no_reset;               /* the board is already in download mode: just sync */
    unsigned attempts;           /* 0: one round of every (sequence, delay) pair */
    uint32_t log_baud;           /* read the boot log at this baud (74880 for an ESP8266),
                                    then sync at the transport's baud; 0: don't switch */
    unsigned syncs;              /* SYNC packets per attempt; 0: the usual five */
    /* A native-USB chip's port re-enumerates when the chip resets: it vanishes and comes
     * back, maybe under another name. When the port vanishes during an attempt, follow
     * closes *tp, finds the board again and opens it (ED_OK with the new transport in *tp
     * and a one-line note of where it was found). The connect then syncs there without
     * another reset, at most ED_CONNECT_FOLLOWS times. NULL: a vanished port ends it. */
    int (*follow)(void *ctx, struct ed_transport **tp, char *note, size_t len);
    void *follow_ctx;
};

struct ed_loader {
    struct ed_transport *tp;
    struct ed_slip_decoder slip;
    const struct ed_chip *chip;  /* NULL until detected */
    unsigned status_bytes;       /* 2 or 4: learnt from SYNC, confirmed by detection */
    bool stub;                   /* a flasher stub answers, not the ROM */
    bool spi_attached;

    /* Evidence */
    char bootlog[ED_BOOTLOG_MAX + 1]; /* NUL-terminated (the text may hold NULs too) */
    size_t bootlog_len;
    uint64_t bootlog_total;      /* every text byte ever seen (bootlog keeps the newest) */
    uint8_t last_op;             /* the last command sent */
    uint8_t last_status[4];      /* its raw status bytes (ED_E_ROM, ED_E_UNSUPPORTED) */
    unsigned last_status_len;
    uint8_t last_error;          /* the error byte of the last failure */
    uint32_t sync_value;         /* SYNC reply value: 0x20120707 ROM, 0 stub */
    unsigned sync_replies;       /* how many SYNC replies the last sync got */
    uint32_t security_chip_id;   /* from GET_SECURITY_INFO, UINT32_MAX if unknown */
    bool secure_download;        /* GET_SECURITY_INFO's flags say Secure Download Mode */
    bool security_known;         /* GET_SECURITY_INFO answered: the two below are its */
    uint32_t security_flags;     /* its flags word */
    uint8_t flash_crypt_cnt;     /* its crypt counter byte */
    uint32_t magic;              /* the 0x40001000 detection value, 0 if not read */
    uint32_t rom_xtal_estimate_hz; /* ESP32 ROM: its estimate of its crystal, 0 if not read */

    struct ed_connect_attempt attempts[ED_LOADER_MAX_ATTEMPTS];
    size_t attempt_count;

    /* Counters */
    unsigned long commands_sent, frames_received, frames_skipped, bad_frames;

    /* Receive state: bytes read from the transport but not yet fed to the decoder. */
    uint8_t rx[512];
    size_t rx_pos, rx_len;
    uint8_t tx[ED_PROTO_MAX_ENCODED];
};

/* Bind a context to an open transport. Assumes a ROM until SYNC says otherwise. */
void ed_loader_init(struct ed_loader *ld, struct ed_transport *tp);

/* Send one request and wait up to timeout_ms for the reply that echoes its op. Frames that
 * are too short, not responses or for another op are skipped (counted), text outside
 * frames goes to the boot log. resp (may be NULL) points into the context: valid until
 * the next call. Returns ED_E_ROM on a failure status (bytes kept in last_status /
 * last_error), ED_E_UNSUPPORTED for status 1 / error 0x05 (after draining the repeats a
 * ROM sends), ED_E_TIMEOUT, ED_E_PROTOCOL after too many foreign frames, or a transport
 * error. */
int ed_loader_command(struct ed_loader *ld, uint8_t op, const uint8_t *data, size_t len,
                      unsigned timeout_ms, struct ed_response *resp);

/* Discard pending input, both in the OS and in our decoder. */
int ed_loader_flush(struct ed_loader *ld);

/* Read the chip's console into the boot log for at most max_ms, stopping early after
 * quiet_ms without a byte. Frames seen meanwhile are counted as skipped. */
int ed_loader_listen(struct ed_loader *ld, unsigned max_ms, unsigned quiet_ms);

/* One SYNC: on success sets stub (value 0 or a single reply), status_bytes, sync_value
 * and sync_replies, after draining the further replies a ROM sends. */
int ed_loader_sync(struct ed_loader *ld);

/* Reset into download mode and sync, trying each (sequence, delay) pair; every attempt is
 * recorded in ld->attempts with what the boot log showed. ED_E_TIMEOUT if nothing
 * answered; a transport error (unplug, no modem lines) ends the loop at once. */
/* The next SLIP frame (ld->slip.frame/len, valid until the next call), from what is
 * already buffered first, reading more as needed; text outside frames goes to the boot
 * log. ED_E_TIMEOUT once the deadline (ed_tp_now_us time) passes. For exchanges that are
 * not request/reply, such as READ_FLASH's stream. */
int ed_loader_next_frame(struct ed_loader *ld, uint64_t deadline_us);

/* The loader's transport may be another one afterwards (opts->follow): callers take
 * ld->tp, not the one they passed in. */
int ed_loader_connect(struct ed_loader *ld, const struct ed_connect_opts *opts);

/* After a failed connect: true if every attempt that showed a banner showed `mode`, and at
 * least one did (e.g. ED_BOOT_FLASH: "boot:0x13 after every reset: the auto-reset did
 * not reach download mode"). */
bool ed_loader_attempts_all(const struct ed_loader *ld, enum ed_boot_mode mode);

/* One line describing an attempt:
 * "tight reset, D=50 ms: boot value 0x13 (flash boot), timed out". */
void ed_loader_describe_attempt(const struct ed_connect_attempt *a, char *buf, size_t len);

/* Which chip answered: GET_SECURITY_INFO's chip id first, the magic register after.
 * Sets ld->chip and, for a ROM, ld->status_bytes. ED_E_UNSUPPORTED for an unknown chip
 * (ld->magic and ld->security_chip_id say what it answered). */
int ed_loader_detect_chip(struct ed_loader *ld);

/* Registers. */
int ed_loader_read_reg(struct ed_loader *ld, uint32_t addr, uint32_t *value);
int ed_loader_write_reg(struct ed_loader *ld, uint32_t addr, uint32_t value, uint32_t mask,
                        uint32_t delay_us);

/* Factory MAC (needs a detected chip). ED_E_PROTOCOL for an ESP8266 OUI we do not know. */
int ed_loader_read_mac(struct ed_loader *ld, uint8_t mac[6]);

/* Crystal frequency from the UART divider at the current baud: *mhz snapped to 26, 40 or
 * 48; *raw_mhz_x10 the unrounded estimate in tenths of MHz (evidence if it is far off). */
int ed_loader_crystal_mhz(struct ed_loader *ld, unsigned *mhz, unsigned *raw_mhz_x10);

/* The flash chip's JEDEC id (manufacturer in bits 0-7, type 8-15, capacity 16-23) and its
 * size from the capacity byte (0 if the byte is not one we know). Attaches SPI first where
 * the ROM needs it. When the flash chip did not answer (id 0xFFFFFF or 0x000000) the id
 * is still stored and the result is ED_E_NOTFOUND. */
int ed_loader_flash_id(struct ed_loader *ld, uint32_t *jedec, uint32_t *size_bytes);

/* Run one SPI flash command through the user-command registers: command byte, up to 32
 * bits out (mosi_bits, data little-endian in mosi), up to 32 bits back. */
int ed_loader_spi_command(struct ed_loader *ld, uint8_t cmd, uint32_t mosi,
                          unsigned mosi_bits, unsigned miso_bits, uint32_t *miso);

/* Flash set-up. */
int ed_loader_spi_attach(struct ed_loader *ld);
int ed_loader_spi_set_params(struct ed_loader *ld, uint32_t flash_size);
/* Switch both sides to new_baud (ED_E_UNSUPPORTED on an ESP8266 ROM). */
int ed_loader_change_baud(struct ed_loader *ld, uint32_t new_baud);

/* The rate to put in CHANGE_BAUDRATE so that the UART runs at baud: baud itself, except on
 * an ESP32 ROM, which sets its divider from its own estimate of the crystal; then this
 * reads that estimate (ld->rom_xtal_estimate_hz) and scales baud by it (loader_rom_baud.c). */
int ed_loader_rom_baud_arg(struct ed_loader *ld, uint32_t baud, uint32_t *arg);

/* The write block size for FLASH_DATA/FLASH_DEFL_DATA: 0x400 ROM, 0x4000 stub. */
uint32_t ed_loader_flash_block(const struct ed_loader *ld);

/* Uncompressed flashing: begin erases [offset, offset+size) rounded to sectors (ROM: up
 * front), with the erase size that makes this loader erase exactly that (erase.h), or
 * ED_E_REFUSED when one FLASH_BEGIN cannot (the ESP8266 ROM, some odd sector counts: the
 * flash engine cuts those); begin_erasing sends erase_size as it is. Data sends block
 * `seq` (a short block is padded with 0xFF), end finishes (reboot: run the new firmware;
 * false: stay in the loader). Don't send end to a ROM mid-session. */
int ed_loader_flash_begin(struct ed_loader *ld, uint32_t size, uint32_t offset);
int ed_loader_flash_begin_erasing(struct ed_loader *ld, uint32_t size, uint32_t offset,
                                  uint32_t erase_size);
int ed_loader_flash_data(struct ed_loader *ld, const uint8_t *data, size_t len, uint32_t seq);
int ed_loader_flash_end(struct ed_loader *ld, bool reboot);

/* Compressed flashing: a zlib stream of an image of `size` bytes, `compressed` bytes long. */
int ed_loader_flash_defl_begin(struct ed_loader *ld, uint32_t size, uint32_t compressed,
                               uint32_t offset);
/* uncompressed_len: how much image this block expands to (for the timeout). */
int ed_loader_flash_defl_data(struct ed_loader *ld, const uint8_t *data, size_t len,
                              uint32_t seq, uint32_t uncompressed_len);
int ed_loader_flash_defl_end(struct ed_loader *ld, bool reboot);

/* MD5 of a flash region (ROM: 32 hex chars; stub: 16 raw bytes; both become raw). */
int ed_loader_flash_md5(struct ed_loader *ld, uint32_t addr, uint32_t size, uint8_t md5[16]);

/* The flash's real size, when its first 32 KiB repeat at powers of two below `claimed`
 * (a counterfeit chip wraps around there): *real is then smaller than claimed. Read-only
 * (it sets SPI_SET_PARAMS to `claimed` before reading past the first window).
 * ED_E_UNSUPPORTED (and *real = claimed) when it cannot tell: no MD5 on this loader, or
 * content that repeats anyway (erased, zeroed, a pattern) (loader_flash_size.c). */
int ed_loader_flash_real_size(struct ed_loader *ld, uint32_t claimed, uint32_t *real);

/* The last command was refused because it arrived damaged (bad checksum or length, a
 * garbled op) and the loader did nothing with it: sending it again is safe. */
bool ed_loader_refused_as_damaged(const struct ed_loader *ld, int rc);

/* Download to RAM and run (stub upload). mem_end with jump=true starts `entry`; a ROM may
 * jump before it answers, so a missing reply then is not an error. mem_data sends a block
 * again (a few times) while the loader refuses it as damaged. */
int ed_loader_mem_begin(struct ed_loader *ld, uint32_t size, uint32_t blocks,
                        uint32_t block_size, uint32_t addr);
int ed_loader_mem_data(struct ed_loader *ld, const uint8_t *data, size_t len, uint32_t seq);
int ed_loader_mem_end(struct ed_loader *ld, bool jump, uint32_t entry);
/* Wait for the "OHAI" a freshly started stub sends; then ld->stub = true. */
int ed_loader_wait_stub(struct ed_loader *ld, unsigned timeout_ms);

/* Read up to 64 bytes of flash through the ROM (ESP32+ ROM only). */
int ed_loader_read_flash_slow(struct ed_loader *ld, uint32_t offset, uint8_t *out, size_t len);

/* Leave download mode: pulse EN (hard reset) so the firmware runs. */
int ed_loader_hard_reset(struct ed_loader *ld);

#endif
