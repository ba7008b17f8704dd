/* The virtual board with an uploaded flasher stub, and its flash file. */
#include "test_board_util.h"

#include <md5.h>
#include <unistd.h>
#include <zlib.h>

/* Upload any code with MEM_BEGIN/DATA/END and jump: with any_stub the board answers
 * "OHAI". */
static void upload_stub(struct rig *r)
{
    rig_upload_code(r);
    struct ed_slip_decoder dec;
    uint8_t frame[64];
    ed_slip_reset(&dec);
    long n = rig_frame(r, &dec, frame, sizeof frame, 1000);
    cr_assert_eq(n, 4);
    cr_assert_arr_eq(frame, "OHAI", 4);
    cr_assert(sim_board_stub_running(r->board));
}

static struct rig stub_rig(const char *chip, const char *flash_path)
{
    struct sim_board_opts o = rig_opts(chip);
    o.flash_path = flash_path;
    o.any_stub = true;   /* upload_stub's stand-in code is no real stub */
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    upload_stub(&r);
    return r;
}

Test(stub, ohai_then_two_status_bytes_and_single_sync)
{
    struct rig r = stub_rig("esp32", NULL);
    struct rig_reply rep;
    uint8_t p[4];
    put_le32(p, 0x40001000);
    cr_assert(rig_command(&r, 0x0A, p, 4, 0, &rep, 1000));
    cr_assert_eq(rep.len, 2);
    cr_assert_eq(rep.value, 0x00F01D83);

    struct ed_slip_decoder dec;
    uint8_t frame[64];
    ed_slip_reset(&dec);
    rig_send(&r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0);
    unsigned count = 0;
    long n;
    while ((n = rig_frame(&r, &dec, frame, sizeof frame, 100)) >= 0) {
        cr_assert_eq(le32(frame + 4), 0);
        count++;
    }
    cr_assert_eq(count, 1);
    rig_close(&r);
}

static void md5_raw(const uint8_t *p, size_t n, uint8_t out[16])
{
    MD5_CTX c;
    MD5Init(&c);
    MD5Update(&c, p, n);
    MD5Final(out, &c);
}

/* Write 16 KiB blocks compressed, as esptool's stub flow does, then check MD5. */
static void stub_write_compressed(struct rig *r, const uint8_t *data, size_t len,
                                  uint32_t offset)
{
    uLongf zlen = compressBound(len);
    uint8_t *z = malloc(zlen);
    cr_assert_eq(compress2(z, &zlen, data, len, 9), Z_OK);
    uint32_t blocks = (uint32_t)((zlen + 0x3FFF) / 0x4000);
    uint8_t p[20] = { 0 };
    put_le32(p, (uint32_t)len);
    put_le32(p + 4, blocks);
    put_le32(p + 8, 0x4000);
    put_le32(p + 12, offset);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x10, p, 20, 0, &rep, 3000));
    cr_assert_eq(rep.data[0], 0);
    uint8_t *d = malloc(16 + 0x4000);
    for (uint32_t i = 0; i < blocks; i++) {
        uint32_t n = (uint32_t)(zlen - i * 0x4000 < 0x4000 ? zlen - i * 0x4000 : 0x4000);
        memset(d, 0, 16);
        put_le32(d, n);
        put_le32(d + 4, i);
        memcpy(d + 16, z + i * 0x4000, n);
        cr_assert(rig_command(r, 0x11, d, 16 + n, data_checksum(z + i * 0x4000, n), &rep,
                              10000));
        cr_assert_eq(rep.len, 2);
        cr_assert_eq(rep.data[0], 0, "block %u: error 0x%02X", i, rep.data[1]);
    }
    free(d);
    free(z);
    put_le32(p, 1);   /* stay in the stub */
    cr_assert(rig_command(r, 0x12, p, 4, 0, &rep, 3000));
    cr_assert_eq(rep.data[0], 0);
    cr_assert(sim_board_stub_running(r->board));
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *d = malloc(n);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        d[i] = (i % 512 < 256) ? (uint8_t)(x >> 24) : (uint8_t)(i / 512);
    }
    return d;
}

Test(stub, compressed_16k_blocks_and_raw_md5_on_esp8266)
{
    struct rig r = stub_rig("esp8266", NULL);
    size_t len = 100000;
    uint8_t *data = pattern(len, 1);
    stub_write_compressed(&r, data, len, 0x10000);
    uint8_t p[16] = { 0 };
    put_le32(p, 0x10000);
    put_le32(p + 4, (uint32_t)len);
    struct rig_reply rep;
    cr_assert(rig_command(&r, 0x13, p, 16, 0, &rep, 3000));
    cr_assert_eq(rep.len, 16 + 2);
    uint8_t want[16];
    md5_raw(data, len, want);
    cr_assert_arr_eq(rep.data, want, 16);
    free(data);
    rig_close(&r);
}

