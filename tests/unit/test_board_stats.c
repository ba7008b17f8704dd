/* The board's statistics: what a session carried, and a floor for its time that a client
 * waiting for each reply can never beat. */
#include "test_board_util.h"

static void flash_begin(struct rig *r, uint32_t size, uint32_t blocks, uint32_t offset)
{
    uint8_t p[16];
    put_le32(p, size);
    put_le32(p + 4, blocks);
    put_le32(p + 8, 0x400);
    put_le32(p + 12, offset);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x02, p, sizeof p, 0, &rep, 5000));
    cr_assert_eq(rig_status(&rep, 4), 0);
}

static void flash_block(struct rig *r, const uint8_t *data, uint32_t seq)
{
    uint8_t p[16 + 0x400];
    put_le32(p, 0x400);
    put_le32(p + 4, seq);
    memset(p + 8, 0, 8);
    memcpy(p + 16, data, 0x400);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x03, p, sizeof p, data_checksum(data, 0x400), &rep, 5000));
    cr_assert_eq(rig_status(&rep, 4), 0);
}

static void md5(struct rig *r, uint32_t offset, uint32_t size)
{
    uint8_t p[16] = { 0 };
    put_le32(p, offset);
    put_le32(p + 4, size);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x13, p, sizeof p, 0, &rep, 5000));
}

static void attach(struct rig *r)
{
    uint8_t p[8] = { 0 };
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x0D, p, sizeof p, 0, &rep, 1000));
}

Test(stats, a_flash_session_is_counted_and_its_floor_is_never_beaten)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    attach(&r);
    static uint8_t data[0x2000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 1);

    struct sim_board_stats before;
    sim_board_get_stats(r.board, &before);
    cr_assert_eq(before.model_min_flash_ns, 0, "no flash phase yet");
    uint64_t t0 = ed_tp_now_us(r.tp);
    flash_begin(&r, sizeof data, 8, 0x20000);
    for (uint32_t i = 0; i < 8; i++)
        flash_block(&r, data + i * 0x400, i);
    md5(&r, 0x20000, sizeof data);
    uint64_t elapsed_us = ed_tp_now_us(r.tp) - t0;

    struct sim_board_stats st;
    sim_board_get_stats(r.board, &st);
    cr_assert_eq(st.commands - before.commands, 10);
    cr_assert_eq(st.blocks_written, 8);
    cr_assert_gt(st.flash_busy_ns, 2 * 45000000ull, "two sectors erased");
    uint64_t floor_us = st.model_min_flash_ns / 1000;
    /* The rig waits for each reply and sends the next at once: close to the floor, never
     * under it. */
    cr_assert_leq(floor_us, elapsed_us, "floor %llu us, took %llu us",
                  (unsigned long long)floor_us, (unsigned long long)elapsed_us);
    cr_assert_geq(floor_us * 10, elapsed_us * 8, "floor %llu us, took %llu us",
                  (unsigned long long)floor_us, (unsigned long long)elapsed_us);
    cr_assert_geq(st.model_min_ns, st.wire_ns + st.latency_ns + st.flash_busy_ns);
    cr_assert_eq(st.latency_ns, st.commands * 1000000ull, "1 ms per request");
    rig_close(&r);
}

Test(stats, fast_mode_counts_but_takes_no_time)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.fast = true;
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    rig_read_reg(&r, 0x3FF5A004);
    struct sim_board_stats st;
    sim_board_get_stats(r.board, &st);
    cr_assert_geq(st.commands, 2);
    cr_assert_eq(st.model_min_ns, 0);
    cr_assert_eq(st.wire_ns, 0);
    rig_close(&r);
}

/* The stub overlaps the flash with the wire (board/stub_pipe.c): a 64 KiB write in 16 KiB
 * blocks takes about the wire time, not the wire time plus the erases and programs, and
 * the floor stays under what a client that waits for each reply needs. */
static void upload_any_stub(struct rig *r)
{
    rig_upload_code(r);
    char ohai[64];
    rig_collect(r, ohai, sizeof ohai, 50);
    cr_assert(sim_board_stub_running(r->board));
}

Test(stats, the_stub_overlaps_writes_with_the_wire)
{
    struct sim_board_opts o = rig_opts("esp32");
    o.any_stub = true;   /* a stand-in blob, not one of the known stubs */
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    upload_any_stub(&r);
    /* At 921600 the wire is no longer the whole story. */
    uint8_t cb[8];
    put_le32(cb, 921600);
    put_le32(cb + 4, 115200);
    struct rig_reply cbr;
    cr_assert(rig_command(&r, 0x0F, cb, sizeof cb, 0, &cbr, 1000));
    ed_tp_set_baud(r.tp, 921600);
    ed_tp_sleep_ms(r.tp, 10);
    enum { BLOCK = 0x4000, BLOCKS = 4 };
    static uint8_t data[BLOCK * BLOCKS];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    struct sim_board_stats before;
    sim_board_get_stats(r.board, &before);
    uint64_t t0 = ed_tp_now_us(r.tp);
    uint8_t p[20] = { 0 };
    put_le32(p, sizeof data);
    put_le32(p + 4, BLOCKS);
    put_le32(p + 8, BLOCK);
    put_le32(p + 12, 0x20000);
    struct rig_reply rep;
    cr_assert(rig_command(&r, 0x02, p, sizeof p, 0, &rep, 5000));
    cr_assert_eq(rig_status(&rep, 2), 0);
    static uint8_t req[16 + BLOCK];
    for (uint32_t i = 0; i < BLOCKS; i++) {
        put_le32(req, BLOCK);
        put_le32(req + 4, i);
        memcpy(req + 16, data + i * BLOCK, BLOCK);
        cr_assert(rig_command(&r, 0x03, req, sizeof req, data_checksum(data + i * BLOCK, BLOCK),
                              &rep, 5000));
        cr_assert_eq(rig_status(&rep, 2), 0);
    }
    uint8_t m[16] = { 0 };
    put_le32(m, 0x20000);
    put_le32(m + 4, sizeof data);
    cr_assert(rig_command(&r, 0x13, m, sizeof m, 0, &rep, 5000));
    uint64_t elapsed_us = ed_tp_now_us(r.tp) - t0;

    struct sim_board_stats st;
    sim_board_get_stats(r.board, &st);
    uint64_t wire_us = (st.wire_ns - before.wire_ns) / 1000;
    uint64_t busy_us = (st.flash_busy_ns - before.flash_busy_ns) / 1000;
    /* One 64 KiB block erase (0.25 s) and 256 pages (0.6 ms each) on the GD25Q32C. */
    cr_assert_geq(busy_us, 250000 + 256 * 600, "flash busy %llu us", (unsigned long long)busy_us);
    cr_expect_lt(elapsed_us, (wire_us + busy_us) * 85 / 100,
                 "took %llu us: no overlap (wire %llu us + flash %llu us)",
                 (unsigned long long)elapsed_us, (unsigned long long)wire_us,
                 (unsigned long long)busy_us);
    uint64_t floor_us = st.model_min_flash_ns / 1000;
    cr_expect_leq(floor_us, elapsed_us, "floor %llu us, took %llu us",
                  (unsigned long long)floor_us, (unsigned long long)elapsed_us);
    cr_expect_geq(floor_us * 10, elapsed_us * 8, "floor %llu us, took %llu us",
                  (unsigned long long)floor_us, (unsigned long long)elapsed_us);
    rig_close(&r);
}
