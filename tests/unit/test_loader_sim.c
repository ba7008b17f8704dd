/* The loader against the virtual board (tests/sim/board) over simlink: the real reset
 * circuit model, ROM, eFuses and SPI flash, on a virtual clock. */
#include <criterion/criterion.h>
#include <md5.h>
#include <string.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/loader.h"

static struct sim_board *board;
static struct ed_transport *tp;
static struct ed_loader ld;

static const uint8_t test_mac[6] = { 0x24, 0x6F, 0x28, 0x12, 0x34, 0x56 };

static void start(const char *chip, void (*tweak)(struct sim_board_opts *))
{
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = chip;
    memcpy(o.mac, test_mac, 6);
    o.mac_given = true;
    if (tweak)
        tweak(&o);
    char err[200];
    board = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(board, "sim_board_new: %s", err);
    tp = simlink_open(board, 115200);
    cr_assert_not_null(tp);
    ed_loader_init(&ld, tp);
}

static void stop(void)
{
    ed_tp_close(tp);
    sim_board_free(board);
}

static const struct ed_connect_opts auto_opts = { .style = ED_RESET_AUTO_CIRCUIT };

static void identify(const char *want_key, unsigned want_xtal, uint32_t want_flash)
{
    cr_assert_eq(ed_loader_detect_chip(&ld), ED_OK);
    cr_assert_str_eq(ld.chip->key, want_key);
    cr_assert_eq(ld.status_bytes, ld.chip->rom_status_bytes);

    uint8_t mac[6];
    cr_assert_eq(ed_loader_read_mac(&ld, mac), ED_OK);
    cr_assert_arr_eq(mac, test_mac, 6, "MAC %02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                     mac[2], mac[3], mac[4], mac[5]);

    unsigned mhz, raw;
    cr_assert_eq(ed_loader_crystal_mhz(&ld, &mhz, &raw), ED_OK);
    cr_assert_eq(mhz, want_xtal, "crystal %u MHz (raw %u.%u)", mhz, raw / 10, raw % 10);

    uint32_t id, size;
    cr_assert_eq(ed_loader_flash_id(&ld, &id, &size), ED_OK, "flash id 0x%06X", id);
    cr_assert_eq(size, want_flash, "flash id 0x%06X -> %u bytes", id, size);
}

static void esp32(void) { start("esp32", NULL); }

Test(sim, esp32_connects_on_the_first_reset, .init = esp32, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    cr_assert_eq(ld.attempt_count, 1);
    cr_assert_eq(ld.attempts[0].boot, ED_BOOT_DOWNLOAD, "banner: %s", ld.attempts[0].banner);
    cr_assert_not(ld.stub);
    cr_assert_eq(ld.sync_replies, 8);
    cr_assert(sim_board_in_download_mode(board));
    identify("esp32", 40, 4u << 20);
}

static void esp8266(void) { start("esp8266", NULL); }

Test(sim, esp8266_connects_and_identifies, .init = esp8266, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    cr_assert_eq(ld.status_bytes, 2);
    identify("esp8266", 26, 4u << 20);
}

Test(sim, esp8266_boot_log_reads_at_74880, .init = esp8266, .fini = stop)
{
    struct ed_connect_opts o = { .style = ED_RESET_AUTO_CIRCUIT, .log_baud = 74880 };
    cr_assert_eq(ed_loader_connect(&ld, &o), ED_OK);
    cr_assert_eq(ld.attempts[0].boot, ED_BOOT_DOWNLOAD, "banner: %s", ld.attempts[0].banner);
    cr_assert_eq(ld.attempts[0].boot_value, 1);
    cr_assert_eq(tp->baud, 115200);
}

static void slow_en(struct sim_board_opts *o) { o->en_delay_ms = 300; }
static void esp32_slow_en(void) { start("esp32", slow_en); }

Test(sim, slow_en_needs_the_long_delay, .init = esp32_slow_en, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    cr_assert_geq(ld.attempt_count, 3);
    const struct ed_connect_attempt *last = &ld.attempts[ld.attempt_count - 1];
    cr_assert_eq(last->delay_ms, 550);
    cr_assert_eq(last->boot, ED_BOOT_DOWNLOAD);
    for (size_t i = 0; i + 1 < ld.attempt_count; i++) {
        cr_assert_eq(ld.attempts[i].delay_ms, 50);
        cr_assert_eq(ld.attempts[i].boot, ED_BOOT_FLASH, "attempt %zu: %s", i,
                     ld.attempts[i].banner);
    }
}

static void no_autoreset(struct sim_board_opts *o) { o->no_autoreset = true; }
static void esp32_no_autoreset(void) { start("esp32", no_autoreset); }

Test(sim, no_autoreset_fails_with_attempts_recorded, .init = esp32_no_autoreset, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_E_TIMEOUT);
    cr_assert_eq(ld.attempt_count, 4);
    for (size_t i = 0; i < ld.attempt_count; i++) {
        cr_assert_eq(ld.attempts[i].result, ED_E_TIMEOUT);
        cr_assert_neq(ld.attempts[i].boot, ED_BOOT_DOWNLOAD);
    }
    cr_assert_not(sim_board_in_download_mode(board));
}

