/* The flasher stub: a small program uploaded to the chip's RAM at run time that speaks a
 * faster, richer version of the ROM protocol (16 KiB blocks, compression and MD5 on every
 * chip, READ_FLASH, ERASE_*). espdoctor writes no stub of its own: it loads the JSON files
 * that esptool and esptool-js carry (keys entry, text, text_start, data, data_start,
 * bss_start; text and data base64), which the build copies from esptool-js (mk/stubs.sh).
 *
 * The stub runs on the chip and reports the MD5 a verification rests on, so where it comes
 * from matters. Looked for, in order (the first that has <chip>.json, e.g. esp32.json):
 *   1. --stub FILE|DIR
 *   2. $ESPDOCTOR_STUB_DIR
 *   3. the installed share folder: <bindir>/../share/espdoctor/stub_flasher beside the
 *      running program (/proc/self/exe), then ESPDOCTOR_DATADIR/stub_flasher as built
 *   4. an uninstalled build's own copy: <dir of the program>/share/espdoctor/stub_flasher
 * Never the current directory. A DIR (1, 2) may be the stub_flasher directory itself, an
 * esptool-js package, or a node_modules directory holding one. A file whose SHA-256 is
 * not in the table of known releases (stub_known.c) is refused unless it came from 1. */
#ifndef ESPDOCTOR_STUB_H
#define ESPDOCTOR_STUB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "espdoctor/chips.h"
#include "espdoctor/loader.h"

#define ED_STUB_PATH_MAX 1024
#define ED_STUB_OHAI_TIMEOUT_MS 3000u

/* A stub file espdoctor knows: the release that ships it, by chip, and its SHA-256. */
struct ed_stub_release {
    const char *chip_key;
    const char *release;     /* "esptool-js 0.7.0" */
    const char *sha256;      /* lowercase hex of the whole file */
};

/* The known release with this file digest for the chip, or NULL. */
const struct ed_stub_release *ed_stub_release_of(const char *chip_key, const char *sha256_hex);

/* Where a stub file came from (the numbered places above). */
enum ed_stub_origin {
    ED_STUB_FROM_OPTION,     /* --stub */
    ED_STUB_FROM_ENV,        /* $ESPDOCTOR_STUB_DIR */
    ED_STUB_FROM_INSTALL,    /* the installed share folder */
    ED_STUB_FROM_BUILD,      /* the build tree beside an uninstalled program */
};

/* "--stub", "ESPDOCTOR_STUB_DIR", "installed", "build" (for JSON). */
const char *ed_stub_origin_key(enum ed_stub_origin origin);
/* "given with --stub", "from $ESPDOCTOR_STUB_DIR", "installed", "from the build tree". */
const char *ed_stub_origin_text(enum ed_stub_origin origin);

struct ed_stub_place {
    char path[ED_STUB_PATH_MAX];
    enum ed_stub_origin origin;
};

struct ed_stub {
    char path[ED_STUB_PATH_MAX];
    char sha256[65];                       /* of the file's bytes, as loaded */
    uint32_t entry;
    uint32_t text_start, data_start;
    uint8_t *text, *data;       /* heap; data may be NULL */
    size_t text_len, data_len;
};

/* Decode base64 (RFC 4648, '=' padding optional, whitespace ignored). Returns the decoded
 * length, or -1 on a character outside the alphabet or when out (cap bytes) is too small. */
long ed_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* Find the stub file for chip. where: the --stub argument (file or directory), or NULL
 * for the places listed above. ED_OK with the path and where it came from, ED_E_NOTFOUND
 * (err says why when `where` was given). */
int ed_stub_locate(const char *where, const struct ed_chip *chip, struct ed_stub_place *place,
                   char *err, size_t errlen);
/* The same, the path alone. */
int ed_stub_find(const char *where, const struct ed_chip *chip, char *path, size_t len,
                 char *err, size_t errlen);

/* The places 3 and 4 above, for messages: "DIR or DIR2" (ed_stub_locate's order). */
void ed_stub_describe_search(char *out, size_t len);

/* Read and decode a stub JSON file, its SHA-256 taken from the same bytes. ED_E_NOTFOUND/
 * ED_E_IO when unreadable, ED_E_IMAGE when it is not a stub file; a sentence in err. */
int ed_stub_load(const char *path, struct ed_stub *stub, char *err, size_t errlen);
void ed_stub_free(struct ed_stub *stub);

/* Upload through MEM_BEGIN/DATA/END, start it and wait for its "OHAI". Afterwards
 * ld->stub is true and replies carry 2 status bytes. */
int ed_stub_upload(struct ed_loader *ld, const struct ed_stub *stub);
/* The same in MEM_DATA pieces of `block` bytes (1 to ED_RAM_BLOCK): smaller pieces get
 * through a noisy line where whole ones are damaged every time. */
int ed_stub_upload_pieces(struct ed_loader *ld, const struct ed_stub *stub, uint32_t block);

/* ---- commands only a stub has --------------------------------------------------------- */

int ed_loader_erase_flash(struct ed_loader *ld);
/* addr and size 4 KiB aligned. */
int ed_loader_erase_region(struct ed_loader *ld, uint32_t addr, uint32_t size);

/* READ_FLASH: the stub streams packets of ED_STUB_READ_PACKET bytes, the host acknowledges
 * what it has, and the stub ends with the MD5 of what it sent (checked: ED_E_VERIFY).
 * sink gets the data in order; cancel (may be NULL) is polled between packets. */
#define ED_STUB_READ_PACKET 0x1000u
#define ED_STUB_READ_INFLIGHT 64u
typedef int (*ed_stub_read_sink)(void *ctx, const uint8_t *data, size_t len);
int ed_loader_read_flash(struct ed_loader *ld, uint32_t addr, uint32_t size,
                         ed_stub_read_sink sink, void *ctx,
                         const volatile sig_atomic_t *cancel);

#endif
