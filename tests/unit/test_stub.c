/* The flasher stub: base64, finding and loading esptool-js's JSON files, uploading to the
 * virtual board, and what a stub adds (16 KiB blocks, compression and MD5 on the ESP8266,
 * READ_FLASH, ERASE_*, baud changes). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/stub.h"

#define STUB_DIR "tests/js/node_modules/esptool-js/lib/targets/stub_flasher"

static long b64(const char *in, uint8_t *out, size_t cap)
{
    return ed_base64_decode(in, strlen(in), out, cap);
}

Test(base64, decodes_with_and_without_padding)
{
    uint8_t out[16];
    cr_assert_eq(b64("", out, sizeof out), 0);
    cr_assert_eq(b64("TWFu", out, sizeof out), 3);
    cr_assert_arr_eq(out, "Man", 3);
    cr_assert_eq(b64("TWE=", out, sizeof out), 2);
    cr_assert_arr_eq(out, "Ma", 2);
    cr_assert_eq(b64("TQ==", out, sizeof out), 1);
    cr_assert_eq(out[0], 'M');
    cr_assert_eq(b64("TQ", out, sizeof out), 1);
    cr_assert_eq(b64("/+8A\n//8=", out, sizeof out), 5);
    cr_assert_arr_eq(out, "\xff\xef\x00\xff\xff", 5);
}

Test(base64, rejects_what_is_not_base64)
{
    uint8_t out[16];
    cr_assert_eq(b64("TW*u", out, sizeof out), -1);
    cr_assert_eq(b64("TQ==TQ", out, sizeof out), -1, "data after padding");
    cr_assert_eq(b64("T", out, sizeof out), -1, "a lone 6-bit group");
    cr_assert_eq(b64("TWFuTWFu", out, 5), -1, "output too small");
}

static void need_stub_dir(void)
{
    struct stat st;
    cr_assert_eq(stat(STUB_DIR, &st), 0, "%s missing: run tests/js/setup.sh", STUB_DIR);
}

Test(stub, loads_esptool_js_json)
{
    need_stub_dir();
    struct ed_stub s;
    char err[256];
    cr_assert_eq(ed_stub_load(STUB_DIR "/esp32.json", &s, err, sizeof err), ED_OK, "%s", err);
    /* The addresses the file states (entry inside text, text in the ESP32's IRAM). */
    cr_assert_geq(s.entry, s.text_start);
    cr_assert_lt(s.entry, s.text_start + s.text_len);
    cr_assert_eq(s.text_start >> 24, 0x40);
    cr_assert_gt(s.text_len, 1000);
    cr_assert_gt(s.data_len, 0);
    cr_assert_eq(s.data_start >> 24, 0x3F);
    ed_stub_free(&s);
}

static char tmp[64];

static void make_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/test_stub.XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(stub, rejects_files_that_are_not_stubs, .init = make_tmp, .fini = remove_tmp)
{
    char path[128], err[256];
    struct ed_stub s;
    snprintf(path, sizeof path, "%s/none.json", tmp);
    cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_E_NOTFOUND);
    cr_assert_not_null(strstr(err, "does not exist"), "%s", err);
    write_text(path, "<html>not json</html>");
    cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_E_IMAGE);
    write_text(path, "{\"text\": \"AAAA\"}");
    cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_E_IMAGE, "no entry");
    write_text(path, "{\"entry\": 1, \"text_start\": 0, \"text\": \"A*AA\"}");
    cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_E_IMAGE, "bad base64");
    write_text(path, "{\"entry\": 4, \"text_start\": 0, \"text\": \"AAECAwQF\"}");
    cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_OK, "%s", err);
    cr_assert_eq(s.text_len, 6);
    cr_assert_null(s.data);
    ed_stub_free(&s);
}

