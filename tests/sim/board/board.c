/* The board: the auto-reset circuit between the bridge's modem lines and the chip's EN
 * and GPIO0 pins, and the model's sense of time. Nothing happens on its own: every call
 * first advances the model to the caller's "now", processing what happened in between
 * (the chip leaving reset, bytes reaching the chip, the chip's scheduled output). */
#include "board_internal.h"

#include <stdlib.h>
#include <string.h>

/* EN rises through the board's RC and the chip starts its clocks: even without an extra
 * capacitor the chip samples its straps a little after EN is released. This also covers
 * clients that change DTR and RTS with two calls, passing briefly through "both
 * asserted" (both released) on the way from reset to download strap. */
#define CHIP_START_NS (2 * NS_PER_MS)

#define DEFAULT_HOST_BAUD 115200

void sim_board_opts_default(struct sim_board_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->chip = "esp32";
    opts->flash_size = 4 * 1024 * 1024;
    opts->usb_latency_us = 1000;
    opts->xtal_drift = SIM_XTAL_DRIFT_DEFAULT;
    opts->usb_enum_ms = SIM_USB_ENUM_MS_DEFAULT;
}

bool board_timed(const struct sim_board *b)
{
    return !b->opts.fast;
}

void board_trace(const struct sim_board *b, uint64_t t_ns, const char *fmt, ...)
{
    if (!b->opts.trace)
        return;
    fprintf(b->opts.trace, "[%10.6f] ", (double)t_ns / 1e9);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(b->opts.trace, fmt, ap);
    va_end(ap);
    fputc('\n', b->opts.trace);
    fflush(b->opts.trace);
}

struct sim_board *sim_board_new(const struct sim_board_opts *opts, char *err, size_t errlen)
{
    const char *key = opts->chip ? opts->chip : "esp32";
    /* Not an ESP: the board keeps an ESP32's tables so that nothing is missing, but the
     * chip never runs a ROM. */
    bool text_only = strcmp(key, "none") == 0;
    if (text_only)
        key = "esp32";
    const struct sim_chip *sim = sim_chip_by_key(key);
    if (!sim) {
        snprintf(err, errlen, "unknown chip \"%s\" (esp8266, esp32, esp32s2, esp32s3, "
                 "esp32c3, esp32c6)", key);
        return NULL;
    }
    struct sim_board *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->opts = *opts;
    b->opts.chip = sim->key;
    b->sim = sim;
    memcpy(b->mac, opts->mac_given ? opts->mac : sim->default_mac, sizeof b->mac);
    if (nor_open(&b->flash, opts->flash_path, opts->flash_size, opts->flash_real_size,
                 opts->flash_chip, err, errlen) != 0) {
        free(b);
        return NULL;
    }
    clock_init(b);
    b->host_baud = DEFAULT_HOST_BAUD;
    b->chip_baud = sim_chip_rom_log_baud(sim, b->xtal_hz);
    b->mode = MODE_RESET;
    b->power_on = true;
    b->leave_reset_ns = 0;      /* powered: the chip starts at t = 0 */
    b->app_next_ns = NO_TIME;
    b->gpio0_low = opts->boot_held;
    b->strap_download = opts->boot_held;
    b->usb_up_ns = NO_TIME;
    sim_slip_reset(&b->slip);
    regs_reset(b);
    b->text_only = text_only;
    b->powered = true;
    faults_init(b);
    b->flash.bad_sectors = b->opts.faults.bad_sectors;
    b->flash.bad_sector_count = b->opts.faults.bad_sector_count;
    /* MTDI high selects 1.8 V for VDD_SDIO, which powers the flash (esptool docs, "Boot
     * Mode Selection": "causing the flash to brownout"; a 3.3 V part then reads as
     * manufacturer ff, device ffff, as users' esptool logs show). */
    b->flash.silent = opts->flash_silent || opts->strap_high == 12;
    board_trace(b, 0, "power on: %s, flash %zu KiB%s%s, en_delay %u ms%s",
                sim_board_chip_name(b), b->flash.size / 1024, opts->flash_path ? " in " : "",
                opts->flash_path ? opts->flash_path : "", opts->en_delay_ms,
                opts->fast ? ", timing off" : "");
    firmware_seed(b);
    if (text_only) {
        b->leave_reset_ns = NO_TIME;
        app_start_text(b, 0);
    }
    return b;
}

