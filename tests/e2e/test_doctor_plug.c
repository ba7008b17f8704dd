/* Plugged in or not: espsim --plug-at MS puts the board on USB MS ms after the command
 * starts (never: not at all), and `--wait SECONDS` (the doctor's default on a terminal)
 * watches for it. The three outcomes, each its own story: nothing appeared on USB
 * (device.nothing-appeared), a bridge's USB device without a serial port (the driver
 * findings), a port (the normal run on it: the doctor's verdict, a verified flash, info).
 * Without --wait and without a terminal nothing is waited for, as before. */
#include "doctor_e2e.h"
#include "e2e_dir.h"
#include "e2e_tty.h"

#include <sys/stat.h>

/* Late enough that the command has looked, and found nothing, long before. */
#define PLUG_MS "2500"

/* ---- the doctor ---------------------------------------------------------------------- */

Test(plug_doctor, a_board_plugged_in_while_it_waits_is_examined)
{
    struct doctor_run run = { .sim = LIST("--fast", "--plug-at", PLUG_MS, "--firmware",
                                          "micropython"),
                              .args = LIST("--wait", "30") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("plugged in late", &run, &want);
    cr_assert_str_eq(doctor_verdict(doc, "port"), "/dev/ttyUSB0");
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP32");
    cr_expect(strstr(doctor_text.err, "waiting up to 30 s for a board to be plugged in") !=
              NULL, "no word of the wait:\n%s", doctor_text.err);
    cr_expect_lt(doctor_text.seconds, 25, "it waited on after the board came (%.1f s)",
                 doctor_text.seconds);
    json_object_put(doc);
}

Test(plug_doctor, nothing_appears_on_usb)
{
    struct doctor_run run = { .sim = LIST("--fast", "--plug-at", "never"),
                              .args = LIST("--wait", "2") };
    struct doctor_want want = { .exit = 4, .problem = "device.nothing-appeared",
                                .fix_names = LIST("cable known to carry data",
                                                  "another USB port") };
    json_object *doc = doctor_check("never plugged in", &run, &want);
    const char *evidence = doctor_str(doctor_finding(doc, "device.nothing-appeared"),
                                      "evidence");
    cr_expect(strstr(evidence, "watched USB for 2 s") != NULL, "%s", evidence);
    cr_expect_null(doctor_finding(doc, "device.none"), "one finding says it, not two");
    json_object_put(doc);
}

Test(plug_doctor, a_usb_device_without_a_serial_port_is_a_driver_problem)
{
    /* The wait ends soon after the device comes without its port, not after 60 s (the
     * run's own limit is 40). */
    struct doctor_run run = { .sim = LIST("--fast", "--plug-at", PLUG_MS, "--driver", "none"),
                              .args = LIST("--wait", "60") };
    struct doctor_want want = { .exit = 7, .problem = "driver.missing",
                                .fix_names = LIST("modprobe cp210x") };
    json_object *doc = doctor_check("no driver", &run, &want);
    json_object *f = doctor_expect_finding(doc, "device.no-tty", "warn");
    const char *evidence = doctor_str(f, "evidence");
    cr_expect(strstr(evidence, "10c4:ea60") && strstr(evidence, "into the wait"), "%s",
              evidence);
    json_object_put(doc);
}

Test(plug_doctor, without_a_terminal_or_wait_nothing_is_waited_for)
{
    struct doctor_run run = { .sim = LIST("--fast", "--plug-at", "5000") };
    struct doctor_want want = { .exit = 4, .problem = "device.none",
                                .fix_names = LIST("data-capable USB cable") };
    json_object *doc = doctor_check("no wait", &run, &want);
    cr_expect_lt(doctor_text.seconds, 4.5, "it waited (%.1f s)", doctor_text.seconds);
    json_object_put(doc);
}

/* On a terminal the doctor waits by itself, counting down, and Ctrl-C stops it (130). */
static struct e2e_tty t;

static void doctor_on_tty(const char *plug_at)
{
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--plug-at", plug_at, "--firmware",
                           "micropython", "--", e2e_bin("espdoctor"), NULL };
    e2e_tty_run(&t, argv, 60);
}

Test(plug_terminal, the_doctor_waits_for_the_board_by_itself)
{
    t = (struct e2e_tty){ .env = LIST("TERM=dumb") };
    doctor_on_tty(PLUG_MS);
    cr_assert_eq(t.status, 0, "exit %d:\n%s", t.status, t.out);
    cr_expect(strstr(t.out, "Waiting for the board to be plugged in: 30 s left (Ctrl-C "
                            "stops)") != NULL, "no countdown:\n%s", t.out);
    cr_expect(strstr(e2e_flat(t.out), "Ready: ESP32 on /dev/ttyUSB0") != NULL, "%s", t.out);
}

