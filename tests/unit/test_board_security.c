/* Secure Download Mode and flash encryption on the board (--secure-download,
 * --flash-encrypted): what GET_SECURITY_INFO says, what the ROM refuses, and an image
 * written in the clear on an encrypted chip. */
#include "test_board_util.h"

static struct rig c3(bool sdm, bool encrypted)
{
    struct sim_board_opts o = rig_opts("esp32c3");
    o.secure_download = sdm;
    o.flash_encrypted = encrypted;
    o.firmware = SIM_FW_APP;
    struct rig r = rig_open(&o, 115200);
    rig_connect(&r);
    return r;
}

static struct rig_reply security_info(struct rig *r)
{
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x14, NULL, 0, 0, &rep, 1000));
    cr_assert_eq(rep.len, 20 + 4);
    cr_assert_eq(rig_status(&rep, 4), 0);
    return rep;
}

static bool refused(struct rig *r, uint8_t op, const uint8_t *data, size_t len)
{
    struct rig_reply rep;
    cr_assert(rig_command(r, op, data, len, 0, &rep, 1000), "op 0x%02X: no reply", op);
    return rig_status(&rep, 4) == 1 && rig_error(&rep, 4) == 0x05;
}

Test(security, secure_download_is_in_the_flags_and_refuses_registers_and_ram)
{
    struct rig r = c3(true, false);
    struct rig_reply rep = security_info(&r);
    cr_expect_eq(le32(rep.data) & (1u << 2), 1u << 2, "SECURE_DOWNLOAD_ENABLE is not set");
    cr_expect_eq(le32(rep.data + 12), 5, "chip id");
    uint8_t p[16] = { 0 };
    put_le32(p, 0x40001000);
    cr_expect(refused(&r, 0x0A, p, 4), "READ_REG went through");
    cr_expect(refused(&r, 0x09, p, 16), "WRITE_REG went through");
    put_le32(p, 0x100);
    put_le32(p + 4, 1);
    put_le32(p + 8, 0x1800);
    put_le32(p + 12, 0x40380000);
    cr_expect(refused(&r, 0x05, p, 16), "MEM_BEGIN went through: a stub could be loaded");
    put_le32(p, 0);
    put_le32(p + 4, 64);
    cr_expect(refused(&r, 0x0E, p, 8), "READ_FLASH_SLOW went through");
    rig_close(&r);
}

static uint8_t flash_begin(struct rig *r, uint32_t size, uint32_t offset, bool encrypted)
{
    uint8_t p[20];
    put_le32(p, size);
    put_le32(p + 4, (size + 0x3FF) / 0x400);
    put_le32(p + 8, 0x400);
    put_le32(p + 12, offset);
    put_le32(p + 16, encrypted);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x02, p, sizeof p, 0, &rep, 10000));
    return rig_status(&rep, 4) ? rig_error(&rep, 4) : 0;
}

static void attach(struct rig *r)
{
    uint8_t p[8] = { 0 };
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x0D, p, sizeof p, 0, &rep, 1000));
    cr_assert_eq(rig_status(&rep, 4), 0);
}

Test(security, secure_download_assumes_2mb_until_told)
{
    struct rig r = c3(true, false);
    attach(&r);
    cr_expect_eq(flash_begin(&r, 0x1000, 0x300000, false), 0x64, "beyond 2 MB accepted");
    uint8_t params[24] = { 0 };
    put_le32(params + 4, 4u << 20);
    put_le32(params + 8, 0x10000);
    put_le32(params + 12, 0x1000);
    put_le32(params + 16, 0x100);
    put_le32(params + 20, 0xFFFF);
    struct rig_reply rep;
    cr_assert(rig_command(&r, 0x0B, params, sizeof params, 0, &rep, 1000));
    cr_expect_eq(flash_begin(&r, 0x1000, 0x300000, false), 0, "refused after SPI_SET_PARAMS");
    rig_close(&r);
}

Test(security, without_either_the_flags_are_clear)
{
    struct rig r = c3(false, false);
    struct rig_reply rep = security_info(&r);
    cr_expect_eq(le32(rep.data), 0);
    cr_expect_eq(rep.data[4], 0, "crypt count");
    uint8_t p[4];
    put_le32(p, 0x40001000);
    cr_expect_not(refused(&r, 0x0A, p, 4));
    rig_close(&r);
}

Test(security, flash_encryption_is_in_the_crypt_count)
{
    struct rig r = c3(false, true);
    struct rig_reply rep = security_info(&r);
    cr_expect_eq(rep.data[4] & 1, 1, "crypt count %u is even", rep.data[4]);
    cr_expect_eq(rep.data[5], 4, "KEY0's purpose is not XTS_AES_128_KEY");
    rig_close(&r);
}

/* Rewrite the bootloader's first 1 KiB with what it already holds, in the clear or not,
 * then reset into the flash. */
static void rewrite_and_boot(struct rig *r, bool encrypted, char *log, size_t cap)
{
    size_t size;
    const uint8_t *fl = sim_board_flash(r->board, &size);
    static uint8_t same[0x400];
    memcpy(same, fl, sizeof same);
    attach(r);
    cr_assert_eq(flash_begin(r, sizeof same, 0, encrypted), 0);
    uint8_t req[16 + sizeof same] = { 0 };
    put_le32(req, sizeof same);
    memcpy(req + 16, same, sizeof same);
    struct rig_reply rep;
    cr_assert(rig_command(r, 0x03, req, sizeof req, data_checksum(same, sizeof same), &rep,
                          3000));
    cr_assert_eq(rig_status(&rep, 4), 0);
    rig_hard_reset(r);
    rig_collect(r, log, cap, 400);
}

Test(security, a_plain_image_on_an_encrypted_chip_does_not_boot)
{
    struct rig r = c3(false, true);
    char log[4096];
    rewrite_and_boot(&r, false, log, sizeof log);
    cr_expect(strstr(log, "invalid header: 0x"), "it booted: %s", log);
    cr_expect_not(strstr(log, "Hello from espsim app"), "%s", log);
    rig_close(&r);
}

Test(security, an_encrypted_write_boots)
{
    struct rig r = c3(false, true);
    char log[4096];
    rewrite_and_boot(&r, true, log, sizeof log);
    cr_expect_not(strstr(log, "invalid header"), "%s", log);
    cr_expect(strstr(log, "entry 0x"), "the bootloader did not load: %s", log);
    rig_close(&r);
}
