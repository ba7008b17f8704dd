/* The virtual board's private state, shared by the model's files (board.c: time and the
 * reset circuit; wire.c: the UART line; nor.c: the flash chip; rom*.c: the serial
 * protocol; regs.c: registers; boot.c: what the ROM prints and boots; app.c: what the
 * booted app does; firmware.c: images for a blank flash; chipsim.c: per-chip texts). */
#ifndef ESPSIM_BOARD_INTERNAL_H
#define ESPSIM_BOARD_INTERNAL_H

#include "board/board.h"
#include "board/repl.h"

#include <md5.h>
#include <stdarg.h>
#include <zlib.h>

#define NO_TIME UINT64_MAX
#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull

#define SECTOR_SIZE 0x1000u
#define BLOCK_SIZE 0x10000u
#define PAGE_SIZE 0x100u

/* ---- the UART line, one direction ------------------------------------------------- */

/* Bytes on their way, each with the time it is complete at the receiver. */
struct wire {
    uint8_t *bytes;
    uint64_t *at_ns;
    size_t head, len, cap;
    uint64_t free_at_ns;   /* the line is busy sending until then */
};

void wire_free(struct wire *w);
void wire_clear(struct wire *w);
uint64_t wire_front_ns(const struct wire *w);
uint8_t wire_pop(struct wire *w);
/* Send n bytes at tx_baud starting at start_ns (or when the line is free); the receiver
 * samples at rx_baud, so a different speed turns them into other bytes. timed=false: the
 * bytes take no time. Returns false when out of memory. */
bool wire_send(struct wire *w, const uint8_t *data, size_t n, uint64_t start_ns,
               uint32_t tx_baud, uint32_t rx_baud, bool timed);
/* What a UART at rx_baud decodes from bytes sent back to back at tx_baud. out must hold
 * 5 * n + 1 bytes. */
size_t uart_resample(const uint8_t *in, size_t n, uint32_t tx_baud, uint32_t rx_baud,
                     uint8_t *out);
uint64_t wire_byte_ns(uint32_t baud);
/* The bytes queued from the from-th on (counted from the front) arrive in packets of up
 * to `packet` bytes, each packet whole when its last byte is done: a USB bulk IN packet,
 * which the host never sees in part. */
void wire_packetize(struct wire *w, size_t from, size_t packet);

/* ---- the SPI NOR flash chip -------------------------------------------------------- */

/* A flash part: its JEDEC id and typical timings (nor.c, from its datasheet). */
struct sim_flash_part {
    const char *name;
    uint8_t manufacturer, type;
    uint64_t page_program_ns, sector_erase_ns, block_erase_ns, chip_erase_ns_per_mib;
};

const struct sim_flash_part *nor_part(const char *name);

struct nor {
    const struct sim_flash_part *part;
    uint8_t *mem;
    size_t size;          /* as the JEDEC id claims it */
    size_t real_size;     /* a fake-size part: what its array holds (0: size) */
    bool mapped;          /* mem is a MAP_SHARED view of the flash file */
    uint32_t jedec_id;    /* as RDID returns it in W0: manufacturer, type, capacity */
    const uint32_t *bad_sectors;   /* injected fault: programming these does not stick */
    size_t bad_sector_count;
    /* The chip does not answer: RDID reads all ones (MISO floats high), erase and
     * program commands are not heard. */
    bool silent;
};

/* real_size: 0, or a fake-size part's real array (size is then what its id claims). */
int nor_open(struct nor *f, const char *path, uint32_t size, uint32_t real_size,
             const char *part, char *err, size_t errlen);
void nor_close(struct nor *f);
/* Erase the sectors covering [addr, addr + len) the way a ROM does (64 KiB blocks where
 * aligned, 4 KiB sectors elsewhere); returns the time it takes. */
uint64_t nor_erase(struct nor *f, uint32_t addr, uint32_t len);
uint64_t nor_erase_chip(struct nor *f);
/* Program: bits can only be cleared. false if the result does not read back as data. */
bool nor_program(struct nor *f, uint32_t addr, const uint8_t *data, size_t n,
                 uint64_t *ns);
uint64_t nor_read_ns(size_t n);

/* ---- injected faults (faults.c) ------------------------------------------------------ */

struct fault_state {
    uint64_t rng_to_chip, rng_to_host;   /* one stream per direction */
    uint64_t rx_count;                   /* bytes that reached the chip's UART */
    bool stall_done, brownout_done;      /* the single stall and brown-out happened */
    uint64_t stall_until_ns;             /* the link is frozen until then */
};

