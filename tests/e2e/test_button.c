/* The button watch: on a board whose DTR/RTS do not reach EN/GPIO0 (espsim
 * --no-autoreset), the command asks for a press of BOOT and EN and carries on the moment
 * the ROM's download banner appears (espsim --press-boot-at: a person's press on the
 * board's clock), or ends with the finding when nobody presses. */
#include "e2e_sim.h"
#include "e2e_tty.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP_ADDR 0x10000u
#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("button");
}

/* The press comes well after the reset ladder gave up (about 2 s in on an idle machine),
 * inside a wait long enough for a slow one. */
static const char *press_at(void)
{
    static char at[32];
    snprintf(at, sizeof at, "%.0f", 5000 * e2e_time_scale());
    return at;
}

static const char *long_wait(void)
{
    static char s[32];
    snprintf(s, sizeof s, "%.0f", 60 * e2e_time_scale());
    return s;
}

static json_object *field(json_object *o, const char *key)
{
    return sim_get(o, key);
}

static bool has_finding(json_object *doc, const char *id)
{
    json_object *list = field(doc, "findings");
    for (size_t i = 0; i < json_object_array_length(list); i++)
        if (strcmp(json_object_get_string(field(json_object_array_get_idx(list, i), "id")),
                   id) == 0)
            return true;
    return false;
}

Test(button, doctor_reaches_the_bootloader_by_a_press, .init = make_dir,
     .fini = scratch_remove)
{
    sim_run(&r, (const char *[]){ "--fast", "--no-autoreset", "--firmware", "app",
                                  "--press-boot-at", press_at(), NULL },
            (const char *[]){ "--json", "--button-wait", long_wait(), NULL });
    json_object *doc = sim_json(&r);
    json_object *button = field(doc, "button");
    cr_assert_not_null(button, "no button watch:\n%s", r.err);
    cr_assert(json_object_get_boolean(field(button, "pressed")), "%s\n%s", r.out, r.err);
    cr_assert(json_object_get_boolean(field(button, "banner_seen")), "%s", r.out);
    /* A CP2102 and a chip not heard yet: either board's names. */
    cr_expect_str_eq(json_object_get_string(field(button, "boot")), "BOOT (FLASH on NodeMCU)");
    cr_assert_str_eq(json_object_get_string(field(field(doc, "verdict"), "chip")), "ESP32");
    cr_assert(has_finding(doc, "bootloader.ok"), "%s", r.out);
    cr_assert(has_finding(doc, "reset.no-autoreset"), "the missing auto-reset is still said");
    /* The words, as plain lines: no countdown rewritten with \r off a terminal. */
    cr_assert_not_null(strstr(e2e_flat(r.err), "Hold BOOT (FLASH on NodeMCU), press and "
                              "release EN (RST on NodeMCU)"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "The download banner appeared"), "%s", r.err);
    cr_assert_null(strchr(r.err, '\r'), "a countdown off a terminal:\n%s", r.err);
    json_object_put(doc);
}

Test(button, doctor_without_a_press_ends_with_the_finding, .init = make_dir,
     .fini = scratch_remove)
{
    sim_run(&r, (const char *[]){ "--fast", "--no-autoreset", "--firmware", "app", NULL },
            (const char *[]){ "--json", "--button-wait", "2", NULL });
    cr_assert_eq(r.status, 7, "exit %d\n%s", r.status, r.err);
    json_object *doc = sim_json(&r);
    cr_assert_str_eq(json_object_get_string(field(field(doc, "verdict"), "problem")),
                     "reset.no-autoreset");
    json_object *button = field(doc, "button");
    cr_assert_not_null(button, "the watch did not run:\n%s", r.err);
    cr_assert(!json_object_get_boolean(field(button, "pressed")));
    cr_assert_geq(json_object_get_int(field(button, "waited_ms")), 2000);
    cr_assert(!has_finding(doc, "bootloader.ok"));
    cr_assert_not_null(strstr(r.err, "were not pressed in time"), "%s", r.err);
    json_object_put(doc);
}

