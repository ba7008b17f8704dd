/* What the app in flash does once it has been started. The image decides: one carrying
 * MicroPython's banner is MicroPython's REPL, the seeded test apps are known by the text
 * they print (APP_HELLO_TEXT, APP_PANIC_TEXT), anything else stays silent. A weak supply
 * cuts every app short with a brown-out reset. Also the text of chip "none". */
#include "board_internal.h"

#include <string.h>

#define APP_BAUD 115200
#define APP_START_NS (80 * NS_PER_MS)       /* from "entry" to the app's first output */
#define HELLO_FIRST_NS (10 * NS_PER_MS)
#define HELLO_EVERY_NS (1000 * NS_PER_MS)
#define PANIC_AFTER_NS (40 * NS_PER_MS)
#define BROWNOUT_AFTER_NS (25 * NS_PER_MS)  /* the radio starts and the supply sags */
#define TEXT_BAUD 9600
#define TEXT_EVERY_NS (100 * NS_PER_MS)

static const char REPL_HELP[] = "Type \"help()\" for more information.\r\n";

static void schedule(struct sim_board *b, enum app_kind kind, uint64_t at_ns)
{
    b->app = kind;
    b->app_next_ns = at_ns;
}

/* Reset with cause once what the chip has printed is out on the wire. */
static void restart_when_sent(struct sim_board *b, uint64_t t_ns, const char *cause)
{
    uint64_t at = b->to_host.free_at_ns > t_ns ? b->to_host.free_at_ns : t_ns;
    b->restart_cause = cause;
    schedule(b, APP_RESTARTING, at + NS_PER_US);
}

/* The printable text that starts with needle, anywhere in [from, to) of the flash. */
static bool find_text(const struct sim_board *b, uint32_t from, uint32_t to, const char *needle,
                      char *out, size_t cap)
{
    if (to > b->flash.size)
        to = (uint32_t)b->flash.size;
    if (from >= to)
        return false;
    const uint8_t *hit = memmem(b->flash.mem + from, to - from, needle, strlen(needle));
    if (!hit)
        return false;
    size_t n = 0;
    const uint8_t *end = b->flash.mem + to;
    while (hit + n < end && n + 1 < cap && hit[n] >= 0x20 && hit[n] < 0x7F)
        n++;
    memcpy(out, hit, n);
    out[n] = '\0';
    return true;
}

static const char *image_name(enum app_image image)
{
    switch (image) {
    case IMAGE_MICROPYTHON: return "MicroPython";
    case IMAGE_HELLO: return "an app that prints a line every second";
    case IMAGE_PANIC: return "an app that panics";
    default: return "an app that prints nothing";
    }
}

void app_start(struct sim_board *b, uint64_t t_ns, uint32_t from, uint32_t to)
{
    char scratch[64];
    b->banner[0] = '\0';
    if (find_text(b, from, to, "MicroPython v", b->banner, sizeof b->banner))
        b->image = IMAGE_MICROPYTHON;
    else if (find_text(b, from, to, APP_HELLO_TEXT, scratch, sizeof scratch))
        b->image = IMAGE_HELLO;
    else if (find_text(b, from, to, APP_PANIC_TEXT, scratch, sizeof scratch))
        b->image = IMAGE_PANIC;
    else
        b->image = IMAGE_SILENT;
    board_trace(b, t_ns, "app starts: %s%s%s", image_name(b->image), b->banner[0] ? ": " : "",
                b->banner);
    schedule(b, APP_STARTING, t_ns + APP_START_NS);
    usbdev_app_started(b, t_ns);
}

void app_start_text(struct sim_board *b, uint64_t t_ns)
{
    b->mode = MODE_APP;
    b->chip_baud = TEXT_BAUD;
    b->app_ticks = 0;
    schedule(b, APP_TEXT, t_ns + TEXT_EVERY_NS);
}

/* What an ESP-IDF build at the default log level prints from its bootloader and startup
 * code before app_main() runs. */