void faults_init(struct sim_board *b);
/* Drop and corrupt bytes on the line (to_chip: host -> chip); out holds n bytes. Returns
 * how many arrive. */
size_t faults_on_line(struct sim_board *b, bool to_chip, const uint8_t *in, size_t n,
                      uint8_t *out);
/* A byte reached the chip's UART at t_ns: count it, and start the stall or the brown-out
 * when it is due. False when the chip browned out (the byte is lost with it). */
bool faults_on_rx(struct sim_board *b, uint64_t t_ns);
/* The rate the chip's UART really runs at when set to baud. */
uint32_t faults_chip_baud(const struct sim_board *b, uint32_t baud);
/* The link is frozen at t_ns. */
bool faults_stalled(const struct sim_board *b, uint64_t t_ns);

/* ---- SLIP framing, the loader's side (slip.c) ---------------------------------------- */

#define SIM_SLIP_END 0xC0
#define SIM_SLIP_ESC 0xDB
#define SIM_SLIP_ESC_END 0xDC
#define SIM_SLIP_ESC_ESC 0xDD
/* The loader's receive buffer: a 16 KiB stub data block and its headers, with room. */
#define SIM_SLIP_MAX_FRAME (0x4000 + 64)
#define SIM_SLIP_ENCODED_MAX(n) (2 * (n) + 2)

enum sim_slip_state { SLIP_OUTSIDE, SLIP_INSIDE, SLIP_ESCAPED, SLIP_SKIPPING };

struct sim_slip {
    enum sim_slip_state state;
    uint8_t frame[SIM_SLIP_MAX_FRAME];
    size_t len;
};

void sim_slip_reset(struct sim_slip *s);
/* Take one byte off the wire; true when it completed a frame (s->frame, s->len). */
bool sim_slip_rx(struct sim_slip *s, uint8_t byte);
/* Encode one frame, both 0xC0 included; out holds SIM_SLIP_ENCODED_MAX(n) bytes. */
size_t sim_slip_encode(const uint8_t *payload, size_t n, uint8_t *out);
/* Bytes a frame of this payload takes on the wire. */
size_t sim_slip_wire_len(const uint8_t *payload, size_t n);

/* ---- the chip table (chipsim.c): facts and texts per chip, with their sources -------- */

#define SIM_NO_CHIP_ID (-1)   /* ESP8266 images carry no chip id */

enum sim_mac_layout {
    SIM_MAC_ESP8266_OTP,   /* OTP words: mac0 (byte 5), mac1 (bytes 3, 4), mac3 (the OUI) */
    SIM_MAC_EFUSE_PAIR,    /* two eFuse words: low = bytes 2..5, high = bytes 0, 1 */
};

/* The flash's SPI controller: base address and user-command register offsets. */
struct sim_spi_regs {
    uint32_t base, cmd, usr2, w0;
};

struct sim_chip {
    const char *key;           /* "esp32" */
    const char *name;          /* "ESP32", as the ROM reports it */
    int image_chip_id;         /* in images and GET_SECURITY_INFO; SIM_NO_CHIP_ID: none */
    uint32_t magic;            /* the detection register 0x40001000 */
    unsigned rom_status_bytes; /* 2 on the ESP8266 ROM, 4 on later ROMs */
    uint32_t xtal_hz;          /* the crystal of the common modules */
    uint32_t xtal_alt_hz;      /* the other crystal some modules have (--xtal); 0: none */
    bool rom_estimates_xtal;   /* the ROM sets CHANGE_BAUDRATE from its estimate (clock.c) */
    unsigned uart_clk_divider; /* crystal = baud x CLKDIV / this */
    uint32_t uart_clkdiv_reg;
    enum sim_mac_layout mac_layout;
    uint32_t mac_lo, mac_hi, mac_oui;   /* mac_oui only for the ESP8266 */
    uint32_t mac_hi_extra;     /* bits the MAC's high word holds besides the MAC */
    uint32_t crypt_cnt_reg;    /* the eFuse word with the flash encryption counter... */
    unsigned crypt_cnt_shift;  /* ...and its lowest bit */
    struct sim_spi_regs spi;
    uint32_t bootloader_offset;
    /* What the ROM loader does beyond the basic commands. */
    bool rom_spi_attach, rom_compressed, rom_md5, rom_change_baud, rom_read_flash_slow;
    size_t security_info_len;  /* 0: no GET_SECURITY_INFO; 12 on ESP32-S2; 20 later */
    bool usb_serial_jtag;      /* the chip has the USB-Serial/JTAG controller */
    bool usb_otg;              /* the chip has a USB-OTG controller its ROM can use */
    /* Texts */
    bool esp8266_style;        /* "ets Jan  8 2013,rst cause:2, boot mode:(x,y)" banner */
    const char *rom_head;      /* first lines of the banner */
    const char *cause_poweron, *cause_wdt, *cause_sw;
    const char *cause_usb_reset;  /* a reset from the USB-Serial/JTAG controller */
    const char *cause_panic;   /* the reset after an app's panic */
    const char *cause_brownout;/* NULL: no brown-out detector message (ESP8266) */
    uint32_t sync_value;       /* the value field of the ROM's SYNC replies */
    bool riscv;                /* RISC-V core: its panic names differ from Xtensa's */
    const char *mpy_board;     /* MicroPython's "<board> with <chip>" */
    const char *boot_download; /* "boot:0x3 (DOWNLOAD_BOOT(...))" */
    const char *boot_flash;
    bool hex_load_len;         /* "len:0x1a2b" (later ROMs) instead of decimal */
    uint8_t default_mac[6];
};