Test(button, flash_writes_and_verifies_after_a_press, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind",
                                  "app", "--size", "64K", NULL });
    const char *flash = scratch_path("board.flash");
    sim_run(&r, (const char *[]){ "--fast", "--no-autoreset", "--firmware", "app", "--flash",
                                  flash, "--press-boot-at", press_at(), NULL },
            (const char *[]){ "flash", "--json", "--button-wait", long_wait(), "0x10000", img,
                              NULL });
    cr_assert_eq(r.status, 0, "flash failed (exit %d):\n%s", r.status, r.err);
    json_object *o = sim_json(&r);
    cr_expect_str_eq(json_object_get_string(sim_get(o, "result")), "ok");
    json_object *region = json_object_array_get_idx(sim_get(o, "regions"), 0);
    cr_assert_not_null(region);
    cr_assert(json_object_get_boolean(sim_get(region, "verified")));
    cr_assert(sim_flash_holds(flash, img, APP_ADDR), "the flash does not hold the image");
    cr_assert_not_null(strstr(r.err, "Download mode reached by the button press"), "%s", r.err);
    /* DTR/RTS cannot restart it into the new firmware: the person is told which button. */
    const char *booted = json_object_get_string(sim_get(sim_get(o, "firmware"), "description"));
    cr_assert_not_null(strstr(booted, "press EN (RST on NodeMCU) to run the new firmware"),
                       "%s", booted);
    json_object_put(o);
}

Test(button, flash_without_a_press_writes_nothing, .init = make_dir, .fini = scratch_remove)
{
    const char *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind",
                                  "app", "--size", "64K", NULL });
    const char *flash = scratch_path("board.flash");
    sim_run(&r, (const char *[]){ "--fast", "--no-autoreset", "--firmware", "app", "--flash",
                                  flash, NULL },
            (const char *[]){ "flash", "--button-wait", "2", "0x10000", img, NULL });
    cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
    cr_assert_not_null(strstr(r.err, "Watching the port for 2 s"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "were not pressed in time"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "could not reach the ROM bootloader"), "%s", r.err);
    cr_assert(!sim_flash_holds(flash, img, APP_ADDR), "written without download mode");
}

/* On a terminal: one countdown line rewritten in place, Enter tries again and starts the
 * wait over, and the wait still ends with the finding. */
Test(button, on_a_terminal_a_countdown_and_enter_tries_again, .init = make_dir,
     .fini = scratch_remove)
{
    static struct e2e_tty t;
    t = (struct e2e_tty){ .question = "Watching the port for", .answers = LIST(""),
                          .env = LIST("TERM=dumb") };
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--no-autoreset", "--firmware", "app",
                           "--", e2e_bin("espdoctor"), "--button-wait", "3", NULL };
    e2e_tty_run(&t, argv, SIM_LIMIT_S);
    cr_assert_eq(t.status, 7, "exit %d\n%s", t.status, t.out);
    cr_assert_not_null(strstr(t.out, "\r\033[K    3 s left (Enter: try again, Ctrl-C: stop)"),
                       "no countdown:\n%s", t.out);
    cr_assert_not_null(strstr(t.out, "Trying again at once; the wait starts over."), "%s", t.out);
    /* The wait started over: three seconds were shown twice. */
    cr_assert_geq(e2e_tty_count(t.out, "    3 s left"), 2, "%s", t.out);
    cr_assert_not_null(strstr(t.out, "were not pressed in time"), "%s", t.out);
}

/* espsim ... -- espdoctor ARGS... with stderr in a file; once it shows `needle`, SIGINT to
 * espsim, which hands it on (once: a Ctrl-C on a terminal would reach both, and espdoctor
 * takes a second one as "stop now"). */
