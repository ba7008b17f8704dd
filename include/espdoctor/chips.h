/* Per-chip facts as one table. Adding a chip means adding one row in chips.c. */
#ifndef ESPDOCTOR_CHIPS_H
#define ESPDOCTOR_CHIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ED_CHIP_ID_NONE (-1)   /* ESP8266: images carry no chip id */

/* How the factory MAC is stored. */
enum ed_mac_layout {
    ED_MAC_ESP8266_OTP,   /* OTP words mac0, mac1, mac3 (OUI), see loader.c */
    ED_MAC_EFUSE_PAIR,    /* two eFuse words: low = bytes 2..5, high = bytes 0..1 */
};

/* The SPI controller's user-command registers, as offsets from spi_base. */
struct ed_spi_regs {
    uint32_t cmd, usr, usr1, usr2, w0;
    uint32_t mosi_dlen, miso_dlen;   /* 0 where the chip has none (ESP8266: lengths in USR1) */
};

struct ed_chip {
    const char *key;               /* "esp32": for options and JSON */
    const char *name;              /* "ESP32": for people */
    int image_chip_id;             /* chip id in images and GET_SECURITY_INFO; -1 none */
    uint32_t magic[4];             /* values of the detection register 0x40001000 */
    size_t magic_count;
    unsigned rom_status_bytes;     /* 2 on ESP8266, 4 on later ROMs */
    uint32_t rom_log_baud;         /* the boot log's baud: 74880 on ESP8266 */
    enum ed_mac_layout mac_layout;
    uint32_t mac_reg_lo, mac_reg_hi, mac_reg_oui;   /* oui only for ESP8266 */
    uint32_t uart_clkdiv_reg;
    unsigned xtal_divider;         /* 2 on ESP8266, 1 after */
    uint32_t spi_base;
    struct ed_spi_regs spi;
    uint32_t bootloader_offset;    /* where the 2nd-stage bootloader (or v1 image) goes */
    uint32_t app_offset;           /* default factory app offset (0x10000) */
    /* What the ROM loader can do without a stub. */
    bool rom_spi_attach;
    bool rom_compressed;           /* FLASH_DEFL_* */
    bool rom_md5;                  /* SPI_FLASH_MD5 */
    bool rom_change_baud;
    bool rom_security_info;        /* GET_SECURITY_INFO */
    bool rom_read_flash_slow;
    bool begin_has_encrypted_word; /* FLASH_BEGIN carries a 5th word on this ROM */
    uint16_t usb_pid_native;       /* Espressif USB PID of its native port, 0 if none */
    /* ESP32: the ROM's crystal calibration (TIMG0 RTCCALICFG1) and the eFuse word with
     * CK8M's frequency, to compensate its CHANGE_BAUDRATE; 0 where the ROM needs none. */
    uint32_t rom_xtal_cal_reg, rom_ck8m_efuse_reg;
    const char *micropython_board; /* MicroPython download page board id */
    /* The image header's byte 3 (esptool's "Firmware Image Format"): flash size in the high
     * nibble and SPI frequency in the low one, as the names each code stands for on this
     * chip ("4MB", "80m"); NULL where the chip has no such code (or none documented). */
    const char *header_sizes[16];
    const char *header_freqs[16];
};

extern const struct ed_chip ed_chips[];
extern const size_t ed_chip_count;

const struct ed_chip *ed_chip_by_key(const char *key);
const struct ed_chip *ed_chip_by_magic(uint32_t magic);
const struct ed_chip *ed_chip_by_image_id(int chip_id);

/* "https://micropython.org/download/ESP32_GENERIC/" style hint for a chip. */
void ed_chip_download_hint(const struct ed_chip *chip, char *buf, size_t len);

/* The fix for a board that needs MicroPython built for its chip: fix gets where to
 * download it, command the command that flashes the downloaded file from the folder it
 * was saved to ("espdoctor -p PORT flash ESP8266_GENERIC-*.bin": MicroPython names its
 * downloads BOARD-DATE-VERSION.bin; the pattern is left for the shell to expand, and
 * matching no file or several is refused by flash without writing). port NULL: no -p. */
void ed_chip_micropython_fix(const struct ed_chip *chip, const char *port, char *fix,
                             size_t fix_len, char *command, size_t command_len);

#endif
