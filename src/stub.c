/* Finding, loading and uploading a flasher stub (see stub.h for the places searched and
 * the file format). */
#include "espdoctor/stub.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espdoctor/error.h"

#define STUB_SUBDIR "lib/targets/stub_flasher"

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

/* ---- finding ---------------------------------------------------------------------------- */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Look for <key>.json in dir as a stub_flasher directory, an esptool-js package, or a
 * node_modules directory. */
static bool find_in_dir(const char *dir, const char *key, char *path, size_t len)
{
    static const char *const layouts[] = {
        "%s/%s.json",
        "%s/" STUB_SUBDIR "/%s.json",
        "%s/esptool-js/" STUB_SUBDIR "/%s.json",
        "%s/node_modules/esptool-js/" STUB_SUBDIR "/%s.json",
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        int n = snprintf(path, len, layouts[i], dir, key);
        if (n > 0 && (size_t)n < len && is_file(path))
            return true;
    }
    return false;
}

int ed_stub_find(const char *where, const struct ed_chip *chip, char *path, size_t len,
                 char *err, size_t errlen)
{
    if (!chip || !path || len == 0)
        return ED_E_ARG;
    if (err && errlen)
        err[0] = '\0';
    if (where) {
        if (is_file(where)) {
            snprintf(path, len, "%s", where);
            return ED_OK;
        }
        if (is_dir(where) && find_in_dir(where, chip->key, path, len))
            return ED_OK;
        if (err)
            snprintf(err, errlen, "%s %s, so there is no %s.json stub in it (give the "
                     "esptool-js stub_flasher directory or a stub .json file)", where,
                     is_dir(where)              ? "has no stub for this chip"
                     : access(where, F_OK) == 0 ? "is neither a file nor a directory"
                                                : "does not exist",
                     chip->key);
        return ED_E_NOTFOUND;
    }
    char dir[ED_STUB_PATH_MAX];
    const char *env = getenv("ESPDOCTOR_STUB_DIR");
    if (env && *env && find_in_dir(env, chip->key, path, len))
        return ED_OK;
    if (find_in_dir("./node_modules/esptool-js/" STUB_SUBDIR, chip->key, path, len))
        return ED_OK;
    const char *home = getenv("HOME");
    if (home && *home) {
        snprintf(dir, sizeof dir, "%s/.local/lib/node_modules/esptool-js/" STUB_SUBDIR, home);
        if (find_in_dir(dir, chip->key, path, len))
            return ED_OK;
    }
    static const char *const system_dirs[] = {
        "/usr/local/lib/node_modules/esptool-js/" STUB_SUBDIR,
        "/usr/lib/node_modules/esptool-js/" STUB_SUBDIR,
    };
    for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++)
        if (find_in_dir(system_dirs[i], chip->key, path, len))
            return ED_OK;
    return ED_E_NOTFOUND;
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

int ed_stub_load(const char *path, struct ed_stub *stub, char *err, size_t errlen)
{
    memset(stub, 0, sizeof *stub);
    snprintf(stub->path, sizeof stub->path, "%s", path);
    struct stat st;
    if (stat(path, &st) != 0) {
        bool missing = errno == ENOENT;
        snprintf(err, errlen, "the stub file %s %s", path,
                 missing ? "does not exist" : strerror(errno));
        return missing ? ED_E_NOTFOUND : ED_E_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "the stub file %s is %s", path,
                 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        return ED_E_IO;
    }
    json_object *o = json_object_from_file(path);
    if (!o) {
        /* json-c's own reason ("continue", with a newline) would only puzzle people */
        snprintf(err, errlen, "%s is %s: not a flasher stub file", path,
                 st.st_size == 0 ? "empty" : "not JSON");
        return ED_E_IMAGE;
    }
    int rc = ED_E_IMAGE;
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
