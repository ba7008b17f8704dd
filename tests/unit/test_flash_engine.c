/* The flashing engine against the virtual board over simlink (virtual clock): compressed
 * writes and MD5 verification, skip-unchanged per chunk, the ESP8266 ROM's plain writes
 * and erase workaround, faults and cancellation between blocks. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "board/board.h"
#include "simlink.h"
#include "espdoctor/error.h"
#include "espdoctor/flash.h"
#include "espdoctor/loader.h"

#define FLASH_SIZE (4u << 20)

static struct sim_board *board;
static struct ed_transport *tp;
static struct ed_loader ld;
static char flash_path[64];

static void start_board(const char *chip, bool with_file, uint8_t fill)
{
    struct sim_board_opts o;
    sim_board_opts_default(&o);
    o.chip = chip;
    flash_path[0] = '\0';
    if (with_file) {
        /* A flash file filled with a pattern: shows what an erase touched. */
        snprintf(flash_path, sizeof flash_path, "/tmp/test_flash_engine.XXXXXX");
        int fd = mkstemp(flash_path);
        cr_assert_geq(fd, 0);
        uint8_t *buf = malloc(FLASH_SIZE);
        memset(buf, fill, FLASH_SIZE);
        cr_assert_eq(write(fd, buf, FLASH_SIZE), (ssize_t)FLASH_SIZE);
        free(buf);
        close(fd);
        o.flash_path = flash_path;
    }
    char err[200];
    board = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(board, "sim_board_new: %s", err);
    tp = simlink_open(board, 115200);
    cr_assert_not_null(tp);
    ed_loader_init(&ld, tp);
    const struct ed_connect_opts auto_opts = { .style = ED_RESET_AUTO_CIRCUIT };
    cr_assert_eq(ed_loader_connect(&ld, &auto_opts), ED_OK);
    cr_assert_eq(ed_loader_detect_chip(&ld), ED_OK);
    cr_assert_eq(ed_flash_prepare(&ld, FLASH_SIZE), ED_OK);
}

static void stop(void)
{
    ed_tp_close(tp);
    sim_board_free(board);
    if (flash_path[0])
        unlink(flash_path);
}

static void esp32(void) { start_board("esp32", false, 0xFF); }
static void esp8266_patterned(void) { start_board("esp8266", true, 0xA5); }

/* A file of `size` bytes: code-like bytes (compressible, not trivially), then 0xFF. */
static int make_file(uint32_t size, unsigned seed)
{
    char path[] = "/tmp/test_flash_file.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    uint8_t *buf = malloc(size);
    uint32_t x = seed * 2654435761u + 1;
    for (uint32_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = i > size / 4 * 3 ? 0xFF : (uint8_t)((x >> 16) % 24 + 'a');
    }
    cr_assert_eq(write(fd, buf, size), (ssize_t)size);
    free(buf);
    return fd;
}

static void poke_file(int fd, uint32_t offset, uint8_t value)
{
    cr_assert_eq(pwrite(fd, &value, 1, offset), 1);
}

static void expect_flash_holds(int fd, uint32_t addr, uint32_t size)
{
    size_t flash_size;
    const uint8_t *flash = sim_board_flash(board, &flash_size);
    uint8_t *want = malloc(size);
    cr_assert_eq(pread(fd, want, size, 0), (ssize_t)size);
    cr_assert_arr_eq(flash + addr, want, size, "flash at 0x%x differs from the file", addr);
    free(want);
}

static struct ed_flash_region region(int fd, uint32_t addr, uint32_t size)
{
    struct ed_flash_region r = { .path = "test.bin", .fd = fd, .addr = addr, .size = size };
    return r;
}

