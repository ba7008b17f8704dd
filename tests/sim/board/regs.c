/* The registers a client reads and writes through READ_REG/WRITE_REG: the detection
 * magic, the MAC in eFuse/OTP (encoded so that esptool's documented decoding yields the
 * configured MAC), UART_CLKDIV for the crystal, the ESP32's crystal calibration (clock.c),
 * the eFuse words of a real part (efuse.c), and the SPI controller's user-command
 * registers, through which a client asks the flash chip for its JEDEC id. Anything else
 * keeps what was written, and reads 0 before that. */
#include "board_internal.h"

#define DETECT_MAGIC_REG 0x40001000u
#define SPI_CMD_USR (1u << 18)
#define FLASH_RDID 0x9F

static uint32_t *slot(struct sim_board *b, uint32_t addr, bool create)
{
    for (size_t i = 0; i < b->reg_count; i++)
        if (b->reg_addr[i] == addr)
            return &b->reg_val[i];
    if (!create || b->reg_count == REG_SLOTS)
        return NULL;
    b->reg_addr[b->reg_count] = addr;
    b->reg_val[b->reg_count] = 0;
    return &b->reg_val[b->reg_count++];
}

void regs_reset(struct sim_board *b)
{
    b->reg_count = 0;
}

static bool mac_register(const struct sim_board *b, uint32_t addr, uint32_t *value)
{
    const struct sim_chip *c = b->sim;
    const uint8_t *m = b->mac;
    if (c->mac_layout == SIM_MAC_ESP8266_OTP) {
        /* OTP: mac0 bits 24-31 = byte 5; mac1 bits 8-15 = byte 3, 0-7 = byte 4 (bits
         * 16-23 zero); mac3 = the OUI, bytes 0-2. */
        if (addr == c->mac_lo) {
            *value = (uint32_t)m[5] << 24;
            return true;
        }
        if (addr == c->mac_hi) {
            *value = (uint32_t)m[3] << 8 | m[4];
            return true;
        }
        if (addr == c->mac_oui) {
            *value = (uint32_t)m[0] << 16 | (uint32_t)m[1] << 8 | m[2];
            return true;
        }
        return false;
    }
    /* eFuse pair read big-endian as high:low, the first two bytes dropped (CRC). */
    if (addr == c->mac_lo) {
        *value = (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5];
        return true;
    }
    if (addr == c->mac_hi) {
        *value = c->mac_hi_extra | (uint32_t)m[0] << 8 | m[1];
        return true;
    }
    return false;
}

uint32_t reg_read(struct sim_board *b, uint32_t addr)
{
    uint32_t v;
    if (addr == DETECT_MAGIC_REG)
        return b->sim->magic;
    if (mac_register(b, addr, &v))
        return v;
    if (addr == b->sim->uart_clkdiv_reg) {
        uint64_t clk = (uint64_t)b->xtal_hz * b->sim->uart_clk_divider;
        return (uint32_t)(clk / b->chip_baud) & 0xFFFFF;
    }
    if (clock_register(b, addr, &v) || efuse_word(b, addr, &v))
        return v;
    uint32_t *s = slot(b, addr, false);
    return s ? *s : 0;
}

static void spi_user_command(struct sim_board *b)
{
    uint32_t base = b->sim->spi.base;
    uint32_t *usr2 = slot(b, base + b->sim->spi.usr2, false);
    uint8_t command = usr2 ? (uint8_t)(*usr2 & 0xFF) : 0;
    uint32_t *w0 = slot(b, base + b->sim->spi.w0, true);
    if (w0)
        *w0 = command != FLASH_RDID ? 0                      /* status reads: idle */
              : b->flash.silent ? 0xFFFFFFu                  /* nothing drives MISO */
                                : b->flash.jedec_id;
    board_trace(b, b->now_ns, "SPI user command 0x%02X -> W0 0x%08X", command,
                w0 ? *w0 : 0);
}

void reg_write(struct sim_board *b, uint32_t addr, uint32_t value, uint32_t mask)
{
    uint32_t *s = slot(b, addr, true);
    if (!s) {
        board_trace(b, b->now_ns, "register file full: write to 0x%08X dropped", addr);
        return;
    }
    *s = (*s & ~mask) | (value & mask);
    if (addr == b->sim->spi.base + b->sim->spi.cmd && (*s & SPI_CMD_USR)) {
        spi_user_command(b);
        *s = 0;   /* the controller clears USR when the command is done */
    }
}
