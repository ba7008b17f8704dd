/* The crystal, and what the ESP32 ROM believes it is.
 *
 * The ESP32 ROM estimates its crystal against the internal 8 MHz RC clock (CK8M), whose
 * factory-calibrated frequency sits in eFuse BLK0 word 4, bits 0-7 (EFUSE_RD_CK8M_FREQ).
 * The calibration result lands in TIMG0's RTCCALICFG1 (0x3FF5F06C, TIMG_RTC_CALI_VALUE in
 * bits 7-31: ESP32 TRM, "Timer Group"; esptool targets/esp32.py RTCCALICFG1) and the ROM's
 * estimate is cali x 15625 x CK8M / 40 Hz (esptool, get_rom_cal_crystal_freq). Its boot log
 * uses the crystal rounded to 26 or 40 MHz, and autobaud measures the host's real speed, but
 * CHANGE_BAUDRATE divides the unrounded estimate by the asked rate, so the UART ends up at
 * asked x crystal / estimate (esptool issue #365: "the ESP32 ROM code estimates the crystal
 * frequency using an internal RC oscillator, so it can sometimes set the wrong baud rate").
 * esptool and espdoctor compensate; esptool-js 0.7.0 does not.
 *
 * The estimate is off by the board's drift (--xtal-drift) plus a little noise each time the
 * ROM calibrates (every start), drawn from the seeded stream. Only the ESP32 ROM does this:
 * the later ROMs take their crystal from the strapping/eFuse they know. */
#include "board_internal.h"

#define RTCCALICFG1 0x3FF5F06Cu
#define RTC_CALI_VALUE_SHIFT 7
#define RTC_CALI_VALUE_MASK 0x01FFFFFFu
#define EFUSE_BLK0_WORD4 0x3FF5A010u
#define CK8M_MASK 0xFFu
/* Each calibration differs a little from the last: +-0.1 %. */
#define CALIBRATION_NOISE 0.001

/* splitmix64, as faults.c uses it, on a stream of its own. */
static double next_unit(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static uint32_t ck8m(const struct sim_board *b)
{
    uint32_t word4 = 0;
    efuse_word(b, EFUSE_BLK0_WORD4, &word4);
    return word4 & CK8M_MASK;
}

void clock_init(struct sim_board *b)
{
    b->xtal_hz = b->opts.xtal_mhz ? b->opts.xtal_mhz * 1000000u : b->sim->xtal_hz;
    b->clock_rng = b->opts.faults.seed ^ 0x63616C6962726174ull;   /* "calibrat" */
    b->rom_cali = 0;
}

void clock_calibrate(struct sim_board *b, uint64_t t_ns)
{
    if (!b->sim->rom_estimates_xtal || ck8m(b) == 0)
        return;
    double noise = (2 * next_unit(&b->clock_rng) - 1) * CALIBRATION_NOISE;
    double estimate = b->xtal_hz * (1 + b->opts.xtal_drift + noise);
    double cali = estimate * 40 / (15625.0 * ck8m(b)) + 0.5;
    b->rom_cali = cali < 1 ? 1 : cali > RTC_CALI_VALUE_MASK ? RTC_CALI_VALUE_MASK
                                                             : (uint32_t)cali;
    board_trace(b, t_ns, "ROM calibrates its crystal against CK8M: %.3f MHz (real %.3f)",
                clock_rom_estimate_hz(b) / 1e6, b->xtal_hz / 1e6);
}

double clock_rom_estimate_hz(const struct sim_board *b)
{
    if (!b->rom_cali)
        return b->xtal_hz;
    return (double)b->rom_cali * 15625.0 * ck8m(b) / 40.0;
}

uint32_t clock_rom_uart_baud(const struct sim_board *b, uint32_t asked)
{
    double baud = (double)asked * b->xtal_hz / clock_rom_estimate_hz(b);
    return baud < 1 ? 1 : baud > 4e9 ? UINT32_MAX : (uint32_t)(baud + 0.5);
}

bool clock_register(const struct sim_board *b, uint32_t addr, uint32_t *value)
{
    if (!b->sim->rom_estimates_xtal || addr != RTCCALICFG1)
        return false;
    *value = b->rom_cali << RTC_CALI_VALUE_SHIFT;
    return true;
}
