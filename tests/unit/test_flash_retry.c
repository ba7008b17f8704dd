/* The flasher under the virtual board's injected faults (over simlink, virtual clock):
 * refused blocks sent again, a broken link handed to the recover hook and the region
 * resumed, a flash that does not program reported as such, never "verified" unless the
 * MD5 matched. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/loader.h"

#define FLASH_SIZE (4u << 20)
#define REGION_ADDR 0x10000u
#define REGION_SIZE (96u * 1024)

static struct sim_board *board;
static struct ed_transport *tp;
static struct ed_loader ld;
static int fd = -1;

static const struct ed_connect_opts auto_opts = { .style = ED_RESET_AUTO_CIRCUIT };

static void start(const char *chip, const struct sim_faults *faults)
{
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = chip;
    o.fast = true;
    if (getenv("TRACE")) o.trace = stderr;
    if (faults)
        o.faults = *faults;
    char err[200];
    board = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(board, "sim_board_new: %s", err);
    tp = simlink_open(board, 115200);
    cr_assert_not_null(tp);
    ed_loader_init(&ld, tp);
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&ld), ED_OK);
    cr_assert_eq(ed_flash_prepare(&ld, FLASH_SIZE), ED_OK);

    /* Code-like bytes: compressible, but not trivially. */
    char path[] = "/tmp/test_flash_retry.XXXXXX";
    fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    uint8_t *buf = malloc(REGION_SIZE);
    uint32_t x = 12345;
    for (uint32_t i = 0; i < REGION_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)((x >> 16) % 40 + '0');
    }
    cr_assert_eq(write(fd, buf, REGION_SIZE), (ssize_t)REGION_SIZE);
    free(buf);
}

static void stop(void)
{
    ed_tp_close(tp);
    sim_board_free(board);
    close(fd);
}

static bool flash_holds_file(void)
{
    size_t size;
    const uint8_t *mem = sim_board_flash(board, &size);
    uint8_t *buf = malloc(REGION_SIZE);
    bool same = pread(fd, buf, REGION_SIZE, 0) == (ssize_t)REGION_SIZE &&
                memcmp(mem + REGION_ADDR, buf, REGION_SIZE) == 0;
    free(buf);
    return same;
}

/* What the CLI's hook does, in small: SYNC again; if the chip reset, reconnect. */
static unsigned hook_calls;

static int recover(void *ctx, struct ed_loader *l, int why)
{
    (void)ctx;
    (void)why;
    hook_calls++;
    if (ed_flash_resync(l, FLASH_SIZE) == ED_OK)
        return ED_OK;
    int rc = ed_loader_connect(l, &auto_opts);
    if (rc == ED_OK)
        rc = ed_loader_detect_chip(l);
    if (rc == ED_OK)
        rc = ed_flash_prepare(l, FLASH_SIZE);
    return rc;
}

static int write_region(struct ed_flash_region *r, bool with_hook)
{
    *r = (struct ed_flash_region){ .path = "test.bin", .fd = fd, .addr = REGION_ADDR,
                                   .size = REGION_SIZE };
    struct ed_flash_opts o = { .skip_unchanged = true };
    if (with_hook) {
        o.recover = recover;
        hook_calls = 0;
    }
    size_t at;
    return ed_flash_write(&ld, r, 1, &o, &at);
}

Test(flash_retry, a_noisy_line_costs_resends_not_the_flash)
{
    struct sim_faults f = { .seed = 11, .drop_rate = 1.5e-4, .corrupt_rate = 1.5e-4 };
    start("esp32", &f);
    struct ed_flash_region r;
    int rc = write_region(&r, true);
    cr_assert_eq(rc, ED_OK, "rc %d, op 0x%02x error 0x%02x, %u resent, %u recoveries, %u hook calls",
                 rc, ld.last_op, ld.last_error, r.resent, r.recoveries, hook_calls);
    cr_assert_eq(r.verify, ED_VERIFY_OK);
    cr_assert_gt(r.resent, 0, "a line this noisy must have damaged a block");
    cr_assert(flash_holds_file());
    stop();
}