Test(stub, read_flash_is_flow_controlled)
{
    struct rig r = stub_rig("esp32", NULL);
    size_t len = 0x5000;
    uint8_t *data = pattern(len, 2);
    stub_write_compressed(&r, data, len, 0x20000);
    uint8_t p[16];
    put_le32(p, 0x20000);
    put_le32(p + 4, (uint32_t)len);
    put_le32(p + 8, 0x1000);   /* packet size */
    put_le32(p + 12, 2);       /* in flight */
    struct rig_reply rep;
    cr_assert(rig_command(&r, 0xD2, p, 16, 0, &rep, 3000));
    cr_assert_eq(rep.data[0], 0);
    struct ed_slip_decoder dec;
    ed_slip_reset(&dec);
    uint8_t *got = malloc(len), frame[0x1100];
    size_t have = 0;
    /* Without acknowledgements only two packets come. */
    cr_assert_eq(rig_frame(&r, &dec, frame, sizeof frame, 500), 0x1000);
    memcpy(got, frame, 0x1000);
    cr_assert_eq(rig_frame(&r, &dec, frame, sizeof frame, 500), 0x1000);
    memcpy(got + 0x1000, frame, 0x1000);
    have = 0x2000;
    cr_assert_eq(rig_frame(&r, &dec, frame, sizeof frame, 500), -1);
    while (have < len) {
        uint8_t ack[4], enc[16];
        put_le32(ack, (uint32_t)have);
        ed_tp_write(r.tp, enc, ed_slip_encode(ack, 4, enc));
        long n = rig_frame(&r, &dec, frame, sizeof frame, 500);
        cr_assert_gt(n, 0);
        memcpy(got + have, frame, (size_t)n);
        have += (size_t)n;
    }
    uint8_t ack[4], enc[16];
    put_le32(ack, (uint32_t)have);
    ed_tp_write(r.tp, enc, ed_slip_encode(ack, 4, enc));
    /* Packets already in flight may come first; the digest is the 16-byte frame. */
    long n = rig_frame(&r, &dec, frame, sizeof frame, 500);
    cr_assert_eq(n, 16);
    uint8_t want[16];
    md5_raw(data, len, want);
    cr_assert_arr_eq(frame, want, 16);
    cr_assert_arr_eq(got, data, len);
    free(got);
    free(data);
    rig_close(&r);
}

Test(stub, erase_region_must_be_aligned)
{
    struct rig r = stub_rig("esp32", NULL);
    uint8_t p[8];
    put_le32(p, 0x1800);
    put_le32(p + 4, 0x1000);
    struct rig_reply rep;
    cr_assert(rig_command(&r, 0xD1, p, 8, 0, &rep, 3000));
    cr_assert_eq(rep.data[0], 1);
    put_le32(p, 0x2000);
    cr_assert(rig_command(&r, 0xD1, p, 8, 0, &rep, 3000));
    cr_assert_eq(rep.data[0], 0);
    rig_close(&r);
}

Test(stub, unknown_command_is_not_implemented)
{
    struct rig r = stub_rig("esp32", NULL);
    struct rig_reply rep;
    cr_assert(rig_command(&r, 0x0E, (const uint8_t *)"\0\0\0\0\x10\0\0\0", 8, 0, &rep, 1000));
    cr_assert_eq(rep.len, 2);
    cr_assert_eq(rep.data[0], 1);
    cr_assert_eq(rep.data[1], 0xFF);
    rig_close(&r);
}

Test(flashfile, contents_persist_across_board_instances)
{
    char path[] = "/tmp/test_board_flashXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);   /* absent: the board creates it */
    size_t len = 0x3000;
    uint8_t *data = pattern(len, 3);
    {
        struct rig r = stub_rig("esp32", path);
        stub_write_compressed(&r, data, len, 0x1000);
        rig_close(&r);
    }
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    cr_assert_eq(ftell(f), 4 * 1024 * 1024);
    fclose(f);
    struct sim_board_opts o = rig_opts("esp32");
    o.flash_path = path;
    o.flash_size = 2 * 1024 * 1024;   /* ignored: the file says 4 MiB */
    char err[128];
    struct sim_board *b = sim_board_new(&o, err, sizeof err);
    cr_assert_not_null(b, "%s", err);
    size_t size;
    const uint8_t *fl = sim_board_flash(b, &size);
    cr_assert_eq(size, 4 * 1024 * 1024);
    cr_assert_arr_eq(fl + 0x1000, data, len);
    cr_assert_eq(fl[0x1000 + len], 0xFF);
    sim_board_free(b);
    free(data);
    unlink(path);
}

/* Code that is no known stub (board/known_stubs.c) crashes: MEM_END is answered, then no
 * OHAI and no answer to anything until the chip is reset. */
Test(stub, foreign_code_crashes_without_ohai)
{
    struct sim_board_opts o = rig_opts("esp32");
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    rig_upload_code(&r);
    struct rig_reply rep;
    char after[256];
    size_t n = rig_collect(&r, after, sizeof after, 500);
    cr_expect_not(memmem(after, n, "OHAI", 4), "foreign code said OHAI");
    cr_expect_not(sim_board_stub_running(r.board));
    cr_expect_null(sim_board_stub_package(r.board));
    cr_expect_not(rig_command(&r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0, &rep, 200),
                  "a crashed chip answered SYNC");
    /* A reset brings the ROM back. */
    rig_connect(&r);
    rig_close(&r);
}
