/* The flasher: which files go where (the plan and its safety checks), and writing them
 * through a connected loader (ROM or stub) into SPI flash.
 *
 * The engine streams: a file is read with pread() a block at a time and never held in
 * memory, so flashing 16 MiB costs the same memory as 16 KiB. Where the loader can hash
 * flash (SPI_FLASH_MD5: ESP32-family ROMs and any stub) every region is verified by MD5,
 * and regions (then 64 KiB chunks) that already hold the right bytes are not written.
 *
 * Failures leave the board in the loader (no FLASH_END, no reset) and the region's `done`
 * says how far it got; running again rewrites only what does not verify. Cancellation is
 * a flag the caller owns (set from a signal handler), polled between blocks.
 *
 * A flaky link costs retries, not the flash: a block the loader refused as damaged
 * (checksum, length) is sent again; any other failure of the link (no answer, garbage,
 * the port vanishing, the chip resetting) hands the loader to the caller's recover hook
 * to get it talking again, and the region resumes from what verifies by MD5. "Verified"
 * only ever means the flash's MD5 matched the file's after writing. */
#ifndef ESPDOCTOR_FLASH_H
#define ESPDOCTOR_FLASH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/image.h"
#include "espdoctor/loader.h"

#define ED_FLASH_MAX_REGIONS 16
#define ED_FLASH_SKIP_CHUNK 0x10000u    /* skip-unchanged compares MD5s per 64 KiB */
#define ED_FLASH_DEFAULT_BAUD 460800u   /* when the bridge is unknown */
#define ED_FLASH_DEFAULT_SIZE (4u << 20) /* when the flash chip did not say its size */
#define ED_FLASH_RESUME_CHUNK 0x4000u   /* after a failure, what verifies is kept per 16 KiB */
#define ED_FLASH_BLOCK_TRIES 16u        /* refusals in a row (damaged in transit) before the
                                           block counts as failed */
#define ED_FLASH_RECOVERIES 6u          /* default: link recoveries in one ed_flash_write */

/* ---- what the loader on the other end can do --------------------------------------- */

bool ed_flash_can_compress(const struct ed_loader *ld);   /* FLASH_DEFL_* */
bool ed_flash_can_md5(const struct ed_loader *ld);        /* SPI_FLASH_MD5 */
bool ed_flash_can_read(const struct ed_loader *ld);       /* READ_FLASH(_SLOW) */

/* ---- the plan: files, addresses, checks ------------------------------------------- */

struct ed_flash_issue {
    const char *id;             /* "image.wrong-chip", "flash.unaligned", ... */
    bool blocking;              /* the write is refused unless forced */
    bool forceable;             /* --force may override it */
    char message[ED_IMAGE_MESSAGE_MAX];  /* what the file is, what the board is */
    char fix[ED_IMAGE_FIX_MAX];          /* what to do, in sentences */
    char fix_command[ED_IMAGE_FIX_MAX];  /* the command that does it; "" for an action */
};

#define ED_FLASH_MAX_ISSUES 8

struct ed_flash_item {
    const char *path;           /* as given (not copied) */
    bool addr_given;
    uint32_t addr;              /* the given address, or the image's own base once checked */
    int fd;                     /* open for reading, -1 when closed */
    struct ed_image_info img;
    size_t issue_count;
    struct ed_flash_issue issues[ED_FLASH_MAX_ISSUES];
};

struct ed_flash_plan {
    size_t count;
    struct ed_flash_item items[ED_FLASH_MAX_REGIONS];
    /* Why the last file ed_flash_plan_add refused as not firmware was refused (rule NULL:
     * none was): for the caller's report, with its fix and command. */
    struct ed_image_problem rejected;
    /* The loader that writes is the ESP8266 ROM, whose FLASH_BEGIN erases by a rule of
     * its own (erase.h): the check then refuses a write it cannot keep to its sectors. */
    bool esp8266_rom_erase;
};