Test(flash_retry, a_brownout_mid_write_is_reconnected_and_resumed)
{
    struct sim_faults f = { .brownout = true, .brownout_at = 30000 };
    start("esp32", &f);
    struct ed_flash_region r;
    cr_assert_eq(write_region(&r, true), ED_OK);
    cr_assert_eq(r.verify, ED_VERIFY_OK);
    cr_assert_eq(r.recoveries, 1);
    cr_assert_eq(hook_calls, 1);
    /* Resumed: what was in place before the brown-out was not written again. */
    cr_assert_gt(r.skipped, 0);
    cr_assert(flash_holds_file());
    stop();
}

Test(flash_retry, without_a_hook_a_broken_link_ends_the_write)
{
    struct sim_faults f = { .brownout = true, .brownout_at = 30000 };
    start("esp32", &f);
    struct ed_flash_region r;
    int rc = write_region(&r, false);
    cr_assert(rc == ED_E_TIMEOUT || rc == ED_E_PROTOCOL, "rc %d", rc);
    cr_assert_neq(r.verify, ED_VERIFY_OK);
    cr_assert_lt(r.done, REGION_SIZE);
    stop();
}

Test(flash_retry, a_sector_that_does_not_program_is_a_verify_failure_after_one_rewrite)
{
    struct sim_faults f = { .bad_sectors = { REGION_ADDR + 0x5000 }, .bad_sector_count = 1 };
    start("esp32", &f);
    struct ed_flash_region r;
    cr_assert_eq(write_region(&r, true), ED_E_VERIFY);
    cr_assert_eq(r.verify, ED_VERIFY_MISMATCH);
    cr_assert_eq(hook_calls, 0, "a bad flash is not a link problem");
    /* The rewrite only touched what did not verify: one 16 KiB piece. */
    cr_assert_leq(r.written, ED_FLASH_RESUME_CHUNK);
    cr_assert_not(flash_holds_file());
    stop();
}

Test(flash_retry, the_esp8266_rom_resends_refused_blocks_and_stays_unverified)
{
    struct sim_faults f = { .seed = 5, .corrupt_rate = 3e-4 };
    start("esp8266", &f);
    struct ed_flash_region r;
    int rc = write_region(&r, true);
    cr_assert_eq(rc, ED_OK, "rc %d, op 0x%02x error 0x%02x, %u resent, %u recoveries, %u hook calls",
                 rc, ld.last_op, ld.last_error, r.resent, r.recoveries, hook_calls);
    cr_assert_eq(r.verify, ED_VERIFY_NONE, "the ESP8266 ROM cannot hash: never 'verified'");
    cr_assert_gt(r.resent, 0);
    cr_assert(flash_holds_file());
    stop();
}

Test(flash_retry, only_requests_refused_as_damaged_are_sent_again)
{
    struct ed_loader l;
    memset(&l, 0, sizeof l);
    static const uint8_t resend[] = { 0x05, 0x07, 0xC0, 0xC1, 0xC2 };
    for (size_t i = 0; i < sizeof resend; i++) {
        l.last_error = resend[i];
        cr_assert(ed_loader_refused_as_damaged(&l, ED_E_ROM), "error 0x%02x", resend[i]);
    }
    static const uint8_t keep[] = { 0x06, 0x08, 0x09, 0x0B, 0xC4, 0xC7, 0xC9 };
    for (size_t i = 0; i < sizeof keep; i++) {
        l.last_error = keep[i];
        cr_assert_not(ed_loader_refused_as_damaged(&l, ED_E_ROM), "error 0x%02x", keep[i]);
    }
    cr_assert(ed_loader_refused_as_damaged(&l, ED_E_UNSUPPORTED));
    cr_assert_not(ed_loader_refused_as_damaged(&l, ED_E_TIMEOUT));
    cr_assert_not(ed_loader_refused_as_damaged(&l, ED_E_GONE));
}