Test(engine, compressed_write_lands_and_verifies, .init = esp32, .fini = stop)
{
    const uint32_t size = 300000;
    int fd = make_file(size, 1);
    struct ed_flash_region r = region(fd, 0x10000, size);
    struct ed_flash_opts o = { .skip_unchanged = true };
    size_t failed_at = 99;
    struct sim_board_stats before, after;
    sim_board_get_stats(board, &before);
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &o, &failed_at), ED_OK);
    cr_assert_eq(failed_at, 1);
    /* The region's one MD5 says the flash is erased: no MD5 per chunk. What is left: that
     * MD5, the begin, the blocks, the stub's barrier and the verifying MD5. */
    sim_board_get_stats(board, &after);
    uint64_t blocks = after.blocks_written - before.blocks_written;
    cr_assert_leq(after.commands - before.commands, blocks + 4, "%llu commands for %llu blocks",
                  (unsigned long long)(after.commands - before.commands),
                  (unsigned long long)blocks);
    cr_assert(r.compressed);
    cr_assert_gt(r.compressed_size, 0);
    cr_assert_lt(r.compressed_size, size / 2, "compressed %u of %u", r.compressed_size, size);
    /* The erased flash already holds the last chunk (all 0xFF): it is skipped. */
    cr_assert_eq(r.written, 4 * ED_FLASH_SKIP_CHUNK, "written %u", r.written);
    cr_assert_eq(r.skipped, size - 4 * ED_FLASH_SKIP_CHUNK);
    cr_assert_eq(r.done, size);
    cr_assert_eq(r.verify, ED_VERIFY_OK);
    cr_assert_arr_eq(r.flash_md5, r.file_md5, 16);
    expect_flash_holds(fd, 0x10000, size);
    close(fd);
}

Test(engine, skip_unchanged_rewrites_only_changed_chunks, .init = esp32, .fini = stop)
{
    const uint32_t size = 5 * ED_FLASH_SKIP_CHUNK + 1000;   /* six chunks, the last short */
    int fd = make_file(size, 2);
    struct ed_flash_region r = region(fd, 0x20000, size);
    struct ed_flash_opts o = { .skip_unchanged = true };
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &o, NULL), ED_OK);

    /* Unchanged: nothing written, still verified. */
    r = region(fd, 0x20000, size);
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &o, NULL), ED_OK);
    cr_assert_eq(r.written, 0);
    cr_assert_eq(r.skipped, size);
    cr_assert_eq(r.compressed_size, 0);
    cr_assert_eq(r.verify, ED_VERIFY_OK);

    /* Change chunk 1 and the short last chunk: only those two are written. */
    poke_file(fd, ED_FLASH_SKIP_CHUNK + 5, 0x00);
    poke_file(fd, size - 1, 0x00);
    r = region(fd, 0x20000, size);
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &o, NULL), ED_OK);
    cr_assert_eq(r.written, ED_FLASH_SKIP_CHUNK + 1000, "written %u", r.written);
    cr_assert_eq(r.skipped, 4 * ED_FLASH_SKIP_CHUNK);
    cr_assert_eq(r.verify, ED_VERIFY_OK);
    expect_flash_holds(fd, 0x20000, size);

    /* --no-skip: everything again. */
    struct ed_flash_opts all = { .skip_unchanged = false };
    r = region(fd, 0x20000, size);
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &all, NULL), ED_OK);
    cr_assert_eq(r.written, size);
    cr_assert_eq(r.skipped, 0);
    cr_assert_eq(r.verify, ED_VERIFY_OK);
    close(fd);
}

Test(engine, esp8266_rom_writes_plain_keeps_neighbours_unverified, .init = esp8266_patterned,
     .fini = stop)
{
    /* Five sectors from sector 14: without the erase-size workaround the ROM would erase
     * two more sectors than asked, into sector 19. */
    const uint32_t addr = 14 * ED_FLASH_SECTOR, size = 5 * ED_FLASH_SECTOR - 100;
    int fd = make_file(size, 3);
    struct ed_flash_region r = region(fd, addr, size);
    struct ed_flash_opts o = { .skip_unchanged = true };
    cr_assert_not(ed_flash_can_md5(&ld));
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &o, NULL), ED_OK);
    cr_assert_not(r.compressed);
    cr_assert_eq(r.written, size);
    cr_assert_eq(r.verify, ED_VERIFY_NONE);
    expect_flash_holds(fd, addr, size);
    size_t flash_size;
    const uint8_t *flash = sim_board_flash(board, &flash_size);
    for (uint32_t a = 19 * ED_FLASH_SECTOR; a < 21 * ED_FLASH_SECTOR; a++)
        cr_assert_eq(flash[a], 0xA5, "byte at 0x%x was erased", a);
    for (uint32_t a = 12 * ED_FLASH_SECTOR; a < addr; a++)
        cr_assert_eq(flash[a], 0xA5, "byte at 0x%x was erased", a);
    /* The tail of the last sector was erased (and not written). */
    cr_assert_eq(flash[addr + size], 0xFF);
    close(fd);
}

/* Writes of every awkward size at awkward places, one after another on a flash full of a
 * pattern: afterwards each holds its file, the tail of its last sector is erased, and not
 * one other byte changed (the ROM's erase rule would take the sector after an odd count
 * short of twice the way to the next 64 KiB boundary). */
