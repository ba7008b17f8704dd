/* Fuzz the flasher-stub reader: ed_stub_load (src/stub.c), which parses a stub JSON file
 * (entry, text_start, data_start, text and data in base64), and ed_base64_decode on its
 * own. Only the parsing: where stubs are looked for and whose they are is not the input.
 *
 * The input is the file. It goes into a memory file opened by its /proc/self/fd path (the
 * loader takes a path). Properties: a file that loads has code (text) and start addresses
 * within 32 bits; there is a buffer for every byte of data; a file that does not load
 * leaves no buffer behind and says why in one terminated sentence. base64: what we encode
 * decodes back to the same bytes, and a buffer one byte too small is refused. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "espdoctor/error.h"
#include "espdoctor/stub.h"

#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int stub_fd = -1;
static char stub_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    stub_fd = memfd_create("esp32.json", MFD_CLOEXEC);
    require(stub_fd >= 0);
    snprintf(stub_path, sizeof stub_path, "/proc/self/fd/%d", stub_fd);
    return 0;
}

static void put_file(const uint8_t *data, size_t size)
{
    require(ftruncate(stub_fd, 0) == 0);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(stub_fd, data + done, size - done, (off_t)done);
        require(n > 0);
        done += (size_t)n;
    }
}

static void load_file(const uint8_t *data, size_t size)
{
    put_file(data, size);
    struct ed_stub *stub = malloc(sizeof *stub);
    require(stub != NULL);
    char err[512];
    err[0] = '\0';
    int rc = ed_stub_load(stub_path, stub, err, sizeof err);
    require(memchr(stub->path, '\0', sizeof stub->path) != NULL);
    if (rc == ED_OK) {
        require(stub->text != NULL && stub->text_len > 0);
        /* "data": "" (or "=") decodes to nothing: a buffer may be there, unused, since
         * everything goes by data_len. */
        require(stub->data_len == 0 || stub->data != NULL);
        /* base64 never grows: decoded text and data fit in the file */
        require(stub->text_len + stub->data_len <= size);
        ed_stub_free(stub);
        require(stub->text == NULL && stub->data == NULL);
    } else {
        require(rc == ED_E_IMAGE || rc == ED_E_IO || rc == ED_E_NOTFOUND || rc == ED_E_NOMEM);
        require(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
        require(stub->text == NULL && stub->data == NULL);
    }
    free(stub);
}

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 with padding, for the round trip. */
static size_t encode(const uint8_t *in, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[n++] = alphabet[(v >> 18) & 63];
        out[n++] = alphabet[(v >> 12) & 63];
        out[n++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[n++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    return n;
}

static void base64(const uint8_t *data, size_t size)
{
    /* The input as base64 text: never writes past cap. */
    size_t cap = size / 4 * 3 + 3;
    uint8_t *out = malloc(cap ? cap : 1);
    require(out != NULL);
    long n = ed_base64_decode((const char *)data, size, out, cap);
    require(n >= -1 && n <= (long)cap);
    free(out);

    /* The input as bytes: encode, decode, compare; one byte less room is refused. */
    char *text = malloc(size / 3 * 4 + 5);
    uint8_t *back = malloc(size + 1);
    require(text && back);
    size_t tlen = encode(data, size, text);
    require(ed_base64_decode(text, tlen, back, size) == (long)size);
    require(size == 0 || memcmp(back, data, size) == 0);
    if (size > 0)
        require(ed_base64_decode(text, tlen, back, size - 1) == -1);
    free(text);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_file(data, size);
    base64(data, size);
    return 0;
}
