/* What users' boards do that no cable or driver explains (issue 11, item 7): a strapping
 * pin held high (ESP32 GPIO12: the flash gets 1.8 V and browns out; ESP8266 GPIO15: SDIO
 * boot), a flash chip that does not answer, Secure Download Mode and flash encryption.
 * The doctor names the pin, the chip or the eFuse and its fix; flash, erase and read
 * refuse a silent flash chip instead of failing halfway. Real binaries under espsim
 * (--strap-high, --flash-silent, --secure-download, --flash-encrypted). */
#include "doctor_e2e.h"
#include "e2e_dir.h"

#include <sys/stat.h>

#define FLASH_LIMIT_S 60

static void make_dir(void)
{
    scratch_make("doctor_hw");
}

/* GPIO12 high: "flash read err, 1000" at boot:0x33 in a loop. The headline is the pin
 * (with the eFuse command), not a crash loop that new firmware would fix. */
Test(doctor_hardware, esp32_gpio12_high_is_the_strapping_pin)
{
    struct doctor_run run = { .sim = LIST("--strap-high", "12") };
    struct doctor_want want = { .exit = 7, .problem = "boot.strapping",
                                .fix_names = LIST("GPIO12", "pull-down",
                                                  "espefuse.py --port /dev/ttyUSB0 "
                                                  "set_flash_voltage 3.3V") };
    json_object *doc = doctor_check("gpio12 high", &run, &want);
    json_object *strap = doctor_finding(doc, "boot.strapping");
    const char *ev = doctor_str(strap, "evidence");
    cr_expect(strstr(ev, "boot:0x33") && strstr(ev, "GPIO12") && strstr(ev, "1.8 V") &&
              strstr(ev, "flash read err"), "%s", ev);
    cr_expect_null(doctor_finding(doc, "boot.crash-loop"), "a strap is no crash loop");
    /* The ROM loader still answers; the flash behind it does not, and says why. */
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    json_object *silent = doctor_expect_finding(doc, "flash.no-answer", "error");
    cr_expect(strstr(doctor_str(silent, "evidence"), "0xffffff") != NULL, "%s",
              doctor_str(silent, "evidence"));
    cr_expect(strstr(doctor_str(silent, "fix"), "GPIO12") != NULL, "%s",
              doctor_str(silent, "fix"));
    cr_expect(strstr(doctor_text.out, "micropython.org") == NULL,
              "no firmware download for a board whose pin is wrong:\n%s", doctor_text.out);
    json_object_put(doc);
}

/* GPIO15 high on an ESP8266: "boot mode:(7,x)", "waiting for host", no SYNC answer at any
 * reset. The pin is the problem, not the auto-reset circuit or the BOOT button. */
Test(doctor_hardware, esp8266_gpio15_high_is_the_strapping_pin)
{
    struct doctor_run run = { .sim = LIST("--chip", "esp8266", "--strap-high", "15") };
    struct doctor_want want = { .exit = 7, .problem = "boot.strapping",
                                .fix_names = LIST("GPIO15", "GND") };
    json_object *doc = doctor_check("gpio15 high", &run, &want);
    json_object *strap = doctor_finding(doc, "boot.strapping");
    const char *ev = doctor_str(strap, "evidence");
    cr_expect(strstr(ev, "boot mode:(7,") && strstr(ev, "SDIO"), "%s", ev);
    cr_expect_null(doctor_finding(doc, "reset.no-autoreset"),
                   "the ROM printed its banner at every reset: the auto-reset works");
    json_object *unreached = doctor_expect_finding(doc, "bootloader.unreached", "error");
    cr_expect(strstr(doctor_str(unreached, "fix"), "strapping") != NULL, "%s",
              doctor_str(unreached, "fix"));
    cr_expect(strstr(doctor_text.out, "never showed an ESP boot banner") == NULL, "%s",
              doctor_text.out);
    json_object_put(doc);
}