const struct sim_chip *sim_chip_by_key(const char *key);
/* The speed of the ROM's boot log with this crystal. */
uint32_t sim_chip_rom_log_baud(const struct sim_chip *c, uint32_t xtal_hz);

/* ---- the stub's timing: its loop and the flash behind it, overlapped (stub_pipe.c) --- */

/* What a stub command does to the flash, for its timing. */
struct stub_work {
    bool data;                 /* a FLASH_(DEFL_)DATA block: acknowledged, then written */
    uint64_t inflate_ns;       /* ...inflating it first (compressed) */
    uint64_t program_ns;       /* ...programming its pages */
    uint32_t last_sector;      /* ...up to this sector, which must be erased first */
    bool flash;                /* reads or erases the flash: waits for it to be idle */
    bool begin;                /* FLASH_(DEFL_)BEGIN: a region to erase ahead */
    uint32_t begin_offset, begin_size;
};

struct stub_pipe {
    const struct sim_flash_part *part;
    uint64_t cpu_free_ns;      /* the stub's loop is free (it blocks while writing) */
    uint64_t flash_free_ns;    /* the flash chip finishes what it is doing */
    uint32_t erase_next, erase_end;   /* sectors of the region still to erase */
    uint64_t flash_ns;         /* flash time spent so far: erases and programs */
};

void pipe_reset(struct stub_pipe *p, const struct sim_flash_part *part, uint64_t t_ns);
/* When the reply to a command that arrived at arrival_ns goes out (and what it leaves
 * the loop and the flash doing). work_ns: the command's own work, data blocks aside. */
uint64_t pipe_reply_at(struct stub_pipe *p, uint64_t arrival_ns, const struct stub_work *w,
                       uint64_t work_ns, uint64_t command_ns);

/* ---- the crystal and the ROM's estimate of it (clock.c) ---------------------------- */

void clock_init(struct sim_board *b);
/* The ROM measures its crystal again (it does at every start). */
void clock_calibrate(struct sim_board *b, uint64_t t_ns);
double clock_rom_estimate_hz(const struct sim_board *b);
/* The speed the UART really runs at after the ROM's CHANGE_BAUDRATE to `asked`. */
uint32_t clock_rom_uart_baud(const struct sim_board *b, uint32_t asked);
/* The calibration register (ESP32: RTCCALICFG1), if addr is it. */
bool clock_register(const struct sim_board *b, uint32_t addr, uint32_t *value);

/* ---- eFuse words of real parts (efuse.c) -------------------------------------------- */

/* The word at addr, if it is one of the chip's fixed eFuse words. */
bool efuse_word(const struct sim_board *b, uint32_t addr, uint32_t *value);

/* ---- the chip's own USB port (usbdev.c) ---------------------------------------------- */

bool usbdev_native(const struct sim_board *b);
/* The speed bytes move at on this link: the UART's, or USB's whatever the host set. */
uint32_t usbdev_line_baud(const struct sim_board *b, uint32_t uart_baud);
/* The host changed DTR/RTS (b->dtr, b->rts still hold the old lines). */
void usbdev_lines(struct sim_board *b, bool dtr, bool rts, uint64_t t_ns);
void usbdev_chip_stopped(struct sim_board *b, uint64_t t_ns);
void usbdev_rom_started(struct sim_board *b, bool download, uint64_t t_ns);
void usbdev_app_started(struct sim_board *b, uint64_t t_ns);
uint64_t usbdev_next_ns(const struct sim_board *b);
void usbdev_advance(struct sim_board *b, uint64_t t_ns);
enum sim_usb_device usbdev_device(const struct sim_board *b);