void sim_board_free(struct sim_board *b)
{
    if (!b)
        return;
    flash_jobs_end(b);
    nor_close(&b->flash);
    wire_free(&b->to_chip);
    wire_free(&b->to_host);
    free(b);
}

/* ---- output ------------------------------------------------------------------------- */

static bool line_faults(const struct sim_board *b)
{
    return b->opts.faults.drop_rate > 0 || b->opts.faults.corrupt_rate > 0;
}

/* The chip's own USB sends what it writes in bulk IN packets of 64 bytes at full speed:
 * the TX FIFO goes out when it is full or when the code says it is done writing
 * (USB_SERIAL_JTAG_WR_DONE; ESP32-C3 TRM, USB Serial/JTAG Controller), which the ROM
 * does after each reply. So the host reads a reply whole, or not at all. */
#define USB_BULK_PACKET 64u

void chip_emit(struct sim_board *b, const void *data, size_t n, uint64_t t_ns)
{
    const uint8_t *send = data;
    uint8_t *noisy = NULL;
    if (line_faults(b) && n) {
        noisy = malloc(n);
        if (!noisy) {
            board_trace(b, t_ns, "out of memory: %zu bytes of output lost", n);
            return;
        }
        n = faults_on_line(b, false, data, n, noisy);
        send = noisy;
    }
    size_t queued = b->to_host.len;
    if (!wire_send(&b->to_host, send, n, t_ns,
                   usbdev_line_baud(b, faults_chip_baud(b, b->chip_baud)),
                   usbdev_line_baud(b, b->host_baud), board_timed(b)))
        board_trace(b, t_ns, "out of memory: %zu bytes of output lost", n);
    else if (usbdev_native(b))
        wire_packetize(&b->to_host, queued, USB_BULK_PACKET);
    free(noisy);
}

void chip_emit_str(struct sim_board *b, const char *s, uint64_t t_ns)
{
    chip_emit(b, s, strlen(s), t_ns);
}

void chip_emit_frame(struct sim_board *b, const uint8_t *payload, size_t n, uint64_t t_ns)
{
    uint8_t *enc = malloc(SIM_SLIP_ENCODED_MAX(n));
    if (!enc) {
        board_trace(b, t_ns, "out of memory: frame lost");
        return;
    }
    size_t len = sim_slip_encode(payload, n, enc);
    chip_emit(b, enc, len, t_ns);
    free(enc);
}

/* ---- reset -------------------------------------------------------------------------- */

/* Output the chip had not finished sending when it stopped is lost. */
static void drop_unsent_output(struct sim_board *b, uint64_t t_ns)
{
    struct wire *w = &b->to_host;
    while (w->len && w->at_ns[w->head + w->len - 1] > t_ns)
        w->len--;
    if (w->free_at_ns > t_ns)
        w->free_at_ns = t_ns;
}

static void chip_stop(struct sim_board *b, uint64_t t_ns)
{
    drop_unsent_output(b, t_ns);
    flash_jobs_end(b);
    b->mode = MODE_RESET;
    b->app = APP_SILENT;
    b->app_next_ns = NO_TIME;
    b->busy_until_ns = 0;
    usbdev_chip_stopped(b, t_ns);
}

void chip_hold(struct sim_board *b, uint64_t t_ns, const char *why)
{
    chip_stop(b, t_ns);
    b->leave_reset_ns = NO_TIME;
    board_trace(b, t_ns, "%s: chip held in reset", why);
}

void chip_release(struct sim_board *b, uint64_t t_ns, const char *cause)
{
    b->leave_reset_ns = t_ns + CHIP_START_NS;
    b->start_cause = cause;
    board_trace(b, t_ns, "reset released: chip starts at %.6f s", (double)b->leave_reset_ns / 1e9);
}

void chip_restart(struct sim_board *b, uint64_t t_ns, const char *cause, bool download)
{
    chip_stop(b, t_ns);
    boot_start(b, t_ns, cause, download);
}

static void leave_reset(struct sim_board *b, uint64_t t_ns)
{
    b->leave_reset_ns = NO_TIME;
    /* Bytes that reached the chip while it was held in reset are gone. */
    while (wire_front_ns(&b->to_chip) <= t_ns)
        wire_pop(&b->to_chip);
    const char *cause = b->sim->cause_poweron;
    if (!b->power_on && b->sim->esp8266_style)
        cause = "rst cause:2";   /* external reset (EN) */
    if (!b->power_on && b->start_cause)
        cause = b->start_cause;
    if (b->power_on || !b->start_cause)
        b->strap_download = b->gpio0_low;   /* a system reset samples the straps */
    b->power_on = false;
    b->start_cause = NULL;
    board_trace(b, t_ns, "chip leaves reset: GPIO0 %s -> %s", b->gpio0_low ? "low" : "high",
                b->gpio0_low ? "download mode" : "flash boot");
    boot_start(b, t_ns, cause, b->gpio0_low);
}