static void held(struct sim_board_opts *o) { o->no_autoreset = true; o->boot_held = true; }
static void esp32_boot_held(void) { start("esp32", held); }

Test(sim, boot_held_without_autoreset_syncs_without_reset, .init = esp32_boot_held, .fini = stop)
{
    struct ed_connect_opts o = { .style = ED_RESET_AUTO_CIRCUIT, .no_reset = true };
    cr_assert_eq(ed_loader_connect(&ld, &o), ED_OK);
    cr_assert_not(ld.attempts[0].reset_done);
    identify("esp32", 40, 4u << 20);
}

static void big_flash(struct sim_board_opts *o) { o->flash_size = 16u << 20; }
static void esp32s3_16m(void) { start("esp32s3", big_flash); }

Test(sim, esp32s3_by_security_info_with_16_mib, .init = esp32s3_16m, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    identify("esp32s3", 40, 16u << 20);
    cr_assert_eq(ld.security_chip_id, 9);
}

static void esp32c3(void) { start("esp32c3", NULL); }

Test(sim, esp32c3_identifies, .init = esp32c3, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    identify("esp32c3", 40, 4u << 20);
}

Test(sim, md5_and_slow_read_match_the_flash, .init = esp32, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&ld), ED_OK);
    cr_assert_eq(ed_loader_spi_attach(&ld), ED_OK);
    size_t size;
    const uint8_t *flash = sim_board_flash(board, &size);
    cr_assert_geq(size, 0x2000);
    /* Compare with what the board holds, read back through the ROM. */
    uint8_t block[64];
    cr_assert_eq(ed_loader_read_flash_slow(&ld, 0x1000, block, sizeof block), ED_OK);
    cr_assert_arr_eq(block, flash + 0x1000, sizeof block);
    uint8_t md5[16], want[16];
    cr_assert_eq(ed_loader_flash_md5(&ld, 0x1000, 0x1000, md5), ED_OK);
    MD5_CTX ctx;
    MD5Init(&ctx);
    MD5Update(&ctx, flash + 0x1000, 0x1000);
    MD5Final(want, &ctx);
    cr_assert_arr_eq(md5, want, 16);
}

Test(sim, write_a_block_and_read_it_back, .init = esp32, .fini = stop)
{
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&ld), ED_OK);
    cr_assert_eq(ed_loader_spi_attach(&ld), ED_OK);
    uint8_t data[0x400];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    cr_assert_eq(ed_loader_flash_begin(&ld, sizeof data, 0x20000), ED_OK);
    cr_assert_eq(ed_loader_flash_data(&ld, data, sizeof data, 0), ED_OK);
    size_t size;
    const uint8_t *flash = sim_board_flash(board, &size);
    cr_assert_arr_eq(flash + 0x20000, data, sizeof data);
    uint8_t back[64];
    cr_assert_eq(ed_loader_read_flash_slow(&ld, 0x20000, back, sizeof back), ED_OK);
    cr_assert_arr_eq(back, data, sizeof back);
}
