/* espdoctor flash --all over ports it is told: repeated -p and --ports FILE, with boards
 * behind RFC 2217 servers (espsim --rfc2217 0, one board each, as a bench of hosts running
 * ser2net would be). Every board named is flashed and verified and has its row; a port
 * nobody serves fails its own board only (exit 1); a line that is no port stops the run
 * before any board is opened (exit 2, FILE:LINE named); the --json document validates
 * against the shipped schema. The flash files the servers keep are the ground truth. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e_dir.h"
#include "e2e_proc.h"
#include "e2e_run.h"

#define LIMIT_S 120
#define IMAGE_ADDR 0x1000u     /* where a merged ESP32 image goes */
#define FLASH_SIZE (4u << 20)
#define SERVERS 3

static struct e2e_result r;
static struct e2e_proc servers[SERVERS];
static unsigned server_count;
static char urls[SERVERS][48];      /* rfc2217://127.0.0.1:PORT of each server */
static char flashes[SERVERS][160];  /* each server's flash file */

static void make_dir(void)
{
    scratch_make("allports");
}

static void stop_servers(void)
{
    for (unsigned i = 0; i < server_count; i++) {
        kill(-servers[i].pid, SIGTERM);   /* "serve until SIGINT or SIGTERM" */
        e2e_proc_finish(&servers[i], 10);
    }
    server_count = 0;
}

static void teardown(void)
{
    stop_servers();
    scratch_remove();
}

/* A flash file of FLASH_SIZE bytes with a pattern in every byte, so that any write shows. */
static void patterned_flash(const char *path)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (uint32_t i = 0; i < FLASH_SIZE; i++)
        fputc((int)((i * 31u) >> 7 & 0xFF) ^ 0x5A, f);
    cr_assert_eq(fclose(f), 0);
}

/* n espsim boards, each serving on its own free port, MAC 24:0a:c4:00:00:2<i>; with
 * `patterned`, each flash file starts patterned (and a copy is kept in "<flash>.before"). */
static void serve_boards(unsigned n, bool patterned)
{
    cr_assert_leq(n, SERVERS);
    for (unsigned i = 0; i < n; i++) {
        char name[32], mac[24];
        snprintf(name, sizeof name, "flash.%u", i);
        snprintf(flashes[i], sizeof flashes[i], "%s", scratch_path(name));
        if (patterned) {
            patterned_flash(flashes[i]);
            snprintf(name, sizeof name, "flash.%u.before", i);
            patterned_flash(scratch_path(name));
        }
        snprintf(mac, sizeof mac, "24:0a:c4:00:00:2%u", i);
        const char *argv[] = { e2e_bin("espsim"), "--chip", "esp32", "--mac", mac, "--flash",
                               flashes[i], "--fast", "--rfc2217", "0", NULL };
        cr_assert(e2e_proc_start(&servers[i], argv, false, NULL), "cannot start espsim");
        server_count = i + 1;
        /* "espsim: serving ESP32 on rfc2217://127.0.0.1:PORT" on its stderr */
        const char *at = NULL;
        for (int waited = 0; waited < 10000 && !(at && strchr(at, '\n')); waited += 50) {
            e2e_proc_pump(&servers[i], 50);
            at = strstr(servers[i].err_text, "rfc2217://127.0.0.1:");
        }
        cr_assert(at && strchr(at, '\n'), "espsim did not start serving: %s",
                  servers[i].err_text);
        unsigned port = 0;
        sscanf(at + strlen("rfc2217://127.0.0.1:"), "%u", &port);
        cr_assert_gt(port, 0);
        snprintf(urls[i], sizeof urls[i], "rfc2217://127.0.0.1:%u", port);
    }
}

/* A loopback port nothing listens on (bound, then closed). */
static unsigned unused_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

/* build/mkimage: a merged MicroPython-style ESP32 image. */
static const char *merged_image(void)
{
    const char *out = scratch_path("mp.bin");
    const char *argv[] = { e2e_bin("mkimage"), "--chip", "esp32", "--kind", "merged", "--size",
                           "128K", "--micropython", "v1.24.0", "-o", out, NULL };
    e2e_run(&r, argv, 60);
    cr_assert_eq(r.status, 0, "mkimage failed: %s", r.err);
    return out;
}

/* The image lies byte for byte at IMAGE_ADDR in the flash file. */
static bool holds_image(const char *flash, const char *img)
{
    size_t nf = 0, ni = 0;
    uint8_t *f = e2e_slurp(flash, &nf), *i = e2e_slurp(img, &ni);
    bool same = f && i && nf >= IMAGE_ADDR + ni && memcmp(f + IMAGE_ADDR, i, ni) == 0;
    free(f);
    free(i);
    return same;
}