Test(plug_terminal, ctrl_c_stops_the_wait_with_130)
{
    t = (struct e2e_tty){ .env = LIST("TERM=dumb"), .question = "s left (Ctrl-C stops)",
                          .answers = LIST("\003") };
    doctor_on_tty("never");
    cr_assert_eq(t.status, 130, "exit %d:\n%s", t.status, t.out);
    cr_expect_null(strstr(t.out, "Problem:"), "it went on after Ctrl-C:\n%s", t.out);
}

/* ---- flash and info ---------------------------------------------------------------- */

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("plug");
}

static void run_sim(const char *plug_at, const char *flash, const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--fast";
    argv[n++] = "--plug-at";
    argv[n++] = plug_at;
    argv[n++] = "--flash";
    argv[n++] = flash;
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, 90);
}

static const char *app_image(void)
{
    const char *out = scratch_path("app.bin");
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "app", "--size",
                           "64K", "-o", out, NULL };
    struct e2e_result *m = malloc(sizeof *m);
    e2e_run(m, argv, 60);
    cr_assert_eq(m->status, 0, "mkimage failed: %s", m->err);
    free(m);
    return out;
}

static bool flash_holds(const char *flash, const char *file, long addr)
{
    FILE *a = fopen(flash, "rb"), *b = fopen(file, "rb");
    cr_assert(a && b);
    fseek(a, addr, SEEK_SET);
    bool same = true;
    for (int x, y; (y = fgetc(b)) != EOF;)
        if ((x = fgetc(a)) != y) {
            same = false;
            break;
        }
    fclose(a);
    fclose(b);
    return same;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

Test(plug_flash, flash_waits_for_the_board_then_writes_and_verifies, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = app_image(), *flash = scratch_path("flash.bin");
    run_sim(PLUG_MS, flash, LIST("flash", "--wait", "30", "--json", "--no-stub", img));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = e2e_json_doc(r.out);
    cr_assert_not_null(o, "no JSON:\n%s", r.out);
    cr_assert_str_eq(json_object_get_string(member(o, "result")), "ok");
    json_object *reg = json_object_array_get_idx(member(o, "regions"), 0);
    cr_assert_not_null(reg);
    cr_assert_eq(json_object_get_int64(member(reg, "address")), 0x10000);
    cr_assert(json_object_get_boolean(member(reg, "verified")));
    json_object_put(o);
    cr_assert(flash_holds(flash, img, 0x10000), "the image is not byte for byte at 0x10000");
}

Test(plug_flash, flash_says_nothing_appeared_and_writes_nothing, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = app_image(), *flash = scratch_path("flash.bin");
    run_sim("never", flash, LIST("flash", "--wait", "2", img));
    cr_assert_eq(r.status, 4, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(strstr(e2e_flat(r.err), "nothing was plugged in on USB in 2 s") != NULL, "%s",
              r.err);
    struct stat st;
    cr_expect(stat(flash, &st) != 0 || !flash_holds(flash, img, 0x10000), "it was written");
}

Test(plug_flash, info_waits_for_the_board, .init = make_dir, .fini = scratch_remove)
{
    run_sim(PLUG_MS, scratch_path("flash.bin"), LIST("info", "--wait", "30"));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "ESP32") != NULL, "%s", r.out);
}

/* ---- wrong options --------------------------------------------------------------------- */

Test(plug_options, bad_waits_are_usage_errors)
{
    const char *const *cases[] = {
        LIST("--wait", "soon"),
        LIST("--wait", "-3"),
        LIST("list", "--wait", "5"),                    /* list looks, it does not wait */
        LIST("flash", "--all", "--wait", "5", "fw.bin"),   /* one board at a time */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[8] = { e2e_bin("espdoctor") };
        size_t n = 1;
        for (size_t k = 0; cases[i][k]; k++)
            argv[n++] = cases[i][k];
        argv[n] = NULL;
        e2e_run(&r, argv, 20);
        cr_expect_eq(r.status, 2, "case %zu: exit %d\n%s", i, r.status, r.err);
        cr_expect(strstr(r.err, "--wait") != NULL || strstr(r.err, "wait") != NULL,
                  "case %zu does not name --wait: %s", i, r.err);
    }
}
