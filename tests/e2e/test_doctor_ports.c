/* espdoctor [doctor] end to end, which port and what comes out: no board, a path that does
 * not exist, -p VID:PID and -p serial=..., a board across the network (RFC 2217), usage
 * errors, colour only on a terminal, and --flash FILE (the hand-off to the flasher, and
 * the refusal to write when the board has a problem). */
#include "doctor_e2e.h"
#include "e2e_dir.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>

/* ---- choosing the port --------------------------------------------------------------- */

Test(doctor_ports, nothing_plugged_in)
{
    struct doctor_run run = { .sim = NULL };
    struct doctor_want want = { .exit = 4, .problem = "device.none",
                                .fix_names = LIST("data-capable USB cable") };
    json_object *doc = doctor_check("no board", &run, &want);
    cr_assert_eq(json_object_array_length(doctor_get(doc, "ports")), 0);
    cr_assert_null(doctor_verdict(doc, "port"));
    json_object_put(doc);
}

Test(doctor_ports, two_boards_are_each_checked_and_one_must_be_named)
{
    struct doctor_run run = { .sim = LIST("--boards", "2", "--firmware", "app") };
    struct doctor_want want = { .exit = 2 };
    json_object *doc = doctor_check("two boards", &run, &want);
    cr_assert_eq(json_object_array_length(doctor_get(doc, "ports")), 2);
    cr_assert_null(doctor_verdict(doc, "port"), "no one port was examined");
    const char *evidence = doctor_str(doctor_finding(doc, "device.several"), "evidence");
    cr_expect(strstr(evidence, "/dev/ttyUSB0") && strstr(evidence, "/dev/ttyUSB1"), "%s",
              evidence);
    /* The system checks ran for both: a driver finding each. */
    json_object *findings = doctor_get(doc, "findings");
    size_t drivers = 0;
    for (size_t i = 0; i < json_object_array_length(findings); i++)
        drivers += strcmp(doctor_str(json_object_array_get_idx(findings, i), "id"),
                          "driver.ok") == 0;
    cr_expect_eq(drivers, 2, "%zu driver.ok findings, wanted one per board", drivers);
    cr_expect(strstr(doctor_text.out, "\n      espdoctor -p /dev/ttyUSB0\n") != NULL &&
              strstr(doctor_text.out, "\n      espdoctor -p /dev/ttyUSB1\n") != NULL,
              "a command of its own for each board:\n%s", doctor_text.out);
    json_object_put(doc);
}

Test(doctor_ports, a_path_that_does_not_exist)
{
    struct doctor_run run = { .sim = LIST("--fast"), .args = LIST("-p", "/dev/ttyUSB9") };
    struct doctor_want want = { .exit = 4, .problem = "device.none",
                                .fix_names = LIST("espdoctor list") };
    json_object *doc = doctor_check("missing path", &run, &want);
    const char *evidence = doctor_str(doctor_finding(doc, "device.none"), "evidence");
    cr_expect(strstr(evidence, "/dev/ttyUSB9 does not exist") != NULL, "%s", evidence);
    json_object_put(doc);
}

Test(doctor_ports, vid_pid_selects_the_board)
{
    struct doctor_run run = { .sim = LIST("--firmware", "micropython"),
                              .args = LIST("-p", "10c4:ea60") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("-p VID:PID", &run, &want);
    cr_assert_str_eq(doctor_verdict(doc, "port"), "/dev/ttyUSB0");
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP32");
    json_object_put(doc);
}

Test(doctor_ports, serial_number_selects_the_board)
{
    struct doctor_run run = { .sim = LIST("--bridge", "ftdi", "--firmware", "micropython"),
                              .args = LIST("-p", "serial=A50285BI") };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("-p serial=", &run, &want);
    cr_assert_str_eq(doctor_verdict(doc, "port"), "/dev/ttyUSB0");
    cr_assert_str_eq(doctor_verdict(doc, "micropython"), "v1.24.0");
    json_object_put(doc);
}

Test(doctor_ports, a_serial_number_nobody_has_lists_the_boards)
{
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--", e2e_bin("espdoctor"), "-p",
                           "serial=NOPE123", NULL };
    e2e_run(&doctor_text, argv, DOCTOR_LIMIT_S);
    cr_assert_eq(doctor_text.status, 4, "exit %d\n%s%s", doctor_text.status, doctor_text.out,
                 doctor_text.err);
    cr_expect(strstr(doctor_text.err, "serial=NOPE123") != NULL, "%s", doctor_text.err);
    cr_expect(strstr(doctor_text.err, "/dev/ttyUSB0") != NULL, "the boards that are there: %s",
              doctor_text.err);
}

