/* What runs on the board: listen to its console at 115200 (after an optional hard reset),
 * then poke the MicroPython REPL (Ctrl-C; Ctrl-B for the banner when the version is not
 * known yet) and report what answered, with the console text as evidence. Independent of
 * the flasher: the doctor uses it on a board it has not touched. */
#ifndef ESPDOCTOR_FWPROBE_H
#define ESPDOCTOR_FWPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/bootlog.h"
#include "espdoctor/transport.h"

#define ED_FWPROBE_BAUD 115200u
#define ED_FWPROBE_TEXT_MAX 8192      /* console text kept (the newest) */
#define ED_FWPROBE_LISTEN_MS 2500u    /* longest wait for the boot to finish printing */
#define ED_FWPROBE_QUIET_MS 400u      /* a boot is over after this much silence */
#define ED_FWPROBE_ANSWER_MS 1000u    /* wait for the REPL's answer to a key */

enum ed_fw_state {
    ED_FW_MICROPYTHON,        /* MicroPython's REPL answered */
    ED_FW_MICROPYTHON_MUTE,   /* its banner appeared, but the REPL did not answer */
    ED_FW_RUNNING,            /* the chip booted from flash; no MicroPython REPL answered */
    ED_FW_BOOT_FAILED,        /* the boot log shows it failing (invalid header, crash,
                                 reset loop, brown-out) */
    ED_FW_DOWNLOAD_MODE,      /* the ROM waits for download: GPIO0 was low */
    ED_FW_SILENT,             /* not a byte */
};

struct ed_fwprobe_opts {
    bool reset;               /* pulse EN first (hard reset) */
    bool poke;                /* send Ctrl-C / Ctrl-B to the REPL */
    unsigned listen_ms;       /* how long to wait for boot output before poking;
                                 0: ED_FWPROBE_LISTEN_MS */
    unsigned pokes;           /* Ctrl-C tries before giving up; 0: two */
    unsigned answer_ms;       /* wait for an answer to each key; 0: ED_FWPROBE_ANSWER_MS */
    bool keep_input;          /* no reset, and what arrived before the probe is the
                                 chip's too (the caller read its console up to now):
                                 take it as text instead of discarding it */
};

struct ed_fwprobe {
    enum ed_fw_state state;
    bool answered;            /* a ">>> " came back after Ctrl-C */
    char version[48];         /* "v1.24.0", "" if unknown */
    char banner[128];         /* "MicroPython v1.24.0 on 2024-10-25; ..." line */
    struct ed_bootlog log;    /* what the console showed, decoded */
    char evidence[640];       /* one line of description and the last lines of text */
    size_t text_len;
    uint8_t text[ED_FWPROBE_TEXT_MAX];
};

/* Switch the transport to 115200, (reset,) listen, poke. ED_OK with r filled (whatever
 * the board did), or a transport error (unplugged, no modem lines for the reset). */
int ed_fwprobe_run(struct ed_transport *tp, const struct ed_fwprobe_opts *opts,
                   struct ed_fwprobe *r);

/* "micropython", "micropython-mute", "running", "boot-failed", "download-mode", "silent" */
const char *ed_fw_state_key(enum ed_fw_state state);

/* One sentence: "MicroPython v1.24.0 is answering" or "the board did not boot:
 * invalid header: 0xffffffff (repeated)". */
void ed_fwprobe_describe(const struct ed_fwprobe *r, char *out, size_t len);

/* Decide the state from console text alone (no I/O): used by ed_fwprobe_run, exposed for
 * tests and for callers that already hold a boot log. */
void ed_fwprobe_classify(struct ed_fwprobe *r);

#endif
