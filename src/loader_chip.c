/* What the chip is: detection, factory MAC, crystal, and the SPI flash behind it. Register
 * addresses come from the chip table (chips.c). */
#include "espdoctor/loader.h"

#include "espdoctor/error.h"

#define CHIP_DETECT_MAGIC_REG 0x40001000u
#define SECURITY_INFO_TIMEOUT_MS 1000u

/* SPI controller bits (Espressif technical reference manuals, SPI chapter). */
#define SPI_CMD_USR (1u << 18)        /* CMD: start the user-defined transaction */
#define SPI_USR_COMMAND (1u << 31)    /* USR: send a command phase */
#define SPI_USR_MISO (1u << 28)       /* USR: read phase */
#define SPI_USR_MOSI (1u << 27)       /* USR: write phase */
#define SPI_USR2_COMMAND_LEN_SHIFT 28 /* USR2: command bit length - 1 */
#define SPI_USR1_MISO_LEN_SHIFT 8     /* ESP8266 USR1: read bit length - 1 */
#define SPI_USR1_MOSI_LEN_SHIFT 17    /* ESP8266 USR1: write bit length - 1 */
#define SPI_POLL_LIMIT 10u

#define JEDEC_READ_ID 0x9F
/* GET_SECURITY_INFO's first word, bit 2: "Secure Download Mode" (Espressif, esptool docs,
 * "get-security-info"; the serial protocol's command 0x14). */
#define SECURITY_FLAG_SECURE_DOWNLOAD (1u << 2)

int ed_loader_detect_chip(struct ed_loader *ld)
{
    const struct ed_chip *chip = NULL;
    struct ed_response r;
    ld->security_chip_id = UINT32_MAX;
    ld->secure_download = false;
    ld->magic = 0;

    int rc = ed_loader_command(ld, ED_OP_GET_SECURITY_INFO, NULL, 0, SECURITY_INFO_TIMEOUT_MS, &r);
    ld->security_known = false;
    if (rc == ED_OK && r.data_len >= 4)
        ld->secure_download = !ld->stub && (ed_get_le32(r.data) & SECURITY_FLAG_SECURE_DOWNLOAD);
    if (rc == ED_OK && r.data_len >= 5) {   /* flags, then the crypt counter byte */
        ld->security_known = true;
        ld->security_flags = ed_get_le32(r.data);
        ld->flash_crypt_cnt = r.data[4];
    }
    if (rc == ED_OK && r.data_len >= 20) {
        ld->security_chip_id = ed_get_le32(r.data + 12);
        chip = ed_chip_by_image_id((int)ld->security_chip_id);
    } else if (rc != ED_OK && rc != ED_E_UNSUPPORTED && rc != ED_E_ROM && rc != ED_E_TIMEOUT) {
        return rc;
    }
    if (!chip) {
        /* Older ROMs (ESP8266, ESP32) lack the command; the S2 answers without a chip id. */
        rc = ed_loader_read_reg(ld, CHIP_DETECT_MAGIC_REG, &ld->magic);
        if (rc != ED_OK)
            return rc;
        chip = ed_chip_by_magic(ld->magic);
    }
    if (!chip)
        return ED_E_UNSUPPORTED;
    ld->chip = chip;
    if (!ld->stub)
        ld->status_bytes = chip->rom_status_bytes;
    return ED_OK;
}

int ed_loader_read_mac(struct ed_loader *ld, uint8_t mac[6])
{
    const struct ed_chip *c = ld->chip;
    if (!c)
        return ED_E_ARG;
    uint32_t lo, hi;
    int rc = ed_loader_read_reg(ld, c->mac_reg_lo, &lo);
    if (rc == ED_OK)
        rc = ed_loader_read_reg(ld, c->mac_reg_hi, &hi);
    if (rc != ED_OK)
        return rc;

    if (c->mac_layout == ED_MAC_EFUSE_PAIR) {
        mac[0] = (uint8_t)(hi >> 8);
        mac[1] = (uint8_t)hi;
        mac[2] = (uint8_t)(lo >> 24);
        mac[3] = (uint8_t)(lo >> 16);
        mac[4] = (uint8_t)(lo >> 8);
        mac[5] = (uint8_t)lo;
        return ED_OK;
    }

    /* ESP8266 OTP: the OUI is in the third word when programmed, otherwise one of two
     * Espressif OUIs selected by a byte of the second word. */
    uint32_t oui_word;
    rc = ed_loader_read_reg(ld, c->mac_reg_oui, &oui_word);
    if (rc != ED_OK)
        return rc;
    if (oui_word != 0) {
        mac[0] = (uint8_t)(oui_word >> 16);
        mac[1] = (uint8_t)(oui_word >> 8);
        mac[2] = (uint8_t)oui_word;
    } else {
        static const uint8_t oui_0[3] = { 0x18, 0xFE, 0x34 };
        static const uint8_t oui_1[3] = { 0xAC, 0xD0, 0x74 };
        uint8_t sel = (uint8_t)(hi >> 16);
        const uint8_t *oui = sel == 0 ? oui_0 : sel == 1 ? oui_1 : NULL;
        if (!oui)
            return ED_E_PROTOCOL;
        mac[0] = oui[0];
        mac[1] = oui[1];
        mac[2] = oui[2];
    }
    mac[3] = (uint8_t)(hi >> 8);
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(lo >> 24);
    return ED_OK;
}