/* ---- usage --------------------------------------------------------------------------- */

Test(doctor_ports, usage_errors_exit_2)
{
    const char *const *cases[] = { LIST(e2e_bin("espdoctor"), "doctor", "extra"),
                                   LIST(e2e_bin("espdoctor"), "doctor", "--frobnicate"),
                                   LIST(e2e_bin("espdoctor"), "--baud", "fast") };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        e2e_run(&doctor_text, cases[i], 10);
        cr_expect_eq(doctor_text.status, 2, "%s %s: exit %d\n%s", cases[i][1], cases[i][2],
                     doctor_text.status, doctor_text.err);
        cr_expect(strstr(doctor_text.err, cases[i][2]) != NULL, "the message names '%s': %s",
                  cases[i][2], doctor_text.err);
        cr_expect_eq(doctor_text.out[0], '\0', "nothing on stdout: %s", doctor_text.out);
    }
}

/* ---- a board across the network ------------------------------------------------------ */

static pid_t server_pid;
static int server_out = -1;

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(-server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    if (server_out >= 0)
        close(server_out);
    server_out = -1;
}

/* espsim BOARD... --rfc2217 0 in the background; returns the TCP port it serves on. */
static unsigned serve_board(const char *const *board)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; board[i] && n < 20; i++)
        argv[n++] = board[i];
    argv[n++] = "--rfc2217";
    argv[n++] = "0";
    argv[n] = NULL;
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    server_pid = fork();
    cr_assert_geq(server_pid, 0);
    if (server_pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive a crashed test */
        dup2(p[1], 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    server_out = p[0];
    char said[2048] = "";
    size_t len = 0;
    const char *at = NULL;
    for (int waited = 0; !at && waited < 10000; waited += 50) {
        struct pollfd pfd = { server_out, POLLIN, 0 };
        if (poll(&pfd, 1, 50) > 0) {
            ssize_t got = read(server_out, said + len, sizeof said - 1 - len);
            if (got <= 0)
                break;
            len += (size_t)got;
            said[len] = '\0';
        }
        at = strstr(said, "rfc2217://127.0.0.1:");
        if (at && !strchr(at, '\n'))
            at = NULL;   /* the number may not be complete yet */
    }
    cr_assert_not_null(at, "espsim did not start serving: %s", said);
    unsigned port = (unsigned)atoi(at + strlen("rfc2217://127.0.0.1:"));
    cr_assert_gt(port, 0);
    return port;
}

Test(doctor_ports, rfc2217_board_across_the_network, .fini = stop_server)
{
    unsigned port = serve_board(LIST("--firmware", "micropython"));
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%u", port);
    struct doctor_run run = { .sim = NULL, .args = LIST("-p", url) };
    struct doctor_want want = { .exit = 0 };
    json_object *doc = doctor_check("rfc2217://", &run, &want);
    cr_assert_str_eq(doctor_verdict(doc, "port"), url);
    cr_assert_str_eq(doctor_verdict(doc, "chip"), "ESP32");
    cr_assert_str_eq(doctor_verdict(doc, "micropython"), "v1.24.0");
    doctor_expect_finding(doc, "bootloader.ok", "ok");
    json_object_put(doc);
}

/* ---- colour -------------------------------------------------------------------------- */

/* espsim ... -- espdoctor with stdout on a terminal; NO_COLOR set to no_color, or unset. */
static void run_on_terminal(const char *no_color, const char *const *doctor_args, char *out,
                            size_t len)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0);
    cr_assert(grantpt(master) == 0 && unlockpt(master) == 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    cr_assert_geq(slave, 0);
    const char *argv[16];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--firmware";
    argv[n++] = "brownout";   /* every tone: ok, info, warnings and errors */
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; doctor_args[i] && n < 15; i++)
        argv[n++] = doctor_args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        if (no_color)
            setenv("NO_COLOR", no_color, 1);
        else
            unsetenv("NO_COLOR");
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(slave, 1);
        dup2(null, 2);
        close(master);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(slave);
    size_t used = 0;
    for (int waited = 0; waited < DOCTOR_LIMIT_S * 1000; waited += 100) {
        struct pollfd pfd = { master, POLLIN, 0 };
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t got = read(master, out + used, len - 1 - used);
        if (got <= 0)
            break;   /* EIO: every writer closed the terminal */
        used += (size_t)got;
    }
    out[used] = '\0';
    close(master);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7, "exit %d:\n%s",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
    cr_assert(strstr(out, "[boot.brownout]") != NULL, "%s", out);
}