/* A flash chip that does not answer (JEDEC id ffffff): the doctor says so, and neither a
 * crash loop nor "no MicroPython" stands in for it. */
Test(doctor_hardware, silent_flash_chip_is_named)
{
    struct doctor_run run = { .sim = LIST("--flash-silent") };
    struct doctor_want want = { .exit = 7, .problem = "flash.no-answer",
                                .fix_names = LIST("GPIO6", "3.3 V") };
    json_object *doc = doctor_check("silent flash", &run, &want);
    json_object *f = doctor_finding(doc, "flash.no-answer");
    cr_expect(strstr(doctor_str(f, "evidence"), "JEDEC id reads 0xffffff") != NULL, "%s",
              doctor_str(f, "evidence"));
    cr_expect_null(doctor_finding(doc, "firmware.none"), "no firmware can be on it");
    cr_expect_null(doctor_finding(doc, "boot.crash-loop"));
    cr_expect_null(doctor_finding(doc, "boot.strapping"), "no strap is wrong here");
    json_object_put(doc);
}

static struct e2e_result r;

static const char *app_image(void)
{
    const char *out = scratch_path("app.bin");
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "merged", "--size",
                           "64K", "-o", out, NULL };
    e2e_run(&r, argv, FLASH_LIMIT_S);
    cr_assert_eq(r.status, 0, "mkimage: %s", r.err);
    return out;
}

/* espsim --flash-silent [--flash FILE] -- espdoctor --json ARGS...: the refusal. */
static void expect_refusal(const char *what, const char *const *args)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--flash-silent";
    argv[n++] = "--fast";
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    argv[n++] = "--json";
    for (size_t i = 0; args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, FLASH_LIMIT_S);
    cr_assert_eq(r.status, 1, "%s: exit %d\n%s\n%s", what, r.status, r.out, r.err);
    json_object *doc = json_tokener_parse(r.out), *err, *id, *msg;
    cr_assert_not_null(doc, "%s: not one JSON document:\n%s", what, r.out);
    cr_assert(json_object_object_get_ex(doc, "error", &err) && err, "%s: %s", what, r.out);
    cr_assert(json_object_object_get_ex(err, "id", &id), "%s: %s", what, r.out);
    cr_expect_str_eq(json_object_get_string(id), "flash.no-answer", "%s: %s", what, r.out);
    cr_assert(json_object_object_get_ex(err, "message", &msg));
    cr_expect(strstr(json_object_get_string(msg), "0xffffff") &&
              strstr(json_object_get_string(msg), "Nothing was written"), "%s: %s", what,
              json_object_get_string(msg));
    json_object_put(doc);
}

Test(doctor_hardware, flash_erase_read_refuse_a_silent_flash_chip, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = app_image();
    expect_refusal("flash", LIST("flash", img));
    expect_refusal("erase", LIST("erase"));
    const char *out = scratch_path("read.bin");
    expect_refusal("read", LIST("read", "0", "4096", out));
    struct stat st;
    cr_expect(stat(out, &st) != 0 || st.st_size == 0,
              "read left %lld bytes of a flash chip that does not answer",
              (long long)st.st_size);
}

/* Secure Download Mode (GET_SECURITY_INFO's flags, bit 2): the board is usable, and the
 * doctor says what cannot be done there. */