/* The outcome of adding a file. */
enum ed_flash_input {
    ED_FLASH_INPUT_OK,
    ED_FLASH_INPUT_UNREADABLE,  /* missing, a directory, no permission */
    ED_FLASH_INPUT_NOT_FIRMWARE,/* empty, HTML, archive, ELF, text: never written */
    ED_FLASH_INPUT_RAW,         /* not a recognised image: raw data, only with --force
                                   and an address */
    ED_FLASH_INPUT_TOO_MANY,    /* more than ED_FLASH_MAX_REGIONS files */
};

void ed_flash_plan_init(struct ed_flash_plan *plan);
/* Close every file. */
void ed_flash_plan_close(struct ed_flash_plan *plan);

/* Analyse and open one file. Anything but ED_FLASH_INPUT_OK leaves a sentence in err
 * (what the file is and what to do); the item is added only for OK and RAW. */
enum ed_flash_input ed_flash_plan_add(struct ed_flash_plan *plan, const char *path,
                                      bool addr_given, uint32_t addr, char *err,
                                      size_t errlen);

/* Check every item against the board: chip (NULL: not known yet), flash size (0:
 * unknown), chip revision (ED_IMAGE_REVISION_UNKNOWN: unknown). Fills each item's
 * issues and address (the image's own when none was given) and returns the number of
 * blocking issues; *unforceable counts those --force cannot override (unaligned or
 * overlapping regions, an erase that would reach flash no file covers, raw data without an
 * address). Run it again once the chip, and the loader that writes, are known. */
size_t ed_flash_plan_check(struct ed_flash_plan *plan, const struct ed_chip *chip,
                           uint32_t flash_size, uint32_t chip_revision,
                           size_t *unforceable);

/* ---- the engine ---------------------------------------------------------------------- */

enum ed_flash_verify {
    ED_VERIFY_NONE,             /* the loader cannot hash flash: unverified */
    ED_VERIFY_OK,
    ED_VERIFY_MISMATCH,
};

struct ed_flash_region {
    /* in */
    const char *path;           /* for messages */
    int fd;                     /* read with pread from offset 0 */
    uint32_t addr;
    uint32_t size;
    /* out */
    uint8_t file_md5[16];
    uint8_t flash_md5[16];      /* read back after writing (verify != NONE) */
    bool compressed;            /* written with FLASH_DEFL_* */
    uint32_t compressed_size;   /* zlib bytes sent (0 when nothing was written) */
    uint64_t zlib_size;         /* what zlib -9 made of the runs written compressed */
    uint64_t libdeflate_size;   /* and libdeflate -12 (0: not tried, a run too large) */
    bool used_libdeflate;       /* a run went out as libdeflate's stream */
    bool compressed_from_cache; /* every compressed run came from the cache */
    uint32_t written;           /* bytes of the file written */
    uint32_t skipped;           /* bytes found already in flash */
    uint32_t done;              /* how far it got: skipped + written (+ partial run) */
    enum ed_flash_verify verify;
    double seconds;
    unsigned resent;            /* blocks sent again after the loader refused them */
    unsigned recoveries;        /* times the link was brought back while writing it */
};

/* Progress: called after every block and at the start of each region. */
struct ed_flash_progress {
    size_t region;              /* index */
    uint32_t region_done, region_size;
    uint64_t total_done, total;
    const char *phase;          /* "comparing", "writing", "verifying" */
};

typedef void (*ed_flash_progress_fn)(void *ctx, const struct ed_flash_progress *p);

/* Get the loader answering again, flash attached, after the link failed with `why` (a
 * timeout, garbage, ED_E_GONE for a vanished port, ...). It may reconnect from scratch
 * (reopen the port, reset, reload the stub) but must keep using ld. ED_OK, or the reason
 * it could not. */
typedef int (*ed_flash_recover_fn)(void *ctx, struct ed_loader *ld, int why);

