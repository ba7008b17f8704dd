/* SIGINT and SIGTERM at every phase of `flash` and `erase` under espsim: each ends with
 * one paragraph on stderr, exit 130 or 143, and one JSON document on stdout whose error
 * is run.interrupted and whose "interrupted" object says the phase, what the flash holds
 * and the command that finishes the job. The signal is sent when espsim's trace shows the
 * phase under way (the board's own record of the command it is working on). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_dir.h"
#include "e2e_run.h"

#define LIMIT_S 90

static struct stop_run {
    int status;
    char out[E2E_OUT_MAX], err[E2E_OUT_MAX];
} r;

static void make_dir(void)
{
    scratch_make("signals");
}

static const char *mkimage(const char *name, const char *size)
{
    const char *out = scratch_path(name);
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "app", "--size",
                           size, "-o", out, NULL };
    struct e2e_result *m = malloc(sizeof *m);
    cr_assert_not_null(m);
    e2e_run(m, argv, 60);
    cr_assert_eq(m->status, 0, "mkimage failed: %s", m->err);
    free(m);
    return out;
}

static const char *stub_dir(void)
{
    static char path[512];
    char cwd[256];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(path, sizeof path, "%s/tests/js/node_modules/esptool-js/lib/targets/stub_flasher",
             cwd);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing: run tests/js/setup.sh (the stub tests "
                 "need esptool-js)", path);
    return path;
}

static void read_into(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* How often needle occurs in the trace file. */
static unsigned trace_count(const char *trace, const char *needle)
{
    static char text[1 << 22];
    read_into(trace, text, sizeof text);
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* espsim SIM... --trace T -- espdoctor ARGS...; once the trace holds `needle` `times`
 * times (and `delay_ms` later), send sig to espsim, which hands it on. */
static void run_and_signal(const char *const *sim, const char *const *args, const char *needle,
                           unsigned times, unsigned delay_ms, int sig)
{
    const char *trace = scratch_path("trace.txt"), *out = scratch_path("stdout.txt"),
               *err = scratch_path("stderr.txt");
    const char *argv[64];
    size_t n = 0;
    argv[n++] = e2e_bin("espsim");
    for (size_t i = 0; sim[i]; i++)
        argv[n++] = sim[i];
    argv[n++] = "--trace";
    argv[n++] = trace;
    argv[n++] = "--";
    argv[n++] = e2e_bin("espdoctor");
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    unlink(trace);
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
    for (unsigned waited = 0; trace_count(trace, needle) < times; waited++) {
        if (waited > limit * 50 || waitpid(pid, &st, WNOHANG) != 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            read_into(err, r.err, sizeof r.err);
            cr_assert_fail("\"%s\" x%u never showed in the trace\n%s", needle, times, r.err);
        }
        usleep(20000);
    }
    usleep(delay_ms * 1000);
    kill(pid, sig);
    for (unsigned waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited++) {
        if (waited > limit * 10) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            cr_assert_fail("espdoctor did not stop after the signal");
        }
        usleep(100000);
    }
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    read_into(out, r.out, sizeof r.out);
    read_into(err, r.err, sizeof r.err);
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    cr_assert(json_object_is_type(v, json_type_string), "\"%s\" is not a string in %s", key,
              json_object_to_json_string(o));
    return json_object_get_string(v);
}

/* Exactly one document on stdout (after progress events), the exit status of sig, a paragraph on stderr that
 * names the signal and the phase; returns the document's "interrupted" object (the
 * document stays alive in *doc). */
