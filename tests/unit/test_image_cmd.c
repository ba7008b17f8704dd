/* espdoctor image FILE [--json]: output for people and for scripts, and exit codes. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "../../src/cli.h"
#include "../../src/commands.h"
#include "test_image_util.h"

struct run {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
};

static void run_image(struct run *r, bool json, int argc, const char *file)
{
    memset(r, 0, sizeof *r);
    struct ed_cli cli = { .prog = "espdoctor", .json = json };
    cli.out = open_memstream(&r->out, &r->out_len);
    cli.err = open_memstream(&r->err, &r->err_len);
    cr_assert(cli.out && cli.err);
    char *argv[2] = { (char *)file, NULL };
    r->rc = cmd_image(&cli, argc, argv);
    fclose(cli.out);
    fclose(cli.err);
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static struct json_object *member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no key %s", key);
    return v;
}

Test(image_cmd, merged_image_for_people)
{
    const char *path = ti_mkimage("mp.bin", "--chip esp32 --kind merged --size 400K "
                                  "--micropython v1.24.0");
    struct run r;
    run_image(&r, false, 1, path);
    cr_assert_eq(r.rc, ED_EXIT_OK, "stderr: %s", r.err);
    cr_assert_not_null(strstr(r.out, "merged image"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "Chip:      ESP32"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "Address:   0x1000"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "MicroPython v1.24.0"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "factory"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "SHA-256:   OK"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "0x400d0020"), "%s", r.out);
    cr_assert_eq(r.err_len, 0, "%s", r.err);
    run_free(&r);
}

Test(image_cmd, merged_image_as_json)
{
    const char *path = ti_mkimage("mp.bin", "--chip esp32s3 --kind merged --size 400K "
                                  "--micropython v1.24.0");
    struct run r;
    run_image(&r, true, 1, path);
    cr_assert_eq(r.rc, ED_EXIT_OK, "stderr: %s", r.err);
    struct json_object *o = json_tokener_parse(r.out);
    cr_assert_not_null(o, "not JSON: %s", r.out);
    cr_assert_str_eq(json_object_get_string(member(o, "kind")), "merged");
    cr_assert_str_eq(json_object_get_string(member(o, "chip")), "esp32s3");
    cr_assert_eq(json_object_get_int(member(o, "chip_id")), 9);
    cr_assert_eq(json_object_get_int64(member(o, "flash_address")), 0);
    cr_assert(json_object_get_boolean(member(o, "valid")));
    cr_assert(json_object_get_boolean(member(o, "micropython")));
    cr_assert_str_eq(json_object_get_string(member(o, "micropython_version")), "v1.24.0");
    struct json_object *app = member(o, "app");
    cr_assert_str_eq(json_object_get_string(member(app, "checksum")), "ok");
    cr_assert_str_eq(json_object_get_string(member(app, "sha256")), "ok");
    cr_assert_eq(json_object_array_length(member(app, "segments")), 4);
    struct json_object *pt = member(o, "partition_table");
    cr_assert_eq(json_object_array_length(member(pt, "entries")), 4);
    cr_assert_eq(json_object_get_int(member(pt, "app_index")), 2);
    json_object_put(o);
    run_free(&r);
}

Test(image_cmd, html_page_exits_6_with_advice)
{
    struct run r;
    run_image(&r, false, 1, ti_fixture("download-page.html"));
    cr_assert_eq(r.rc, ED_EXIT_INPUT);
    cr_assert_not_null(strstr(r.err, "is an HTML page, not firmware"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "Download the .bin file itself from https://"), "%s",
                       r.err);
    run_free(&r);
}

Test(image_cmd, corrupt_image_exits_6_and_says_so_in_json)
{
    const char *path = ti_mkimage("bad.bin", "--chip esp32c6 --kind app --size 200K --corrupt");
    struct run r;
    run_image(&r, true, 1, path);
    cr_assert_eq(r.rc, ED_EXIT_INPUT);
    struct json_object *o = json_tokener_parse(r.out);
    cr_assert_not_null(o, "not JSON: %s", r.out);
    cr_assert(json_object_get_boolean(member(o, "corrupt")));
    cr_assert(!json_object_get_boolean(member(o, "valid")));
    cr_assert_not_null(strstr(json_object_get_string(member(o, "evidence")), "checksum"));
    json_object_put(o);
    cr_assert_not_null(strstr(r.err, "damaged"), "%s", r.err);
    run_free(&r);
}

Test(image_cmd, missing_file_and_usage)
{
    struct run r;
    run_image(&r, false, 1, "/nonexistent/fw.bin");
    cr_assert_eq(r.rc, ED_EXIT_INPUT);
    cr_assert_not_null(strstr(r.err, "/nonexistent/fw.bin"), "%s", r.err);
    run_free(&r);

    run_image(&r, false, 0, NULL);
    cr_assert_eq(r.rc, ED_EXIT_USAGE);
    run_free(&r);
}