static void update_circuit(struct sim_board *b, uint64_t t_ns)
{
    bool wired = !b->opts.no_autoreset && !b->text_only;
    bool buttons = !b->text_only;
    /* Two transistors: RTS pulls EN low only while DTR is released, DTR pulls GPIO0 low
     * only while RTS is released; equal lines release both. The buttons short EN and
     * GPIO0 to ground whatever the lines do. */
    bool en_low = (wired && b->rts && !b->dtr) || (buttons && b->en_button);
    bool gpio0_low = (buttons && (b->opts.boot_held || b->boot_button)) ||
                     (wired && b->dtr && !b->rts);
    b->gpio0_low = gpio0_low;
    if (en_low && !b->en_low) {
        chip_stop(b, t_ns);
        b->leave_reset_ns = NO_TIME;
        board_trace(b, t_ns, "EN low: chip held in reset");
    } else if (!en_low && b->en_low && b->powered) {
        /* Not part of the "fast" switch: this is the circuit, not the UART or flash. */
        b->leave_reset_ns = t_ns + (uint64_t)b->opts.en_delay_ms * NS_PER_MS + CHIP_START_NS;
        board_trace(b, t_ns, "EN released: chip starts at %.6f s",
                    (double)b->leave_reset_ns / 1e9);
    }
    b->en_low = en_low;
}

/* ---- a person's press (--press-boot-at) ---------------------------------------------- */

/* How a person puts a board without auto-reset into download mode (Espressif's "Boot
 * Mode Selection": GPIO0 low while the chip leaves reset selects download boot): hold
 * BOOT, tap EN, release BOOT. The tap's 50-150 ms is a quick press, not a documented
 * figure. A hold shorter than the tap lets go of BOOT first: the chip boots from flash. */
#define PRESS_EN_DOWN_MS 50u
#define PRESS_EN_UP_MS 150u
#define PRESS_CHANGES 4u

struct press_change {
    uint64_t at_ns;
    bool en;       /* EN's button, else BOOT's */
    bool down;
};

/* The press's button changes in time order (a hold under the tap reorders them). */
static void press_changes(const struct sim_board *b, struct press_change out[PRESS_CHANGES])
{
    uint64_t at = (uint64_t)b->opts.press_boot_at_ms * NS_PER_MS;
    struct press_change all[PRESS_CHANGES] = {
        { at, false, true },
        { at + PRESS_EN_DOWN_MS * NS_PER_MS, true, true },
        { at + PRESS_EN_UP_MS * NS_PER_MS, true, false },
        { at + (uint64_t)b->opts.press_boot_hold_ms * NS_PER_MS, false, false },
    };
    for (size_t i = 0; i < PRESS_CHANGES; i++) {   /* insertion sort: stable */
        struct press_change c = all[i];
        size_t j = i;
        for (; j > 0 && out[j - 1].at_ns > c.at_ns; j--)
            out[j] = out[j - 1];
        out[j] = c;
    }
}

static uint64_t press_next_ns(const struct sim_board *b)
{
    if (!b->opts.press_boot || b->text_only || usbdev_native(b) ||
        b->press_step >= PRESS_CHANGES)
        return NO_TIME;
    struct press_change changes[PRESS_CHANGES];
    press_changes(b, changes);
    return changes[b->press_step].at_ns;
}

static void press_apply(struct sim_board *b, uint64_t t_ns)
{
    struct press_change changes[PRESS_CHANGES];
    press_changes(b, changes);
    const struct press_change *c = &changes[b->press_step++];
    if (c->en)
        b->en_button = c->down;
    else
        b->boot_button = c->down;
    board_trace(b, t_ns, "button: %s %s", c->en ? "EN" : "BOOT (GPIO0)",
                c->down ? "pressed" : "released");
    if (b->powered)
        update_circuit(b, t_ns);
}

/* ---- time --------------------------------------------------------------------------- */

static uint64_t max_u64(uint64_t a, uint64_t c)
{
    return a > c ? a : c;
}