static json_object *check_stop(int sig, const char *phase_words, json_object **doc)
{
    int want = sig == SIGINT ? 130 : 143;
    cr_assert_eq(r.status, want, "exit %d, not %d\nstdout:\n%s\nstderr:\n%s", r.status, want,
                 r.out, r.err);
    char why[256];
    json_object *o = e2e_json_sole_doc(r.out, why, sizeof why);
    cr_assert_not_null(o, "%s\nstdout:\n%s\nstderr:\n%s", why, r.out, r.err);
    cr_assert_str_eq(get_str(o, "result"), "interrupted");
    json_object *e = get(o, "error");
    cr_assert_str_eq(get_str(e, "id"), "run.interrupted");
    cr_assert_str_neq(get_str(e, "message"), "");
    cr_assert_not_null(strstr(get_str(e, "fix_command"), "espdoctor -p /dev/ttyUSB0 "),
                       "%s", get_str(e, "fix_command"));
    char head[128];
    snprintf(head, sizeof head, "interrupted (%s) %s", sig == SIGINT ? "SIGINT" : "SIGTERM",
             phase_words);
    cr_assert_not_null(strstr(r.err, head), "no \"%s\" on stderr:\n%s", head, r.err);
    *doc = o;
    json_object *i = NULL;
    json_object_object_get_ex(o, "interrupted", &i);
    return i;
}

Test(signals, sigint_while_connecting, .init = make_dir, .fini = scratch_remove)
{
    const char *img = mkimage("app.bin", "64K");
    run_and_signal((const char *[]){ "--chip", "esp32", "--no-autoreset", NULL },
                   (const char *[]){ "flash", "--json", "--no-stub", "0x10000", img, NULL },
                   "host opened the port", 1, 800, SIGINT);
    json_object *doc, *i = check_stop(SIGINT, "while connecting", &doc);
    cr_assert_str_eq(get_str(i, "phase"), "connecting");
    cr_assert_str_eq(get_str(i, "flash"), "unchanged");
    cr_assert_not_null(strstr(r.err, "Nothing was erased or written"), "%s", r.err);
    /* The doctor does not follow: the board is not to blame. */
    cr_assert_null(strstr(r.err, "could not reach"), "%s", r.err);
    json_object_put(doc);
}

Test(signals, sigterm_while_uploading_the_stub, .init = make_dir, .fini = scratch_remove)
{
    const char *img = mkimage("app.bin", "64K");
    run_and_signal((const char *[]){ "--chip", "esp32", NULL },
                   (const char *[]){ "flash", "--json", "--stub", stub_dir(), "0x10000", img,
                                     NULL },
                   "MEM_DATA", 1, 0, SIGTERM);
    json_object *doc, *i = check_stop(SIGTERM, "while uploading the flasher stub", &doc);
    cr_assert_str_eq(get_str(i, "phase"), "stub");
    cr_assert_str_eq(get_str(i, "flash"), "unchanged");
    cr_assert_str_eq(get_str(i, "signal"), "SIGTERM");
    json_object_put(doc);
}

Test(signals, sigterm_while_erasing_all, .init = make_dir, .fini = scratch_remove)
{
    const char *img = mkimage("app.bin", "64K");
    run_and_signal((const char *[]){ "--chip", "esp32", "--flash-size", "1MB", NULL },
                   (const char *[]){ "flash", "--json", "--no-stub", "--erase-all", "0x10000",
                                     img, NULL },
                   "ROM FLASH_BEGIN", 1, 300, SIGTERM);
    json_object *doc, *i = check_stop(SIGTERM, "while erasing the whole flash", &doc);
    cr_assert_str_eq(get_str(i, "phase"), "erasing");
    cr_assert_str_eq(get_str(i, "flash"), "partly-erased");
    /* The erase did not finish: the command to finish erases again. */
    cr_assert_not_null(strstr(get_str(i, "finish_command"), "--erase-all"));
    json_object_put(doc);
}

Test(signals, sigint_after_erase_all_says_the_flash_is_erased, .init = make_dir,
     .fini = scratch_remove)
{
    const char *img = mkimage("app.bin", "256K");
    run_and_signal((const char *[]){ "--chip", "esp32", "--flash-size", "1MB", NULL },
                   (const char *[]){ "flash", "--json", "--no-stub", "-b", "115200",
                                     "--erase-all", "0x10000", img, NULL },
                   "ROM FLASH_DEFL_DATA", 2, 0, SIGINT);
    json_object *doc, *i = check_stop(SIGINT, "while writing", &doc);
    cr_assert_str_eq(get_str(i, "erased"), "whole-chip");
    cr_assert_str_eq(get_str(i, "flash"), "partly-written");
    /* The erase is done: finishing does not erase again. */
    cr_assert_null(strstr(get_str(i, "finish_command"), "--erase-all"), "%s",
                   get_str(i, "finish_command"));
    cr_assert_not_null(strstr(get_str(i, "finish_command"), " 0x10000 "));
    json_object_put(doc);
}

