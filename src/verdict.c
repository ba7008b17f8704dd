/* Judging a failed connect from its recorded attempts (see verdict.h). */
#include "espdoctor/verdict.h"

#include "espdoctor/error.h"
#include "espdoctor/shell.h"
#include "espdoctor/transport.h"

#include <stdio.h>
#include <string.h>

#define RETRY_BY_HAND "Hold the BOOT (IO0) button, tap EN (RST), release BOOT, then run " \
                      "the command again."

void ed_connect_verdict(const struct ed_loader *ld, int rc, struct ed_connect_judgement *j)
{
    memset(j, 0, sizeof *j);
    size_t text_bytes = 0, readable = 0, garbage = 0, download = 0;
    for (size_t i = 0; i < ld->attempt_count; i++) {
        const struct ed_connect_attempt *a = &ld->attempts[i];
        text_bytes += a->log_bytes;
        readable += a->log.readable;
        garbage += a->log.garbage;
        download += a->boot == ED_BOOT_DOWNLOAD;
    }
    j->id = "reset.no-autoreset";
    snprintf(j->fix, sizeof j->fix, RETRY_BY_HAND);
    if (rc == ED_E_GONE) {
        j->id = "port.vanished";
        snprintf(j->observed, sizeof j->observed, "The port vanished while connecting "
                 "(unplugged, or a native-USB chip re-enumerated).");
        snprintf(j->fix, sizeof j->fix, "Plug the board back in and run the command again.");
    } else if (rc == ED_E_UNSUPPORTED && ld->attempt_count == 0) {
        snprintf(j->observed, sizeof j->observed, "This port has no DTR/RTS lines, so the "
                 "board cannot be reset from here.");
    } else if (ld->attempt_count > 0 && !ld->attempts[0].reset_done && download == 0) {
        j->id = "bootloader.not-waiting";
        snprintf(j->observed, sizeof j->observed, "No reset was made (--before no-reset, or a "
                 "port that cannot reset the board) and nothing answered SYNC in %zu tries: "
                 "the board is not waiting in its bootloader.", ld->attempt_count);
    } else if (download > 0) {
        j->id = "bootloader.no-sync";
        snprintf(j->observed, sizeof j->observed, "The chip entered download mode (\"waiting "
                 "for download\") but never answered SYNC.");
        snprintf(j->fix, sizeof j->fix, "Check the TX/RX wiring, try another cable or a lower "
                 "baud (-b 115200), and run the command again.");
    } else if (ed_loader_attempts_all(ld, ED_BOOT_FLASH)) {
        snprintf(j->observed, sizeof j->observed, "boot:0x13 (normal flash boot) after every "
                 "reset: the board's auto-reset did not reach download mode, GPIO0 stayed "
                 "high.");
    } else if (text_bytes == 0) {
        snprintf(j->observed, sizeof j->observed, "The board printed nothing after any of %zu "
                 "resets: DTR/RTS do not reach EN/GPIO0 (no auto-reset circuit), or TX/RX are "
                 "not connected, or this is not an ESP board.", ld->attempt_count);
    } else if (garbage > readable) {
        j->id = "boot.wrong-baud";
        snprintf(j->observed, sizeof j->observed, "Only unreadable bytes came back: the board "
                 "talks at another baud rate, or it is not an ESP.");
        snprintf(j->fix, sizeof j->fix, "An ESP8266 prints its boot log at 74880 baud; the "
                 "doctor reads the log at both rates.");
        char port[300];
        if (ld->tp && ld->tp->name[0])
            snprintf(j->fix_command, sizeof j->fix_command, "espdoctor -p %s",
                     ed_shell_quote(ld->tp->name, port, sizeof port));
        else
            snprintf(j->fix_command, sizeof j->fix_command, "espdoctor");
    } else {
        snprintf(j->observed, sizeof j->observed, "The board kept printing text through every "
                 "reset and never showed an ESP boot banner or a bootloader reply: DTR/RTS do "
                 "not reach EN/GPIO0 (no auto-reset circuit), or this is not an ESP board.");
    }
}