Test(stub, finds_the_chip_file_in_each_layout, .init = make_tmp, .fini = remove_tmp)
{
    const struct ed_chip *esp32 = ed_chip_by_key("esp32");
    const struct ed_chip *esp8266 = ed_chip_by_key("esp8266");
    char path[512], want[512], err[256], sub[256];
    /* A stub_flasher directory itself. */
    snprintf(want, sizeof want, "%s/esp32.json", tmp);
    write_text(want, "{}");
    cr_assert_eq(ed_stub_find(tmp, esp32, path, sizeof path, err, sizeof err), ED_OK, "%s", err);
    cr_assert_str_eq(path, want);
    /* An esptool-js package. */
    snprintf(sub, sizeof sub, "mkdir -p '%s/pkg/lib/targets/stub_flasher'", tmp);
    cr_assert_eq(system(sub), 0);
    snprintf(want, sizeof want, "%s/pkg/lib/targets/stub_flasher/esp8266.json", tmp);
    write_text(want, "{}");
    snprintf(sub, sizeof sub, "%s/pkg", tmp);
    cr_assert_eq(ed_stub_find(sub, esp8266, path, sizeof path, err, sizeof err), ED_OK);
    cr_assert_str_eq(path, want);
    /* A file given directly. */
    cr_assert_eq(ed_stub_find(want, esp32, path, sizeof path, err, sizeof err), ED_OK);
    cr_assert_str_eq(path, want);
    /* $ESPDOCTOR_STUB_DIR when nothing is given. */
    setenv("ESPDOCTOR_STUB_DIR", sub, 1);
    cr_assert_eq(ed_stub_find(NULL, esp8266, path, sizeof path, err, sizeof err), ED_OK);
    cr_assert_str_eq(path, want);
    /* A directory without this chip's stub, and one that does not exist. */
    cr_assert_eq(ed_stub_find(sub, esp32, path, sizeof path, err, sizeof err), ED_E_NOTFOUND);
    cr_assert_not_null(strstr(err, "esp32.json"), "%s", err);
    snprintf(sub, sizeof sub, "%s/nowhere", tmp);
    cr_assert_eq(ed_stub_find(sub, esp32, path, sizeof path, err, sizeof err), ED_E_NOTFOUND);
    cr_assert_not_null(strstr(err, "does not exist"), "%s", err);
}

/* ---- against the virtual board --------------------------------------------------------- */

static struct sim_board *board;
static struct ed_transport *tp;
static struct ed_loader ld;

static void start(const char *chip)
{
    need_stub_dir();
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = chip;
    char err[200];
    board = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(board, "%s", err);
    tp = simlink_open(board, 115200);
    ed_loader_init(&ld, tp);
    const struct ed_connect_opts c = { .style = ED_RESET_AUTO_CIRCUIT };
    cr_assert_eq(ed_loader_connect(&ld, &c), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&ld), ED_OK);
    char path[512];
    struct ed_stub s;
    cr_assert_eq(ed_stub_find(STUB_DIR, ld.chip, path, sizeof path, err, sizeof err), ED_OK);
    cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_OK, "%s", err);
    cr_assert_eq(ed_stub_upload(&ld, &s), ED_OK);
    ed_stub_free(&s);
    cr_assert(ld.stub);
    cr_assert_eq(ld.status_bytes, 2);
    cr_assert(sim_board_stub_running(board));
    /* The board runs it because it knows it by its SHA-256 (board/known_stubs.c). */
    cr_assert_str_eq(sim_board_stub_package(board), "esptool-js 0.7.0");
    cr_assert_eq(ed_flash_prepare(&ld, 4u << 20), ED_OK);
}

/* Each chip the board models recognises esptool-js's stub for it, and no other chip's. */
Test(stub_sim, each_chip_knows_its_own_esptool_js_stub)
{
    need_stub_dir();
    static const char *const chips[] = { "esp8266", "esp32", "esp32s2", "esp32s3", "esp32c3",
                                         "esp32c6" };
    for (size_t i = 0; i < 6; i++) {
        for (int wrong = 0; wrong < 2; wrong++) {
            struct sim_board_opts o;
            sim_board_opts_default(&o);
            o.chip = chips[i];
            char err[200];
            struct sim_board *b = sim_board_new(&o, err, sizeof err);
            cr_assert_not_null(b, "%s", err);
            struct ed_transport *t = simlink_open(b, 115200);
            struct ed_loader *l = calloc(1, sizeof *l);
            cr_assert_not_null(l);
            ed_loader_init(l, t);
            const struct ed_connect_opts c = { .style = ED_RESET_AUTO_CIRCUIT };
            cr_assert_eq(ed_loader_connect(l, &c), ED_OK);
            cr_assert_eq(ed_loader_detect_chip(l), ED_OK);
            /* The wrong chip's stub: the next chip's in the list. */
            const struct ed_chip *as = wrong ? ed_chip_by_key(chips[(i + 1) % 6]) : l->chip;
            char path[512];
            struct ed_stub s;
            cr_assert_eq(ed_stub_find(STUB_DIR, as, path, sizeof path, err, sizeof err), ED_OK);
            cr_assert_eq(ed_stub_load(path, &s, err, sizeof err), ED_OK, "%s", err);
            int rc = ed_stub_upload(l, &s);
            ed_stub_free(&s);
            if (wrong) {
                cr_expect_neq(rc, ED_OK, "%s ran %s's stub", chips[i], as->key);
                cr_expect_not(sim_board_stub_running(b));
            } else {
                cr_expect_eq(rc, ED_OK, "%s: %s", chips[i], ed_strerror(rc));
                cr_expect_str_eq(sim_board_stub_package(b), "esptool-js 0.7.0");
            }
            ed_tp_close(t);
            free(l);
            sim_board_free(b);
        }
    }
}

