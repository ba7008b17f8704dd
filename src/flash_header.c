/* Patching the SPI flash settings of the image the ROM boots (see flash_header.h). */
#include "flash_header.h"

#include <errno.h>
#include <sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define HEADER_MODE 2
#define HEADER_SIZE_FREQ 3

static const char *const modes[] = { "qio", "qout", "dio", "dout" };

int ed_header_mode_code(const char *word)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(word, modes[i]) == 0)
            return i;
    return -1;
}

/* The code of name in a chip's 16-entry table, -1 if the chip has none. */
static int code_of(const char *const table[16], const char *name)
{
    for (int i = 0; i < 16; i++)
        if (table[i] && strcasecmp(table[i], name) == 0)
            return i;
    return -1;
}

static bool any_chip_knows(bool sizes, const char *word)
{
    for (size_t i = 0; i < ed_chip_count; i++)
        if (code_of(sizes ? ed_chips[i].header_sizes : ed_chips[i].header_freqs, word) >= 0)
            return true;
    return false;
}

bool ed_header_size_known(const char *word)
{
    return any_chip_knows(true, word);
}

bool ed_header_freq_known(const char *word)
{
    return any_chip_knows(false, word);
}

static void list_codes(const char *const table[16], char *out, size_t len)
{
    out[0] = '\0';
    for (int i = 0; i < 16; i++)
        if (table[i]) {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%s", used ? ", " : "", table[i]);
        }
}

/* Byte 3 with the requested nibbles replaced; false (why said) when the chip lacks one. */
static bool new_size_freq(uint8_t old, const struct ed_chip *chip,
                          const struct ed_header_request *req, uint8_t *out, char *why,
                          size_t len)
{
    char known[160];
    uint8_t v = old;
    if (req->size) {
        int code = code_of(chip->header_sizes, req->size);
        if (code < 0) {
            list_codes(chip->header_sizes, known, sizeof known);
            snprintf(why, len, "--flash-size %s is not a size the %s's image header has (it "
                     "has %s)", req->size, chip->name, known);
            return false;
        }
        v = (uint8_t)((v & 0x0F) | (code << 4));
    }
    if (req->freq) {
        int code = code_of(chip->header_freqs, req->freq);
        if (code < 0) {
            list_codes(chip->header_freqs, known, sizeof known);
            snprintf(why, len, "--flash-freq %s is not supported on the %s%s%s", req->freq,
                     chip->name, known[0] ? " (its image header has " : "",
                     known[0] ? known : "");
            if (known[0])
                strncat(why, ")", len - strlen(why) - 1);
            return false;
        }
        v = (uint8_t)((v & 0xF0) | code);
    }
    *out = v;
    return true;
}

static bool copy_to(int from, int to, uint64_t size)
{
    char buf[65536];
    for (uint64_t at = 0; at < size;) {
        size_t want = size - at > sizeof buf ? sizeof buf : (size_t)(size - at);
        ssize_t n = pread(from, buf, want, (off_t)at);
        if (n <= 0 || write(to, buf, (size_t)n) != n)
            return false;
        at += (uint64_t)n;
    }
    return true;
}

/* The SHA-256 the ROM checks runs from the image's first byte through its checksum byte and
 * is stored right after it (ESP-IDF "App Image Format": hash_appended). */
static bool rehash(int fd, const struct ed_image_part *part)
{
    size_t len = (size_t)part->checksum_offset + 1 - part->file_offset;
    uint8_t *data = malloc(len);
    if (!data)
        return false;
    bool ok = pread(fd, data, len, part->file_offset) == (ssize_t)len;
    uint8_t digest[SHA256_DIGEST_LENGTH];
    if (ok) {
        SHA2_CTX sha;
        SHA256Init(&sha);
        SHA256Update(&sha, data, len);
        SHA256Final(digest, &sha);
        ok = pwrite(fd, digest, sizeof digest, (off_t)part->checksum_offset + 1) ==
             (ssize_t)sizeof digest;
    }
    free(data);
    return ok;
}

int ed_header_patch(int fd, uint64_t size, const struct ed_image_part *part,
                    const struct ed_chip *chip, const struct ed_header_request *req,
                    bool *changed, char *why, size_t why_len)
{
    *changed = false;
    uint8_t header[4];
    if (pread(fd, header, sizeof header, part->file_offset) != (ssize_t)sizeof header) {
        snprintf(why, why_len, "the image header could not be read: %s", strerror(errno));
        return -1;
    }
    uint8_t mode = req->mode >= 0 ? (uint8_t)req->mode : header[HEADER_MODE];
    uint8_t size_freq;
    if (!new_size_freq(header[HEADER_SIZE_FREQ], chip, req, &size_freq, why, why_len))
        return -1;
    int out = memfd_create("espdoctor-patched-image", MFD_CLOEXEC);
    if (out < 0 || !copy_to(fd, out, size)) {
        snprintf(why, why_len, "no memory for the patched copy: %s", strerror(errno));
        if (out >= 0)
            close(out);
        return -1;
    }
    *changed = mode != header[HEADER_MODE] || size_freq != header[HEADER_SIZE_FREQ];
    uint8_t patched[2] = { mode, size_freq };
    bool ok = pwrite(out, patched, sizeof patched, (off_t)part->file_offset + HEADER_MODE) ==
              (ssize_t)sizeof patched;
    if (ok && part->sha_appended)
        ok = rehash(out, part);
    if (!ok) {
        snprintf(why, why_len, "writing the patched copy failed: %s", strerror(errno));
        close(out);
        return -1;
    }
    return out;
}