Test(engine, esp8266_rom_writes_erase_nothing_outside_their_sectors,
     .init = esp8266_patterned, .fini = stop)
{
    static const uint32_t sectors[] = { 2, 3, 5, 9, 11, 15, 17, 31 };
    static const uint32_t starts[] = { 0, 7, 14, 15 };   /* sector within its 64 KiB block */
    uint8_t *want = malloc(FLASH_SIZE);
    memset(want, 0xA5, FLASH_SIZE);
    uint32_t free_from = 0;   /* sector: the first one after the last write and a gap */
    unsigned seed = 10;
    for (size_t i = 0; i < sizeof sectors / sizeof sectors[0]; i++)
        for (size_t j = 0; j < sizeof starts / sizeof starts[0]; j++, seed++) {
            uint32_t s = free_from + (starts[j] + 16 - free_from % 16) % 16;
            uint32_t addr = s * ED_FLASH_SECTOR;
            uint32_t size = sectors[i] * ED_FLASH_SECTOR - (seed % 3) * 0x7F0;
            free_from = s + sectors[i] + 1;
            cr_assert_lt(addr + size, FLASH_SIZE);
            int fd = make_file(size, seed);
            struct ed_flash_region r = region(fd, addr, size);
            cr_assert_eq(ed_flash_write(&ld, &r, 1, NULL, NULL), ED_OK,
                         "%u sectors at 0x%x", sectors[i], addr);
            cr_assert_eq(pread(fd, want + addr, size, 0), (ssize_t)size);
            uint32_t end = (addr + size + ED_FLASH_SECTOR - 1) / ED_FLASH_SECTOR * ED_FLASH_SECTOR;
            memset(want + addr + size, 0xFF, end - addr - size);
            close(fd);
        }
    size_t flash_size;
    const uint8_t *flash = sim_board_flash(board, &flash_size);
    for (uint32_t a = 0; a < FLASH_SIZE; a++)
        cr_assert_eq(flash[a], want[a], "byte 0x%x is 0x%02x, should be 0x%02x", a, flash[a],
                     want[a]);
    free(want);
}

/* One sector alone: the ROM would erase the next one too, so the engine refuses it before
 * sending anything, unless a region written after it covers that sector. */
Test(engine, esp8266_rom_single_sector_is_refused_unless_rewritten_later,
     .init = esp8266_patterned, .fini = stop)
{
    int fd = make_file(128, 20);
    struct ed_flash_region r = region(fd, 0x3FC000, 128);
    size_t at = 9;
    cr_assert_eq(ed_flash_write(&ld, &r, 1, NULL, &at), ED_E_REFUSED);
    cr_assert_eq(at, 0);
    size_t flash_size;
    const uint8_t *flash = sim_board_flash(board, &flash_size);
    for (uint32_t a = 0x3FB000; a < 0x3FF000; a++)
        cr_assert_eq(flash[a], 0xA5, "byte at 0x%x changed", a);

    int next = make_file(0x2000, 21);
    struct ed_flash_region two[2] = { region(fd, 0x3FC000, 128), region(next, 0x3FD000, 0x2000) };
    cr_assert_eq(ed_flash_write(&ld, two, 2, NULL, &at), ED_OK);
    expect_flash_holds(fd, 0x3FC000, 128);
    expect_flash_holds(next, 0x3FD000, 0x2000);
    cr_assert_eq(flash[0x3FC080], 0xFF);
    for (uint32_t a = 0x3FF000; a < FLASH_SIZE; a++)
        cr_assert_eq(flash[a], 0xA5, "byte at 0x%x changed", a);
    close(fd);
    close(next);
}

/* ---- faults ---------------------------------------------------------------------------- */

/* A transport that passes everything to simlink until it "unplugs" after N writes. */
struct faulty {
    struct ed_transport tp;
    struct ed_transport *inner;
    unsigned writes_left;
};

static struct faulty faulty;