Test(doctor_ports, colour_only_on_a_terminal_and_never_with_no_color)
{
    static char out[65536];
    run_on_terminal(NULL, LIST("doctor"), out, sizeof out);
    cr_expect(strstr(out, "\033[") != NULL, "a terminal gets colour:\n%s", out);
    run_on_terminal("1", LIST("doctor"), out, sizeof out);
    cr_expect(strchr(out, '\033') == NULL, "NO_COLOR=1 still coloured:\n%s", out);
    run_on_terminal(NULL, LIST("doctor", "--no-color"), out, sizeof out);
    cr_expect(strchr(out, '\033') == NULL, "--no-color still coloured:\n%s", out);
    /* Not a terminal (a pipe): doctor_check asserts there is no escape code. */
    struct doctor_run run = { .sim = LIST("--firmware", "brownout") };
    struct doctor_want want = { .exit = 7, .problem = "boot.brownout" };
    json_object_put(doctor_check("pipe, no colour", &run, &want));
}

/* ---- --flash FILE -------------------------------------------------------------------- */


static void make_dir(void)
{
    scratch_make("doctor_flash");
}

/* A small MicroPython image for the ESP32, as esptool's merge_bin makes them (from 0x1000). */
static const char *micropython_image(void)
{
    const char *path = scratch_path("micropython.bin");
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "merged", "--size",
                           "64K", "--micropython", "v1.24.0", "-o", path, NULL };
    e2e_run(&doctor_json, argv, 30);
    cr_assert_eq(doctor_json.status, 0, "mkimage: %s", doctor_json.err);
    return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The board's flash holds the image at addr, byte for byte. */
static bool flash_holds(const char *flash, const char *image, size_t addr)
{
    size_t nf, ni;
    uint8_t *f = slurp(flash, &nf), *i = slurp(image, &ni);
    bool same = nf >= addr + ni && memcmp(f + addr, i, ni) == 0;
    free(f);
    free(i);
    return same;
}

/* The board as espsim left it when a command that did nothing ran on it. */
static const char *board_flash(const char *name, const char *firmware)
{
    const char *flash = scratch_path(name);
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--firmware", firmware, "--flash", flash,
                           "--", "true", NULL };
    e2e_run(&doctor_json, argv, 30);
    cr_assert_eq(doctor_json.status, 0, "espsim: %s", doctor_json.err);
    return flash;
}

/* espsim --fast --firmware FIRMWARE --flash FLASH -- espdoctor --flash IMAGE [--json] */
static void doctor_flash(struct e2e_result *r, const char *firmware, const char *flash,
                         const char *image, bool json)
{
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--firmware", firmware, "--flash", flash,
                           "--", e2e_bin("espdoctor"), "--flash", image,
                           json ? "--json" : NULL, NULL };
    e2e_run(r, argv, DOCTOR_LIMIT_S);
    fprintf(stderr, "[time] doctor --flash on %s firmware%s: %.2f s, exit %d\n", firmware,
            json ? " (--json)" : "", r->seconds, r->status);
}