struct ed_flash_opts {
    bool skip_unchanged;        /* compare MD5s first (only where the loader hashes) */
    uint32_t skip_chunk;        /* 0: ED_FLASH_SKIP_CHUNK */
    const volatile sig_atomic_t *cancel;   /* polled between blocks; NULL: none */
    ed_flash_progress_fn progress;
    void *progress_ctx;
    ed_flash_recover_fn recover;   /* NULL: a failed link ends the write */
    void *recover_ctx;
    unsigned max_recoveries;    /* 0: ED_FLASH_RECOVERIES */
    const char *deflate_cache;  /* deflate_best.h's cache directory; NULL: none */
};

/* Attach the SPI flash and tell the loader its size, as this loader needs it. */
int ed_flash_prepare(struct ed_loader *ld, uint32_t flash_size);

/* Write the regions in order. Returns ED_OK, ED_E_VERIFY (a region's MD5 differs after
 * writing, and again after rewriting it), ED_E_CANCELLED, or the loader's error once
 * recovery gave up; *failed_at is the region it stopped in (count on success). */
int ed_flash_write(struct ed_loader *ld, struct ed_flash_region *regions, size_t count,
                   const struct ed_flash_opts *opts, size_t *failed_at);

/* Whether the board already holds every region, asked before anything is written or
 * uploaded (any loader that hashes flash: a ROM will do): the first 4 KiB of each region,
 * then each whole region. When all match, *all_same is true and every region reads as
 * ed_flash_write leaves an unchanged one (skipped, MD5 verified); otherwise the regions
 * are untouched. ED_OK (with *all_same false where the loader cannot hash), ED_E_CANCELLED
 * or the loader's error. */
int ed_flash_unchanged(struct ed_loader *ld, struct ed_flash_region *regions, size_t count,
                       const struct ed_flash_opts *opts, bool *all_same);

/* After a successful write: a stub ends its flash session and stays (a ROM is left
 * alone: FLASH_END would make it leave the loader). The caller then resets the board. */
int ed_flash_finish(struct ed_loader *ld);

/* Erase [addr, addr + size) (4 KiB aligned), or the whole chip when whole_chip (addr and
 * size ignored; flash_size used by the ROM path). A stub has ERASE_FLASH/ERASE_REGION; a
 * ROM erases through FLASH_BEGIN, up front (slow: up to 40 s per MiB). */
int ed_flash_erase(struct ed_loader *ld, bool whole_chip, uint32_t addr, uint32_t size,
                   uint32_t flash_size);

/* Read [addr, addr + size) into fd (written sequentially from its current position):
 * READ_FLASH with a stub (MD5-checked), READ_FLASH_SLOW on an ESP32-family ROM;
 * ED_E_UNSUPPORTED on the ESP8266 ROM. *done: bytes read so far. */
int ed_flash_read(struct ed_loader *ld, uint32_t addr, uint32_t size, int fd,
                  const struct ed_flash_opts *opts, uint32_t *done);

/* ---- the board -------------------------------------------------------------------- */

/* The chip revision as major * 100 + minor (ESP32: from eFuse and the APB date
 * register). ED_E_UNSUPPORTED for chips where espdoctor does not read it. */
int ed_flash_chip_revision(struct ed_loader *ld, uint32_t *revision);

/* After a failed command: drop what is in flight, SYNC again at the current speed and
 * re-attach the flash. ED_E_PROTOCOL when the chip answers as another loader than before
 * (it reset: a ROM where the stub ran), so the caller must reconnect from scratch. */
int ed_flash_resync(struct ed_loader *ld, uint32_t flash_size);

/* Switch to target baud, confirmed by a register read; on failure step down
 * (921600 -> 460800 -> 230400 -> 115200) and find the chip again. *reached is the baud in
 * use afterwards. ED_E_UNSUPPORTED when this loader cannot change speed (ESP8266 ROM);
 * another error only when the chip could not be found again at any speed. */
int ed_flash_set_baud(struct ed_loader *ld, uint32_t target, uint32_t *reached);

/* The rates a failed switch steps down through, and the highest of them below baud (0:
 * none, baud is the lowest or below). */
#define ED_FLASH_BAUD_RUNGS 4u
uint32_t ed_flash_baud_below(uint32_t baud);

#endif