/* ---- the chip's state -------------------------------------------------------------- */

enum chip_mode { MODE_RESET, MODE_ROM, MODE_STUB, MODE_APP };
enum app_kind {
    APP_SILENT, APP_STARTING, APP_REPL, APP_RESET_LOOP, APP_RESTARTING,
    APP_HELLO,       /* prints its line once a second */
    APP_PANIC,       /* about to crash */
    APP_BROWNOUT,    /* the supply is about to sag */
    APP_TEXT,        /* the non-ESP device's periodic text */
};

/* Texts the seeded test apps print (firmware.c puts them in the image, app.c recognises
 * the image by them). */
#define APP_HELLO_TEXT "Hello from espsim app"
#define APP_PANIC_TEXT "Guru Meditation Error"
#define MICROPYTHON_VERSION "MicroPython v1.24.0 on 2024-10-25"

/* A blank flash: "invalid header" this often, this many times, then the RTC watchdog
 * resets the chip. */
#define INVALID_HEADER_EVERY_NS (10 * NS_PER_MS)
#define INVALID_HEADER_LINES 30

/* What the image in flash turns out to be when it starts. */
enum app_image { IMAGE_SILENT, IMAGE_MICROPYTHON, IMAGE_HELLO, IMAGE_PANIC };

struct flash_job {
    bool active, compressed;
    uint32_t offset;          /* where the next byte goes */
    uint32_t region_end;      /* stub: the end of what FLASH_BEGIN announced */
    uint32_t erased_to;       /* stub: erased up to here (it erases as it goes) */
    uint32_t block_size, num_blocks, next_seq;
    uint64_t written;
    bool encrypted;           /* FLASH_BEGIN's 5th word: the ROM encrypts what it writes */
    z_stream z;
    bool z_live, z_done;
};

/* What MEM_BEGIN/MEM_DATA put in RAM since the last MEM_END: kept to tell a known stub
 * from foreign code (rom_mem.c). */
#define MEM_REGIONS 4
#define MEM_REGION_MAX (256 * 1024)

struct mem_region {
    uint32_t addr, size, written;
    uint8_t *bytes;           /* NULL: too large to keep (it is no stub) */
};

struct mem_job {
    bool active;
    uint32_t next_seq;
    struct mem_region regions[MEM_REGIONS];
    size_t region_count;
    bool overflow;            /* more regions than kept: no stub either */
};

/* rom_mem.c: forget what was uploaded. */
void mem_job_end(struct sim_board *b);

/* known_stubs.c: the flasher stubs a client may upload, by chip and SHA-256. */
struct known_stub {
    const char *chip;         /* "esp32" */
    const char *package;      /* "esptool-js 0.7.0" */
    const char *sha256;       /* hex */
};
const struct known_stub *known_stub_find(const char *chip, const char *sha256_hex);

struct read_job {             /* the stub's flow-controlled READ_FLASH */
    bool active;
    uint32_t offset, length, sent, acked, packet, inflight;
    MD5_CTX md5;
};

#define REG_SLOTS 64

struct sim_board {
    struct sim_board_opts opts;
    const struct sim_chip *sim;
    uint8_t mac[6];
    struct nor flash;
    uint64_t now_ns;               /* the model has been advanced to here */
    uint32_t xtal_hz;              /* this board's crystal */
    uint64_t clock_rng;            /* the calibration noise's stream */
    uint32_t rom_cali;             /* the ROM's last calibration (RTCCALICFG1's value) */

    bool host_open;
    uint32_t host_baud;
    bool dtr, rts, en_low, gpio0_low;
    bool boot_button, en_button;   /* a person holds BOOT / EN down (--press-boot-at) */
    unsigned press_step;           /* the next of the press's button changes (0-3) */
    uint64_t leave_reset_ns;       /* when the chip starts; NO_TIME while EN is held */
    bool power_on;                 /* the next start is the power-on one */
    const char *start_cause;       /* the next start's reset cause; NULL: EN or power-on */
    bool strap_download;           /* GPIO0 as sampled at the last system reset */
    bool usb_download_request;     /* USB-Serial/JTAG: this reset is into download mode */
    enum sim_usb_device usb_device;/* USB-OTG: on the bus now */
    enum sim_usb_device usb_pending;
    uint64_t usb_up_ns;            /* USB-OTG: it enumerates then; NO_TIME: not pending */

