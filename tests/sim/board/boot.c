/* What the chip prints when it starts: the ROM banner, then either "waiting for download"
 * or a boot from flash (the ROM's segment log, then the app). An app that carries
 * MicroPython's banner behaves as its REPL. */
#include "board_internal.h"

#include <string.h>

#define APP_BAUD 115200
#define APP_START_NS (80 * NS_PER_MS)          /* from "entry" to the app's first output */
#define INVALID_HEADER_EVERY_NS (10 * NS_PER_MS)
#define INVALID_HEADER_LINES 30                /* then the RTC watchdog resets the chip */
#define RESTART_AFTER_NS (300 * NS_PER_MS)
#define PARTITION_TABLE_OFFSET 0x8000u
#define MAX_SEGMENTS 16

static const char REPL_HELP[] = "Type \"help()\" for more information.\r\n";

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void emitf(struct sim_board *b, uint64_t t_ns, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emitf(struct sim_board *b, uint64_t t_ns, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    chip_emit_str(b, line, t_ns);
}

static void schedule(struct sim_board *b, enum app_kind kind, uint64_t at_ns)
{
    b->app = kind;
    b->app_next_ns = at_ns;
}

/* MicroPython's banner text anywhere in [from, to) of the flash. */
static void find_banner(struct sim_board *b, uint32_t from, uint32_t to)
{
    static const char needle[] = "MicroPython v";
    b->banner[0] = '\0';
    if (to > b->flash.size)
        to = (uint32_t)b->flash.size;
    if (from >= to)
        return;
    const uint8_t *hit = memmem(b->flash.mem + from, to - from, needle, sizeof needle - 1);
    if (!hit)
        return;
    size_t n = 0;
    const uint8_t *end = b->flash.mem + to;
    while (hit + n < end && n + 1 < sizeof b->banner && hit[n] >= 0x20 && hit[n] < 0x7F)
        n++;
    memcpy(b->banner, hit, n);
    b->banner[n] = '\0';
}

static const char *flash_mode_name(uint8_t mode)
{
    static const char *const names[] = { "QIO", "QOUT", "DIO", "DOUT" };
    return mode < 4 ? names[mode] : "DIO";
}

static unsigned clock_div(uint8_t size_freq)
{
    switch (size_freq & 0x0F) {
    case 0x0F: return 1;   /* 80 MHz */
    case 0x01: return 3;   /* 26 MHz */
    case 0x02: return 4;   /* 20 MHz */
    default: return 2;     /* 40 MHz */
    }
}

static void start_app(struct sim_board *b, uint64_t t_ns, uint32_t from, uint32_t to)
{
    find_banner(b, from, to);
    board_trace(b, t_ns, "app starts%s%s", b->banner[0] ? ": " : " (no MicroPython banner)",
                b->banner);
    schedule(b, APP_STARTING, t_ns + APP_START_NS);
}

/* The second-stage bootloader: find the app through the partition table. */
static void esp32_bootloader(struct sim_board *b, uint64_t t_ns)
{
    const uint8_t *fl = b->flash.mem;
    uint32_t app_off = 0, app_size = 0;
    if (b->flash.size < PARTITION_TABLE_OFFSET + 0xC00) {
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    for (uint32_t e = PARTITION_TABLE_OFFSET; e + 32 <= PARTITION_TABLE_OFFSET + 0xC00; e += 32) {
        if (fl[e] != 0xAA || fl[e + 1] != 0x50)
            break;
        if (fl[e + 2] == 0x00) {   /* type app */
            app_off = get_u32(fl + e + 4);
            app_size = get_u32(fl + e + 8);
            break;
        }
    }
    if (fl[PARTITION_TABLE_OFFSET] != 0xAA || fl[PARTITION_TABLE_OFFSET + 1] != 0x50) {
        emitf(b, t_ns, "E (57) boot: Failed to verify partition table\r\n"
              "E (62) boot: load partition table error!\r\n");
        board_trace(b, t_ns, "boot: no partition table at 0x8000");
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    if (app_size == 0 || (uint64_t)app_off + 24 > b->flash.size || fl[app_off] != 0xE9) {
        emitf(b, t_ns, "E (%u) esp_image: image at 0x%x has invalid magic byte (nothing "
              "flashed here?)\r\nE (%u) boot: No bootable app partitions in the partition "
              "table\r\n", 90u, app_off, 95u);
        board_trace(b, t_ns, "boot: no app image at 0x%x", app_off);
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    int app_chip = fl[app_off + 12] | fl[app_off + 13] << 8;
    if (app_chip != b->chip->image_chip_id) {
        emitf(b, t_ns, "E (%u) boot_comm: mismatch chip ID, expected %d, found %d\r\n", 101u,
              b->chip->image_chip_id, app_chip);
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    start_app(b, t_ns, app_off, app_off + app_size);
}

static void esp32_flash_boot(struct sim_board *b, uint64_t t_ns)
{
    uint32_t off = b->chip->bootloader_offset;
    const uint8_t *h = b->flash.mem + off;
    bool fits = (uint64_t)off + 24 <= b->flash.size;
    unsigned segs = fits ? h[1] : 0;
    if (!fits || h[0] != 0xE9 || segs == 0 || segs > MAX_SEGMENTS) {
        b->bad_header = fits ? get_u32(h) : 0xFFFFFFFFu;
        b->app_ticks = 0;
        board_trace(b, t_ns, "boot: invalid header 0x%08x at 0x%x", b->bad_header, off);
        schedule(b, APP_RESET_LOOP, t_ns + INVALID_HEADER_EVERY_NS / 10);
        return;
    }
    if (b->sim->hex_load_len)
        emitf(b, t_ns, "SPIWP:0xee\r\nmode:%s, clock div:%u\r\n", flash_mode_name(h[2]),
              clock_div(h[3]));
    else
        emitf(b, t_ns, "configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,"
              "cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\nmode:%s, clock div:%u\r\n",
              flash_mode_name(h[2]), clock_div(h[3]));
    uint64_t pos = off + 24;
    for (unsigned i = 0; i < segs; i++) {
        if (pos + 8 > b->flash.size)
            break;
        uint32_t addr = get_u32(b->flash.mem + pos), len = get_u32(b->flash.mem + pos + 4);
        if (b->sim->hex_load_len)
            emitf(b, t_ns, "load:0x%08x,len:0x%x\r\n", addr, len);
        else
            emitf(b, t_ns, "load:0x%08x,len:%u\r\n", addr, len);
        pos += 8 + (uint64_t)len;
    }
    emitf(b, t_ns, "entry 0x%08x\r\n", get_u32(h + 4));
    int chip_id = h[12] | h[13] << 8;
    if (chip_id != b->chip->image_chip_id || pos > b->flash.size) {
        /* Code for another CPU: it crashes at once, and the watchdog resets the chip. */
        board_trace(b, t_ns, "boot: bootloader is for chip id %d, not %d", chip_id,
                    b->chip->image_chip_id);
        size_t n = b->flash.size - off > 48 ? 48 : b->flash.size - off;
        chip_emit(b, h + 24, n, t_ns);
        schedule(b, APP_RESTARTING, t_ns + RESTART_AFTER_NS);
        return;
    }
    esp32_bootloader(b, t_ns);
}

static bool esp8266_ram_address(uint32_t a)
{
    return (a >= 0x40100000 && a < 0x40110000) || (a >= 0x3FFE8000 && a < 0x40000000);
}

static void esp8266_flash_boot(struct sim_board *b, uint64_t t_ns)
{
    const uint8_t *fl = b->flash.mem;
    if (fl[0] != 0xE9) {
        board_trace(b, t_ns, "boot: no image at 0x0 (first byte 0x%02x)", fl[0]);
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    unsigned segs = fl[1];
    uint64_t pos = 8;
    unsigned room = 16;
    uint8_t chk = 0xEF;
    for (unsigned i = 0; i < segs && i < MAX_SEGMENTS; i++) {
        if (pos + 8 > b->flash.size)
            break;
        uint32_t addr = get_u32(fl + pos), len = get_u32(fl + pos + 4);
        emitf(b, t_ns, "load 0x%08x, len %u, room %u \r\n", addr, len, room);
        if (!esp8266_ram_address(addr) || pos + 8 + len > b->flash.size) {
            /* Not an ESP8266 image (an ESP32 one has its extended header here): the ROM
             * loads nonsense and runs it. */
            board_trace(b, t_ns, "boot: segment %u at 0x%08x is not ESP8266 RAM", i, addr);
            size_t n = b->flash.size - pos > 64 ? 64 : b->flash.size - pos;
            chip_emit(b, fl + pos, n, t_ns);
            schedule(b, APP_SILENT, NO_TIME);
            return;
        }
        for (uint32_t k = 0; k < len; k++)
            chk ^= fl[pos + 8 + k];
        unsigned tail = (unsigned)(((len - room) % 16 + 16) % 16);
        emitf(b, t_ns, "tail %u\r\nchksum 0x%02x\r\n", tail, chk);
        room = (16 + 16 - tail - 8) % 16;
        pos += 8 + (uint64_t)len;
    }
    uint64_t csum_at = (pos + 16) / 16 * 16 - 1;
    if (csum_at < b->flash.size)
        emitf(b, t_ns, "csum 0x%02x\r\n", fl[csum_at]);
    start_app(b, t_ns, 0, (uint32_t)b->flash.size);
}

void boot_start(struct sim_board *b, uint64_t t_ns, const char *cause, bool download)
{
    rom_reset(b);
    regs_reset(b);
    b->chip_baud = b->chip->rom_log_baud;
    b->app = APP_SILENT;
    b->app_next_ns = NO_TIME;
    b->line_len = 0;
    const struct sim_chip *s = b->sim;
    const char *boot = download ? s->boot_download : s->boot_flash;
    if (s->esp8266_style)
        emitf(b, t_ns, "%s%s, %s\r\n\r\n", s->rom_head, cause, boot);
    else
        emitf(b, t_ns, "%s%s,%s\r\n%s", s->rom_head, cause, boot,
              download ? "waiting for download\r\n" : "");
    board_trace(b, t_ns, "boot: %s, %s", cause, boot);
    if (download) {
        b->mode = MODE_ROM;
        return;
    }
    b->mode = MODE_APP;
    boot_run_app(b, t_ns);
}

void boot_run_app(struct sim_board *b, uint64_t t_ns)
{
    b->mode = MODE_APP;
    if (b->sim->esp8266_style)
        esp8266_flash_boot(b, t_ns);
    else
        esp32_flash_boot(b, t_ns);
}

static void print_banner(struct sim_board *b, uint64_t t_ns)
{
    chip_emit_str(b, b->banner, t_ns);
    chip_emit_str(b, "\r\n", t_ns);
    chip_emit_str(b, REPL_HELP, t_ns);
    chip_emit_str(b, ">>> ", t_ns);
}

void app_tick(struct sim_board *b, uint64_t t_ns)
{
    switch (b->app) {
    case APP_STARTING:
        b->chip_baud = APP_BAUD;   /* the ESP8266's app leaves the ROM's 74880 */
        if (b->banner[0]) {
            print_banner(b, t_ns);
            b->app = APP_REPL;
            b->line_len = 0;
        } else {
            b->app = APP_SILENT;
        }
        break;
    case APP_RESET_LOOP:
        emitf(b, t_ns, "invalid header: 0x%08x\r\n", b->bad_header);
        if (++b->app_ticks >= INVALID_HEADER_LINES) {
            board_trace(b, t_ns, "RTC watchdog reset");
            chip_restart(b, t_ns, b->sim->cause_wdt, false);
        } else {
            b->app_next_ns = t_ns + INVALID_HEADER_EVERY_NS;
        }
        break;
    case APP_RESTARTING:
        board_trace(b, t_ns, "watchdog reset");
        chip_restart(b, t_ns, b->sim->cause_wdt, false);
        break;
    case APP_SILENT:
    case APP_REPL:
        break;
    }
}

/* MicroPython's friendly REPL, as far as a terminal or a probe sees it. */
void app_rx(struct sim_board *b, uint8_t byte, uint64_t t_ns)
{
    if (b->app != APP_REPL)
        return;
    uint64_t t = t_ns + 20 * NS_PER_US;
    switch (byte) {
    case 0x03:   /* Ctrl-C: drop the line */
        b->line_len = 0;
        chip_emit_str(b, "\r\n>>> ", t);
        break;
    case 0x02:   /* Ctrl-B: banner again */
        b->line_len = 0;
        chip_emit_str(b, "\r\n", t);
        print_banner(b, t);
        break;
    case 0x04:   /* Ctrl-D on an empty line: soft reboot */
        if (b->line_len == 0) {
            chip_emit_str(b, "\r\nMPY: soft reboot\r\n", t);
            print_banner(b, t);
        }
        break;
    case '\r':
        b->line_len = 0;
        chip_emit_str(b, "\r\n>>> ", t);
        break;
    case 0x7F:
    case 0x08:
        if (b->line_len) {
            b->line_len--;
            chip_emit_str(b, "\b \b", t);
        }
        break;
    default:
        if (byte >= 0x20 && byte < 0x7F) {
            b->line_len++;
            chip_emit(b, &byte, 1, t);
        }
        break;
    }
}