Test(doctor_flash, a_ready_board_is_flashed_in_the_same_run, .init = make_dir,
     .fini = scratch_remove)
{
    const char *image = micropython_image();
    const char *flash = board_flash("flash.bin", "app");
    doctor_flash(&doctor_text, "app", flash, image, false);
    cr_assert_eq(doctor_text.status, 0, "exit %d\n%s\n%s", doctor_text.status, doctor_text.out,
                 doctor_text.err);
    const char *ready = strstr(doctor_text.out, "Ready: ESP32");
    const char *flashing = strstr(doctor_text.out, "Flashing ");
    cr_assert(ready && flashing && ready < flashing, "the verdict, then the flashing:\n%s",
              doctor_text.out);
    cr_expect(strstr(doctor_text.out, "MicroPython v1.24.0 is answering") != NULL, "%s",
              doctor_text.out);
    cr_assert(flash_holds(flash, image, 0x1000), "the image is not at 0x1000");
}

/* One document per run, after flash's progress events: flash's is the doctor's "flash". */
Test(doctor_flash, json_gives_the_verdict_and_the_flash_result_in_one_document,
     .init = make_dir, .fini = scratch_remove)
{
    const char *image = micropython_image();
    const char *flash = board_flash("flash.bin", "app");
    doctor_flash(&doctor_text, "app", flash, image, true);
    cr_assert_eq(doctor_text.status, 0, "exit %d\n%s\n%s", doctor_text.status, doctor_text.out,
                 doctor_text.err);
    char why[256];
    json_object *doc = e2e_json_sole_doc(doctor_text.out, why, sizeof why);
    cr_assert_not_null(doc, "%s\n%s", why, doctor_text.out);
    json_object *flashed = json_object_get(doctor_get(doc, "flash"));
    cr_assert_not_null(flashed, "no flash result in the doctor's document:\n%s",
                       doctor_text.out);
    json_object_object_del(doc, "flash");
    doctor_assert_shape(doc);
    cr_assert_str_eq(doctor_verdict(doc, "status"), "ready");
    cr_assert_str_eq(doctor_str(flashed, "result"), "ok");
    json_object_put(flashed);
    json_object_put(doc);
    cr_assert(flash_holds(flash, image, 0x1000), "the image is not at 0x1000");
}

/* Nothing bootable in flash: flashing is the fix, and the bootloader answers. */
Test(doctor_flash, a_blank_board_is_flashed_because_that_is_the_fix, .init = make_dir,
     .fini = scratch_remove)
{
    const char *image = micropython_image();
    const char *flash = board_flash("flash.bin", "blank");
    doctor_flash(&doctor_text, "blank", flash, image, false);
    cr_assert_eq(doctor_text.status, 0, "exit %d\n%s\n%s", doctor_text.status, doctor_text.out,
                 doctor_text.err);
    cr_expect(strstr(doctor_text.out, "[firmware.blank]") != NULL, "%s", doctor_text.out);
    cr_assert(flash_holds(flash, image, 0x1000), "the image is not at 0x1000");
}

Test(doctor_flash, a_board_with_a_problem_is_not_written, .init = make_dir, .fini = scratch_remove)
{
    const char *image = micropython_image();
    const char *flash = board_flash("flash.bin", "brownout");
    size_t before_len, after_len;
    uint8_t *before = slurp(flash, &before_len);
    doctor_flash(&doctor_text, "brownout", flash, image, false);
    cr_assert_eq(doctor_text.status, 7, "exit %d\n%s\n%s", doctor_text.status, doctor_text.out,
                 doctor_text.err);
    cr_expect(strstr(doctor_text.out, "[boot.brownout]") != NULL, "%s", doctor_text.out);
    cr_expect(strstr(doctor_text.err, "not flashing") != NULL, "%s", doctor_text.err);
    cr_expect(strstr(doctor_text.out, "Flashing ") == NULL, "%s", doctor_text.out);
    uint8_t *after = slurp(flash, &after_len);
    cr_assert(before_len == after_len && memcmp(before, after, before_len) == 0,
              "the flash changed although the doctor refused");
    free(before);
    free(after);
}