    enum chip_mode mode;
    uint32_t chip_baud;
    bool synced;                   /* a ROM SYNC succeeded: no more autobaud */
    bool spi_attached;
    uint64_t busy_until_ns;        /* the CPU is working on a command until then */
    struct wire to_chip, to_host;
    struct sim_slip slip;
    struct flash_job fj;
    struct mem_job mj;
    struct read_job rj;
    uint32_t reg_addr[REG_SLOTS], reg_val[REG_SLOTS];
    size_t reg_count;

    bool text_only;                /* chip "none": a serial device that only prints text */
    bool boot_plain;               /* flash encryption on, and the bootloader's first
                                      sector was written in the clear since: it reads as
                                      garbage through the decryption */
    uint32_t sdm_flash_size;       /* Secure Download Mode: the size the ROM assumes */
    bool weak_supply;              /* the supply sags when an app starts */

    enum app_kind app;
    enum app_image image;
    uint64_t app_next_ns;
    unsigned app_ticks;
    const char *restart_cause;     /* APP_RESTARTING resets with this cause */
    uint32_t bad_header;           /* what "invalid header:" prints */
    char banner[192];              /* MicroPython's banner, "" for another app */
    char line[REPL_LINE_MAX];      /* the line typed at the REPL prompt */
    size_t line_len;

    struct fault_state fault;
    bool powered;                  /* false while the USB cable is out */

    const struct known_stub *stub; /* the stub that runs (NULL: none, or --any-stub's) */
    struct stub_pipe pipe;         /* the running stub's timing (stub_pipe.c) */
    struct stub_pipe ideal_pipe;   /* the same for the floor's ideal client */
    uint64_t ideal_now_ns;         /* that client's clock: the floor so far */

    struct sim_board_stats stats;
    bool flash_phase;              /* a FLASH_(DEFL_)BEGIN was seen */
    uint64_t flash_phase_from_ns;  /* model_min_ns when it came */
    uint64_t flash_phase_to_ns;    /* model_min_ns after the last SPI_FLASH_MD5 since */
};

/* board.c */
bool board_timed(const struct sim_board *b);
void board_trace(const struct sim_board *b, uint64_t t_ns, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void chip_emit(struct sim_board *b, const void *data, size_t n, uint64_t t_ns);
void chip_emit_str(struct sim_board *b, const char *s, uint64_t t_ns);
void chip_emit_frame(struct sim_board *b, const uint8_t *payload, size_t n, uint64_t t_ns);
/* Hold the chip in reset (a reset line is asserted), and let it go: it starts a moment
 * later with this reset cause. */
void chip_hold(struct sim_board *b, uint64_t t_ns, const char *why);
void chip_release(struct sim_board *b, uint64_t t_ns, const char *cause);
/* The chip resets itself (watchdog, software reset): it starts again at t_ns. */
void chip_restart(struct sim_board *b, uint64_t t_ns, const char *cause, bool download);

/* boot.c */
void boot_start(struct sim_board *b, uint64_t t_ns, const char *cause, bool download);
void boot_run_app(struct sim_board *b, uint64_t t_ns);
void boot_emitf(struct sim_board *b, uint64_t t_ns, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* app.c: the image in [from, to) of the flash starts at t_ns. */
void app_start(struct sim_board *b, uint64_t t_ns, uint32_t from, uint32_t to);
/* The non-ESP text device starts printing. */
void app_start_text(struct sim_board *b, uint64_t t_ns);
void app_tick(struct sim_board *b, uint64_t t_ns);
void app_rx(struct sim_board *b, uint8_t byte, uint64_t t_ns);

/* firmware.c: write the chosen firmware if the flash is blank where it goes. */
void firmware_seed(struct sim_board *b);

/* rom.c */
void rom_reset(struct sim_board *b);
void rom_rx(struct sim_board *b, uint8_t byte, uint64_t t_ns);

/* rom_flash.c: drop any flash, RAM or read job in progress. */
void flash_jobs_end(struct sim_board *b);

/* regs.c */
uint32_t reg_read(struct sim_board *b, uint32_t addr);
void reg_write(struct sim_board *b, uint32_t addr, uint32_t value, uint32_t mask);
void regs_reset(struct sim_board *b);

#endif
