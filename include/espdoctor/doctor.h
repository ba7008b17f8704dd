/* The doctor: check families run in order against one context, each appending findings
 * to the report. A check returns false when deeper checks would be meaningless (no
 * device, no tty, a port nobody may open...). The table of families is in doctor.c. */
#ifndef ESPDOCTOR_DOCTOR_H
#define ESPDOCTOR_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "espdoctor/bootlog.h"
#include "espdoctor/button.h"
#include "espdoctor/chips.h"
#include "espdoctor/findings.h"
#include "espdoctor/ports.h"
#include "espdoctor/sysroot.h"
#include "espdoctor/transport.h"

#define ED_DOCTOR_MAX_GROUPS 128

struct ed_loader;

/* Who we run as: read through the system root (planted in tests). */
struct ed_credentials {
    uid_t uid;
    gid_t gid;
    gid_t groups[ED_DOCTOR_MAX_GROUPS];   /* this login's supplementary groups */
    int ngroups;
    char user[64];
};

struct ed_doctor {
    struct ed_sysroot sys;
    struct ed_credentials cred;
    struct ed_port_list ports;
    const char *requested_port;   /* -p, NULL: pick */
    struct ed_port target;        /* the port under examination (valid if has_target) */
    bool has_target;
    char port_path[256];          /* what to open */
    struct ed_report report;

    /* The button watch after a ladder that found no auto-reset: the caller sets its
     * timeout (0: no watch) and callbacks, the bootloader check the names. Its live
     * guidance ("hold BOOT...") goes through its callback, not into findings. */
    struct ed_button_watch button;
    bool button_watched;          /* the watch ran */
    bool button_reached;          /* ... and the ROM answered after a press */

    /* Filled by the line, firmware and bootloader checks, for later checks and hand-off. */
    struct ed_transport *tp;      /* open port, NULL when closed */
    struct ed_loader *ld;         /* protocol context on tp */
    struct ed_bootlog boot;       /* what the chip printed after a normal reset */
    uint32_t log_baud;            /* the baud that boot log was readable at */
    bool esp8266_log;             /* it was an ESP8266 ROM's log */
    const struct ed_chip *chip;   /* identified chip, NULL if not reached */
    uint64_t reset_text_mark;     /* ld->bootlog_total at the line check's last reset */
    bool reset_unheard;           /* program output (text, or bytes no ROM log at either
                                     rate) after the line check's reset and none of it,
                                     the firmware check's included, a ROM banner: EN did
                                     not reach the chip */
    bool bootloader_ok;
    bool micropython;
    char micropython_version[48];
    bool remote;                  /* -p rfc2217:// or socket://: no local system checks */
    unsigned waited_ms;           /* the CLI watched this long for a board to be plugged in
                                     before the run (0: it did not) */
    unsigned appeared_ms;         /* ...and a bridge's USB device appeared after this long
                                     (0: there from the start, or none) */
};

/* Open port_path: a tty, or an rfc2217:// / socket:// URL. */
int ed_doctor_open_port(struct ed_doctor *d, uint32_t baud);

/* Fill cred from <sysroot>/proc/self/status (Uid, Gid, Groups; this process's own ids when
 * the root does not describe it) and the user's name from the root's passwd file. */
void ed_credentials_read(const struct ed_sysroot *s, struct ed_credentials *cred);

/* Set up a doctor (sysroot from $ESPDOCTOR_SYSROOT, credentials read through it). */
void ed_doctor_init(struct ed_doctor *d, const char *requested_port);
void ed_doctor_free(struct ed_doctor *d);

/* Run every family in order until one says stop, then conclude. */
void ed_doctor_run(struct ed_doctor *d);

/* What only all the findings together tell (ed_doctor_run does it last): the download
 * and flash command for the chip that answered go into the firmware findings, and a port
 * of no known bridge that was opened and where nothing answered becomes the problem
 * (device.unknown-port raised to an error), unless another error explains the silence. */
void ed_doctor_conclude(struct ed_doctor *d);

/* Release the port (leaving the board running its firmware). */
void ed_doctor_close_port(struct ed_doctor *d);

/* The families, in order. Each appends findings and returns whether to go deeper. */
bool ed_check_presence(struct ed_doctor *d);
bool ed_check_driver(struct ed_doctor *d);
bool ed_check_interference(struct ed_doctor *d);
bool ed_check_permissions(struct ed_doctor *d);
bool ed_check_locks(struct ed_doctor *d);
bool ed_check_power(struct ed_doctor *d);
bool ed_check_line(struct ed_doctor *d);
bool ed_check_firmware(struct ed_doctor *d);
bool ed_check_bootloader(struct ed_doctor *d);

struct ed_check_family {
    const char *name;
    bool (*run)(struct ed_doctor *d);
};
extern const struct ed_check_family ed_check_families[];
extern const size_t ed_check_family_count;

#endif