static void idf_startup_log(struct sim_board *b, uint64_t t_ns)
{
    const char *idf = b->sim->esp8266_style ? "v3.4" : "v5.2.2";
    boot_emitf(b, t_ns, "I (29) boot: ESP-IDF %s 2nd stage bootloader\r\n"
               "I (29) boot: compile time Oct 25 2024 10:00:00\r\n"
               "I (41) boot: Loaded app from partition at offset 0x10000\r\n"
               "I (47) boot: Disabling RNG early entropy source...\r\n", idf);
    boot_emitf(b, t_ns, "I (64) cpu_start: Pro cpu start user code\r\n"
               "I (64) cpu_start: cpu freq: 160000000 Hz\r\n"
               "I (65) app_init: Application information:\r\n"
               "I (68) app_init: Project name:     espsim-app\r\n"
               "I (73) app_init: App version:      1.0\r\n"
               "I (78) app_init: ESP-IDF:          %s\r\n"
               "I (112) main_task: Started on CPU0\r\n"
               "I (122) main_task: Calling app_main()\r\n", idf);
}

static void print_banner(struct sim_board *b, uint64_t t_ns)
{
    chip_emit_str(b, b->banner, t_ns);
    chip_emit_str(b, "\r\n", t_ns);
    chip_emit_str(b, REPL_HELP, t_ns);
    chip_emit_str(b, ">>> ", t_ns);
}

static void app_begins(struct sim_board *b, uint64_t t_ns)
{
    b->chip_baud = APP_BAUD;   /* the ESP8266's app leaves the ROM's 74880 */
    if (b->image == IMAGE_SILENT) {
        b->app = APP_SILENT;
        return;
    }
    if (b->image != IMAGE_MICROPYTHON)
        idf_startup_log(b, t_ns);
    if (b->weak_supply) {
        schedule(b, APP_BROWNOUT, t_ns + BROWNOUT_AFTER_NS);
        return;
    }
    switch (b->image) {
    case IMAGE_MICROPYTHON:
        print_banner(b, t_ns);
        b->app = APP_REPL;
        b->line_len = 0;
        break;
    case IMAGE_HELLO:
        schedule(b, APP_HELLO, t_ns + HELLO_FIRST_NS);
        break;
    case IMAGE_PANIC:
        schedule(b, APP_PANIC, t_ns + PANIC_AFTER_NS);
        break;
    case IMAGE_SILENT:
        break;
    }
}

static void panic(struct sim_board *b, uint64_t t_ns)
{
    if (b->sim->riscv)
        boot_emitf(b, t_ns, APP_PANIC_TEXT ": Core  0 panic'ed (Load access fault). "
                   "Exception was unhandled.\r\n\r\nCore  0 register dump:\r\n"
                   "MEPC    : 0x42005a3e  RA      : 0x42005a36  SP      : 0x3fc8f2c0  "
                   "GP      : 0x3fc8b400\r\nMTVAL   : 0x00000000\r\n\r\n"
                   "Backtrace: 0x42005a3e:0x3fc8f2c0 0x42005a36:0x3fc8f2e0 "
                   "0x4200d5c2:0x3fc8f300\r\n");
    else
        boot_emitf(b, t_ns, APP_PANIC_TEXT ": Core  0 panic'ed (LoadProhibited). "
                   "Exception was unhandled.\r\n\r\nCore  0 register dump:\r\n"
                   "PC      : 0x400d2f2a  PS      : 0x00060330  A0      : 0x800d3a4c  "
                   "A1      : 0x3ffb2260\r\nEXCVADDR: 0x00000000\r\n\r\n"
                   "Backtrace: 0x400d2f27:0x3ffb2260 0x400d3a49:0x3ffb2280 "
                   "0x40088e5d:0x3ffb22a0\r\n");
    chip_emit_str(b, "\r\n\r\nELF file SHA256: 5d1f3ac2b04e7e91\r\n\r\nRebooting...\r\n", t_ns);
    board_trace(b, t_ns, "app panics: LoadProhibited");
    restart_when_sent(b, t_ns, b->sim->cause_panic);
}

