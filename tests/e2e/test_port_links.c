/* -p as the links udev makes, /dev/serial/by-id/... and /dev/serial/by-path/..., for every
 * command that opens a board, under espsim. The links once reached realpath() inside
 * umockdev's testbed, whose wrapper smashed the stack (exit 134) or crashed (139), and the
 * doctor called a linked port "not a serial port". */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e_dir.h"
#include "e2e_run.h"

#define LIMIT_S 60

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("links");
}

/* espsim --fast --firmware micropython -- sh -c 'espdoctor -p LINK ARGS' with LINK the one
 * entry of /dev/serial/DIR, as the shell inside the testbed sees it. */
static void run_with_link(const char *dir, const char *args, const char *flash)
{
    char script[1024];
    snprintf(script, sizeof script, "set -- /dev/serial/%s/*; [ -L \"$1\" ] || exit 99; "
             "exec \"%s\" -p \"$1\" %s", dir, e2e_bin("espdoctor"), args);
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--firmware", "micropython", "--flash",
                           flash, "--", "sh", "-c", script, NULL };
    e2e_run(&r, argv, LIMIT_S);
}

static json_object *doc(void)
{
    json_object *o = e2e_json_doc(r.out);
    cr_assert_not_null(o, "no JSON (exit %d):\n%s\n%s", r.status, r.out, r.err);
    return o;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
              json_object_to_json_string(o));
    return v ? json_object_get_string(v) : NULL;
}

static void every_command(const char *dir)
{
    const char *flash = scratch_path("board.flash");
    const char *image = scratch_path("app.bin");
    const char *mk[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "app", "--size", "64K",
                         "-o", image, NULL };
    e2e_run(&r, mk, LIMIT_S);
    cr_assert_eq(r.status, 0, "mkimage: %s", r.err);

    run_with_link(dir, "--json", flash);
    cr_assert_eq(r.status, 0, "doctor -p %s link: exit %d\n%s\n%s", dir, r.status, r.out, r.err);
    json_object *o = doc(), *verdict = NULL;
    cr_assert(json_object_object_get_ex(o, "verdict", &verdict));
    cr_expect_str_eq(str(verdict, "status"), "ready");
    cr_expect_str_eq(str(verdict, "chip"), "ESP32");
    json_object_put(o);

    run_with_link(dir, "info --json", flash);
    cr_assert_eq(r.status, 0, "info: exit %d\n%s", r.status, r.err);
    o = doc();
    cr_expect_str_eq(str(o, "chip"), "ESP32");
    json_object_put(o);

    char args[512];
    snprintf(args, sizeof args, "flash --json 0x10000 '%s'", image);
    run_with_link(dir, args, flash);
    cr_assert_eq(r.status, 0, "flash: exit %d\n%s", r.status, r.err);
    o = doc();
    cr_expect_str_eq(str(o, "result"), "ok");
    json_object_put(o);

    run_with_link(dir, "erase --json --region 0x200000 4K", flash);
    cr_assert_eq(r.status, 0, "erase: exit %d\n%s", r.status, r.err);

    snprintf(args, sizeof args, "read --json 0x10000 4K '%s'", scratch_path("out.bin"));
    run_with_link(dir, args, flash);
    cr_assert_eq(r.status, 0, "read: exit %d\n%s", r.status, r.err);
}

Test(port_links, by_id_for_every_command, .init = make_dir, .fini = scratch_remove)
{
    every_command("by-id");
}

Test(port_links, by_path_for_every_command, .init = make_dir, .fini = scratch_remove)
{
    every_command("by-path");
}
