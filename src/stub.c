/* Loading and uploading a flasher stub (see stub.h for the file format; stub_find.c says
 * where stubs come from, stub_known.c which ones are known). */
#include "espdoctor/stub.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espdoctor/error.h"

/* The esptool-js stubs are under 30 KB; anything far larger is no stub file. */
#define STUB_FILE_MAX (4u << 20)

/* ---- base64 --------------------------------------------------------------------------- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long ed_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    bool padding = false;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || padding)
            return -1;   /* not base64, or data after the padding */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* 6 leftover bits cannot come from whole bytes. */
    return bits >= 6 ? -1 : (long)n;
}

/* ---- loading ---------------------------------------------------------------------------- */

static bool get_u32(json_object *o, const char *key, uint32_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    int64_t x = json_object_get_int64(v);
    if (x < 0 || x > UINT32_MAX)
        return false;
    *out = (uint32_t)x;
    return true;
}

/* Decode the base64 string at key into a new buffer. Missing key: ok with NULL. */
static int get_blob(json_object *o, const char *key, uint8_t **buf, size_t *len)
{
    json_object *v;
    *buf = NULL;
    *len = 0;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return ED_OK;
    if (!json_object_is_type(v, json_type_string))
        return ED_E_IMAGE;
    const char *s = json_object_get_string(v);
    size_t slen = (size_t)json_object_get_string_len(v);
    size_t cap = slen / 4 * 3 + 3;
    *buf = malloc(cap);
    if (!*buf)
        return ED_E_NOMEM;
    long n = ed_base64_decode(s, slen, *buf, cap);
    if (n < 0) {
        free(*buf);
        *buf = NULL;
        return ED_E_IMAGE;
    }
    *len = (size_t)n;
    return ED_OK;
}

void ed_stub_free(struct ed_stub *stub)
{
    free(stub->text);
    free(stub->data);
    stub->text = stub->data = NULL;
    stub->text_len = stub->data_len = 0;
}

/* The whole file, read once: its digest and its parse come from the same bytes. */
static int read_whole(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "the stub file %s %s", path,
                 e == ENOENT ? "does not exist" : strerror(e));
        return e == ENOENT ? ED_E_NOTFOUND : ED_E_IO;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)STUB_FILE_MAX) {
        close(fd);
        snprintf(err, errlen, "the stub file %s is %s", path,
                 S_ISDIR(st.st_mode)    ? "a directory"
                 : !S_ISREG(st.st_mode) ? "not a regular file"
                                        : "far too large for a flasher stub");
        return S_ISREG(st.st_mode) ? ED_E_IMAGE : ED_E_IO;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* shrank while read: what was read is judged */
        got += (size_t)n;
    }
    int e = errno;
    close(fd);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return ED_E_NOMEM;
    }
    if (got < (size_t)st.st_size && e != 0 && e != EINTR) {
        free(buf);
        snprintf(err, errlen, "the stub file %s could not be read: %s", path, strerror(e));
        return ED_E_IO;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return ED_OK;
}

static void sha256_hex(const char *data, size_t len, char hex[65])
{
    SHA2_CTX ctx;
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256Init(&ctx);
    SHA256Update(&ctx, (const uint8_t *)data, len);
    SHA256Final(digest, &ctx);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

int ed_stub_load(const char *path, struct ed_stub *stub, char *err, size_t errlen)
{
    memset(stub, 0, sizeof *stub);
    snprintf(stub->path, sizeof stub->path, "%s", path);
    char *text;
    size_t len;
    int rc = read_whole(path, &text, &len, err, errlen);
    if (rc != ED_OK)
        return rc;
    sha256_hex(text, len, stub->sha256);
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    bool whole = tok && json_tokener_get_error(tok) == json_tokener_success;
    if (tok)
        json_tokener_free(tok);
    free(text);
    if (!o || !whole) {
        json_object_put(o);
        /* json-c's own reason ("continue", with a newline) would only puzzle people */
        snprintf(err, errlen, "%s is %s: not a flasher stub file", path,
                 len == 0 ? "empty" : "not JSON");
        return ED_E_IMAGE;
    }
    rc = ED_E_IMAGE;
    if (!get_u32(o, "entry", &stub->entry) || !get_u32(o, "text_start", &stub->text_start)) {
        snprintf(err, errlen, "%s has no \"entry\" and \"text_start\": not a flasher stub "
                 "file in the esptool format", path);
        goto out;
    }
    rc = get_blob(o, "text", &stub->text, &stub->text_len);
    if (rc == ED_OK && stub->text_len == 0)
        rc = ED_E_IMAGE;
    if (rc == ED_OK)
        rc = get_blob(o, "data", &stub->data, &stub->data_len);
    if (rc == ED_OK && stub->data_len && !get_u32(o, "data_start", &stub->data_start))
        rc = ED_E_IMAGE;
    if (rc != ED_OK) {
        snprintf(err, errlen, "%s: its \"text\"/\"data\" are not base64 code with start "
                 "addresses: not a usable flasher stub", path);
        ed_stub_free(stub);
    }
out:
    json_object_put(o);
    return rc;
}

/* ---- uploading ------------------------------------------------------------------------- */

static int upload_segment(struct ed_loader *ld, const uint8_t *data, size_t len, uint32_t addr,
                          uint32_t block)
{
    uint32_t blocks = (uint32_t)((len + block - 1) / block);
    int rc = ed_loader_mem_begin(ld, (uint32_t)len, blocks, block, addr);
    for (uint32_t seq = 0; rc == ED_OK && seq < blocks; seq++) {
        size_t off = (size_t)seq * block;
        size_t n = len - off < block ? len - off : block;
        rc = ed_loader_mem_data(ld, data + off, n, seq);
    }
    return rc;
}

int ed_stub_upload_pieces(struct ed_loader *ld, const struct ed_stub *stub, uint32_t block)
{
    if (ld->stub)
        return ED_OK;
    if (block == 0 || block > ED_RAM_BLOCK)
        return ED_E_ARG;
    int rc = upload_segment(ld, stub->text, stub->text_len, stub->text_start, block);
    if (rc == ED_OK && stub->data_len)
        rc = upload_segment(ld, stub->data, stub->data_len, stub->data_start, block);
    if (rc == ED_OK)
        rc = ed_loader_mem_end(ld, true, stub->entry);
    if (rc == ED_OK)
        rc = ed_loader_wait_stub(ld, ED_STUB_OHAI_TIMEOUT_MS);
    return rc;
}

int ed_stub_upload(struct ed_loader *ld, const struct ed_stub *stub)
{
    return ed_stub_upload_pieces(ld, stub, ED_RAM_BLOCK);
}