Test(signals, sigterm_while_writing, .init = make_dir, .fini = scratch_remove)
{
    const char *img = mkimage("app.bin", "256K");
    run_and_signal((const char *[]){ "--chip", "esp32", NULL },
                   (const char *[]){ "flash", "--json", "--no-stub", "-b", "115200", "0x10000",
                                     img, NULL },
                   "ROM FLASH_DEFL_DATA", 2, 0, SIGTERM);
    json_object *doc, *i = check_stop(SIGTERM, "while writing: stopped at region 1 of 1", &doc);
    cr_assert_str_eq(get_str(i, "phase"), "writing");
    cr_assert_str_eq(get_str(i, "erased"), "none");
    cr_assert_str_eq(get_str(i, "flash"), "partly-written");
    json_object *regions = get(doc, "regions");
    cr_assert_eq(json_object_array_length(regions), 1);
    json_object *reg = json_object_array_get_idx(regions, 0);
    cr_assert(json_object_get_int64(get(reg, "written")) < 256 * 1024);
    cr_assert(json_object_is_type(get(reg, "verified"), json_type_null));
    json_object_put(doc);
}

Test(signals, sigint_while_verifying, .init = make_dir, .fini = scratch_remove)
{
    const char *img = mkimage("app.bin", "64K");
    /* --no-skip: no MD5 compares before the write; the verify's is the MD5 of the image at
     * 0x10000 (the flash-size check before the write hashes 32 KiB windows elsewhere).
     * espsim makes each MD5 last 3 s. */
    run_and_signal((const char *[]){ "--chip", "esp32", "--md5-delay", "3000", NULL },
                   (const char *[]){ "flash", "--json", "--no-stub", "--no-skip", "0x10000",
                                     img, NULL },
                   "ROM SPI_FLASH_MD5 (0x13), 16 bytes: 0x10000 ", 1, 200, SIGINT);
    json_object *doc, *i = check_stop(SIGINT, "while verifying", &doc);
    cr_assert_str_eq(get_str(i, "phase"), "verifying");
    cr_assert_str_eq(get_str(i, "flash"), "unverified");
    cr_assert_not_null(strstr(r.err, "nothing says it is right"), "%s", r.err);
    json_object_put(doc);
}

Test(signals, sigterm_while_erase_command_erases, .init = make_dir, .fini = scratch_remove)
{
    run_and_signal((const char *[]){ "--chip", "esp32", "--flash-size", "1MB", NULL },
                   (const char *[]){ "erase", "--json", "--no-stub", NULL },
                   "ROM FLASH_BEGIN", 1, 300, SIGTERM);
    json_object *doc;
    check_stop(SIGTERM, "while erasing", &doc);
    cr_assert_not_null(strstr(r.err, "part or all of the whole flash is erased"), "%s", r.err);
    json_object_put(doc);
}

Test(signals, sigint_while_reading_changes_nothing_on_the_board, .init = make_dir,
     .fini = scratch_remove)
{
    const char *out = scratch_path("backup.bin");
    /* The ESP32 ROM reads flash slowly, 64 bytes a packet: plenty of time to interrupt. */
    run_and_signal((const char *[]){ "--chip", "esp32", NULL },
                   (const char *[]){ "read", "--json", "--no-stub", "0x0", "0x40000", out,
                                     NULL },
                   "ROM READ_FLASH_SLOW", 3, 0, SIGINT);
    cr_assert_eq(r.status, 130, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert_not_null(strstr(r.err, "interrupted (SIGINT) while reading"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "nothing on the board changed"), "%s", r.err);
    json_object *o = e2e_json_doc(r.out), *e, *id;
    cr_assert_not_null(o, "%s", r.out);
    cr_assert(json_object_object_get_ex(o, "error", &e) && e);
    cr_assert(json_object_object_get_ex(e, "id", &id));
    cr_assert_str_eq(json_object_get_string(id), "run.interrupted");
    cr_assert_neq(access(out, F_OK), 0, "the incomplete output was left behind");
    json_object_put(o);
}
