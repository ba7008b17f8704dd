/* A client we did not write: Espressif's esptool-js (tests/js/detect.mjs, run by Node)
 * detects the chip and reads the MAC from espsim's RFC 2217 server. Node and the npm
 * package must be there (tests/js/setup.sh installs the package): without them this test
 * fails, it never passes by not running. */
#include <criterion/criterion.h>

#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *build_dir(void)
{
    const char *dir = getenv("ESPDOCTOR_BUILD");
    return dir && *dir ? dir : "build";
}

/* The source tree is the build directory's parent (build/ or build-san/). */
static void source_path(char *out, size_t cap, const char *rel)
{
    char build[4096];
    snprintf(build, sizeof build, "%s", build_dir());
    snprintf(out, cap, "%s/%s", dirname(build), rel);
}

static bool node_on_path(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char *copy = strdup(path);
    bool found = false;
    for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
        char candidate[4096];
        snprintf(candidate, sizeof candidate, "%s/node", dir);
        found = access(candidate, X_OK) == 0;
    }
    free(copy);
    return found;
}

static pid_t spawn(char *const argv[], int *out_fd, int *err_fd, bool search_path)
{
    int out[2], err[2];
    cr_assert(pipe(out) == 0 && pipe(err) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        unsetenv("BXFI_MAP"); /* Criterion's worker marker: not for our children */
        if (search_path)
            execvp(argv[0], argv);
        else
            execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(126);
    }
    close(out[1]);
    close(err[1]);
    *out_fd = out[0];
    *err_fd = err[0];
    return pid;
}

/* Read fd into buf until EOF, until stop appears (if not NULL), or until limit_s passed. */
static size_t read_until(int fd, char *buf, size_t cap, const char *stop, int limit_s)
{
    size_t len = 0;
    buf[0] = '\0';
    time_t deadline = time(NULL) + limit_s;
    while (time(NULL) < deadline && len + 1 < cap) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (stop && strstr(buf, stop))
            break;
    }
    return len;
}

static void detect(const char *chip, const char *mac, const char *want_chip,
                   const char *want_mac)
{
    char detect_js[4096], package[4096];
    source_path(detect_js, sizeof detect_js, "tests/js/detect.mjs");
    source_path(package, sizeof package, "tests/js/node_modules/esptool-js/package.json");
    cr_assert(node_on_path(), "node (Node.js 18 or later) is not on PATH: the esptool-js "
              "check needs it (Debian: apt-get install nodejs npm)");
    struct stat st;
    cr_assert(stat(package, &st) == 0, "esptool-js is not installed in tests/js: run "
              "tests/js/setup.sh (it runs npm ci --prefix tests/js)");

    char espsim[4096];
    snprintf(espsim, sizeof espsim, "%s/espsim", build_dir());
    char *sim_argv[] = { espsim, "--chip", (char *)chip, "--mac", (char *)mac, "--rfc2217",
                         "0", NULL };
    int sim_out, sim_err;
    pid_t sim = spawn(sim_argv, &sim_out, &sim_err, false);
    char banner[4096];
    read_until(sim_err, banner, sizeof banner, "\n", 10);
    const char *at = strstr(banner, "rfc2217://127.0.0.1:");
    if (!at) {
        kill(sim, SIGKILL);
        waitpid(sim, NULL, 0);
        cr_assert_fail("espsim did not announce its port: %s", banner);
    }
    char port[8];
    snprintf(port, sizeof port, "%d", atoi(at + strlen("rfc2217://127.0.0.1:")));
    cr_expect(strstr(banner, want_chip) != NULL, "announcement names the chip: %s", banner);

    char *node_argv[] = { "node", detect_js, port, NULL };
    int js_out, js_err;
    pid_t js = spawn(node_argv, &js_out, &js_err, true);
    static char out[65536], err[65536];
    read_until(js_out, out, sizeof out, NULL, 90);
    read_until(js_err, err, sizeof err, NULL, 5);
    int js_status;
    if (waitpid(js, &js_status, WNOHANG) == 0) {
        kill(js, SIGKILL);
        waitpid(js, &js_status, 0);
    }
    kill(sim, SIGTERM);
    int sim_status;
    waitpid(sim, &sim_status, 0);
    close(js_out);
    close(js_err);
    close(sim_out);
    close(sim_err);

    cr_assert(WIFEXITED(js_status) && WEXITSTATUS(js_status) == 0,
              "esptool-js failed:\nstdout: %s\nstderr: %s", out, err);
    json_object *result = json_tokener_parse(out);
    cr_assert(result, "detect.mjs printed no JSON: %s", out);
    json_object *chip_obj, *mac_obj;
    cr_assert(json_object_object_get_ex(result, "chip", &chip_obj) &&
              json_object_object_get_ex(result, "mac", &mac_obj), "%s", out);
    cr_expect_str_eq(json_object_get_string(chip_obj), want_chip);
    cr_expect_str_eq(json_object_get_string(mac_obj), want_mac);
    json_object_put(result);
    cr_expect(WIFEXITED(sim_status) && WEXITSTATUS(sim_status) == 0,
              "espsim ends cleanly on SIGTERM (status 0x%x)", sim_status);
}

Test(espsim_esptooljs, detects_esp32_and_reads_its_mac, .timeout = 120)
{
    detect("esp32", "24:0A:C4:12:34:56", "ESP32", "24:0a:c4:12:34:56");
}

Test(espsim_esptooljs, detects_esp8266_and_reads_its_mac, .timeout = 120)
{
    detect("esp8266", "5C:CF:7F:01:02:03", "ESP8266", "5c:cf:7f:01:02:03");
}
