#include "options.h"
#include "board/optfail.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board/fault_spec.h"

static const char *const firmware_names[] = {
    [SIM_FW_BLANK] = "blank", [SIM_FW_APP] = "app", [SIM_FW_MICROPYTHON] = "micropython",
    [SIM_FW_CRASH] = "crash", [SIM_FW_BROWNOUT] = "brownout",
};

enum {
    OPT_BRIDGE = 256, OPT_CHIP, OPT_MAC, OPT_FLASH, OPT_FLASH_SIZE, OPT_NO_AUTORESET,
    OPT_BOOT_HELD, OPT_EN_DELAY, OPT_MD5_DELAY, OPT_FAST, OPT_USB_LATENCY, OPT_TRACE, OPT_RFC2217,
    OPT_FIRMWARE, OPT_DRIVER, OPT_AUTOSUSPEND, OPT_MM_IGNORE, OPT_NODE_MODE, OPT_NODE_GROUP,
    OPT_NODE_OWNER, OPT_SYSROOT, OPT_REAL_PROC, OPT_BRLTTY, OPT_MODEMMANAGER, OPT_UUCP_LOCK,
    OPT_GROUP_MEMBER, OPT_STATS, OPT_XTAL, OPT_XTAL_DRIFT, OPT_USB_APP, OPT_USB_ENUM_MS,
    OPT_FLASH_CHIP, OPT_ANY_STUB, OPT_SECURE_DOWNLOAD, OPT_FLASH_ENCRYPTED, OPT_PRESS_BOOT_AT,
    OPT_PLUG_AT, OPT_STRAP_HIGH, OPT_FLASH_SILENT, OPT_FLASH_REAL_SIZE, OPT_LINE_MAX,
};

static const struct option long_opts[] = {
    { "bridge", required_argument, NULL, OPT_BRIDGE },
    { "line-max", required_argument, NULL, OPT_LINE_MAX },
    { "chip", required_argument, NULL, OPT_CHIP },
    { "mac", required_argument, NULL, OPT_MAC },
    { "flash", required_argument, NULL, OPT_FLASH },
    { "flash-size", required_argument, NULL, OPT_FLASH_SIZE },
    { "flash-chip", required_argument, NULL, OPT_FLASH_CHIP },
    { "any-stub", no_argument, NULL, OPT_ANY_STUB },
    { "secure-download", no_argument, NULL, OPT_SECURE_DOWNLOAD },
    { "flash-encrypted", no_argument, NULL, OPT_FLASH_ENCRYPTED },
    { "strap-high", required_argument, NULL, OPT_STRAP_HIGH },
    { "flash-silent", no_argument, NULL, OPT_FLASH_SILENT },
    { "flash-real-size", required_argument, NULL, OPT_FLASH_REAL_SIZE },
    { "no-autoreset", no_argument, NULL, OPT_NO_AUTORESET },
    { "boot-held", no_argument, NULL, OPT_BOOT_HELD },
    { "press-boot-at", required_argument, NULL, OPT_PRESS_BOOT_AT },
    { "en-delay", required_argument, NULL, OPT_EN_DELAY },
    { "md5-delay", required_argument, NULL, OPT_MD5_DELAY },
    { "fast", no_argument, NULL, OPT_FAST },
    { "usb-latency", required_argument, NULL, OPT_USB_LATENCY },
    { "xtal", required_argument, NULL, OPT_XTAL },
    { "xtal-drift", required_argument, NULL, OPT_XTAL_DRIFT },
    { "usb-app", required_argument, NULL, OPT_USB_APP },
    { "usb-enum-ms", required_argument, NULL, OPT_USB_ENUM_MS },
    { "firmware", required_argument, NULL, OPT_FIRMWARE },
    { "driver", required_argument, NULL, OPT_DRIVER },
    { "plug-at", required_argument, NULL, OPT_PLUG_AT },
    { "autosuspend", no_argument, NULL, OPT_AUTOSUSPEND },
    { "mm-ignore", no_argument, NULL, OPT_MM_IGNORE },
    { "node-mode", required_argument, NULL, OPT_NODE_MODE },
    { "node-group", required_argument, NULL, OPT_NODE_GROUP },
    { "node-owner", required_argument, NULL, OPT_NODE_OWNER },
    { "sysroot", required_argument, NULL, OPT_SYSROOT },
    { "real-proc", no_argument, NULL, OPT_REAL_PROC },
    { "brltty", no_argument, NULL, OPT_BRLTTY },
    { "modemmanager", no_argument, NULL, OPT_MODEMMANAGER },
    { "uucp-lock", required_argument, NULL, OPT_UUCP_LOCK },
    { "group-member", required_argument, NULL, OPT_GROUP_MEMBER },
    { "trace", required_argument, NULL, OPT_TRACE },
    { "stats", required_argument, NULL, OPT_STATS },
    { "rfc2217", required_argument, NULL, OPT_RFC2217 },
    { "help", no_argument, NULL, 'h' },
    SIM_FAULT_LONG_OPTIONS,
    { NULL, 0, NULL, 0 },
};