Test(doctor_hardware, secure_download_mode_is_explained)
{
    struct doctor_run run = { .sim = LIST("--chip", "esp32s3", "--secure-download",
                                          "--firmware", "app") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("secure download", &run, &want);
    json_object *f = doctor_expect_finding(doc, "security.secure-download", "warn");
    cr_expect(strstr(doctor_str(f, "evidence"), "flags 0x00000004") != NULL, "%s",
              doctor_str(f, "evidence"));
    const char *fix = doctor_str(f, "fix");
    cr_expect(fix && strstr(fix, "without a stub") && strstr(fix, "Reading the flash"),
              "%s", fix);
    cr_expect_null(doctor_finding(doc, "security.flash-encrypted"));
    json_object_put(doc);
}

/* Flash encryption, from GET_SECURITY_INFO's crypt counter (ESP32-C3) and from the eFuse
 * word on the ESP32, whose ROM has no GET_SECURITY_INFO. A plain download will not boot:
 * the firmware fix says so. */
static void expect_encryption(const char *name, const char *const *sim)
{
    struct doctor_run run = { .sim = sim };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check(name, &run, &want);
    json_object *f = doctor_expect_finding(doc, "security.flash-encrypted", "warn");
    cr_expect(strstr(doctor_str(f, "evidence"), "crypt counter is 0x01") != NULL, "%s: %s",
              name, doctor_str(f, "evidence"));
    cr_expect(strstr(doctor_str(f, "fix"), "will not boot") != NULL, "%s", name);
    json_object *none = doctor_expect_finding(doc, "firmware.none", "warn");
    cr_expect(strstr(doctor_str(none, "fix"), "encrypted for this chip") != NULL, "%s: %s",
              name, doctor_str(none, "fix"));
    cr_expect_null(doctor_finding(doc, "security.secure-download"));
    json_object_put(doc);
}

Test(doctor_hardware, flash_encryption_is_explained)
{
    expect_encryption("encrypted c3", LIST("--chip", "esp32c3", "--flash-encrypted",
                                           "--firmware", "app"));
    expect_encryption("encrypted esp32", LIST("--flash-encrypted", "--firmware", "app"));
}

/* A board without either: no security finding at all (the checks cannot always fire). */
Test(doctor_hardware, plain_board_has_no_security_findings)
{
    struct doctor_run run = { .sim = LIST("--chip", "esp32c3", "--firmware", "app") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("plain c3", &run, &want);
    cr_expect_null(doctor_finding(doc, "security.secure-download"));
    cr_expect_null(doctor_finding(doc, "security.flash-encrypted"));
    cr_expect_null(doctor_finding(doc, "flash.no-answer"));
    cr_expect_null(doctor_finding(doc, "boot.strapping"));
    json_object_put(doc);
}

/* A counterfeit flash chip: its JEDEC id claims 16 MiB, its array holds 4 MiB and the
 * address wraps around there. Found read-only (the first 32 KiB repeat at 4 MiB). */
Test(doctor_hardware, fake_flash_size_is_found_by_its_wrap_around)
{
    struct doctor_run run = { .sim = LIST("--flash-size", "16MB", "--flash-real-size", "4MB",
                                          "--firmware", "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("fake flash size", &run, &want);
    json_object *f = doctor_expect_finding(doc, "flash.fake-size", "warn");
    const char *ev = doctor_str(f, "evidence");
    cr_expect(strstr(ev, "claims 16 MiB") && strstr(ev, "repeats every 4 MiB") &&
              strstr(ev, "0x400000"), "%s", ev);
    cr_expect(strstr(doctor_str(f, "fix"), "4 MiB of flash") != NULL, "%s",
              doctor_str(f, "fix"));
    json_object_put(doc);
}

/* A genuine 16 MiB chip with the same firmware does not wrap: no finding. */
Test(doctor_hardware, genuine_flash_size_is_not_called_fake)
{
    struct doctor_run run = { .sim = LIST("--flash-size", "16MB", "--firmware",
                                          "micropython") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("genuine 16 MiB", &run, &want);
    cr_expect_null(doctor_finding(doc, "flash.fake-size"));
    json_object_put(doc);
}

/* flash on the counterfeit chip: sizes are checked against the real 4 MiB, so an image
 * at 4 MiB (inside what the id claims) is refused, and the note says why. */
Test(doctor_hardware, flash_refuses_past_the_real_size, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = scratch_path("app.bin");
    const char *mk[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "app", "--size",
                         "64K", "-o", img, NULL };
    e2e_run(&r, mk, FLASH_LIMIT_S);
    cr_assert_eq(r.status, 0, "mkimage: %s", r.err);
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--flash-size", "16MB",
                           "--flash-real-size", "4MB", "--firmware", "micropython", "--",
                           e2e_bin("espdoctor"), "--json", "flash", "0x400000", img, NULL };
    e2e_run(&r, argv, FLASH_LIMIT_S);
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *doc = json_tokener_parse(r.out), *v;
    cr_assert_not_null(doc, "%s", r.out);
    cr_assert(json_object_object_get_ex(doc, "flash_size", &v));
    cr_expect_eq(json_object_get_int64(v), 4 << 20, "%s", r.out);
    cr_assert(json_object_object_get_ex(doc, "result", &v));
    cr_expect_str_eq(json_object_get_string(v), "refused");
    cr_assert(json_object_object_get_ex(doc, "notes", &v));
    cr_expect(strstr(json_object_to_json_string(v), "wraps around at 4096 KiB") != NULL,
              "%s", json_object_to_json_string(v));
    json_object_put(doc);
}

/* The chip's own USB (an S3's TinyUSB port) in a crash loop: the port is there for a
 * moment after every start and gone at the next reset. The doctor watches, tells it from
 * an unplugged cable, and says how to reach download mode by hand. */
Test(doctor_hardware, native_usb_in_a_reset_loop_is_not_an_unplugged_cable)
{
    struct doctor_run run = { .sim = LIST("--bridge", "usb-otg", "--firmware", "crash",
                                          "--usb-enum-ms", "20") };
    struct doctor_want want = { .exit = 7, .problem = "port.reset-loop",
                                .fix_names = LIST("hold BOOT", "tap RST") };
    json_object *doc = doctor_check("native usb reset loop", &run, &want);
    json_object *f = doctor_finding(doc, "port.reset-loop");
    cr_expect(strstr(doctor_str(f, "evidence"), "303a:4001") != NULL, "%s",
              doctor_str(f, "evidence"));
    cr_expect_null(doctor_finding(doc, "device.none"), "the board is plugged in");
    cr_expect(strstr(doctor_text.out, "charge-only") == NULL, "%s", doctor_text.out);
    json_object_put(doc);
}

/* The same board whose firmware never brings USB back: nothing ever appears, which is
 * what an unplugged cable looks like, and the doctor says that instead. */
Test(doctor_hardware, a_port_that_never_appears_is_no_reset_loop)
{
    struct doctor_run run = { .sim = LIST("--bridge", "usb-otg", "--firmware", "app",
                                          "--usb-app", "none") };
    struct doctor_want want = { .exit = 4, .problem = "device.none" };
    json_object *doc = doctor_check("native usb gone", &run, &want);
    cr_expect_null(doctor_finding(doc, "port.reset-loop"));
    json_object_put(doc);
}

/* A genuine chip whose content repeats everywhere (all zeros here, as a test pattern or a
 * zeroed image would) wraps nowhere: it is no fake, and nothing is refused for it. */
Test(doctor_hardware, repeating_content_is_not_a_fake_size, .init = make_dir,
     .fini = scratch_remove)
{
    const char *flash = scratch_path("zeros.bin");
    FILE *f = fopen(flash, "wb");
    cr_assert_not_null(f);
    for (unsigned i = 0; i < (4u << 20); i++)
        fputc(0, f);
    cr_assert_eq(fclose(f), 0);
    struct doctor_run run = { .sim = LIST("--flash", flash) };
    doctor_exec(&doctor_json, &run, true);
    json_object *doc = doctor_parse_first(doctor_json.out);
    cr_assert_not_null(doc, "%s\n%s", doctor_json.out, doctor_json.err);
    cr_expect_null(doctor_finding(doc, "flash.fake-size"), "%s", doctor_json.out);
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    json_object_put(doc);
}
