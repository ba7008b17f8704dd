/* The ESP32 ROM's CHANGE_BAUDRATE lands off the asked rate: the ROM divides its own
 * estimate of the crystal, measured against the internal RC clock CK8M, not the crystal
 * (esptool issue #365). The estimate can be read back: the calibration value in TIMG0's
 * RTCCALICFG1 (bits 7-31) and CK8M's factory frequency in eFuse BLK0 word 4 (bits 0-7) give
 * rom = cali x 15625 x CK8M / 40 Hz; the crystal it stands for is 40 MHz above 33 MHz, else
 * 26 MHz; and asking for baud x rom / crystal makes the UART run at baud (esptool
 * targets/esp32.py, get_rom_cal_crystal_freq and change_baud). Only on the ROM: a stub
 * computes its divider from the real clock. */
#include "espdoctor/loader.h"

#include "espdoctor/error.h"

#define RTC_CALI_VALUE_SHIFT 7
#define RTC_CALI_VALUE_MASK 0x01FFFFFFu
#define CK8M_FREQ_MASK 0xFFu
#define XTAL_40MHZ 40000000u
#define XTAL_26MHZ 26000000u
#define XTAL_THRESHOLD_HZ 33000000u

int ed_loader_rom_baud_arg(struct ed_loader *ld, uint32_t baud, uint32_t *arg)
{
    const struct ed_chip *c = ld->chip;
    *arg = baud;
    if (ld->stub || !c || !c->rom_xtal_cal_reg)
        return ED_OK;
    uint32_t cal, efuse;
    int rc = ed_loader_read_reg(ld, c->rom_xtal_cal_reg, &cal);
    if (rc == ED_OK)
        rc = ed_loader_read_reg(ld, c->rom_ck8m_efuse_reg, &efuse);
    if (rc != ED_OK)
        return rc;
    uint64_t cali = (cal >> RTC_CALI_VALUE_SHIFT) & RTC_CALI_VALUE_MASK;
    uint64_t rom_hz = cali * 15625u * (efuse & CK8M_FREQ_MASK) / 40u;
    ld->rom_xtal_estimate_hz = rom_hz > UINT32_MAX ? UINT32_MAX : (uint32_t)rom_hz;
    if (rom_hz == 0)
        return ED_OK;   /* nothing to go by: ask for the rate itself */
    uint64_t xtal = rom_hz > XTAL_THRESHOLD_HZ ? XTAL_40MHZ : XTAL_26MHZ;
    uint64_t v = (uint64_t)baud * rom_hz / xtal;
    *arg = v == 0 ? 1 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return ED_OK;
}
