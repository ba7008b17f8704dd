/* What espdoctor leaves in flash for a chip's conformance image: made once per chip and
 * test run, shared by that chip's rows (each row is its own process; a lock file keeps
 * two from making it at once). Header-only, for test_espsim_clients.c. */
#ifndef ESPDOCTOR_CLIENTS_REFERENCE_H
#define ESPDOCTOR_CLIENTS_REFERENCE_H

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients_rows.h"
#include "e2e_run.h"

#define REF_DIR 256     /* <build>/conformance/... */
#define REF_PATH 320    /* a file in one of those */

struct reference {
    char image[REF_PATH];    /* the image every row of the chip writes */
    char flash[REF_PATH];    /* espsim's flash file after espdoctor flash wrote it */
    uint32_t jedec_id;       /* the flash id espdoctor info read */
    char failure[1024];       /* why there is no reference, or "" */
};

/* <build>/conformance: the run's results (rows/) and references (reference/). */
static inline void conformance_dir(char *out, size_t cap, const char *sub)
{
    snprintf(out, cap, "%s/conformance%s%s", e2e_build(), sub ? "/" : "", sub ? sub : "");
}

static inline bool read_small_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return true;
}

static inline bool write_small_file(const char *path, const char *text)
{
    char tmp[REF_PATH + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0;
}

/* A JSON member by dotted path ("flash.jedec_id"), or NULL. */
static inline json_object *json_at(json_object *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o;
         k = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(o, k, &o))
            return NULL;
    return o;
}

static inline void reference_make(const struct chip_setup *c, struct reference *ref)
{
    struct e2e_result *r = malloc(sizeof *r);
    const char *mkimage[] = { e2e_bin("mkimage"), "--chip", c->key, "--kind", c->image_kind,
                              "--size", IMAGE_SIZE, "-o", ref->image, NULL };
    e2e_run(r, mkimage, 30);
    if (r->status != 0) {
        snprintf(ref->failure, sizeof ref->failure, "mkimage failed (%d): %.300s", r->status,
                 r->err);
        free(r);
        return;
    }
    /* espdoctor's own flash id, read through espsim on its own: the rows compare theirs. */
    const char *info[] = { e2e_bin("espsim"), "--fast", "--chip", c->key, "--mac", c->mac,
                           "--flash-size", c->flash_size, "--", e2e_bin("espdoctor"), "info",
                           "--json", NULL };
    e2e_run(r, info, 60);
    json_object *j = e2e_json_doc(r->out);
    json_object *id = j ? json_at(j, "flash.jedec_id") : NULL;
    if (r->status != 0 || !id) {
        snprintf(ref->failure, sizeof ref->failure, "espdoctor info failed (%d): %.300s",
                 r->status, r->err);
        json_object_put(j);
        free(r);
        return;
    }
    ref->jedec_id = (uint32_t)strtoul(json_object_get_string(id), NULL, 0);
    json_object_put(j);

    char address[16], stubs[REF_DIR + 64];
    snprintf(address, sizeof address, "0x%X", c->address);
    /* esptool-js's stubs, as installed for the rows: the bytes do not depend on the
     * loader, the time does. */
    snprintf(stubs, sizeof stubs, "%s/../tests/js/node_modules/esptool-js/lib/targets/"
             "stub_flasher", e2e_build());
    unlink(ref->flash);   /* a fresh flash file: espsim makes it blank */
    const char *flash[] = { e2e_bin("espsim"), "--fast", "--chip", c->key, "--mac", c->mac,
                            "--flash-size", c->flash_size, "--flash", ref->flash, "--",
                            e2e_bin("espdoctor"), "flash", "--json", "--stub", stubs, "-b",
                            "921600", address, ref->image, NULL };
    e2e_run(r, flash, 120);
    j = e2e_json_doc(r->out);
    json_object *result = j ? json_at(j, "result") : NULL;
    json_object *regions = j ? json_at(j, "regions") : NULL;
    json_object *first = regions ? json_object_array_get_idx(regions, 0) : NULL;
    json_object *verified = first ? json_at(first, "verified") : NULL;
    bool ok = result && strcmp(json_object_get_string(result), "ok") == 0 && verified &&
              json_object_get_boolean(verified);
    if (!ok)
        snprintf(ref->failure, sizeof ref->failure,
                 "espdoctor flash %s %s did not write and verify (%d): %.300s", address,
                 ref->image, r->status, r->err);
    json_object_put(j);
    free(r);
}

/* The chip's reference: made by the first row that needs it, read by the others. */
static inline void reference_get(const struct chip_setup *c, struct reference *ref)
{
    char dir[REF_DIR], lock[REF_PATH], done[REF_PATH];
    memset(ref, 0, sizeof *ref);
    conformance_dir(dir, sizeof dir, "reference");
    char cmd[REF_DIR + 16];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) {
        snprintf(ref->failure, sizeof ref->failure, "cannot make %s", dir);
        return;
    }
    snprintf(ref->image, sizeof ref->image, "%s/%s.bin", dir, c->key);
    snprintf(ref->flash, sizeof ref->flash, "%s/%s.flash", dir, c->key);
    snprintf(lock, sizeof lock, "%s/%s.lock", dir, c->key);
    snprintf(done, sizeof done, "%s/%s.done", dir, c->key);
    int fd = open(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        snprintf(ref->failure, sizeof ref->failure, "lock %s: %s", lock, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    char text[sizeof ref->failure + 16];
    if (read_small_file(done, text, sizeof ref->failure)) {
        if (strncmp(text, "ok ", 3) == 0)
            ref->jedec_id = (uint32_t)strtoul(text + 3, NULL, 0);
        else
            memcpy(ref->failure, text, sizeof ref->failure);   /* read at most that */
    } else {
        reference_make(c, ref);
        if (ref->failure[0])
            snprintf(text, sizeof text, "%s", ref->failure);
        else
            snprintf(text, sizeof text, "ok 0x%06X", ref->jedec_id);
        write_small_file(done, text);
    }
    flock(fd, LOCK_UN);
    close(fd);
}

#endif