/* The next thing the chip does on its own, or NO_TIME. */
static uint64_t chip_next_ns(const struct sim_board *b)
{
    uint64_t rx = wire_front_ns(&b->to_chip);
    if (rx != NO_TIME && faults_stalled(b, rx))
        rx = b->fault.stall_until_ns;   /* the link is frozen: nothing arrives */
    uint64_t usb = usbdev_next_ns(b), press = press_next_ns(b);
    if (press < usb)
        usb = press;
    if (b->mode == MODE_RESET) {
        uint64_t t = rx < b->leave_reset_ns ? rx : b->leave_reset_ns;
        return usb < t ? usb : t;
    }
    uint64_t t = rx == NO_TIME ? NO_TIME : max_u64(rx, b->busy_until_ns);
    if (b->app_next_ns < t)
        t = b->app_next_ns;
    return usb < t ? usb : t;
}

static void advance(struct sim_board *b, uint64_t target_ns)
{
    for (;;) {
        uint64_t t = chip_next_ns(b);
        if (t == NO_TIME || t > target_ns)
            break;
        if (t > b->now_ns)
            b->now_ns = t;
        if (press_next_ns(b) == t) {
            press_apply(b, t);
        } else if (usbdev_next_ns(b) == t) {
            usbdev_advance(b, t);
        } else if (b->mode == MODE_RESET) {
            if (wire_front_ns(&b->to_chip) <= t && t != b->leave_reset_ns)
                wire_pop(&b->to_chip);   /* lost: the chip is not running */
            else
                leave_reset(b, t);
        } else if (b->app_next_ns == t) {
            b->app_next_ns = NO_TIME;
            app_tick(b, t);
        } else {
            uint8_t byte = wire_pop(&b->to_chip);
            if (!faults_on_rx(b, t))
                continue;   /* a brown-out took the chip down with this byte */
            if (b->mode == MODE_APP)
                app_rx(b, byte, t);
            else
                rom_rx(b, byte, t);
        }
    }
    if (target_ns > b->now_ns)
        b->now_ns = target_ns;
    if (!b->host_open)
        while (wire_front_ns(&b->to_host) <= b->now_ns)
            wire_pop(&b->to_host);   /* nobody has the port open */
}

/* ---- the public API --------------------------------------------------------------------- */

void sim_board_host_open(struct sim_board *b, bool open, uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    if (open && !b->host_open)
        wire_clear(&b->to_host);   /* sent while nobody listened */
    b->host_open = open;
    board_trace(b, b->now_ns, "host %s the port", open ? "opened" : "closed");
}

void sim_board_set_lines(struct sim_board *b, bool dtr, bool rts, uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    if (usbdev_native(b))
        usbdev_lines(b, dtr, rts, b->now_ns);
    b->dtr = dtr;
    b->rts = rts;
    if (!usbdev_native(b))
        update_circuit(b, b->now_ns);
    board_trace(b, b->now_ns, "lines DTR=%d RTS=%d -> EN %s, GPIO0 %s", dtr, rts,
                b->en_low ? "low" : "high", b->gpio0_low ? "low" : "high");
}

void sim_board_set_host_baud(struct sim_board *b, uint32_t baud, uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    if (baud == 0)
        return;
    b->host_baud = baud;
    board_trace(b, b->now_ns, "host baud %u (chip UART at %u)", baud, b->chip_baud);
}

/* Index just past the first run of SYNC's 0x55 bytes long enough for the ROM's baud
 * detector, or 0. */
static size_t autobaud_run_end(const uint8_t *data, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        run = data[i] == 0x55 ? run + 1 : 0;
        if (run == 8) {
            while (i + 1 < len && data[i + 1] == 0x55)
                i++;
            return i + 1;
        }
    }
    return 0;
}

