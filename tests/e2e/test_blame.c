/* Errors that blame the right party: a firmware file that shrinks or is rewritten while it
 * is flashed is the file's fault (input.changed), not the board's; an unaligned address
 * near the top of the address space never gets a suggestion that wraps to 0; -b above
 * what the bridge can set is stepped down to its documented ceiling, with a note; file
 * names with a newline are printed escaped and do not split lines. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_dir.h"
#include "e2e_run.h"

#define LIMIT_S 120

static struct e2e_result r;

static void make_dir(void)
{
    scratch_make("blame");
}

static const char *mkimage_at(const char *out, const char *size)
{
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "app", "--size",
                           size, "-o", out, NULL };
    struct e2e_result *m = malloc(sizeof *m);
    cr_assert_not_null(m);
    e2e_run(m, argv, 60);
    cr_assert_eq(m->status, 0, "mkimage failed: %s", m->err);
    free(m);
    return out;
}

static void read_into(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

static unsigned trace_count(const char *trace, const char *needle)
{
    static char text[1 << 22];
    read_into(trace, text, sizeof text);
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* espsim --trace T -- espdoctor ARGS; once the trace shows the second FLASH_DEFL_DATA,
 * change(img) runs; then wait for the end. */
static void run_and_change(const char *const *args, const char *img, void (*change)(const char *))
{
    const char *trace = scratch_path("trace.txt"), *out = scratch_path("stdout.txt"),
               *err = scratch_path("stderr.txt");
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    argv[n++] = "--chip";
    argv[n++] = "esp32";
    argv[n++] = "--trace";
    argv[n++] = trace;
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        freopen("/dev/null", "r", stdin);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    double limit = LIMIT_S * e2e_time_scale();
    for (unsigned waited = 0; trace_count(trace, "ROM FLASH_DEFL_DATA") < 2; waited++) {
        if (waited > limit * 50 || waitpid(pid, &st, WNOHANG) != 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            cr_assert_fail("the write never began");
        }
        usleep(20000);
    }
    change(img);
    for (unsigned waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited++) {
        if (waited > limit * 10) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            cr_assert_fail("espdoctor did not end");
        }
        usleep(100000);
    }
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    read_into(out, r.out, sizeof r.out);
    read_into(err, r.err, sizeof r.err);
}

static void truncate_it(const char *img)
{
    cr_assert_eq(truncate(img, 100000), 0);
}

/* Same size, other bytes: a download or a build writing the file again in place. */
static void rewrite_it(const char *img)
{
    int fd = open(img, O_WRONLY);
    cr_assert_geq(fd, 0);
    static unsigned char noise[0x40000];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
    cr_assert_eq(pwrite(fd, noise, sizeof noise, 0x20000), (ssize_t)sizeof noise);
    close(fd);
}

static void check_file_blamed(const char *how)
{
    cr_assert_eq(r.status, 6, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "changed while it was being flashed"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, how), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "the board is not at fault"), "%s", r.err);
    json_object *o = e2e_json_doc(r.out), *e, *id, *res;
    cr_assert_not_null(o, "%s", r.out);
    cr_assert(json_object_object_get_ex(o, "error", &e) && e);
    cr_assert(json_object_object_get_ex(e, "id", &id));
    cr_assert_str_eq(json_object_get_string(id), "input.changed");
    cr_assert(json_object_object_get_ex(o, "result", &res));
    cr_assert_str_eq(json_object_get_string(res), "input-error");
    json_object_put(o);
}

Test(blame, a_file_cut_short_during_the_flash_is_the_files_fault, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = mkimage_at(scratch_path("app.bin"), "512K");
    run_and_change((const char *[]){ "flash", "--json", "--no-stub", "-b", "115200", "0x10000",
                                     img, NULL }, img, truncate_it);
    check_file_blamed("is 100000 bytes now");
}

Test(blame, a_file_rewritten_during_the_flash_is_the_files_fault, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = mkimage_at(scratch_path("app.bin"), "512K");
    run_and_change((const char *[]){ "flash", "--json", "--no-stub", "-b", "115200", "0x10000",
                                     img, NULL }, img, rewrite_it);
    check_file_blamed("contents are not what they were");
}

static void run_sim(const char *const *sim, const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; sim[i]; i++)
        argv[n++] = sim[i];
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);
}

Test(blame, no_suggested_address_wraps_to_zero, .init = make_dir, .fini = scratch_remove)
{
    const char *img = mkimage_at(scratch_path("app.bin"), "64K");
    run_sim((const char *[]){ "--chip", "esp32", NULL },
            (const char *[]){ "flash", "--no-stub", "--force", "0xFFFFFFFF", img, NULL });
    cr_assert_eq(r.status, 3, "exit %d\n%s", r.status, r.err);
    cr_assert_not_null(strstr(r.err, "not a multiple of 4 KB"), "%s", r.err);
    cr_assert_null(strstr(r.err, "or 0x0)"), "a suggestion wraps to 0:\n%s", r.err);
    cr_assert_not_null(strstr(r.err, "Nothing was written."), "%s", r.err);
}

Test(blame, a_baud_above_the_bridge_ceiling_steps_down_with_a_note, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = mkimage_at(scratch_path("app.bin"), "64K");
    run_sim((const char *[]){ "--chip", "esp32", "--bridge", "cp2102", NULL },
            (const char *[]){ "flash", "--json", "--no-stub", "-b", "12000000", "0x10000", img,
                              NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "-b 12000000 is above 1000000 baud, the highest rate the "
                              "CP2102 can set"), "%s", r.out);
    json_object *o = e2e_json_doc(r.out), *baud;
    cr_assert_not_null(o);
    cr_assert(json_object_object_get_ex(o, "baud", &baud));
    cr_assert_leq(json_object_get_int64(baud), 1000000);
    json_object_put(o);
}

Test(blame, a_name_with_a_newline_stays_on_its_line, .init = make_dir, .fini = scratch_remove)
{
    const char *img = mkimage_at(scratch_path("a\nb.bin"), "64K");
    run_sim((const char *[]){ "--chip", "esp32", NULL },
            (const char *[]){ "flash", "--no-stub", "0x10000", img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.out, "a\\nb.bin"), "the name is not escaped:\n%s", r.out);
    cr_assert_null(strstr(r.out, "\nb.bin"), "the name split a line:\n%s", r.out);
}
