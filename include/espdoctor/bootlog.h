/* What the chip printed: the ROM's boot log (and whatever ran after it) decoded into
 * facts. The boot log is the best evidence there is of why a board won't connect. */
#ifndef ESPDOCTOR_BOOTLOG_H
#define ESPDOCTOR_BOOTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ED_BOOTLOG_BACKTRACE_MAX 16

struct ed_bootlog {
    size_t bytes;              /* how much text was looked at */
    bool readable;             /* mostly printable text (false: garbage or silence) */
    bool garbage;              /* bytes arrived, but mostly unprintable: wrong baud? */
    unsigned resets;           /* rst: lines seen (ESP32 family) or "rst cause" (ESP8266) */
    bool esp8266;              /* the log is an ESP8266 ROM's ("ets Jan  8 2013") */
    bool esp32_rom;            /* the ESP32's own ROM banner ("ets Jun  8 2016"): its
                                  boot:0xNN bits are the ESP32's GPIO_STRAP */
    int reset_cause;           /* last rst:0xN / rst cause:N, -1 if none */
    char reset_name[40];       /* "POWERON_RESET", "RTCWDT_RTC_RESET", "" */
    int boot_value;            /* last ESP32 boot:0xNN, -1 if none */
    int boot_mode_named;       /* the banner's mode name: 1 DOWNLOAD, 2 flash boot, 0 none */
    int esp8266_boot_mode;     /* first number of "boot mode:(N,M)", -1 if none */
    bool download_mode;        /* the ROM said it waits for download */
    bool flash_boot;           /* the ROM booted from flash */
    bool brownout;             /* "Brownout detector was triggered" */
    bool invalid_header;       /* "invalid header": nothing bootable at the boot offset */
    bool erased_header;        /* every "invalid header: 0x..." read 0xffffffff: the flash
                                  is erased there (a blank board, not a broken one) */
    bool flash_read_err;       /* "flash read err" */
    bool guru_meditation;      /* the application crashed */
    int guru_core;             /* the core of "Core  0 panic'ed (...)", -1 if none */
    char guru_reason[48];      /* what it says in brackets: "LoadProhibited", "" */
    size_t backtrace_count;    /* program counters of the last "Backtrace:" line */
    uint32_t backtrace[ED_BOOTLOG_BACKTRACE_MAX];
    bool micropython;          /* a MicroPython banner */
    char micropython_version[48]; /* "v1.24.0" */
    char micropython_board[80];   /* "Generic ESP32 module with ESP32", "" */
    bool repl_prompt;          /* ">>> " */
    char app_project[33];      /* an ESP-IDF app's "Project name:" ("" when not printed);
                                  MicroPython's ESP32 port is the project "micropython" */
};

/* Decode len bytes of console output. */
void ed_bootlog_parse(const uint8_t *text, size_t len, struct ed_bootlog *log);

/* The ROM spoke (a reset line, a boot value or mode, "waiting for download", the ESP8266
 * ROM's date line): whatever printed this text was reset, not left running. */
bool ed_bootlog_has_banner(const struct ed_bootlog *log);

/* What the last reset cause means, in a few words ("software restart: esp_restart(), or
 * the panic handler after a crash"); NULL when the cause is not one we know. */
const char *ed_bootlog_reset_meaning(const struct ed_bootlog *log);

/* One line for people: "boot:0x13 (SPI_FAST_FLASH_BOOT): normal flash boot, GPIO0 was
 * high" or "no output". */
void ed_bootlog_describe(const struct ed_bootlog *log, char *out, size_t len);

/* ESP32 strapping pins that were low in a boot value, as text: "GPIO0 low, GPIO2 low". */
void ed_bootlog_straps(int boot_value, char *out, size_t len);

/* The last `max` printable lines of text, for evidence ("...\nwaiting for download"). */
void ed_bootlog_tail(const uint8_t *text, size_t len, unsigned max_lines, char *out,
                     size_t out_len);

#endif