static void brownout(struct sim_board *b, uint64_t t_ns)
{
    if (b->sim->cause_brownout) {
        chip_emit_str(b, "\r\nBrownout detector was triggered\r\n\r\n", t_ns);
        board_trace(b, t_ns, "supply sags: brown-out reset");
        restart_when_sent(b, t_ns, b->sim->cause_brownout);
    } else {
        /* No detector message: the supply dips below what the chip needs and it starts
         * over as from power-on. */
        board_trace(b, t_ns, "supply sags: the chip starts over");
        restart_when_sent(b, t_ns, b->sim->cause_poweron);
    }
}

/* One line of GPS-like NMEA text: a device that is not an ESP. */
static void nmea_line(struct sim_board *b, uint64_t t_ns)
{
    unsigned s = 12 * 3600 + b->app_ticks / 10;
    char body[96], line[112];
    snprintf(body, sizeof body, "GPGGA,%02u%02u%02u.%u0,5231.412,N,01324.167,E,1,07,1.1,"
             "38.2,M,44.1,M,,", s / 3600 % 24, s / 60 % 60, s % 60, b->app_ticks % 10);
    uint8_t sum = 0;
    for (const char *p = body; *p; p++)
        sum ^= (uint8_t)*p;
    snprintf(line, sizeof line, "$%s*%02X\r\n", body, sum);
    chip_emit_str(b, line, t_ns);
    b->app_ticks++;
}

void app_tick(struct sim_board *b, uint64_t t_ns)
{
    switch (b->app) {
    case APP_STARTING:
        app_begins(b, t_ns);
        break;
    case APP_HELLO:
        boot_emitf(b, t_ns, APP_HELLO_TEXT "\r\n");
        b->app_next_ns = t_ns + HELLO_EVERY_NS;
        break;
    case APP_PANIC:
        panic(b, t_ns);
        break;
    case APP_BROWNOUT:
        brownout(b, t_ns);
        break;
    case APP_TEXT:
        nmea_line(b, t_ns);
        b->app_next_ns = t_ns + TEXT_EVERY_NS;
        break;
    case APP_RESET_LOOP:
        boot_emitf(b, t_ns, "invalid header: 0x%08x\r\n", b->bad_header);
        if (++b->app_ticks >= INVALID_HEADER_LINES) {
            board_trace(b, t_ns, "RTC watchdog reset");
            chip_restart(b, t_ns, b->sim->cause_wdt, false);
        } else {
            b->app_next_ns = t_ns + INVALID_HEADER_EVERY_NS;
        }
        break;
    case APP_RESTARTING:
        board_trace(b, t_ns, "reset: %s", b->restart_cause);
        chip_restart(b, t_ns, b->restart_cause, false);
        break;
    case APP_SILENT:
    case APP_REPL:
        break;
    }
}

static void run_line(struct sim_board *b, uint64_t t_ns)
{
    char out[1024];
    size_t n = repl_eval(b->line, b->line_len, out, sizeof out);
    b->line_len = 0;
    chip_emit_str(b, "\r\n", t_ns);
    chip_emit(b, out, n, t_ns);
    chip_emit_str(b, ">>> ", t_ns);
    board_trace(b, t_ns, "REPL ran a line: %zu bytes of output", n);
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
    case '\r':   /* Enter: run the line (board/repl.c), then a new prompt */
        run_line(b, t);
        break;
    case 0x7F:
    case 0x08:
        if (b->line_len) {
            b->line_len--;
            chip_emit_str(b, "\b \b", t);
        }
        break;
    default:
        /* Echoed as typed; a key beyond what the model keeps is neither kept nor echoed. */
        if (byte >= 0x20 && byte < 0x7F && b->line_len < sizeof b->line) {
            b->line[b->line_len++] = (char)byte;
            chip_emit(b, &byte, 1, t);
        }
        break;
    }
}