static bool untouched(unsigned i)
{
    char name[32];
    snprintf(name, sizeof name, "flash.%u.before", i);
    return e2e_same_files(flashes[i], scratch_path(name));
}

/* build/espdoctor flash --all ARGS... (outside any testbed: the boards are on the network). */
static void run_all(const char *const *args)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = e2e_bin("espdoctor");
    argv[n++] = "flash";
    argv[n++] = "--all";
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(&r, argv, LIMIT_S);
}

/* The summary table's row for port: its line of stdout ("" when there is none). */
static const char *row_of(const char *port)
{
    static char row[512];
    row[0] = '\0';
    for (const char *line = r.out; *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, port, strlen(port)) == 0 && line[strlen(port)] == ' ') {
            snprintf(row, sizeof row, "%.*s", (int)len, line);
            break;
        }
        line += len + (line[len] == '\n');
    }
    return row;
}

static const char *ports_file(const char *text)
{
    const char *path = scratch_path("bench.ports");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
              json_object_to_json_string(o));
    return v;
}

static const char *board_field(json_object *doc, size_t i, const char *key)
{
    json_object *b = json_object_array_get_idx(get(doc, "boards"), i);
    cr_assert_not_null(b, "no board %zu", i);
    return json_object_get_string(get(b, key));
}

/* stdout validated against share/espdoctor/espdoctor.schema.json by the validator make
 * check uses (tests/tools/validate_json.py), here and now. */
static void expect_valid_json(const char *what)
{
    char cwd[256], validator[512], schema[512];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(validator, sizeof validator, "%s/tests/tools/validate_json.py", cwd);
    snprintf(schema, sizeof schema, "%s/share/espdoctor/espdoctor.schema.json", cwd);
    const char *log = scratch_path("json.log");
    FILE *f = fopen(log, "w");
    cr_assert_not_null(f);
    size_t lines = 0;
    for (const char *line = r.out; *line;) {
        size_t len = strcspn(line, "\n");
        fprintf(f, "%s\t%.*s\n", what, (int)len, line);
        lines++;
        line += len + (line[len] == '\n');
    }
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(lines, 1, "%s: --json printed %zu lines, not one document:\n%s", what, lines,
                 r.out);
    static struct e2e_result v;
    const char *argv[] = { "/usr/bin/python3", validator, schema, log, NULL };
    e2e_run(&v, argv, 60);
    cr_assert_eq(v.status, 0, "%s: the document does not validate:\n%s%s", what, v.out, v.err);
    cr_assert_not_null(strstr(v.out, "1 lines validated"), "%s", v.out);
}

TestSuite(flash_all_ports, .init = make_dir, .fini = teardown, .timeout = 180);

/* ---- repeated -p ---------------------------------------------------------------------- */

Test(flash_all_ports, two_network_boards_named_by_repeated_p_are_flashed_and_verified)
{
    const char *img = merged_image();
    serve_boards(2, true);
    run_all((const char *[]){ "-p", urls[0], "-p", urls[1], "--no-stub", img, NULL });
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    for (unsigned i = 0; i < 2; i++) {
        cr_expect(holds_image(flashes[i], img), "board %u does not hold the image", i);
        /* Its own row: the URL, the chip, its own MAC, ok. */
        char mac[24];
        snprintf(mac, sizeof mac, "24:0a:c4:00:00:2%u", i);
        const char *row = row_of(urls[i]);
        cr_expect(strstr(row, "ESP32") && strstr(row, mac) && strstr(row, " ok "),
                  "no ok row with ESP32 and %s for %s in:\n%s", mac, urls[i], r.out);
        /* Each was verified: its process said so, under its URL. */
        char verified[192];
        snprintf(verified, sizeof verified, "%s (ESP32): verifying", urls[i]);
        cr_expect_not_null(strstr(r.err, verified), "no \"%s\" in:\n%s", verified, r.err);
    }
    cr_expect_not_null(strstr(r.out, "2 boards: 2 flashed, 0 skipped, 0 failed"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "PORT "), "no table header:\n%s", r.out);
}

