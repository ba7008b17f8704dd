/* Clients we did not write, against espsim: Espressif's esptool-js and esp-web-flasher
 * (npm packages, installed by tests/js/setup.sh; run by Node through tests/js/row.mjs)
 * over espsim's RFC 2217 server, for every chip x bridge x loader path (clients_rows.h).
 * Each row connects with the client's default reset, checks chip, MAC and flash id
 * against espsim's configuration, changes to 921600 baud, writes an image and has the
 * chip hash it (or reads it back); then espsim's flash file must hold exactly what
 * espdoctor leaves for the same image and address (clients_reference.h). Each row writes
 * its verdict to <build>/conformance/rows/ for the table in tests/sim/README.md
 * (tests/conformance.sh). Without Node or either package every row fails: never a skip. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/parameterized.h>

#include <md5.h>
#include <signal.h>

#include "clients_verdict.h"
#include "e2e_dir.h"

#define ROW_LIMIT_S 150

static struct row rows[ROWS_MAX];
static size_t row_count;

static const struct row *row_at(size_t i)
{
    if (!row_count)
        row_count = rows_make(rows, ROWS_MAX);
    return i < row_count ? &rows[i] : NULL;
}

/* Results are this run's only: the table is made from exactly what ran. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    char dir[REF_DIR], cmd[REF_DIR + 16];
    conformance_dir(dir, sizeof dir, NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_espsim_clients: could not clear %s\n", dir);
}

static void source_path(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/../%s", e2e_build(), rel);
}

/* The version a package.json states: its own ("version"), or a dependency's pin. */
static bool package_version(const char *path, const char *dependency, char *out, size_t cap)
{
    json_object *j = json_object_from_file(path);
    char key[128];
    snprintf(key, sizeof key, "%s%s", dependency ? "dependencies." : "version",
             dependency ? dependency : "");
    json_object *v = j ? json_at(j, key) : NULL;
    if (v)
        snprintf(out, cap, "%s", json_object_get_string(v));
    json_object_put(j);
    return v != NULL;
}

/* Node and both pinned packages, or the reason they are not there. */
static bool clients_installed(char *why, size_t cap)
{
    struct e2e_result *r = malloc(sizeof *r);
    const char *node[] = { "node", "--version", NULL };
    e2e_run(r, node, 30);
    bool ok = r->status == 0;
    if (!ok)
        snprintf(why, cap, "node (Node.js 18.19 or later) does not run (%d: %.200s): the "
                 "client rows need it (Debian: apt-get install nodejs npm)", r->status, r->err);
    free(r);
    static const char *const packages[] = { "esptool-js", "esp-web-flasher" };
    char manifest[REF_PATH], installed[REF_PATH], want[64], have[64];
    source_path(manifest, sizeof manifest, "tests/js/package.json");
    for (size_t i = 0; ok && i < 2; i++) {
        snprintf(installed, sizeof installed, "%s/../tests/js/node_modules/%s/package.json",
                 e2e_build(), packages[i]);
        if (!package_version(manifest, packages[i], want, sizeof want))
            snprintf(want, sizeof want, "(no pin in tests/js/package.json)");
        ok = package_version(installed, NULL, have, sizeof have) && strcmp(have, want) == 0;
        if (!ok)
            snprintf(why, cap, "%s %s is not installed in tests/js/node_modules: run "
                     "sh tests/js/setup.sh (npm ci --prefix tests/js)", packages[i], want);
    }
    return ok;
}

Test(espsim_clients, both_npm_clients_are_installed)
{
    char why[512] = "";
    cr_assert(clients_installed(why, sizeof why), "%s", why);
}

/* espsim serving one board on rfc2217://127.0.0.1:<port>, its stderr in a file. */
struct server {
    pid_t pid;
    int port;
};

