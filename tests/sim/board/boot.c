/* What the chip prints when it starts: the ROM banner, then either "waiting for download"
 * or a boot from flash (the ROM's segment log, then the app: app.c). */
#include "board_internal.h"

#include <stdio.h>
#include <string.h>

#define RESTART_AFTER_NS (300 * NS_PER_MS)
#define PARTITION_TABLE_OFFSET 0x8000u
#define MAX_SEGMENTS 16

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void boot_emitf(struct sim_board *b, uint64_t t_ns, const char *fmt, ...)
{
    char line[1024];
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
        boot_emitf(b, t_ns, "E (57) boot: Failed to verify partition table\r\n"
                   "E (62) boot: load partition table error!\r\n");
        board_trace(b, t_ns, "boot: no partition table at 0x8000");
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    if (app_size == 0 || (uint64_t)app_off + 24 > b->flash.size || fl[app_off] != 0xE9) {
        boot_emitf(b, t_ns, "E (%u) esp_image: image at 0x%x has invalid magic byte (nothing "
                   "flashed here?)\r\nE (%u) boot: No bootable app partitions in the partition "
                   "table\r\n", 90u, app_off, 95u);
        board_trace(b, t_ns, "boot: no app image at 0x%x", app_off);
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    int app_chip = fl[app_off + 12] | fl[app_off + 13] << 8;
    if (app_chip != b->sim->image_chip_id) {
        boot_emitf(b, t_ns, "E (%u) boot_comm: mismatch chip ID, expected %d, found %d\r\n",
                   101u, b->sim->image_chip_id, app_chip);
        schedule(b, APP_SILENT, NO_TIME);
        return;
    }
    app_start(b, t_ns, app_off, app_off + app_size);
}

/* The flash chip does not answer: the ROM cannot read the bootloader's header, says so
 * and the RTC watchdog resets it (esptool docs, "Boot Mode Selection", "Early Flash Read
 * Error": "flash read err, 1000" for the ESP32, the offset in hex; the "ets_main.c 371"
 * line and the RTCWDT_RTC_RESET that follows are from users' logs of real boards, e.g.
 * esp-idf issue #1778). */
static void flash_read_error(struct sim_board *b, uint64_t t_ns)
{
    boot_emitf(b, t_ns, "flash read err, %x\r\nets_main.c 371 \r\n",
               (unsigned)b->sim->bootloader_offset);
    board_trace(b, t_ns, "boot: the flash chip does not answer: flash read err");
    b->restart_cause = b->sim->cause_wdt;
    schedule(b, APP_RESTARTING, t_ns + RESTART_AFTER_NS);
}

static void esp32_flash_boot(struct sim_board *b, uint64_t t_ns)
{
    uint32_t off = b->sim->bootloader_offset;
    if (b->flash.silent) {
        flash_read_error(b, t_ns);
        return;
    }
    const uint8_t *h = b->flash.mem + off;
    bool fits = (uint64_t)off + 24 <= b->flash.size;
    unsigned segs = fits ? h[1] : 0;
    if (b->boot_plain) {
        /* Flash encryption is on and the image was written in the clear: the flash
         * controller decrypts it into nonsense (a stand-in for AES-XTS of the bytes). */
        b->bad_header = (fits ? get_u32(h) : 0xFFFFFFFFu) ^ 0xA5C3965Au;
        b->app_ticks = 0;
        board_trace(b, t_ns, "boot: flash encryption is on and 0x%x was written in the "
                    "clear: it decrypts to 0x%08x", off, b->bad_header);
        schedule(b, APP_RESET_LOOP, t_ns + INVALID_HEADER_EVERY_NS / 10);
        return;
    }
    if (!fits || h[0] != 0xE9 || segs == 0 || segs > MAX_SEGMENTS) {
        b->bad_header = fits ? get_u32(h) : 0xFFFFFFFFu;
        b->app_ticks = 0;
        board_trace(b, t_ns, "boot: invalid header 0x%08x at 0x%x", b->bad_header, off);
        schedule(b, APP_RESET_LOOP, t_ns + INVALID_HEADER_EVERY_NS / 10);
        return;
    }
    if (b->sim->hex_load_len)
        boot_emitf(b, t_ns, "SPIWP:0xee\r\nmode:%s, clock div:%u\r\n", flash_mode_name(h[2]),
                   clock_div(h[3]));
    else
        boot_emitf(b, t_ns, "configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,"
                   "cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\nmode:%s, clock div:%u\r\n",
                   flash_mode_name(h[2]), clock_div(h[3]));
    uint64_t pos = off + 24;
    for (unsigned i = 0; i < segs; i++) {
        if (pos + 8 > b->flash.size)
            break;
        uint32_t addr = get_u32(b->flash.mem + pos), len = get_u32(b->flash.mem + pos + 4);
        if (b->sim->hex_load_len)
            boot_emitf(b, t_ns, "load:0x%08x,len:0x%x\r\n", addr, len);
        else
            boot_emitf(b, t_ns, "load:0x%08x,len:%u\r\n", addr, len);
        pos += 8 + (uint64_t)len;
    }
    boot_emitf(b, t_ns, "entry 0x%08x\r\n", get_u32(h + 4));
    int chip_id = h[12] | h[13] << 8;
    if (chip_id != b->sim->image_chip_id || pos > b->flash.size) {
        /* Code for another CPU: it crashes at once, and the watchdog resets the chip. */
        board_trace(b, t_ns, "boot: bootloader is for chip id %d, not %d", chip_id,
                    b->sim->image_chip_id);
        size_t n = b->flash.size - off > 48 ? 48 : b->flash.size - off;
        chip_emit(b, h + 24, n, t_ns);
        b->restart_cause = b->sim->cause_wdt;
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
        boot_emitf(b, t_ns, "load 0x%08x, len %u, room %u \r\n", addr, len, room);
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
        boot_emitf(b, t_ns, "tail %u\r\nchksum 0x%02x\r\n", tail, chk);
        room = (16 + 16 - tail - 8) % 16;
        pos += 8 + (uint64_t)len;
    }
    uint64_t csum_at = (pos + 16) / 16 * 16 - 1;
    if (csum_at < b->flash.size)
        boot_emitf(b, t_ns, "csum 0x%02x\r\n", fl[csum_at]);
    app_start(b, t_ns, 0, (uint32_t)b->flash.size);
}

/* The banner's boot value with the held-high strapping pin's bit set. ESP32: "boot:0xNN"
 * is GPIO_STRAP, MTDI (GPIO12) is bit 0x20 (esptool docs, "Boot Mode Selection", "Boot
 * Mode Message"): 0x13 becomes 0x33, as in users' logs. ESP8266: "boot mode:(x,y)", the
 * low three bits of x are {MTDO, GPIO0, GPIO2} (esp8266-wiki, "Boot Process"), so MTDO
 * (GPIO15) high makes 3 into 7 and 1 into 5. */
static const char *strapped(const struct sim_board *b, const char *text, char *buf,
                            size_t len)
{
    unsigned v;
    if (b->opts.strap_high == 12 && sscanf(text, "boot:0x%x", &v) == 1) {
        const char *rest = strchr(text, ' ');
        snprintf(buf, len, "boot:0x%x%s", v | 0x20, rest ? rest : "");
        return buf;
    }
    if (b->opts.strap_high == 15 && sscanf(text, "boot mode:(%u,", &v) == 1) {
        snprintf(buf, len, "boot mode:(%u%s", v | 4, strchr(text, ','));
        return buf;
    }
    return text;
}

void boot_start(struct sim_board *b, uint64_t t_ns, const char *cause, bool download)
{
    rom_reset(b);
    regs_reset(b);
    b->chip_baud = sim_chip_rom_log_baud(b->sim, b->xtal_hz);
    clock_calibrate(b, t_ns);
    b->app = APP_SILENT;
    b->app_next_ns = NO_TIME;
    b->line_len = 0;
    const struct sim_chip *s = b->sim;
    char strap_text[96];
    const char *boot = strapped(b, download ? s->boot_download : s->boot_flash, strap_text,
                                sizeof strap_text);
    if (s->esp8266_style && b->opts.strap_high == 15) {
        /* SDIO boot: the ROM waits for an SDIO host and its UART loader never runs
         * (users' logs: "boot mode:(7,7)" then "waiting for host"). */
        boot_emitf(b, t_ns, "%s%s, %s\r\nwaiting for host\r\n", s->rom_head, cause, boot);
        board_trace(b, t_ns, "boot: %s, %s: GPIO15 high, SDIO boot", cause, boot);
        b->mode = MODE_APP;
        return;
    }
    if (s->esp8266_style)
        boot_emitf(b, t_ns, "%s%s, %s\r\n\r\n", s->rom_head, cause, boot);
    else
        boot_emitf(b, t_ns, "%s%s,%s\r\n%s", s->rom_head, cause, boot,
                   download ? "waiting for download\r\n" : "");
    board_trace(b, t_ns, "boot: %s, %s", cause, boot);
    usbdev_rom_started(b, download, t_ns);
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