/* A -p that is no port is refused before any board is opened. */
Test(flash_all_ports, a_p_that_is_no_port_is_a_usage_error_before_any_board)
{
    const char *img = merged_image();
    serve_boards(1, true);
    static const struct {
        const char *port, *says;
    } bad[] = {
        { "telnet://127.0.0.1:23", "rfc2217:// and socket://" },
        { "ttyUSB0", "a path starts with '/'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_all((const char *[]){ "-p", urls[0], "-p", bad[i].port, "--no-stub", img, NULL });
        cr_assert_eq(r.status, 2, "-p %s: exit %d\n%s\n%s", bad[i].port, r.status, r.out,
                     r.err);
        cr_expect(strstr(r.err, bad[i].port) && strstr(r.err, bad[i].says),
                  "-p %s: no \"%s\" in:\n%s", bad[i].port, bad[i].says, r.err);
        cr_expect_null(strstr(r.err, "connecting"), "a board was opened:\n%s", r.err);
    }
    cr_expect(untouched(0), "the board -p named first was written");
}

/* Several -p without --all: the one-board commands take one port. */
Test(flash_all_ports, several_p_need_all)
{
    const char *img = merged_image();
    const char *argv[] = { e2e_bin("espdoctor"), "flash", "-p", "/dev/ttyUSB0", "-p",
                           "/dev/ttyUSB1", img, NULL };
    e2e_run(&r, argv, 30);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.err, "several -p are for 'flash --all'"), "%s", r.err);
    const char *ports[] = { e2e_bin("espdoctor"), "flash", "--ports", ports_file("/dev/x\n"),
                            img, NULL };
    e2e_run(&r, ports, 30);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.err, "add --all"), "%s", r.err);
}

/* ---- --ports FILE --------------------------------------------------------------------- */

/* Comments, blank lines, indentation; one entry nobody serves: that board fails, the
 * others are flashed, the run exits 1. Then the same with --json: one document that
 * validates against the schema and says the same. */