static bool server_start(struct server *s, const struct row *r, char *why, size_t cap)
{
    const char *log = scratch_path("espsim.log");
    const char *argv[] = { e2e_bin("espsim"), "--chip", r->chip->key, "--bridge", r->bridge,
                           "--mac", r->chip->mac, "--flash-size", r->chip->flash_size,
                           "--flash", scratch_path("flash"), "--trace",
                           scratch_path("trace"), "--rfc2217", "0", NULL };
    s->pid = fork();
    if (s->pid < 0)
        return false;
    if (s->pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        if (!f || !freopen("/dev/null", "r", stdin) || dup2(fileno(stderr), 1) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    char text[4096] = "";
    for (int i = 0; i < 100; i++) {
        const char *at;
        if (read_small_file(log, text, sizeof text) &&
            (at = strstr(text, "rfc2217://127.0.0.1:")) != NULL) {
            s->port = atoi(at + strlen("rfc2217://127.0.0.1:"));
            return s->port > 0;
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
        usleep(100 * 1000);
    }
    snprintf(why, cap, "espsim did not announce its RFC 2217 port: %.400s", text);
    return false;
}

/* SIGTERM, as a user's Ctrl-C; espsim syncs the flash file and exits 0. */
static int server_stop(struct server *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int status = -1;
    for (int i = 0; i < 100; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            return status;
        usleep(100 * 1000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    return status;
}

static void row_label(const struct row *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s, %s on %s, %s loader", client_names[r->client], r->chip->name,
             r->bridge, r->loader == LOADER_ROM ? "ROM" : "stub");
}

/* The last lines of a text file, for a failure message. */
static void file_tail(const char *path, char *out, size_t cap, int lines)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    static char ring[16][256];
    int n = 0;
    while (fgets(ring[n % 16], sizeof ring[0], f))
        n++;
    fclose(f);
    int from = n > lines ? n - lines : 0;
    if (n - from > 16)
        from = n - 16;
    size_t len = 0;
    for (int i = from; i < n && len + 1 < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "    %s", ring[i % 16]);
}

static void run_row(size_t index)
{
    const struct row *r = row_at(index);
    cr_assert_not_null(r, "no row %zu", index);
    struct verdict v = { .row = r, .index = index };
    result_write(&v, false);
    char label[160], why[1024] = "";
    row_label(r, label, sizeof label);
    cr_assert(clients_installed(why, sizeof why), "%s: %s", label, why);

    const char *image = scratch_path("image.bin");
    static struct e2e_result res_storage;   /* large; one row per process */
    struct e2e_result *res = &res_storage;
    const char *mkimage[] = { e2e_bin("mkimage"), "--chip", r->chip->key, "--kind",
                              r->chip->image_kind, "--size", IMAGE_SIZE, "-o", image, NULL };
    e2e_run(res, mkimage, 30);
    cr_assert_eq(res->status, 0, "%s: mkimage: %s", label, res->err);

    struct server sim = { 0 };
    bool served = server_start(&sim, r, why, sizeof why);
    if (served) {
        char port[16], address[16], baud[16], skip[64] = "", refuse[32] = "";
        snprintf(port, sizeof port, "%d", sim.port);
        snprintf(address, sizeof address, "%u", r->chip->address);
        snprintf(baud, sizeof baud, "%d", ROW_BAUD);
        row_options(r, skip, sizeof skip, refuse, sizeof refuse);
        char script[REF_PATH];
        source_path(script, sizeof script, "tests/js/row.mjs");
        const char *node[24] = { "node", script, "--client", client_names[r->client],
                                 "--loader", loader_names[r->loader], "--port", port,
                                 "--usb", r->usb_id, "--image", image, "--address", address,
                                 "--baud", baud };
        size_t n = 16;
        if (skip[0]) {
            node[n++] = "--skip";
            node[n++] = skip;
        }
        if (refuse[0]) {
            node[n++] = "--refuse";
            node[n++] = refuse;
        }
        node[n] = NULL;
        e2e_run(res, node, ROW_LIMIT_S);
    }
    int sim_status = server_stop(&sim);

    struct reference ref;
    reference_get(r->chip, &ref);
    if (served)
        judge_row(&v, res->out, image, scratch_path("flash"), &ref);
    else
        verdict_fail(&v, STEP_CONNECT, "%s", why);
    if (served && !(WIFEXITED(sim_status) && WEXITSTATUS(sim_status) == 0))
        verdict_fail(&v, STEP_SAME_BYTES, "espsim did not end cleanly on SIGTERM (status "
                     "0x%x)", sim_status);
    cr_assert(result_write(&v, true), "%s: cannot write its results file", label);

    if (verdict_failed(&v)) {
        static char trace[4096], client_log[2048];
        file_tail(scratch_path("trace"), trace, sizeof trace, 14);
        size_t elen = strlen(res->err);
        snprintf(client_log, sizeof client_log, "%s", res->err + (elen > 1800 ? elen - 1800 : 0));
        cr_assert_fail("%s:\n%s%s\n  the client's last output:\n%s\n  espsim's trace, last "
                       "lines:\n%s", label, v.failures, usb_jtag_hint(r, &v, scratch_path("trace")),
                       client_log, trace);
    }
}

static void row_init(void)
{
    scratch_make("clients");
}

static void row_fini(void)
{
    scratch_remove();
}

ParameterizedTestParameters(espsim_clients, row)
{
    static size_t indexes[ROWS_MAX];
    size_t n = row_at(0) ? row_count : 0;
    for (size_t i = 0; i < n; i++)
        indexes[i] = i;
    return cr_make_param_array(size_t, indexes, n);
}

ParameterizedTest(size_t *index, espsim_clients, row, .timeout = 300, .init = row_init,
                  .fini = row_fini)
{
    run_row(*index);
}