int ed_loader_crystal_mhz(struct ed_loader *ld, unsigned *mhz, unsigned *raw_mhz_x10)
{
    const struct ed_chip *c = ld->chip;
    if (!c || c->xtal_divider == 0)
        return ED_E_ARG;
    uint32_t clkdiv;
    int rc = ed_loader_read_reg(ld, c->uart_clkdiv_reg, &clkdiv);
    if (rc != ED_OK)
        return rc;
    /* The ROM set its divider so that this baud came out: clock = baud x divider. */
    uint64_t hz = (uint64_t)ld->tp->baud * (clkdiv & 0xFFFFFu) / c->xtal_divider;
    static const unsigned known[] = { 26, 40, 48 };
    unsigned best = known[0];
    uint64_t best_diff = UINT64_MAX;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint64_t target = (uint64_t)known[i] * 1000000u;
        uint64_t diff = hz > target ? hz - target : target - hz;
        if (diff < best_diff) {
            best_diff = diff;
            best = known[i];
        }
    }
    *mhz = best;
    if (raw_mhz_x10)
        *raw_mhz_x10 = (unsigned)((hz + 50000) / 100000);
    return ED_OK;
}

int ed_loader_spi_command(struct ed_loader *ld, uint8_t cmd, uint32_t mosi,
                          unsigned mosi_bits, unsigned miso_bits, uint32_t *miso)
{
    const struct ed_chip *c = ld->chip;
    if (!c || mosi_bits > 32 || miso_bits > 32)
        return ED_E_ARG;
    const uint32_t base = c->spi_base;
    const struct ed_spi_regs *reg = &c->spi;
    bool has_dlen = reg->mosi_dlen != 0;
    uint32_t old_usr, old_usr1 = 0, old_usr2;

    int rc = ed_loader_read_reg(ld, base + reg->usr, &old_usr);
    if (rc == ED_OK)
        rc = ed_loader_read_reg(ld, base + reg->usr2, &old_usr2);
    if (rc == ED_OK && !has_dlen)
        rc = ed_loader_read_reg(ld, base + reg->usr1, &old_usr1);
    if (rc != ED_OK)
        return rc;

    uint32_t mosi_len = mosi_bits ? mosi_bits - 1 : 0;
    uint32_t miso_len = miso_bits ? miso_bits - 1 : 0;
    if (has_dlen) {
        rc = ed_loader_write_reg(ld, base + reg->mosi_dlen, mosi_len, 0xFFFFFFFFu, 0);
        if (rc == ED_OK)
            rc = ed_loader_write_reg(ld, base + reg->miso_dlen, miso_len, 0xFFFFFFFFu, 0);
    } else {
        rc = ed_loader_write_reg(ld, base + reg->usr1,
                                 miso_len << SPI_USR1_MISO_LEN_SHIFT |
                                 mosi_len << SPI_USR1_MOSI_LEN_SHIFT, 0xFFFFFFFFu, 0);
    }
    uint32_t usr = SPI_USR_COMMAND | (miso_bits ? SPI_USR_MISO : 0) | (mosi_bits ? SPI_USR_MOSI : 0);
    if (rc == ED_OK)
        rc = ed_loader_write_reg(ld, base + reg->usr, usr, 0xFFFFFFFFu, 0);
    if (rc == ED_OK)
        rc = ed_loader_write_reg(ld, base + reg->usr2,
                                 7u << SPI_USR2_COMMAND_LEN_SHIFT | cmd, 0xFFFFFFFFu, 0);
    /* W0 is both the data to send and where the answer lands: clear it when only reading. */
    if (rc == ED_OK)
        rc = ed_loader_write_reg(ld, base + reg->w0, mosi_bits ? mosi : 0, 0xFFFFFFFFu, 0);
    if (rc == ED_OK)
        rc = ed_loader_write_reg(ld, base + reg->cmd, SPI_CMD_USR, 0xFFFFFFFFu, 0);
    if (rc != ED_OK)
        return rc;

    uint32_t status = SPI_CMD_USR;
    for (unsigned i = 0; i < SPI_POLL_LIMIT && (status & SPI_CMD_USR); i++) {
        rc = ed_loader_read_reg(ld, base + reg->cmd, &status);
        if (rc != ED_OK)
            return rc;
    }
    if (status & SPI_CMD_USR)
        return ED_E_TIMEOUT;

    uint32_t value = 0;
    rc = ed_loader_read_reg(ld, base + reg->w0, &value);
    if (rc == ED_OK)
        rc = ed_loader_write_reg(ld, base + reg->usr, old_usr, 0xFFFFFFFFu, 0);
    if (rc == ED_OK)
        rc = ed_loader_write_reg(ld, base + reg->usr2, old_usr2, 0xFFFFFFFFu, 0);
    if (rc == ED_OK && !has_dlen)
        rc = ed_loader_write_reg(ld, base + reg->usr1, old_usr1, 0xFFFFFFFFu, 0);
    if (rc != ED_OK)
        return rc;
    if (miso)
        *miso = miso_bits >= 32 ? value : value & ((1u << miso_bits) - 1);
    return ED_OK;
}

int ed_loader_flash_id(struct ed_loader *ld, uint32_t *jedec, uint32_t *size_bytes)
{
    if (!ld->chip)
        return ED_E_ARG;
    int rc = ED_OK;
    if (!ld->spi_attached)
        rc = ed_loader_spi_attach(ld);
    uint32_t id = 0;
    if (rc == ED_OK)
        rc = ed_loader_spi_command(ld, JEDEC_READ_ID, 0, 0, 24, &id);
    if (rc != ED_OK)
        return rc;
    *jedec = id;
    *size_bytes = 0;
    if (id == 0xFFFFFFu || id == 0)
        return ED_E_NOTFOUND;
    unsigned capacity = (id >> 16) & 0xFF;
    if (capacity >= 0x12 && capacity <= 0x1C)
        *size_bytes = 1u << capacity;
    return ED_OK;
}