Test(flash_all_ports, a_ports_file_with_an_unreachable_entry_fails_that_board_only)
{
    const char *img = merged_image();
    serve_boards(2, false);
    char dead[48], text[512];
    snprintf(dead, sizeof dead, "rfc2217://127.0.0.1:%u", unused_port());
    snprintf(text, sizeof text,
             "# the bench: one line a board\n"
             "\n"
             "%s   # rack A\n"
             "   \n"
             "%s\n"
             "\t%s\n"
             "#%s\n",
             urls[0], dead, urls[1], urls[1]);
    const char *file = ports_file(text);
    run_all((const char *[]){ "--ports", file, "--no-stub", img, NULL });
    cr_assert_eq(r.status, 1, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(holds_image(flashes[0], img), "board 0 was not flashed");
    cr_expect(holds_image(flashes[1], img), "board 1 was not flashed");
    cr_expect_not_null(strstr(row_of(urls[0]), " ok "), "%s", r.out);
    cr_expect_not_null(strstr(row_of(urls[1]), " ok "), "%s", r.out);
    cr_expect_not_null(strstr(row_of(dead), " failed "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "3 boards: 2 flashed, 0 skipped, 1 failed"), "%s", r.out);
    char why[192];
    snprintf(why, sizeof why, "%s: failed: nothing listens on", dead);
    cr_expect_not_null(strstr(r.err, why), "no \"%s\" in:\n%s", why, r.err);

    /* Again with --json (the boards now hold the image: skipped blocks, still verified). */
    run_all((const char *[]){ "--ports", file, "--no-stub", "--json", img, NULL });
    cr_assert_eq(r.status, 1, "exit %d\n%s\n%s", r.status, r.out, r.err);
    expect_valid_json("flash --all --ports, one unreachable");
    json_object *doc = e2e_json_doc(r.out);
    cr_assert_not_null(doc, "%s", r.out);
    cr_expect_str_eq(json_object_get_string(get(doc, "result")), "failed");
    cr_expect_eq(json_object_array_length(get(doc, "boards")), 3);
    cr_expect_eq(json_object_get_int(get(doc, "flashed")), 2);
    cr_expect_eq(json_object_get_int(get(doc, "failed")), 1);
    const char *order[] = { urls[0], dead, urls[1] };   /* as the file lists them */
    const char *results[] = { "ok", "failed", "ok" };
    for (size_t i = 0; i < 3; i++) {
        cr_expect_str_eq(board_field(doc, i, "port"), order[i]);
        cr_expect_str_eq(board_field(doc, i, "result"), results[i]);
    }
    json_object *b0 = json_object_array_get_idx(get(doc, "boards"), 0);
    json_object *region = json_object_array_get_idx(get(get(b0, "flash"), "regions"), 0);
    cr_expect(json_object_get_boolean(get(region, "verified")), "board 0 not verified: %s",
              json_object_to_json_string(b0));
    cr_expect_str_eq(json_object_get_string(get(get(doc, "error"), "id")), "run.failed");
    json_object_put(doc);
}

/* A local board and a network one in one file: espsim's USB board inside its testbed,
 * and a server's board outside it. */
Test(flash_all_ports, a_ports_file_mixes_local_and_network_ports)
{
    const char *img = merged_image();
    serve_boards(1, false);
    char text[256];
    snprintf(text, sizeof text, "/dev/ttyUSB0\n%s\n", urls[0]);
    const char *file = ports_file(text);
    const char *local = scratch_path("local.flash");
    const char *argv[] = { e2e_bin("espsim"), "--fast", "--mac", "24:0a:c4:00:00:31",
                           "--flash", local, "--", e2e_bin("espdoctor"), "flash", "--all",
                           "--ports", file, "--no-stub", img, NULL };
    e2e_run(&r, argv, LIMIT_S);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(holds_image(local, img), "the local board was not flashed");
    cr_expect(holds_image(flashes[0], img), "the network board was not flashed");
    cr_expect_not_null(strstr(row_of("/dev/ttyUSB0"), "24:0a:c4:00:00:31"), "%s", r.out);
    cr_expect_not_null(strstr(row_of(urls[0]), "24:0a:c4:00:00:20"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "2 boards: 2 flashed, 0 skipped, 0 failed"), "%s", r.out);
}

/* A line that is no port: exit 2 naming FILE:LINE, before any board is opened; the same
 * with --json is a usage-error document that validates. */
Test(flash_all_ports, a_malformed_line_stops_the_run_before_any_board_naming_file_and_line)
{
    const char *img = merged_image();
    serve_boards(2, true);
    char text[512];
    snprintf(text, sizeof text, "# bench\n%s\n\ntelnet://127.0.0.1:23\n%s\n", urls[0],
             urls[1]);
    const char *file = ports_file(text);
    char where[256];
    snprintf(where, sizeof where, "%s:4: 'telnet://127.0.0.1:23'", file);
    run_all((const char *[]){ "--ports", file, "--no-stub", img, NULL });
    cr_assert_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_not_null(strstr(r.err, where), "no \"%s\" in:\n%s", where, r.err);
    cr_expect_not_null(strstr(r.err, "nothing was flashed"), "%s", r.err);
    cr_expect_null(strstr(r.err, "connecting"), "a board was opened:\n%s", r.err);
    cr_expect_eq(r.out[0], '\0', "a table for a run that did not start:\n%s", r.out);

    run_all((const char *[]){ "--ports", file, "--no-stub", "--json", img, NULL });
    cr_assert_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
    expect_valid_json("flash --all --ports, a malformed line");
    json_object *doc = e2e_json_doc(r.out);
    cr_assert_not_null(doc, "%s", r.out);
    cr_expect_str_eq(json_object_get_string(get(doc, "result")), "usage-error");
    cr_expect_eq(json_object_array_length(get(doc, "boards")), 0);
    json_object *error = get(doc, "error");
    cr_expect_str_eq(json_object_get_string(get(error, "id")), "usage.invalid");
    cr_expect_not_null(strstr(json_object_get_string(get(error, "message")), where), "%s",
                       json_object_get_string(error));
    json_object_put(doc);

    /* Two words on a line, and a file of comments only: each a usage error too. */
    snprintf(text, sizeof text, "%s %s\n", urls[0], urls[1]);
    run_all((const char *[]){ "--ports", ports_file(text), "--no-stub", img, NULL });
    cr_expect_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_expect(strstr(r.err, ":1: '") && strstr(r.err, "more than one word"), "%s", r.err);
    run_all((const char *[]){ "--ports", ports_file("# none yet\n\n"), "--no-stub", img,
                              NULL });
    cr_expect_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    cr_expect_not_null(strstr(r.err, "names no port"), "%s", r.err);

    /* No board was written: both servers' flash files are as they started. */
    stop_servers();
    for (unsigned i = 0; i < 2; i++)
        cr_expect(untouched(i), "board %u was written", i);
}

Test(flash_all_ports, a_missing_ports_file_is_an_input_error)
{
    const char *img = merged_image();
    run_all((const char *[]){ "--ports", scratch_path("nowhere.ports"), "--no-stub", img,
                              NULL });
    cr_assert_eq(r.status, 6, "exit %d\n%s", r.status, r.err);
    cr_expect(strstr(r.err, "nowhere.ports") && strstr(r.err, "No such file"), "%s", r.err);
}