static void run_and_interrupt(const char *const *argv, const char *needle)
{
    const char *out = scratch_path("stdout.txt"), *err = scratch_path("stderr.txt");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        if (!freopen("/dev/null", "r", stdin))
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    double limit_s = SIM_LIMIT_S * e2e_time_scale();
    for (unsigned waited = 0;; waited++) {
        char *text = sim_slurp(err, NULL);
        bool shown = text && strstr(text, needle);
        free(text);
        if (shown)
            break;
        if (waited > limit_s * 50 || waitpid(pid, &st, WNOHANG) != 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            cr_assert_fail("\"%s\" never showed on stderr", needle);
        }
        usleep(20000);
    }
    usleep(300000);   /* into the wait, not at its first word */
    kill(pid, SIGINT);
    for (unsigned waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited++) {
        if (waited > limit_s * 10) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            cr_assert_fail("espdoctor did not stop after SIGINT");
        }
        usleep(100000);
    }
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    char *text = sim_slurp(err, NULL);
    snprintf(r.err, sizeof r.err, "%s", text ? text : "");
    free(text);
}

/* Ctrl-C during the wait stops the command as a signal does (130), not the board's fault,
 * and long before the wait is over. */
Test(button, ctrl_c_stops_the_wait, .init = make_dir, .fini = scratch_remove)
{
    const char *img = sim_mkimage("app.bin", (const char *[]){ "--chip", "esp32", "--kind",
                                  "app", "--size", "64K", NULL });
    const char *flash = scratch_path("board.flash");
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--no-autoreset", "--firmware", "app",
                           "--flash", flash, "--", e2e_bin("espdoctor"), "flash",
                           "--button-wait", "600", "0x10000", img, NULL };
    run_and_interrupt(argv, "Watching the port for 600 s");
    cr_assert_eq(r.status, 130, "exit %d\n%s", r.status, r.err);
    cr_assert_not_null(strstr(r.err, "interrupted (SIGINT)"), "%s", r.err);
    cr_assert_null(strstr(r.err, "could not reach"), "blamed on the board:\n%s", r.err);
    cr_assert(!sim_flash_holds(flash, img, APP_ADDR), "written after a Ctrl-C");
}

/* info and read connect the same way: a press, then the chip and its flash. */
Test(button, info_and_read_carry_on_after_a_press, .init = make_dir, .fini = scratch_remove)
{
    sim_run(&r, (const char *[]){ "--fast", "--no-autoreset", "--firmware", "app", "--mac",
                                  "24:0a:c4:aa:bb:31", "--press-boot-at", press_at(), NULL },
            (const char *[]){ "info", "--json", "--button-wait", long_wait(), NULL });
    cr_assert_eq(r.status, 0, "info failed (exit %d):\n%s", r.status, r.err);
    cr_assert_not_null(strstr(r.err, "Download mode reached by the button press"), "%s", r.err);
    json_object *o = sim_json(&r);
    cr_assert_str_eq(json_object_get_string(sim_get(o, "chip")), "ESP32");
    cr_assert_str_eq(json_object_get_string(sim_get(o, "mac")), "24:0a:c4:aa:bb:31");
    json_object_put(o);

    const char *flash = scratch_path("board.flash");
    const char *out = scratch_path("read.bin");
    sim_run(&r, (const char *[]){ "--fast", "--no-autoreset", "--firmware", "app", "--flash",
                                  flash, "--press-boot-at", press_at(), NULL },
            (const char *[]){ "read", "--button-wait", long_wait(), "0x10000", "4K", out,
                              NULL });
    cr_assert_eq(r.status, 0, "read failed (exit %d):\n%s", r.status, r.err);
    cr_assert_not_null(strstr(r.err, "Download mode reached by the button press"), "%s", r.err);
    size_t nf, no;
    char *f = sim_slurp(flash, &nf), *got = sim_slurp(out, &no);
    cr_assert(f && got && no == 4096 && nf >= 0x11000, "read %zu bytes", no);
    cr_assert(memcmp(f + 0x10000, got, 4096) == 0, "read is not the flash's bytes");
    free(f);
    free(got);
}
