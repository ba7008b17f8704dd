/* The configuration file through the real binary against espsim (whose CP2102 boards have
 * USB serial numbers 0001, 0002, ...): a flash writes the board's section; the next command
 * with several boards and no -p takes the one used last, and a flash without -b starts at
 * the rate the file remembers; a malformed file is one warning and the command succeeds;
 * --no-config reads and writes nothing; without $ESPDOCTOR_CONFIG the file is under
 * $XDG_CONFIG_HOME; flash --all remembers every board. Each test has its own file
 * (tests/run.sh sets none by default). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "e2e_dir.h"
#include "e2e_run.h"
#include "e2e_sim.h"

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define WARNING "warning: the configuration file"

static struct e2e_result r;
static const char *image, *config;

static void setup(void)
{
    scratch_make("config");
    image = sim_mkimage("mp.bin", LIST("--chip", "esp32", "--kind", "merged", "--size", "64K"));
    config = scratch_path("cfg/config");
    cr_assert_eq(setenv("ESPDOCTOR_CONFIG", config, 1), 0);
}

static void teardown(void)
{
    scratch_remove();
}

TestSuite(flash_config, .init = setup, .fini = teardown);

/* espsim --fast [--boards N] --flash FLASH -- espdoctor ARGS... */
static void run(unsigned boards, const char *const *args)
{
    char count[8];
    snprintf(count, sizeof count, "%u", boards);
    const char *const *sim = boards > 1 ? LIST("--fast", "--boards", count, "--flash",
                                               scratch_path("flash.bin"))
                                        : LIST("--fast", "--flash", scratch_path("flash.bin"));
    sim_run(&r, sim, args);
}

static char *text_of(const char *path)
{
    size_t len;
    char *text = sim_slurp(path, &len);
    cr_assert_not_null(text, "%s was not written\nstdout:\n%s\nstderr:\n%s", path, r.out, r.err);
    return text;
}