static int f_read(struct ed_transport *t, uint8_t *b, size_t cap, size_t *got, unsigned ms)
{
    (void)t;
    return ed_tp_read(faulty.inner, b, cap, got, ms);
}
static int f_write(struct ed_transport *t, const uint8_t *b, size_t n)
{
    (void)t;
    if (faulty.writes_left == 0)
        return ED_E_GONE;
    faulty.writes_left--;
    return ed_tp_write(faulty.inner, b, n);
}
static int f_lines(struct ed_transport *t, bool dtr, bool rts)
{
    (void)t;
    return ed_tp_set_lines(faulty.inner, dtr, rts);
}
static int f_baud(struct ed_transport *t, uint32_t baud)
{
    int rc = ed_tp_set_baud(faulty.inner, baud);
    t->baud = faulty.inner->baud;
    return rc;
}
static int f_flush(struct ed_transport *t)
{
    (void)t;
    return ed_tp_flush_input(faulty.inner);
}
static void f_close(struct ed_transport *t)
{
    (void)t;
}
static uint64_t f_now(struct ed_transport *t)
{
    (void)t;
    return ed_tp_now_us(faulty.inner);
}
static void f_sleep(struct ed_transport *t, unsigned ms)
{
    (void)t;
    ed_tp_sleep_ms(faulty.inner, ms);
}
static const struct ed_transport_ops faulty_ops = {
    f_read, f_write, f_lines, f_baud, f_flush, f_close, f_now, f_sleep,
};

Test(engine, fault_mid_write_reports_region_and_progress, .init = esp32, .fini = stop)
{
    const uint32_t size = 200000;
    int fd = make_file(size, 4);
    faulty.inner = tp;
    faulty.tp = *tp;
    faulty.tp.ops = &faulty_ops;
    faulty.writes_left = 60;   /* MD5s, DEFL_BEGIN, then some data blocks */
    ld.tp = &faulty.tp;
    struct ed_flash_region r[2] = { region(fd, 0x10000, size), region(fd, 0x80000, size) };
    struct ed_flash_opts o = { .skip_unchanged = true };
    size_t failed_at = 99;
    int rc = ed_flash_write(&ld, r, 2, &o, &failed_at);
    ld.tp = tp;
    cr_assert_eq(rc, ED_E_GONE, "rc %d", rc);
    cr_assert_eq(failed_at, 0);
    cr_assert_gt(r[0].done, 0);
    cr_assert_lt(r[0].done, size);
    cr_assert_eq(r[0].verify, ED_VERIFY_NONE);
    /* Still in the loader: the next run picks up and writes only what differs. */
    cr_assert(sim_board_in_download_mode(board));
    r[0] = region(fd, 0x10000, size);
    cr_assert_eq(ed_flash_write(&ld, r, 1, &o, NULL), ED_OK);
    cr_assert_lt(r[0].written, size, "the blocks that arrived are not written again");
    cr_assert_gt(r[0].skipped, 0);
    cr_assert_eq(r[0].verify, ED_VERIFY_OK);
    close(fd);
}

static volatile sig_atomic_t cancel_flag;
static unsigned blocks_seen;

static void cancel_after_blocks(void *ctx, const struct ed_flash_progress *p)
{
    (void)ctx;
    if (strcmp(p->phase, "writing") == 0 && ++blocks_seen == 5)
        cancel_flag = 1;
}

Test(engine, cancel_flag_stops_between_blocks, .init = esp32, .fini = stop)
{
    const uint32_t size = 200000;
    int fd = make_file(size, 5);
    struct ed_flash_region r = region(fd, 0x10000, size);
    cancel_flag = 0;
    blocks_seen = 0;
    struct ed_flash_opts o = { .skip_unchanged = true, .cancel = &cancel_flag,
                               .progress = cancel_after_blocks };
    size_t failed_at = 99;
    cr_assert_eq(ed_flash_write(&ld, &r, 1, &o, &failed_at), ED_E_CANCELLED);
    cr_assert_eq(failed_at, 0);
    cr_assert_eq(blocks_seen, 5, "no block after the flag was raised");
    cr_assert_gt(r.done, 0);
    cr_assert_lt(r.done, size);
    /* The link is still in step: the loader answers the next command. */
    uint8_t md5[16];
    cr_assert_eq(ed_loader_flash_md5(&ld, 0x10000, 0x1000, md5), ED_OK);
    close(fd);
}

Test(engine, region_past_the_flash_end_fails_at_begin, .init = esp32, .fini = stop)
{
    /* A region that ends past the 4 MiB flash: the board refuses the write itself. */
    const uint32_t size = 0x3000;
    int fd = make_file(size, 6);
    struct ed_flash_region r = region(fd, FLASH_SIZE - 0x1000, size);
    struct ed_flash_opts o = { .skip_unchanged = false };
    int rc = ed_flash_write(&ld, &r, 1, &o, NULL);
    cr_assert(rc == ED_E_ROM, "rc %d", rc);
    cr_assert_eq(r.written, 0);
    close(fd);
}
