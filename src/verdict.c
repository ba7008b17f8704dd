/* Judging a failed connect from its recorded attempts (see verdict.h). */
#include "espdoctor/verdict.h"

#include "espdoctor/error.h"

#include <stdio.h>

#define RETRY_BY_HAND "Hold the BOOT (IO0) button, tap EN (RST), release BOOT, then run " \
                      "the command again"

const char *ed_connect_verdict(const struct ed_loader *ld, int rc, char *text, size_t len)
{
    size_t text_bytes = 0, readable = 0, garbage = 0, download = 0;
    for (size_t i = 0; i < ld->attempt_count; i++) {
        const struct ed_connect_attempt *a = &ld->attempts[i];
        text_bytes += a->log_bytes;
        readable += a->log.readable;
        garbage += a->log.garbage;
        download += a->boot == ED_BOOT_DOWNLOAD;
    }
    if (rc == ED_E_GONE) {
        snprintf(text, len, "the port vanished while connecting (unplugged, or a native-USB "
                 "chip re-enumerated). Plug the board back in and retry.");
        return "port.vanished";
    }
    if (rc == ED_E_UNSUPPORTED && ld->attempt_count == 0) {
        snprintf(text, len, "this port has no DTR/RTS lines, so the board cannot be reset "
                 "from here. " RETRY_BY_HAND ".");
        return "reset.no-autoreset";
    }
    if (download > 0) {
        snprintf(text, len, "the chip entered download mode (\"waiting for download\") but "
                 "never answered SYNC. Check the TX/RX wiring, try another cable or a lower "
                 "baud, and retry.");
        return "bootloader.no-sync";
    }
    if (ed_loader_attempts_all(ld, ED_BOOT_FLASH)) {
        snprintf(text, len, "boot:0x13 (normal flash boot) after every reset: the board's "
                 "auto-reset did not reach download mode, GPIO0 stayed high. "
                 RETRY_BY_HAND ".");
        return "reset.no-autoreset";
    }
    if (text_bytes == 0) {
        snprintf(text, len, "the board printed nothing after any of %zu resets: DTR/RTS do "
                 "not reach EN/GPIO0 (no auto-reset circuit), or TX/RX are not connected, "
                 "or this is not an ESP board. " RETRY_BY_HAND ".", ld->attempt_count);
        return "reset.no-autoreset";
    }
    if (garbage > readable) {
        snprintf(text, len, "only unreadable bytes came back: the board talks at another "
                 "baud rate, or it is not an ESP. An ESP8266 prints its boot log at 74880 "
                 "baud; 'espdoctor doctor' reads the log at both rates.");
        return "boot.wrong-baud";
    }
    snprintf(text, len, "the board kept printing text through every reset and never showed "
             "an ESP boot banner or a bootloader reply: DTR/RTS do not reach EN/GPIO0 (no "
             "auto-reset circuit), or this is not an ESP board. " RETRY_BY_HAND ".");
    return "reset.no-autoreset";
}
