/* What `flash`, `erase` and `read` do before their real work (CLI layer): pick and open
 * the port, reach the ROM loader, learn the chip, its flash size and revision, load the
 * flasher stub (or say why not), switch to the fast baud and attach the flash. Each step
 * explains its own failure and returns an exit code. */
#ifndef ESPDOCTOR_FLASH_SESSION_H
#define ESPDOCTOR_FLASH_SESSION_H

#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>

#include "cli.h"
#include "portsel.h"
#include "stub_choice.h"
#include "espdoctor/loader.h"
#include "espdoctor/stub.h"

#define ED_SESSION_NOTES 8
#define ED_SESSION_NOTE_MAX 320

struct ed_flash_session {
    struct ed_cli *cli;
    struct ed_port_choice pc;
    struct ed_port_failure port_failure;   /* why the port would not open (id "": other) */
    struct ed_transport *tp;
    struct ed_loader *ld;        /* heap */
    bool reported_json;          /* a failure already printed its own JSON document */
    uint32_t flash_size;         /* 0: the flash chip did not say */
    uint32_t jedec;
    bool revision_known;
    uint32_t revision;           /* major * 100 + minor */
    char stub_path[ED_STUB_PATH_MAX];   /* "" when the ROM does the work */
    struct ed_stub_choice stub_choice;  /* which stub, from where, and why (loaded: kept
                                           for a reconnect, never read from disk again) */
    uint32_t stub_piece;                /* the MEM_DATA piece size that got the stub up */
    char stub_fallback[768];   /* why the ROM does the work after all, or "" */
    uint32_t baud;               /* the data phase's speed */
    uint32_t baud_asked;         /* the rate the switch aimed at (after the ceiling and any
                                    remembered step down); 0: none tried */
    bool baud_learnt;            /* the switch ran (the ROM could change rate): baud_asked
                                    and baud teach the configuration file something */
    const struct ed_chip *chip;  /* the chip that answered first: a reconnect must find it */
    const volatile sig_atomic_t *cancel;   /* the command's Ctrl-C flag, or NULL */
    unsigned resyncs, reconnects;          /* link recoveries, for reports */
    /* Things worth saying that are not errors ("unverified", "no stub found"). */
    size_t note_count;
    char notes[ED_SESSION_NOTES][ED_SESSION_NOTE_MAX];
};

/* Select and open the port, connect, detect the chip, read flash size and revision.
 * ED_EXIT_OK, or an exit code after explaining. */
int ed_session_open(struct ed_cli *cli, struct ed_flash_session *s);

/* Load and start the stub as the options say (--stub, --no-stub, or the documented
 * places). A stub that was asked for but cannot be loaded is an input error (exit 6);
 * one found by searching that fails to load is a note, and the ROM carries on. */
int ed_session_stub(struct ed_flash_session *s);

/* Upload the stub found at path (session_stub.c): tries in shrinking MEM_DATA pieces with
 * a reset into the ROM between them, then falls back to the ROM loader, saying so in a
 * note and in stub_fallback. ED_OK when the stub runs or the ROM answers after the
 * fallback; the error when nothing answers any more. */
int ed_session_upload_stub(struct ed_flash_session *s, const struct ed_stub *stub,
                           const char *path);

/* Switch to -b BAUD or the bridge's fastest (stepping down on errors; without -b, from
 * the rate the configuration file remembers for this board when that is lower), then
 * attach the flash and set its parameters. */
int ed_session_ready(struct ed_flash_session *s);

/* Reach the ROM loader and identify the chip without printing anything: the reset
 * ladder once, and the identification again (after a fresh reset) when its replies
 * came back garbled. ED_OK or the loader's error. */
int ed_session_connect_quietly(struct ed_flash_session *s);

/* The flash engine's recover hook (ed_flash_recover_fn; ctx is the session): SYNC again
 * on the same port; failing that, reconnect from scratch, reopening the port when it
 * vanished (it is waited for, up to 15 s, under the same name), resetting into the ROM
 * loader, checking the same chip answers, reloading the stub and restoring the speed and
 * the flash set-up. Quiet; ED_OK or why the board could not be brought back. */
int ed_session_recover(void *ctx, struct ed_loader *ld, int why);

/* Hard-reset the board (when reset) and release everything. */
void ed_session_close(struct ed_flash_session *s, bool reset);

/* Remember a note (printed by the caller, or put into its JSON). */
void ed_session_note(struct ed_flash_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print a status line on stdout unless --json or -q. */
void ed_session_say(const struct ed_flash_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Why the loader's last command failed, with the raw status bytes as evidence:
 * "FLASH_DEFL_DATA failed: status 1, error 0x07 (checksum mismatch)". */
void ed_session_describe_error(const struct ed_loader *ld, int rc, char *out, size_t len);

/* {"chip","chip_key","port","bridge","flash_size","chip_revision","stub","stub_source",
 *  "baud","notes"} for a command's JSON document. */
json_object *ed_session_json(const struct ed_flash_session *s);

/* {"id","message","fix","fix_command"} when the port would not open for a reason with a
 * finding id (lock.busy), else NULL: a command's JSON "error". */
json_object *ed_session_port_error_json(const struct ed_flash_session *s);

/* "4 MB", "1.5 MB", "640 KB", "100 bytes" */
void ed_session_format_size(uint64_t bytes, char *out, size_t len);

#endif