void espsim_usage(FILE *out)
{
    fputs(
"Usage: espsim [options] -- COMMAND [ARG...]\n"
"       espsim [options] --rfc2217 PORT [-- COMMAND [ARG...]]\n"
"\n"
"A virtual ESP board behind a USB serial bridge. COMMAND runs inside a umockdev\n"
"testbed where the board is /dev/ttyUSB0 (/dev/ttyACM0 for usb-jtag), with the sysfs\n"
"and udev records of the real bridge; espsim exits with COMMAND's exit status.\n"
"\n"
"Board:\n"
"  --chip NAME          esp32 (default), esp8266, esp32s2, esp32s3, esp32c3, esp32c6;\n"
"                       none: not an ESP, a device that prints NMEA text every 100 ms\n"
"                       at 9600 baud and ignores DTR, RTS and what it is sent\n"
"  --mac MAC            the chip's MAC, AA:BB:CC:DD:EE:FF\n"
"  --flash FILE         keep the flash contents in FILE (raw image of the whole chip)\n"
"  --flash-size SIZE    4MB (default), 2MB, 16MB, 4M, or a number of bytes\n"
"  --flash-chip PART    the flash part: gd25q32c (default) or w25q32jv: its JEDEC id\n"
"                       and its datasheet's typical erase and program times\n"
"  --firmware KIND      what a blank flash holds at start: blank (default: nothing, the\n"
"                       ROM loops on \"invalid header\"), app (ESP-IDF log, then a line\n"
"                       every second), micropython (banner and REPL), crash (panics and\n"
"                       reboots, in a loop), brownout (the app's supply sags: brown-out\n"
"                       reset at every start)\n"
"  --no-autoreset       DTR/RTS are not wired to EN/GPIO0\n"
"  --boot-held          the BOOT button is held: every reset enters download mode\n"
"  --press-boot-at MS[:HOLD_MS]\n"
"                       MS ms after start a person holds BOOT, taps EN (50-150 ms\n"
"                       later) and lets go of BOOT at HOLD_MS (default 500): the chip\n"
"                       restarts into download mode (a HOLD_MS under 150 lets go\n"
"                       first: a flash boot)\n"
"  --en-delay MS        the chip leaves reset MS milliseconds after EN is released\n"
"  --md5-delay MS       every SPI_FLASH_MD5 takes MS ms longer (for tests that catch\n"
"                       a verify in progress; not a hardware behaviour)\n"
"  --fast               no timing model: bytes and flash operations take no time\n"
"  --usb-latency US     added to every host-to-chip transfer (default 1000)\n"
"  --secure-download    the ROM is in Secure Download Mode: GET_SECURITY_INFO says so; it\n"
"                       refuses register and RAM access (so no stub) and flash reads,\n"
"                       and assumes a 2 MB flash until SPI_SET_PARAMS (S2, S3, C3, C6)\n"
"  --flash-encrypted    flash encryption is on: the eFuse crypt counter is odd, and an\n"
"                       image written in the clear does not boot (ESP32 family)\n"
"  --strap-high GPIO    a strapping pin is held high at every reset: 12 (ESP32 MTDI:\n"
"                       the flash gets 1.8 V, browns out and stops answering; \"flash\n"
"                       read err, 1000\" at boot:0x33) or 15 (ESP8266 MTDO: SDIO boot,\n"
"                       \"boot mode:(7,x)\", \"waiting for host\"; no UART loader)\n"
"  --flash-silent       the flash chip does not answer: its JEDEC id reads ffffff,\n"
"                       erase and program are not heard; the ROM cannot boot from it\n"
"  --flash-real-size SIZE\n"
"                       a fake-size flash chip: it holds SIZE, its JEDEC id claims\n"
"                       --flash-size, and addresses wrap around at SIZE\n"
"  --any-stub           run any code MEM_END jumps to as the flasher stub (default: only\n"
"                       the stubs of esptool-js 0.7.0 and esp-web-flasher 5.1.5, known by\n"
"                       their SHA-256; other code crashes, as on a chip)\n"
"  --xtal MHZ           the crystal: 40 or 26 where modules with it exist (ESP8266:\n"
"                       26 by default, boot log at 74880; 40 logs at 115200; ESP32:\n"
"                       40 by default, or 26)\n"
"  --xtal-drift PCT     ESP32: how far the ROM's estimate of its crystal is off, in\n"
"                       percent (default 1; -10 is the documented extreme); the ROM's\n"
"                       CHANGE_BAUDRATE lands that far off unless the client compensates\n"
"\n"
"USB side:\n"
"  --bridge NAME        cp2102 (default, 10c4:ea60, 1 Mbaud), cp2102n (10c4:ea60, 3 Mbaud),\n"
"                       ch340 (1a86:7523, 2 Mbaud), ch9102 (1a86:55d4, cdc_acm, 4 Mbaud),\n"
"                       ftdi (FT232R 0403:6001, 3 Mbaud), ft232h (0403:6014, 12 Mbaud),\n"
"                       pl2303gx (067b:23a3, 12 Mbaud); above its rate a bridge gives\n"
"                       garbage;\n"
"                       usb-jtag (the chip's USB-Serial/JTAG, 303a:1001, cdc_acm;\n"
"                       default chip esp32c3), usb-otg (the chip's USB-OTG: the ROM's\n"
"                       CDC 303a:0002/0009 in download mode, the app's TinyUSB CDC\n"
"                       303a:4001; it re-enumerates when the chip resets; esp32s3\n"
"                       (default) or esp32s2)\n"
"  --line-max BAUD      the line works up to BAUD only, below what its part can do (a\n"
"                       clone that misses its datasheet, a long cable): above it,\n"
"                       garbage, as above a part's own rate\n"
"  --usb-app KIND       usb-otg: what the app in flash does with USB: cdc (default: a\n"
"                       TinyUSB CDC port) or none (its port never comes back)\n"
"  --usb-enum-ms MS     usb-otg: from the chip's start to its port (default 300)\n"
"  --driver STATE       bound (default: driver bound, tty present); none (no driver, its\n"
"                       module is missing); unbound (module present, not loaded); usbfs\n"
"                       (interface claimed from user space, as brltty does). Only\n"
"                       bound has a tty\n"
"  --plug-at MS|never   the board is not plugged in when COMMAND starts: its USB\n"
"                       device (and tty, with --driver bound) appears MS ms later;\n"
"                       never: it never does (a charge-only cable, a dead port)\n"
"  --autosuspend        the USB device's power/control is \"auto\" (default \"on\")\n"
"  --mm-ignore          udev tagged the device ID_MM_DEVICE_IGNORE=1\n"
"  --node-mode MODE     the tty node's mode as stat() shows it, in octal (0660)\n"
"  --node-group GROUP   its group: a name (looked up in /etc/group) or a number\n"
"  --node-owner USER    its owner: a name (looked up in /etc/passwd) or a number\n"
"\n"
"System root (ESPDOCTOR_SYSROOT for COMMAND; /proc, /etc, /lib/modules, /usr/lib/udev\n"
"and /var/lock as the scenario needs them):\n"
"  --sysroot DIR        plant it in DIR and keep it (default: a temporary directory,\n"
"                       removed at exit)\n"
"  --real-proc          plant nothing and leave ESPDOCTOR_SYSROOT unset: COMMAND sees\n"
"                       the real /proc (lock holders that really run)\n"
"  --brltty             brltty runs (PID 4242) and its udev rules match the bridge;\n"
"                       with --driver usbfs it holds the bridge's usb device open\n"
"  --modemmanager       ModemManager runs (PID 4343)\n"
"  --uucp-lock STATE    /var/lock/LCK..<tty> exists: live (its PID runs: minicom) or\n"
"                       stale (its PID does not exist)\n"
"  --group-member GROUP:USER\n"
"                       the planted /etc/group lists USER in GROUP (repeatable)\n"
"\n"
"Front end:\n"
"  --trace FILE         write line changes, opens, baud changes and decoded commands\n"
"                       to FILE (- for stderr)\n"
"  --stats FILE         at exit, write the session's figures as one JSON object\n"
"  --rfc2217 PORT       also serve the board on rfc2217://127.0.0.1:PORT (0: any free\n"
"                       port); without COMMAND, serve until SIGINT or SIGTERM\n"
"  -h, --help           show this help\n", out);
    fputc('\n', out);
    sim_fault_usage(out);
}


