/* What a ROM's reset cause means. One table per ROM family.
 *
 * ESP32 family: the ROM prints "rst:0xN (NAME)". The names differ by chip (ESP-IDF's
 * components/esp_rom/<chip>/include/<chip>/rom/rtc.h: SW_CPU_RESET on the ESP32,
 * RTC_SW_CPU_RST on the S2/S3/C3, SW_CPU on the C6; BROWN_OUT_RST, LP_BOD_SYS, ...), so
 * they are matched by the words they share, most specific first.
 * ESP8266: the ROM prints "rst cause:N"; the numbers are the RESET_REASON enum of the
 * ESP8266 RTOS SDK (components/esp8266/include/esp8266/rtc_register.h). */
#include "espdoctor/bootlog.h"

#include <string.h>

struct reason_words {
    const char *word;      /* a part of the ROM's name for the cause */
    const char *meaning;
};

static const struct reason_words esp32_reasons[] = {
    { "BROWN_OUT", "brown-out: the supply voltage dropped below the detector's level" },
    { "BOD", "brown-out: the supply voltage dropped below the detector's level" },
    { "POWERON", "power-on, or the EN (reset) pin" },
    { "DEEPSLEEP", "wake-up from deep sleep" },
    { "WDT", "a watchdog fired: the firmware hung, or a task never yielded" },
    { "SW", "software restart: esp_restart(), or the panic handler after a crash" },
    { "SDIO", "reset by the SDIO host" },
    { "JTAG", "reset through JTAG" },
    { "EXT_CPU", "the second core was reset by the first" },
};

static const char *const esp8266_reasons[] = {
    [1] = "power-on",
    [2] = "the EN (reset) pin, or a software restart",
    [3] = "software reset",
    [4] = "the hardware watchdog fired: the firmware hung",
    [5] = "wake-up from deep sleep",
    [6] = "reset by the SDIO host",
};

const char *ed_bootlog_reset_meaning(const struct ed_bootlog *log)
{
    if (log->esp8266) {
        size_t n = sizeof esp8266_reasons / sizeof esp8266_reasons[0];
        return log->reset_cause > 0 && (size_t)log->reset_cause < n
                   ? esp8266_reasons[log->reset_cause]
                   : NULL;
    }
    if (!log->reset_name[0])
        return NULL;
    for (size_t i = 0; i < sizeof esp32_reasons / sizeof esp32_reasons[0]; i++)
        if (strstr(log->reset_name, esp32_reasons[i].word))
            return esp32_reasons[i].meaning;
    return NULL;
}
