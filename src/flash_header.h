/* flash --flash-mode/--flash-freq/--flash-size: the SPI flash settings in the header of the
 * image the ROM boots (the one at the chip's bootloader offset), as esptool's "Firmware
 * Image Format" documents them: byte 2 the mode, byte 3 the size (high nibble) and the
 * frequency (low nibble). The appended SHA-256 covers the header and is computed again;
 * the checksum covers segment data only and stays as it is. */
#ifndef ESPDOCTOR_FLASH_HEADER_H
#define ESPDOCTOR_FLASH_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "espdoctor/chips.h"
#include "espdoctor/image.h"

/* What the command line asks for; -1 / NULL: keep the image's own. */
struct ed_header_request {
    int mode;            /* 0 qio, 1 qout, 2 dio, 3 dout */
    const char *freq;    /* "80m", "40m", "26m", "20m" */
    const char *size;    /* "4MB", ... */
};

static inline bool ed_header_requested(const struct ed_header_request *r)
{
    return r->mode >= 0 || r->freq || r->size;
}

/* --flash-mode's words, in code order; -1 for another word. */
int ed_header_mode_code(const char *word);

/* True when word is a size (or frequency) some chip's header knows. */
bool ed_header_size_known(const char *word);
bool ed_header_freq_known(const char *word);

/* A copy of the file behind fd (size bytes) with the header of part patched for chip, in
 * a memory file: its descriptor, or -1 with why (a code the chip does not have, an image
 * that is not the ROM's). *changed says whether any byte differs. */
int ed_header_patch(int fd, uint64_t size, const struct ed_image_part *part,
                    const struct ed_chip *chip, const struct ed_header_request *req,
                    bool *changed, char *why, size_t why_len);

#endif