static bool parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* "4MB", "4M", "4MiB", "512K", "4194304". */
static bool parse_size(const char *text, uint32_t *out)
{
    errno = 0;
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return false;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno)
        return false;
    unsigned long long unit = 1;
    if (*end == 'K' || *end == 'k')
        unit = 1024;
    else if (*end == 'M' || *end == 'm')
        unit = 1024 * 1024;
    if (unit != 1) {
        end++;
        if (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0)
            end += strlen(end);
    }
    if (*end || v == 0 || v > UINT32_MAX / unit)
        return false;
    *out = (uint32_t)(v * unit);
    return true;
}

static bool parse_mac(const char *text, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        if (!isxdigit((unsigned char)text[0]) || !isxdigit((unsigned char)text[1]))
            return false;
        char byte[3] = { text[0], text[1], 0 };
        mac[i] = (uint8_t)strtoul(byte, NULL, 16);
        text += 2;
        if (i < 5) {
            if (*text != ':' && *text != '-')
                return false;
            text++;
        }
    }
    return *text == '\0';
}

/* A user or group: a number, or a name from the real account files. -1 if neither. */
static long parse_account(const char *text, bool group)
{
    uint64_t v;
    if (parse_uint(text, 0x7FFFFFFF, &v))
        return (long)v;
    if (group) {
        struct group *g = getgrnam(text);
        return g ? (long)g->gr_gid : -1;
    }
    struct passwd *pw = getpwnam(text);
    return pw ? (long)pw->pw_uid : -1;
}