static void esp8266(void) { start("esp8266"); }
static void esp32(void) { start("esp32"); }

static void stop(void)
{
    ed_tp_close(tp);
    sim_board_free(board);
}

static int data_file(uint32_t size)
{
    char path[] = "/tmp/test_stub_data.XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    for (uint32_t i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(i % 251 < 200 ? 'A' + i % 7 : i * 13);
        cr_assert_eq(write(fd, &b, 1), 1);
    }
    return fd;
}

Test(stub_sim, esp8266_stub_compresses_and_verifies_by_md5, .init = esp8266, .fini = stop)
{
    cr_assert(ed_flash_can_compress(&ld));
    cr_assert(ed_flash_can_md5(&ld));
    cr_assert_eq(ed_loader_flash_block(&ld), ED_FLASH_BLOCK_STUB);
    const uint32_t size = 100000;
    int fd = data_file(size);
    struct ed_flash_region r = { .path = "x", .fd = fd, .addr = 0x3000, .size = size };
    struct ed_flash_opts o = { .skip_unchanged = true };
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &o, NULL), ED_OK);
    cr_assert(r.compressed);
    cr_assert_eq(r.verify, ED_VERIFY_OK);
    size_t n;
    const uint8_t *flash = sim_board_flash(board, &n);
    uint8_t *want = malloc(size);
    cr_assert_eq(pread(fd, want, size, 0), (ssize_t)size);
    cr_assert_arr_eq(flash + 0x3000, want, size);
    free(want);
    close(fd);
    cr_assert_eq(ed_flash_finish(&ld), ED_OK);
}

Test(stub_sim, read_flash_matches_and_is_md5_checked, .init = esp32, .fini = stop)
{
    const uint32_t size = 0x5000 + 100;   /* whole packets and a short one */
    int fd = data_file(size);
    struct ed_flash_region r = { .path = "x", .fd = fd, .addr = 0x40000, .size = size };
    cr_assert_eq(ed_flash_write(&ld, &r, 1, NULL, NULL), ED_OK);
    char path[] = "/tmp/test_stub_read.XXXXXX";
    int out = mkstemp(path);
    unlink(path);
    uint32_t done = 0;
    cr_assert_eq(ed_flash_read(&ld, 0x40000, size, out, NULL, &done), ED_OK);
    cr_assert_eq(done, size);
    uint8_t *a = malloc(size), *b = malloc(size);
    cr_assert_eq(pread(out, a, size, 0), (ssize_t)size);
    cr_assert_eq(pread(fd, b, size, 0), (ssize_t)size);
    cr_assert_arr_eq(a, b, size);
    free(a);
    free(b);
    close(out);
    close(fd);
    /* The link is in step afterwards. */
    uint8_t md5[16];
    cr_assert_eq(ed_loader_flash_md5(&ld, 0, 0x1000, md5), ED_OK);
}

Test(stub_sim, erase_region_and_whole_chip, .init = esp32, .fini = stop)
{
    int fd = data_file(0x3000);
    struct ed_flash_region r = { .path = "x", .fd = fd, .addr = 0x10000, .size = 0x3000 };
    cr_assert_eq(ed_flash_write(&ld, &r, 1, NULL, NULL), ED_OK);
    close(fd);
    size_t n;
    const uint8_t *flash = sim_board_flash(board, &n);
    cr_assert_eq(ed_flash_erase(&ld, false, 0x11000, 0x1000, 0), ED_OK);
    for (uint32_t a = 0x11000; a < 0x12000; a++)
        cr_assert_eq(flash[a], 0xFF);
    cr_assert_neq(flash[0x10000], 0xFF);
    cr_assert_neq(flash[0x12000], 0xFF);
    cr_assert_eq(ed_flash_erase(&ld, false, 0x11800, 0x1000, 0), ED_E_ARG, "unaligned");
    cr_assert_eq(ed_flash_erase(&ld, true, 0, 0, 0), ED_OK);
    for (uint32_t a = 0; a < n; a += 997)
        cr_assert_eq(flash[a], 0xFF, "0x%x", a);
}

Test(stub_sim, stub_changes_baud_with_the_old_speed, .init = esp8266, .fini = stop)
{
    uint32_t reached = 0;
    cr_assert_eq(ed_flash_set_baud(&ld, 921600, &reached), ED_OK);
    cr_assert_eq(reached, 921600);
    cr_assert_eq(sim_board_chip_baud(board), 921600);
    uint32_t v;
    cr_assert_eq(ed_loader_read_reg(&ld, 0x40001000, &v), ED_OK);
}