void sim_board_host_write(struct sim_board *b, const uint8_t *data, size_t len,
                          uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    if (!b->host_open || len == 0)
        return;
    uint8_t *noisy = NULL;
    if (line_faults(b)) {
        noisy = malloc(len);
        if (!noisy) {
            board_trace(b, b->now_ns, "out of memory: %zu bytes from the host lost", len);
            return;
        }
        len = faults_on_line(b, true, data, len, noisy);
        data = noisy;
    }
    uint32_t chip_line = usbdev_line_baud(b, faults_chip_baud(b, b->chip_baud));
    uint32_t host_line = usbdev_line_baud(b, b->host_baud);
    uint64_t start = b->now_ns;
    if (board_timed(b))
        start += (uint64_t)b->opts.usb_latency_us * NS_PER_US;
    bool timed = board_timed(b);
    if (b->mode == MODE_ROM && !b->synced && b->host_baud != b->chip_baud &&
        !usbdev_native(b)) {
        /* The ROM measures the 0x55 pulses and locks onto the host's speed; what came
         * before the lock was received at the old speed. */
        size_t end = autobaud_run_end(data, len);
        if (end) {
            wire_send(&b->to_chip, data, end, start, b->host_baud, chip_line, timed);
            board_trace(b, b->now_ns, "ROM autobaud: UART %u -> %u", b->chip_baud,
                        b->host_baud);
            b->chip_baud = b->host_baud;
            chip_line = faults_chip_baud(b, b->chip_baud);
            data += end;
            len -= end;
        }
    }
    if (!wire_send(&b->to_chip, data, len, start, host_line, chip_line, timed))
        board_trace(b, b->now_ns, "out of memory: %zu bytes from the host lost", len);
    free(noisy);
}

size_t sim_board_host_read(struct sim_board *b, uint8_t *out, size_t cap, uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    if (faults_stalled(b, b->now_ns))
        return 0;
    size_t n = 0;
    while (n < cap && wire_front_ns(&b->to_host) <= b->now_ns)
        out[n++] = wire_pop(&b->to_host);
    return n;
}

uint64_t sim_board_next_event_us(struct sim_board *b, uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    uint64_t t = chip_next_ns(b);
    if (b->host_open) {
        uint64_t out = wire_front_ns(&b->to_host);
        if (out != NO_TIME && faults_stalled(b, out))
            out = b->fault.stall_until_ns;
        if (out < t)
            t = out;
    }
    if (t == NO_TIME)
        return UINT64_MAX;
    uint64_t us = (t + NS_PER_US - 1) / NS_PER_US;
    return us < now_us ? now_us : us;
}

void sim_board_set_power(struct sim_board *b, bool on, uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    if (on == b->powered)
        return;
    b->powered = on;
    if (!on) {
        chip_stop(b, b->now_ns);
        b->leave_reset_ns = NO_TIME;
        wire_clear(&b->to_chip);
        wire_clear(&b->to_host);
        board_trace(b, b->now_ns, "power off (cable out)");
        return;
    }
    b->power_on = true;
    if (usbdev_native(b))
        b->gpio0_low = b->opts.boot_held;   /* no auto-reset circuit: the button alone */
    board_trace(b, b->now_ns, "power on (cable in)");
    if (b->text_only)
        app_start_text(b, b->now_ns);
    else if (!b->en_low)
        b->leave_reset_ns = b->now_ns + CHIP_START_NS;
}

const uint8_t *sim_board_flash(const struct sim_board *b, size_t *size)
{
    *size = b->flash.size;
    return b->flash.mem;
}

const char *sim_board_chip_name(const struct sim_board *b)
{
    return b->text_only ? "a serial device that is not an ESP" : b->sim->name;
}

bool sim_board_in_download_mode(const struct sim_board *b)
{
    return b->mode == MODE_ROM || b->mode == MODE_STUB;
}

uint64_t sim_board_now_us(const struct sim_board *b)
{
    return b->now_ns / NS_PER_US;
}

uint32_t sim_board_chip_baud(const struct sim_board *b)
{
    return b->chip_baud;
}

bool sim_board_timing(const struct sim_board *b)
{
    return board_timed(b);
}

bool sim_board_stub_running(const struct sim_board *b)
{
    return b->mode == MODE_STUB;
}

const char *sim_board_stub_package(const struct sim_board *b)
{
    return b->stub ? b->stub->package : NULL;
}

enum sim_usb_device sim_board_usb_device(struct sim_board *b, uint64_t now_us)
{
    advance(b, now_us * NS_PER_US);
    return usbdev_device(b);
}

void sim_board_mac(const struct sim_board *b, uint8_t mac[6])
{
    memcpy(mac, b->mac, sizeof b->mac);
}

const char *sim_board_flash_chip(const struct sim_board *b)
{
    return b->flash.part->name;
}

bool sim_flash_chip_known(const char *name)
{
    return nor_part(name) != NULL;
}

void sim_board_get_stats(const struct sim_board *b, struct sim_board_stats *out)
{
    *out = b->stats;
    out->model_min_flash_ns = 0;
    if (b->flash_phase && b->flash_phase_to_ns > b->flash_phase_from_ns)
        out->model_min_flash_ns = b->flash_phase_to_ns - b->flash_phase_from_ns;
}