static void write_text(const char *path, const char *text)
{
    char dir[160];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdir(dir, 0700);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static long long baud_of(void)
{
    json_object *o = sim_json(&r);
    long long baud = json_object_get_int64(sim_get(o, "baud"));
    json_object_put(o);
    return baud;
}

static unsigned count(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

Test(flash_config, a_flash_remembers_the_board_and_the_next_command_takes_it)
{
    run(2, LIST("flash", "--json", "-p", "/dev/ttyUSB1", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    long long baud = baud_of();
    char *text = text_of(config);
    char section[160];
    snprintf(section, sizeof section, "[board 0002]\nport = /dev/ttyUSB1\nbaud = %lld\n", baud);
    cr_assert(strstr(text, "last = 0002\n") && strstr(text, section),
              "wanted last = 0002 and\n%s\nin:\n%s", section, text);
    cr_assert_null(strstr(text, "max_baud"), "no step down happened:\n%s", text);
    cr_assert_null(strstr(text, "0001"), "the other board was not used:\n%s", text);
    free(text);
    struct stat st;
    cr_assert_eq(stat(config, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    cr_assert_eq(stat(scratch_path("cfg"), &st), 0);

    /* Two boards, no -p, no terminal: the one used last, said on stderr. */
    run(2, LIST("info", "--json"));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_object *o = sim_json(&r);
    cr_assert_str_eq(json_object_get_string(sim_get(o, "port")), "/dev/ttyUSB1");
    json_object_put(o);
    cr_assert(strstr(r.err, "/dev/ttyUSB1") && strstr(r.err, "used last"), "%s", r.err);

    /* -p and $ESPDOCTOR_PORT always win over the file. */
    run(2, LIST("info", "--json", "-p", "/dev/ttyUSB0"));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    o = sim_json(&r);
    cr_assert_str_eq(json_object_get_string(sim_get(o, "port")), "/dev/ttyUSB0");
    json_object_put(o);
    cr_assert_null(strstr(r.err, "used last"), "%s", r.err);
    cr_assert(strstr(text = text_of(config), "last = 0001\n"), "info remembers too:\n%s",
              text);
    free(text);
    cr_assert_eq(setenv("ESPDOCTOR_PORT", "/dev/ttyUSB1", 1), 0);
    run(2, LIST("info", "--json"));
    unsetenv("ESPDOCTOR_PORT");
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    o = sim_json(&r);
    cr_assert_str_eq(json_object_get_string(sim_get(o, "port")), "/dev/ttyUSB1");
    json_object_put(o);
    cr_assert_null(strstr(r.err, "used last"), "%s", r.err);

    /* Without the file, the same command cannot choose (the control). */
    cr_assert_eq(setenv("ESPDOCTOR_CONFIG", "", 1), 0);
    run(2, LIST("info", "--json"));
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
}

Test(flash_config, a_flash_without_b_starts_at_the_remembered_max_baud)
{
    write_text(config, "last = 0001\n[board 0001]\nmax_baud = 230400\n");
    run(1, LIST("flash", "--json", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(baud_of(), 230400, "%s", r.out);
    cr_assert(strstr(r.out, "starting at 230400 baud"), "the note says why: %s", r.out);
    char *text = text_of(config);
    cr_assert(strstr(text, "baud = 230400\nmax_baud = 230400\n"), "%s", text);
    free(text);

    /* -b is what the person asked for: tried, and a rate that works raises the limit. */
    run(1, LIST("flash", "--json", "--no-skip", "-b", "921600", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(baud_of(), 921600, "%s", r.out);
    text = text_of(config);
    cr_assert(strstr(text, "baud = 921600\nmax_baud = 921600\n"), "%s", text);
    free(text);
    /* --no-skip: the board holds the image, which the ROM would find without a switch. */
    run(1, LIST("flash", "--json", "--no-skip", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert_eq(baud_of(), 921600, "%s", r.out);
}

Test(flash_config, a_malformed_file_is_one_warning_and_the_flash_succeeds)
{
    static const char bad[] = "last = 0001\nthis line means nothing\n[board 0001]\n"
                              "max_baud = very fast\nport = /dev/ttyUSB0\n[board 0001\n";
    write_text(config, bad);
    run(1, LIST("flash", "--json", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(count(r.err, WARNING), 1, "one warning:\n%s", r.err);
    cr_assert(strstr(r.err, "line 2"), "names the first bad line: %s", r.err);
    json_object *o = sim_json(&r);
    cr_assert_str_eq(json_object_get_string(sim_get(o, "result")), "ok");
    json_object_put(o);
    char *text = text_of(config);
    cr_assert(strstr(text, "this line means nothing\n") && strstr(text, "max_baud = very fast\n"),
              "what a person typed is kept:\n%s", text);
    free(text);

    /* A file that is no file at all: not used, not replaced, and still one warning. */
    cr_assert_eq(setenv("ESPDOCTOR_CONFIG", scratch_dir, 1), 0);
    run(1, LIST("flash", "--json", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_eq(count(r.err, WARNING), 1, "one warning:\n%s", r.err);
}

Test(flash_config, no_config_writes_nothing_and_reads_nothing)
{
    run(1, LIST("flash", "--json", "--no-config", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    struct stat st;
    cr_assert_neq(stat(config, &st), 0, "--no-config wrote %s", config);
    cr_assert_neq(stat(scratch_path("cfg"), &st), 0, "--no-config made the folder");

    static const char kept[] = "last = 0002\n[board 0002]\nmax_baud = 115200\n";
    write_text(config, kept);
    run(2, LIST("info", "--json", "--no-config"));
    cr_assert_eq(r.status, 2, "the file was read: exit %d\n%s", r.status, r.err);
    run(1, LIST("flash", "--json", "--no-config", "--no-skip", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
    cr_assert_neq(baud_of(), 115200, "the remembered rate was used: %s", r.out);
    char *text = text_of(config);
    cr_assert_str_eq(text, kept);
    free(text);
}

Test(flash_config, without_espdoctor_config_the_file_is_under_xdg_config_home)
{
    unsetenv("ESPDOCTOR_CONFIG");
    cr_assert_eq(setenv("XDG_CONFIG_HOME", scratch_path("xdg"), 1), 0);
    run(1, LIST("read-mac", "--json"));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    char *text = text_of(scratch_path("xdg/espdoctor/config"));
    cr_assert(strstr(text, "last = 0001\n[board 0001]\nport = /dev/ttyUSB0\n") ||
              strstr(text, "last = 0001\n\n[board 0001]\nport = /dev/ttyUSB0\n"), "%s", text);
    free(text);
    struct stat st;
    cr_assert_eq(stat(scratch_path("xdg/espdoctor"), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700, "mode %o", st.st_mode & 0777);
}

/* flash --all: the boards finish side by side, each one's section is written (under the
 * file's lock: none is lost to another's rewrite). */
Test(flash_config, flash_all_remembers_every_board)
{
    run(4, LIST("flash", "--all", image));
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    char *text = text_of(config);
    cr_assert_eq(count(text, "[board "), 4, "%s", text);
    for (int i = 0; i < 4; i++) {
        char section[64];
        snprintf(section, sizeof section, "[board 000%d]\nport = /dev/ttyUSB%d\n", i + 1, i);
        cr_expect(strstr(text, section), "no %s in:\n%s", section, text);
    }
    free(text);
    cr_assert_null(strstr(r.err, WARNING), "%s", r.err);
}
