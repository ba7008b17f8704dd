/* Firmware for a blank flash (--firmware): small, deterministic, synthetic images laid out
 * as a real build is (ESP32 family: 2nd stage bootloader, partition table at 0x8000, app
 * at 0x10000; ESP8266: one v1 image at 0). The ROM and app.c then boot them like anything
 * else that was flashed; what the app does is told by the text it carries. */
#include "board_internal.h"

#include <sha2.h>
#include <string.h>

#define PARTITION_TABLE 0x8000u
#define APP_OFFSET 0x10000u
#define APP_PARTITION_MAX 0x100000u
#define IMAGE_MAX 4096u
#define CODE_BYTES 0x300u
#define MODE_DIO 2

/* Where segments load (the chips' memory maps: data RAM, instruction RAM, flash-mapped
 * read-only data). */
struct load_map {
    const char *chip;
    uint32_t dram, iram, drom, app_iram;
};

static const struct load_map maps[] = {
    { "esp8266", 0x3FFE8000, 0x40100000, 0x3FFE8400, 0x40100000 },
    { "esp32", 0x3FFF0030, 0x40078000, 0x3F400020, 0x40080000 },
    { "esp32s2", 0x3FFE6100, 0x4004C000, 0x3F000020, 0x40022000 },
    { "esp32s3", 0x3FCD7000, 0x403C9700, 0x3C000020, 0x40374000 },
    { "esp32c3", 0x3FCD5820, 0x403CE000, 0x3C000020, 0x40380000 },
    { "esp32c6", 0x40875720, 0x4086C410, 0x42000020, 0x40800000 },
};

struct image {
    uint8_t bytes[IMAGE_MAX];
    size_t len;
    uint8_t checksum;
    bool esp8266;
};

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void image_begin(struct image *im, const struct sim_board *b, uint32_t entry)
{
    memset(im, 0, sizeof *im);
    im->esp8266 = b->sim->esp8266_style;
    im->checksum = 0xEF;
    uint8_t *h = im->bytes;
    h[0] = 0xE9;
    h[2] = MODE_DIO;
    h[3] = 0x20;                        /* 4 MB, 40 MHz */
    put_le32(h + 4, entry);
    im->len = 8;
    if (!im->esp8266) {
        h[8] = 0xEE;                    /* no WP pin */
        h[12] = (uint8_t)b->sim->image_chip_id;
        h[13] = (uint8_t)(b->sim->image_chip_id >> 8);
        h[23] = 1;                      /* SHA-256 appended */
        im->len = 24;
    }
}

/* A segment of n bytes (a multiple of 4) at addr; data NULL: code-like filler. */
static void image_segment(struct image *im, uint32_t addr, const void *data, size_t n,
                          uint32_t seed)
{
    uint8_t *s = im->bytes + im->len;
    put_le32(s, addr);
    put_le32(s + 4, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        s[8 + i] = data ? ((const uint8_t *)data)[i] : (uint8_t)(seed >> 16);
        im->checksum ^= s[8 + i];
    }
    im->len += 8 + n;
    im->bytes[1]++;
}

/* Pad so the checksum is the last byte of a 16-byte row, then the SHA-256 (ESP32 family). */
static void image_seal(struct image *im)
{
    while ((im->len + 1) % 16)
        im->bytes[im->len++] = 0;
    im->bytes[im->len++] = im->checksum;
    if (!im->esp8266) {
        SHA2_CTX ctx;
        SHA256Init(&ctx);
        SHA256Update(&ctx, im->bytes, im->len);
        SHA256Final(im->bytes + im->len, &ctx);
        im->len += 32;
    }
}

/* The strings the app carries: what makes app.c recognise it. */
static size_t app_strings(const struct sim_board *b, char *out, size_t cap)
{
    int n;
    switch (b->opts.firmware) {
    case SIM_FW_MICROPYTHON:
        n = snprintf(out, cap, "%s; %s", MICROPYTHON_VERSION, b->sim->mpy_board);
        break;
    case SIM_FW_CRASH:
        n = snprintf(out, cap, "espsim-app%c%s%cRebooting...", 0, APP_PANIC_TEXT, 0);
        break;
    default:
        n = snprintf(out, cap, "espsim-app%c%s", 0, APP_HELLO_TEXT);
        break;
    }
    size_t len = (size_t)n + 1;        /* with the NUL */
    while (len % 4)
        out[len++] = '\0';
    return len;
}

