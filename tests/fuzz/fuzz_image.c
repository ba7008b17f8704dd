/* Fuzz the firmware image parser with files from the web: the input is the whole file.
 *
 * The parser only takes a path, so the input goes into a memory file (memfd) opened by
 * its /proc/self/fd path. Then everything `espdoctor image` and `espdoctor flash` do with
 * a file runs on it: the text and JSON reports, the paragraph for an unusable file, the
 * pre-write checks against every chip, and the flash plan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "espdoctor/chips.h"
#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/image.h"

#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The memory file the input is written to, and where reports go. Opened once: libFuzzer
 * gives a harness no context to keep them in. */
static int image_fd = -1;
static char image_path[64];
static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    image_fd = memfd_create("esp32-firmware.bin", MFD_CLOEXEC);
    require(image_fd >= 0);
    snprintf(image_path, sizeof image_path, "/proc/self/fd/%d", image_fd);
    sink = fopen("/dev/null", "w");
    require(sink != NULL);
    return 0;
}

static void put_file(const uint8_t *data, size_t size)
{
    require(ftruncate(image_fd, 0) == 0);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(image_fd, data + done, size - done, (off_t)done);
        require(n > 0);
        done += (size_t)n;
    }
}

static void check_part(const struct ed_image_part *part, size_t size)
{
    require(part->segment_count <= ED_IMAGE_MAX_SEGMENTS);
    require(memchr(part->project_name, '\0', sizeof part->project_name) != NULL);
    require(memchr(part->version, '\0', sizeof part->version) != NULL);
    require(memchr(part->idf_version, '\0', sizeof part->idf_version) != NULL);
    if (part->present && part->checksum_offset)
        require(part->checksum_offset < size);
}

static void check_info(const struct ed_image_info *info, size_t size)
{
    require(info->file_size == size);
    require(info->kind >= ED_IMAGE_UNKNOWN && info->kind <= ED_IMAGE_TEXT);
    require(info->partition_count <= ED_IMAGE_MAX_PARTITIONS);
    require(memchr(info->evidence, '\0', sizeof info->evidence) != NULL);
    require(memchr(info->micropython_banner, '\0', sizeof info->micropython_banner) != NULL);
    require(memchr(info->micropython_version, '\0', sizeof info->micropython_version) != NULL);
    for (size_t i = 0; i < info->partition_count; i++)
        require(memchr(info->partitions[i].name, 0, sizeof info->partitions[i].name) != NULL);
    check_part(&info->boot, size);
    check_part(&info->app, size);
}

static void report(const struct ed_image_info *info)
{
    ed_image_print(sink, info);
    ed_image_explain_unusable(sink, info);
    struct json_object *o = ed_image_to_json(info);
    require(o != NULL);
    require(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) != NULL);
    json_object_put(o);
    (void)ed_image_kind_key(info->kind);
    (void)ed_image_kind_describe(info->kind);
}

/* Every problem names a rule and carries a terminated message and fix. */
static void check_verdict(const struct ed_image_verdict *v, int rc)
{
    require(rc == ED_OK || rc == ED_E_IMAGE);
    require(v->count <= ED_IMAGE_MAX_PROBLEMS);
    require((rc == ED_E_IMAGE) == v->blocked);
    for (size_t i = 0; i < v->count; i++) {
        require(v->problems[i].rule != NULL);
        require(memchr(v->problems[i].message, '\0', sizeof v->problems[i].message) != NULL);
        require(memchr(v->problems[i].fix, '\0', sizeof v->problems[i].fix) != NULL);
    }
}

static void check_targets(const struct ed_image_info *info)
{
    struct ed_image_verdict *v = malloc(sizeof *v);
    require(v != NULL);
    for (size_t c = 0; c <= ed_chip_count; c++) {
        const struct ed_chip *chip = c < ed_chip_count ? &ed_chips[c] : NULL;
        int rc = ed_image_check_target(info, chip, 4u << 20, ED_IMAGE_REVISION_UNKNOWN, 0,
                                       false, v);
        check_verdict(v, rc);
        rc = ed_image_check_target(info, chip, 2u << 20, 100, 0x1000, true, v);
        check_verdict(v, rc);
        rc = ed_image_check_target(info, chip, 0, 301, 0x3FF000, true, v);
        check_verdict(v, rc);
    }
    free(v);
}

/* The flasher's view: the same file added to a plan and checked against an ESP32. */
static void plan(void)
{
    struct ed_flash_plan *p = malloc(sizeof *p);
    require(p != NULL);
    ed_flash_plan_init(p);
    char err[512];
    ed_flash_plan_add(p, image_path, false, 0, err, sizeof err);
    ed_flash_plan_add(p, image_path, true, 0x10000, err, sizeof err);
    size_t unforceable = 0;
    ed_flash_plan_check(p, ed_chip_by_key("esp32"), 4u << 20, ED_IMAGE_REVISION_UNKNOWN,
                        &unforceable);
    ed_flash_plan_close(p);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    put_file(data, size);
    struct ed_image_info *info = malloc(sizeof *info);
    require(info != NULL);
    char err[256];
    int rc = ed_image_open(image_path, info, err, sizeof err);
    require(rc == ED_OK);
    check_info(info, size);
    report(info);
    check_targets(info);
    free(info);
    plan();
    return 0;
}
