/* Fuzz the sniffer for files that are not firmware (ed_image_sniff, src/image_sniff.c) on
 * its own: the zip, gzip and ELF signatures, a saved web page and its title, text.
 *
 * The input is a file's first bytes. The evidence goes into heap buffers of several exact
 * sizes (1 byte up), so writing past one is caught. Properties: the verdict is one of the
 * not-firmware kinds; zip, gzip and ELF exactly when the file starts with their
 * signatures (checked here independently); text and web pages only for bytes that can be
 * text; the evidence is terminated within its buffer and names the signature it saw. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espdoctor/image.h"
#include "image_internal.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool starts(const uint8_t *data, size_t size, const char *sig, size_t n)
{
    return size >= n && memcmp(data, sig, n) == 0;
}

static bool text_bytes(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (data[i] < 0x20 && data[i] != '\t' && data[i] != '\n' && data[i] != '\r' &&
            data[i] != '\f')
            return false;
        else if (data[i] == 0x7F)
            return false;
    return true;
}

static enum ed_image_kind expected_signature(const uint8_t *data, size_t size)
{
    if (size == 0)
        return ED_IMAGE_EMPTY;
    if (starts(data, size, "PK\x03\x04", 4) || starts(data, size, "PK\x05\x06", 4))
        return ED_IMAGE_ZIP;
    if (starts(data, size, "\x1f\x8b", 2))
        return ED_IMAGE_GZIP;
    if (starts(data, size, "\x7f" "ELF", 4))
        return ED_IMAGE_ELF;
    return ED_IMAGE_UNKNOWN;   /* none of the signatures */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = { 1, 2, 17, 64, 256 };
    enum ed_image_kind first = ED_IMAGE_UNKNOWN;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *evidence = malloc(sizes[i]);
        require(evidence != NULL);
        enum ed_image_kind kind = ed_image_sniff(data, size, evidence, sizes[i]);
        require(memchr(evidence, '\0', sizes[i]) != NULL);
        if (i == 0)
            first = kind;
        require(kind == first);   /* the room for evidence never changes the verdict */
        require(kind == ED_IMAGE_UNKNOWN || kind == ED_IMAGE_EMPTY || kind == ED_IMAGE_HTML ||
                kind == ED_IMAGE_ZIP || kind == ED_IMAGE_GZIP || kind == ED_IMAGE_ELF ||
                kind == ED_IMAGE_TEXT);
        enum ed_image_kind sig = expected_signature(data, size);
        if (sig != ED_IMAGE_UNKNOWN)
            require(kind == sig);
        else
            require(kind != ED_IMAGE_ZIP && kind != ED_IMAGE_GZIP && kind != ED_IMAGE_ELF &&
                    kind != ED_IMAGE_EMPTY);
        if (kind == ED_IMAGE_TEXT || kind == ED_IMAGE_HTML)
            require(text_bytes(data, size));
        if (sizes[i] == 256) {
            if (kind == ED_IMAGE_ZIP)
                require(strstr(evidence, "zip") != NULL);
            if (kind == ED_IMAGE_GZIP)
                require(strstr(evidence, "gzip") != NULL);
            if (kind == ED_IMAGE_ELF)
                require(strstr(evidence, "ELF") != NULL);
        }
        free(evidence);
    }
    return 0;
}