static bool parse_mode(const char *text, int *mode)
{
    errno = 0;
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return false;
    unsigned long v = strtoul(text, &end, 8);
    if (errno || *end || v > 07777)
        return false;
    *mode = (int)v;
    return true;
}

/* "GROUP:USER", both parts non-empty. */
static bool valid_member(const char *text)
{
    const char *colon = strchr(text, ':');
    return colon && colon != text && colon[1] && !strchr(colon + 1, ':');
}

/* "ESP32-C3" and "esp32c3" are the same chip; "none" is a serial device that is not an
 * ESP. */
static bool find_chip(const char *name, char *key, size_t keylen)
{
    size_t n = 0;
    for (const char *s = name; *s && n + 1 < keylen; s++)
        if (*s != '-' && *s != '_')
            key[n++] = (char)tolower((unsigned char)*s);
    key[n] = '\0';
    struct sim_chip_info info;
    return strcmp(key, "none") == 0 || sim_chip_info(key, &info);
}

/* A signed decimal within [lo, hi]. */
static bool parse_double(const char *text, double lo, double hi, double *out)
{
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static bool parse_one(int c, const char *arg, struct espsim_opts *o, bool *chip_given,
                      char *err, size_t errlen)
{
    uint64_t v;
    switch (c) {
    case OPT_LINE_MAX:
        if (!parse_uint(arg, 100000000, &v) || v < 300)
            return sim_optfail(err, errlen, "--line-max wants a rate in baud (300 or more), "
                               "not \"%s\".", arg);
        o->line_max_baud = (uint32_t)v;
        return true;
    case OPT_BRIDGE:
        o->bridge = sim_bridge_find(arg);
        if (!o->bridge)
            return sim_optfail(err, errlen, "unknown bridge \"%s\"; espsim models %s.", arg,
                        sim_bridge_names());
        return true;
    case OPT_CHIP:
        if (!find_chip(arg, o->chip, sizeof o->chip))
            return sim_optfail(err, errlen, "unknown chip \"%s\"; espsim models %s (none: not "
                               "an ESP).", arg, sim_chip_keys());
        *chip_given = true;
        return true;
    case OPT_MAC:
        if (!parse_mac(arg, o->board.mac))
            return sim_optfail(err, errlen, "\"%s\" is not a MAC address; write six hex bytes "
                        "separated by colons, like 24:0A:C4:12:34:56.", arg);
        o->board.mac_given = true;
        return true;
    case OPT_FLASH:
        o->board.flash_path = arg;
        return true;
    case OPT_FLASH_SIZE:
        if (!parse_size(arg, &o->board.flash_size) ||
            (o->board.flash_size & (o->board.flash_size - 1)) != 0 ||
            o->board.flash_size < 256 * 1024 || o->board.flash_size > 128 * 1024 * 1024)
            return sim_optfail(err, errlen, "flash size \"%s\" is not one a flash chip has; give a "
                        "power of two from 256KB to 128MB, like 4MB, 16M or 4194304.", arg);
        return true;
    case OPT_SECURE_DOWNLOAD:
        o->board.secure_download = true;
        return true;
    case OPT_FLASH_ENCRYPTED:
        o->board.flash_encrypted = true;
        return true;
    case OPT_STRAP_HIGH:
        if (strcmp(arg, "12") != 0 && strcmp(arg, "15") != 0)
            return sim_optfail(err, errlen, "--strap-high \"%s\": espsim models GPIO12 (ESP32, "
                               "the flash voltage strap) and GPIO15 (ESP8266, the SDIO boot "
                               "strap); give 12 or 15.", arg);
        o->board.strap_high = (unsigned)atoi(arg);
        return true;
    case OPT_FLASH_SILENT:
        o->board.flash_silent = true;
        return true;
    case OPT_FLASH_REAL_SIZE:
        if (!parse_size(arg, &o->board.flash_real_size) ||
            (o->board.flash_real_size & (o->board.flash_real_size - 1)) != 0 ||
            o->board.flash_real_size < 256 * 1024)
            return sim_optfail(err, errlen, "--flash-real-size \"%s\" is not one a flash "
                               "array has; give a power of two from 256KB, like 4MB.", arg);
        return true;
    case OPT_ANY_STUB:
        o->board.any_stub = true;
        return true;
    case OPT_FLASH_CHIP:
        if (!sim_flash_chip_known(arg))
            return sim_optfail(err, errlen, "unknown flash chip \"%s\"; espsim models gd25q32c "
                               "and w25q32jv.", arg);
        o->board.flash_chip = arg;
        return true;
    case OPT_NO_AUTORESET:
        o->board.no_autoreset = true;
        return true;
    case OPT_BOOT_HELD:
        o->board.boot_held = true;
        return true;
    case OPT_PRESS_BOOT_AT: {
        uint64_t at, hold = 500;
        char when[32];
        const char *colon = strchr(arg, ':');
        size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
        bool ok = n < sizeof when;
        if (ok) {
            memcpy(when, arg, n);
            when[n] = '\0';
            ok = parse_uint(when, 3600000, &at) && (!colon || parse_uint(colon + 1, 60000, &hold));
        }
        if (!ok)
            return sim_optfail(err, errlen, "--press-boot-at wants MS[:HOLD_MS]: when the BOOT "
                               "press starts, in ms from espsim's start (up to 3600000), and "
                               "how long BOOT is held (up to 60000, default 500), like 4000 or "
                               "4000:800; not \"%s\".", arg);
        o->board.press_boot = true;
        o->board.press_boot_at_ms = (unsigned)at;
        o->board.press_boot_hold_ms = (unsigned)hold;
        return true;
    }
    case OPT_EN_DELAY:
        if (!parse_uint(arg, 60000, &v))
            return sim_optfail(err, errlen, "--en-delay wants milliseconds from 0 to 60000, not "
                        "\"%s\".", arg);
        o->board.en_delay_ms = (unsigned)v;
        return true;
    case OPT_MD5_DELAY:
        if (!parse_uint(arg, 10000, &v))
            return sim_optfail(err, errlen, "--md5-delay wants milliseconds from 0 to 10000, "
                        "not \"%s\".", arg);
        o->board.md5_delay_ms = (unsigned)v;
        return true;
    case OPT_FAST:
        o->board.fast = true;
        return true;
    case OPT_USB_LATENCY:
        if (!parse_uint(arg, 1000000, &v))
            return sim_optfail(err, errlen, "--usb-latency wants microseconds from 0 to 1000000, "
                        "not \"%s\".", arg);
        o->board.usb_latency_us = (unsigned)v;
        return true;
    case OPT_XTAL:
        if (!parse_uint(arg, 1000, &v) || (v != 26 && v != 40))
            return sim_optfail(err, errlen, "--xtal wants the crystal in MHz, 26 or 40, not "
                               "\"%s\".", arg);
        o->board.xtal_mhz = (unsigned)v;
        return true;
    case OPT_XTAL_DRIFT: {
        double pct;
        if (!parse_double(arg, -20, 20, &pct))
            return sim_optfail(err, errlen, "--xtal-drift wants a percentage from -20 to 20 "
                               "(how far the ESP32 ROM's crystal estimate is off), not \"%s\".",
                               arg);
        o->board.xtal_drift = pct / 100;
        o->xtal_drift_given = true;
        return true;
    }
    case OPT_USB_APP:
        if (strcmp(arg, "cdc") == 0)
            o->board.app_usb = SIM_APP_USB_CDC;
        else if (strcmp(arg, "none") == 0)
            o->board.app_usb = SIM_APP_USB_NONE;
        else
            return sim_optfail(err, errlen, "--usb-app wants cdc (the app brings up a TinyUSB "
                               "CDC port) or none (it does not), not \"%s\".", arg);
        o->usb_app_given = true;
        return true;
    case OPT_USB_ENUM_MS:
        if (!parse_uint(arg, 10000, &v))
            return sim_optfail(err, errlen, "--usb-enum-ms wants milliseconds from 0 to 10000, "
                               "not \"%s\".", arg);
        o->board.usb_enum_ms = (unsigned)v;
        o->usb_app_given = true;
        return true;
    case OPT_FIRMWARE:
        for (size_t i = 0; i < sizeof firmware_names / sizeof firmware_names[0]; i++)
            if (strcmp(arg, firmware_names[i]) == 0) {
                o->board.firmware = (enum sim_firmware)i;
                return true;
            }
        return sim_optfail(err, errlen, "unknown firmware \"%s\"; give blank, app, micropython, "
                    "crash or brownout.", arg);
    case OPT_DRIVER:
        if (!sim_driver_state_find(arg, &o->usb.driver))
            return sim_optfail(err, errlen, "unknown driver state \"%s\"; give bound, none (module "
                        "missing), unbound (module not loaded) or usbfs (claimed from user "
                        "space).", arg);
        return true;
    case OPT_PLUG_AT:
        if (strcmp(arg, "never") == 0) {
            o->plug_never = true;
            return true;
        }
        if (!parse_uint(arg, 600000, &v))
            return sim_optfail(err, errlen, "--plug-at wants milliseconds from 0 to 600000, "
                               "or never, not \"%s\".", arg);
        o->plug_never = false;
        o->plug_at_ms = (long)v;
        return true;
    case OPT_AUTOSUSPEND:
        o->usb.autosuspend = true;
        return true;
    case OPT_MM_IGNORE:
        o->usb.mm_ignore = true;
        return true;
    case OPT_NODE_MODE:
        if (!parse_mode(arg, &o->node.mode))
            return sim_optfail(err, errlen, "--node-mode wants an octal mode like 0660, not \"%s\".",
                        arg);
        return true;
    case OPT_NODE_GROUP:
        o->node.gid = parse_account(arg, true);
        if (o->node.gid < 0)
            return sim_optfail(err, errlen, "--node-group: no group \"%s\" in /etc/group; give a "
                        "group name or a number.", arg);
        return true;
    case OPT_NODE_OWNER:
        o->node.uid = parse_account(arg, false);
        if (o->node.uid < 0)
            return sim_optfail(err, errlen, "--node-owner: no user \"%s\" in /etc/passwd; give a "
                        "user name or a number.", arg);
        return true;
    case OPT_SYSROOT:
        o->sysroot.dir = arg;
        return true;
    case OPT_REAL_PROC:
        o->sysroot.real = true;
        return true;
    case OPT_BRLTTY:
        o->sysroot.brltty = true;
        return true;
    case OPT_MODEMMANAGER:
        o->sysroot.modemmanager = true;
        return true;
    case OPT_UUCP_LOCK:
        if (strcmp(arg, "live") == 0)
            o->sysroot.uucp_lock = UUCP_LOCK_LIVE;
        else if (strcmp(arg, "stale") == 0)
            o->sysroot.uucp_lock = UUCP_LOCK_STALE;
        else
            return sim_optfail(err, errlen, "--uucp-lock wants live or stale, not \"%s\".", arg);
        return true;
    case OPT_GROUP_MEMBER:
        if (!valid_member(arg))
            return sim_optfail(err, errlen, "--group-member wants GROUP:USER, like dialout:alice, "
                        "not \"%s\".", arg);
        if (o->sysroot.group_member_count == ESPSIM_MAX_GROUP_MEMBERS)
            return sim_optfail(err, errlen, "--group-member \"%s\": at most %d are taken.", arg,
                        ESPSIM_MAX_GROUP_MEMBERS);
        o->sysroot.group_members[o->sysroot.group_member_count++] = arg;
        return true;
    case OPT_STATS:
        o->stats_path = arg;
        return true;
    case OPT_TRACE:
        o->trace_path = arg;
        return true;
    case OPT_RFC2217:
        if (!parse_uint(arg, 65535, &v))
            return sim_optfail(err, errlen, "--rfc2217 wants a TCP port from 0 to 65535 (0: any "
                        "free port), not \"%s\".", arg);
        o->rfc2217_port = (int)v;
        return true;
    case 'h':
        o->help = true;
        return true;
    default:
        if (sim_fault_option(c))
            return sim_fault_parse(c, arg, &o->board.faults, err, errlen);
        return sim_optfail(err, errlen, "internal error: option %d has no handler.", c);
    }
}

/* Options that only make sense together. */
static bool check_combination(struct espsim_opts *o, bool chip_given, char *err,
                              size_t errlen)
{
    struct sim_chip_info info = { 0 };
    bool esp = sim_chip_info(o->chip, &info);
    o->board.link = o->bridge->link;
    if (o->bridge->link == SIM_LINK_USB_SERIAL_JTAG) {
        if (!chip_given)
            snprintf(o->chip, sizeof o->chip, "esp32c3");
        esp = sim_chip_info(o->chip, &info);
        if (!info.usb_serial_jtag)
            return sim_optfail(err, errlen, "--bridge usb-jtag is the USB-Serial/JTAG peripheral "
                        "inside the chip, and %s has none; use it with esp32s3, esp32c3 or "
                        "esp32c6, or pick an external bridge (cp2102, ch340, ftdi).", o->chip);
    }
    if (o->bridge->link == SIM_LINK_USB_OTG) {
        if (!chip_given)
            snprintf(o->chip, sizeof o->chip, "esp32s3");
        esp = sim_chip_info(o->chip, &info);
        if (!info.usb_otg)
            return sim_optfail(err, errlen, "--bridge usb-otg is the chip's own USB-OTG, and %s "
                               "has none (its ROM cannot use it); use it with esp32s2 or "
                               "esp32s3.", o->chip);
        if (o->board.faults.unplug)
            return sim_optfail(err, errlen, "--unplug-at is not modelled on --bridge usb-otg, "
                               "whose port comes and goes with the chip anyway.");
        if (o->plug_at_ms >= 0 || o->plug_never)
            return sim_optfail(err, errlen, "--plug-at is not modelled on --bridge usb-otg, "
                               "whose port comes and goes with the chip anyway.");
    } else if (o->usb_app_given) {
        return sim_optfail(err, errlen, "--usb-app and --usb-enum-ms are about the chip's own "
                           "USB-OTG port: use them with --bridge usb-otg.");
    }
    if (o->board.press_boot && (o->bridge->link != SIM_LINK_UART || !esp))
        return sim_optfail(err, errlen, "--press-boot-at presses the BOOT and EN buttons of an "
                           "ESP board behind a USB-UART bridge; %s.", !esp ? "that device has "
                           "none" : "the chip's own USB is not modelled with them");
    if (o->board.xtal_mhz && (!esp || (o->board.xtal_mhz != info.xtal_mhz &&
                                       o->board.xtal_mhz != info.xtal_alt_mhz)))
        return sim_optfail(err, errlen, "--xtal %u: %s modules come with a %u MHz crystal "
                           "only.", o->board.xtal_mhz, esp ? info.name : "that device",
                           esp ? info.xtal_mhz : 0);
    if (o->board.secure_download && !(esp && info.security_info))
        return sim_optfail(err, errlen, "--secure-download: %s has no Secure Download Mode "
                           "espsim models (its ROM has no GET_SECURITY_INFO); use esp32s2, "
                           "esp32s3, esp32c3 or esp32c6.", o->chip);
    if (o->board.flash_encrypted && !(esp && strcmp(o->chip, "esp8266") != 0))
        return sim_optfail(err, errlen, "--flash-encrypted: the ESP8266 has no flash "
                           "encryption; use an ESP32-family chip.");
    if (o->board.strap_high == 12 && strcmp(o->chip, "esp32") != 0)
        return sim_optfail(err, errlen, "--strap-high 12: GPIO12 (MTDI) sets the flash voltage "
                           "on the ESP32 only; use it with --chip esp32.");
    if (o->board.strap_high == 15 && strcmp(o->chip, "esp8266") != 0)
        return sim_optfail(err, errlen, "--strap-high 15: GPIO15 (MTDO) high selects SDIO boot "
                           "on the ESP8266; use it with --chip esp8266.");
    if (o->board.flash_real_size && o->board.flash_real_size >= o->board.flash_size)
        return sim_optfail(err, errlen, "--flash-real-size must be smaller than --flash-size "
                           "(what the fake chip claims); e.g. --flash-size 16MB "
                           "--flash-real-size 4MB.");
    if (o->board.flash_silent && !esp)
        return sim_optfail(err, errlen, "--flash-silent: %s has no flash chip.", o->chip);
    if (o->xtal_drift_given && !(esp && info.rom_estimates_xtal))
        return sim_optfail(err, errlen, "--xtal-drift: only the ESP32's ROM estimates its "
                           "crystal (the later ROMs know theirs); use it with --chip esp32.");
    if (strcmp(o->chip, "none") == 0 && o->board.firmware != SIM_FW_BLANK)
        return sim_optfail(err, errlen, "--chip none is not an ESP and runs no firmware; drop "
                    "--firmware %s.", firmware_names[o->board.firmware]);
    bool node_given = o->node.mode >= 0 || o->node.uid >= 0 || o->node.gid >= 0;
    if (node_given && o->usb.driver != SIM_DRIVER_BOUND)
        return sim_optfail(err, errlen, "--node-mode, --node-group and --node-owner set the tty node, "
                    "and with --driver other than bound there is none.");
    const struct espsim_sysroot *r = &o->sysroot;
    if (r->real && (r->dir || r->brltty || r->modemmanager || r->uucp_lock ||
                    r->group_member_count))
        return sim_optfail(err, errlen, "--real-proc leaves the real system root in place: it "
                    "cannot be combined with --sysroot, --brltty, --modemmanager, --uucp-lock "
                    "or --group-member.");
    if (!o->command && o->rfc2217_port < 0)
        return sim_optfail(err, errlen, "nothing to do: give a COMMAND to run inside the testbed "
                    "(after --), or --rfc2217 PORT to serve the board over TCP.");
    return true;
}

bool espsim_parse_args(int argc, char **argv, struct espsim_opts *o, char *err,
                       size_t errlen)
{
    *o = (struct espsim_opts){ .rfc2217_port = -1, .bridge = sim_bridge_find("cp2102"),
                               .plug_at_ms = -1,
                               .node = { .mode = -1, .uid = -1, .gid = -1 } };
    sim_board_opts_default(&o->board);
    snprintf(o->chip, sizeof o->chip, "esp32");
    bool chip_given = false;

    opterr = 0;
    optind = 1;
    int c;
    /* '+': stop at the first non-option, the command's own options are not ours. */
    while ((c = getopt_long(argc, argv, "+:h", long_opts, NULL)) != -1) {
        if (c == '?') {
            if (optopt)
                return sim_optfail(err, errlen, "unknown option \"-%c\".", optopt);
            return sim_optfail(err, errlen, "unknown option \"%s\".", argv[optind - 1]);
        }
        if (c == ':')
            return sim_optfail(err, errlen, "option \"%s\" needs a value.", argv[optind - 1]);
        if (!parse_one(c, optarg, o, &chip_given, err, errlen))
            return false;
    }
    if (o->help)
        return true;
    if (optind < argc)
        o->command = &argv[optind];
    o->board.chip = o->chip;
    return check_combination(o, chip_given, err, errlen);
}

/* For espsim's multi-board front end (boards.c), which must find where COMMAND starts
 * without knowing every option: does --name take a value? As getopt_long does, a unique
 * abbreviation names its option. */
bool espsim_option_takes_value(const char *name, size_t len)
{
    const struct option *found = NULL;
    size_t matches = 0;
    for (const struct option *o = long_opts; o->name; o++) {
        if (strncmp(o->name, name, len) != 0)
            continue;
        if (strlen(o->name) == len)
            return o->has_arg == required_argument;
        found = o;
        matches++;
    }
    return matches == 1 && found->has_arg == required_argument;
}