static const struct load_map *map_for(const struct sim_board *b)
{
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        if (strcmp(maps[i].chip, b->sim->key) == 0)
            return &maps[i];
    return NULL;
}

static bool blank(const struct sim_board *b, uint32_t at, size_t n)
{
    if ((uint64_t)at + n > b->flash.size)
        return false;
    for (size_t i = 0; i < n; i++)
        if (b->flash.mem[at + i] != 0xFF)
            return false;
    return true;
}

static void place(struct sim_board *b, uint32_t at, const struct image *im)
{
    memcpy(b->flash.mem + at, im->bytes, im->len);
}

static void partition(uint8_t *e, uint8_t type, uint8_t subtype, uint32_t off, uint32_t size,
                      const char *label)
{
    e[0] = 0xAA;
    e[1] = 0x50;
    e[2] = type;
    e[3] = subtype;
    put_le32(e + 4, off);
    put_le32(e + 8, size);
    memset(e + 12, 0, 20);
    memcpy(e + 12, label, strlen(label));
}

static void partition_table(struct sim_board *b)
{
    uint8_t t[4 * 32];
    uint32_t app_size = (uint32_t)b->flash.size - APP_OFFSET;
    if (app_size > APP_PARTITION_MAX)
        app_size = APP_PARTITION_MAX;
    partition(t, 0x01, 0x02, 0x9000, 0x6000, "nvs");
    partition(t + 32, 0x01, 0x01, 0xF000, 0x1000, "phy_init");
    partition(t + 64, 0x00, 0x00, APP_OFFSET, app_size, "factory");
    /* ESP-IDF closes the table with an MD5 entry over the entries before it. */
    uint8_t *md5 = t + 96;
    memset(md5, 0xFF, 16);
    md5[0] = md5[1] = 0xEB;
    MD5_CTX ctx;
    MD5Init(&ctx);
    MD5Update(&ctx, t, 96);
    MD5Final(md5 + 16, &ctx);
    memcpy(b->flash.mem + PARTITION_TABLE, t, sizeof t);
}

static void seed_esp32(struct sim_board *b, const struct load_map *m, const uint8_t *text,
                       size_t text_len)
{
    uint32_t boot = b->sim->bootloader_offset;
    if (!blank(b, boot, 64) || !blank(b, PARTITION_TABLE, 64) || !blank(b, APP_OFFSET, 64) ||
        b->flash.size < APP_OFFSET + 2 * IMAGE_MAX) {
        board_trace(b, 0, "firmware: flash not blank or too small, left as it is");
        return;
    }
    static const char boot_text[] = "ESP-IDF 2nd stage bootloader\0\0\0";
    struct image im;
    image_begin(&im, b, m->iram + 0x244);
    image_segment(&im, m->dram, boot_text, sizeof boot_text, 0);   /* 32: NUL included */
    image_segment(&im, m->iram, NULL, CODE_BYTES, 1);
    image_seal(&im);
    place(b, boot, &im);

    partition_table(b);

    image_begin(&im, b, m->app_iram + 0x1A1C);
    image_segment(&im, m->drom, text, text_len, 0);
    image_segment(&im, m->app_iram, NULL, CODE_BYTES, 2);
    image_seal(&im);
    place(b, APP_OFFSET, &im);
}

static void seed_esp8266(struct sim_board *b, const struct load_map *m, const uint8_t *text,
                         size_t text_len)
{
    if (!blank(b, 0, 64)) {
        board_trace(b, 0, "firmware: flash not blank, left as it is");
        return;
    }
    struct image im;
    image_begin(&im, b, m->iram + 0x4);
    image_segment(&im, m->iram, NULL, CODE_BYTES, 3);
    image_segment(&im, m->dram, text, text_len, 0);
    image_seal(&im);
    place(b, 0, &im);
}

void firmware_seed(struct sim_board *b)
{
    b->weak_supply = b->opts.firmware == SIM_FW_BROWNOUT;
    const struct load_map *m = map_for(b);
    if (b->opts.firmware == SIM_FW_BLANK || b->text_only || !m)
        return;
    char text[256];
    size_t n = app_strings(b, text, sizeof text);
    if (b->sim->esp8266_style)
        seed_esp8266(b, m, (const uint8_t *)text, n);
    else
        seed_esp32(b, m, (const uint8_t *)text, n);
    board_trace(b, 0, "firmware: %s image written to the blank flash",
                b->opts.firmware == SIM_FW_MICROPYTHON ? "MicroPython"
                : b->opts.firmware == SIM_FW_CRASH ? "crashing app" : "app");
}
