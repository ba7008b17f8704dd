/* Flash and RAM commands. The ROM erases the whole region at FLASH_BEGIN (the ESP8266 ROM
 * with its erase-size bug); the stub erases sector by sector as data arrives. Data blocks
 * carry a checksum; compressed blocks are inflated as a stream. */
#include "rom_internal.h"

#include <stdio.h>
#include <string.h>

#define ROM_MAX_FLASH_BLOCK 0x400   /* the ROM's receive buffer */
#define ROM_READ_SLOW_BLOCK 64
#define MD5_NS_PER_BYTE 60          /* hashing, on top of reading the flash */
#define INFLATE_NS_PER_BYTE 20

uint8_t rom_data_checksum(const uint8_t *p, size_t n)
{
    uint8_t x = 0xEF;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    return x;
}

void flash_jobs_end(struct sim_board *b)
{
    if (b->fj.z_live)
        inflateEnd(&b->fj.z);
    memset(&b->fj, 0, sizeof b->fj);
    mem_job_end(b);
    memset(&b->rj, 0, sizeof b->rj);
}

static bool rom_needs_attach(const struct sim_board *b)
{
    return b->mode == MODE_ROM && b->sim->rom_spi_attach && !b->spi_attached;
}

/* The ESP8266 ROM erases the sectors up to the next 64 KiB boundary and then the full
 * requested count again: head + n sectors instead of n. */
static uint64_t esp8266_rom_erase(struct sim_board *b, uint32_t offset, uint32_t size)
{
    uint32_t n = (uint32_t)(((uint64_t)size + SECTOR_SIZE - 1) / SECTOR_SIZE);
    if (n == 0)
        return 0;
    uint32_t first = offset / SECTOR_SIZE;
    uint32_t head = 16 - first % 16;
    if (head > n)
        head = n;
    uint64_t bytes = (uint64_t)(head + n) * SECTOR_SIZE;
    board_trace(b, b->now_ns, "  ESP8266 ROM erase bug: asked 0x%X bytes at 0x%X, erases "
                "0x%llX", size, offset, (unsigned long long)bytes);
    uint64_t start = (uint64_t)first * SECTOR_SIZE;
    if (start + bytes > b->flash.size)
        bytes = b->flash.size > start ? b->flash.size - start : 0;
    return nor_erase(&b->flash, (uint32_t)start, (uint32_t)bytes);
}

void cmd_flash_begin(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    if (rq->len < 16) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    if (rom_needs_attach(b)) {
        board_trace(b, b->now_ns, "  flash not attached (no SPI_ATTACH yet)");
        rom_fail(b, rp, ROM_FAILED, STUB_SPI_FAILED);
        return;
    }
    uint32_t size = rom_u32(rq->data), blocks = rom_u32(rq->data + 4);
    uint32_t block_size = rom_u32(rq->data + 8), offset = rom_u32(rq->data + 12);
    bool compressed = rq->op == OP_FLASH_DEFL_BEGIN;
    if (b->mode == MODE_ROM && b->opts.secure_download &&
        (uint64_t)offset + size > b->sdm_flash_size) {
        /* "Since the actual flash size cannot be detected in Secure Download Mode, the ROM
         * bootloader defaults to a flash size of 2MB" (esptool docs): errors 0164 or 0106
         * until SPI_SET_PARAMS says more. */
        board_trace(b, b->now_ns, "  secure download mode: 0x%X+0x%X is beyond the %u bytes "
                    "the ROM assumes", offset, size, b->sdm_flash_size);
        rom_fail(b, rp, ROM_INVALID_PARAM, STUB_TOO_MUCH_DATA);
        return;
    }
    if ((uint64_t)offset + size > b->flash.size) {
        board_trace(b, b->now_ns, "  region 0x%X+0x%X is beyond the %zu-byte flash", offset,
                    size, b->flash.size);
        rom_fail(b, rp, ROM_FAILED, STUB_TOO_MUCH_DATA);
        return;
    }
    flash_jobs_end(b);
    struct flash_job *j = &b->fj;
    j->active = true;
    j->compressed = compressed;
    j->offset = offset;
    j->block_size = block_size;
    j->num_blocks = blocks;
    j->region_end = offset + size;
    j->erased_to = offset / SECTOR_SIZE * SECTOR_SIZE;
    j->encrypted = rq->len >= 20 && rom_u32(rq->data + 16) != 0;
    if (compressed) {
        if (inflateInit(&j->z) != Z_OK) {
            j->active = false;
            rom_fail(b, rp, ROM_FAILED, STUB_INFLATE);
            return;
        }
        j->z_live = true;
    }
    if (b->mode == MODE_ROM) {
        rp->work_ns = b->sim->esp8266_style ? esp8266_rom_erase(b, offset, size)
                                             : nor_erase(&b->flash, offset, size);
        j->erased_to = j->region_end;
    } else {
        /* The stub erases as it goes, ahead of the data (stub_pipe.c times it). */
        rp->sw.begin = true;
        rp->sw.begin_offset = offset;
        rp->sw.begin_size = size;
    }
}

/* The stub erases what the next write needs, within the announced region, a whole 64 KB
 * block at a time where the region covers it (one block erase costs far less than sixteen
 * sector erases). The contents only: stub_pipe.c says when it happens. */
static void stub_erase_ahead(struct sim_board *b, uint64_t end)
{
    struct flash_job *j = &b->fj;
    if (b->mode != MODE_STUB || end <= j->erased_to)
        return;
    uint64_t to = (end + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
    uint64_t block_end = (end + BLOCK_SIZE - 1) / BLOCK_SIZE * BLOCK_SIZE;
    uint64_t region_end = ((uint64_t)j->region_end + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
    if (block_end <= region_end)
        to = block_end;
    if (to > b->flash.size)
        to = b->flash.size;
    nor_erase(&b->flash, j->erased_to, (uint32_t)(to - j->erased_to));
    j->erased_to = (uint32_t)to;
}

/* Write at the job's cursor; false (with the error set) if it did not work. */
static bool write_flash(struct sim_board *b, const uint8_t *data, size_t n,
                        struct rom_reply *rp)
{
    struct flash_job *j = &b->fj;
    uint64_t end = (uint64_t)j->offset + n;
    if (b->mode == MODE_STUB && end > j->region_end) {
        rom_fail(b, rp, ROM_FLASH_WRITE, STUB_TOO_MUCH_DATA);
        return false;
    }
    if (end > b->flash.size) {
        rom_fail(b, rp, ROM_FLASH_WRITE, STUB_TOO_MUCH_DATA);
        return false;
    }
    stub_erase_ahead(b, end);
    uint64_t ns;
    bool ok = nor_program(&b->flash, j->offset, data, n, &ns);
    if (b->mode == MODE_STUB) {
        rp->sw.data = true;
        rp->sw.program_ns += ns;
        rp->sw.last_sector = (uint32_t)((end - 1) / SECTOR_SIZE);
    } else {
        rp->work_ns += ns;
    }
    if (!ok) {
        board_trace(b, b->now_ns, "  write at 0x%X does not read back (not erased?)",
                    j->offset);
        rom_fail(b, rp, ROM_FLASH_WRITE, STUB_SPI_FAILED);
        return false;
    }
    uint32_t boot = b->sim->bootloader_offset;
    if (j->offset < boot + SECTOR_SIZE && end > boot)
        b->boot_plain = b->opts.flash_encrypted && !j->encrypted;
    j->offset += (uint32_t)n;
    j->written += n;
    return true;
}

static bool inflate_block(struct sim_board *b, const uint8_t *in, size_t n,
                          struct rom_reply *rp)
{
    struct flash_job *j = &b->fj;
    uint8_t out[16384];
    j->z.next_in = (Bytef *)in;
    j->z.avail_in = (uInt)n;
    while (!j->z_done && (j->z.avail_in > 0)) {
        j->z.next_out = out;
        j->z.avail_out = sizeof out;
        int r = inflate(&j->z, Z_NO_FLUSH);
        size_t got = sizeof out - j->z.avail_out;
        if (r != Z_OK && r != Z_STREAM_END && !(r == Z_BUF_ERROR && got)) {
            board_trace(b, b->now_ns, "  inflate error %d", r);
            rom_fail(b, rp, ROM_DEFLATE, STUB_INFLATE);
            return false;
        }
        if (b->mode == MODE_STUB)
            rp->sw.inflate_ns += got * INFLATE_NS_PER_BYTE;
        else
            rp->work_ns += got * INFLATE_NS_PER_BYTE;
        if (got && !write_flash(b, out, got, rp))
            return false;
        if (r == Z_STREAM_END)
            j->z_done = true;
        if (got == 0 && r != Z_STREAM_END)
            break;
    }
    return true;
}

void cmd_flash_data(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    struct flash_job *j = &b->fj;
    bool compressed = rq->op == OP_FLASH_DEFL_DATA;
    if (!j->active || j->compressed != compressed) {
        rom_fail(b, rp, ROM_FAILED, STUB_NOT_IN_FLASH_MODE);
        return;
    }
    if (rq->len < 16 || rom_u32(rq->data) > rq->len - 16) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    uint32_t n = rom_u32(rq->data), seq = rom_u32(rq->data + 4);
    const uint8_t *data = rq->data + 16;
    if (b->mode == MODE_ROM && n > ROM_MAX_FLASH_BLOCK) {
        board_trace(b, b->now_ns, "  block of %u bytes is more than the ROM takes", n);
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_BLOCKSIZE);
        return;
    }
    if (rom_data_checksum(data, n) != rq->checksum) {
        board_trace(b, b->now_ns, "  checksum 0x%02X, request says 0x%02X",
                    rom_data_checksum(data, n), rq->checksum);
        rom_fail(b, rp, ROM_BAD_CHECKSUM, STUB_BAD_CHECKSUM);
        return;
    }
    if (seq != j->next_seq)
        board_trace(b, b->now_ns, "  sequence %u, expected %u", seq, j->next_seq);
    j->next_seq = seq + 1;
    if (compressed)
        inflate_block(b, data, n, rp);
    else
        write_flash(b, data, n, rp);
}

void cmd_flash_end(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    struct flash_job *j = &b->fj;
    bool stay = rq->len >= 4 && rom_u32(rq->data) != 0;
    if (b->mode == MODE_STUB && rq->op == OP_FLASH_DEFL_END && j->active && j->compressed &&
        !j->z_done) {
        rom_fail(b, rp, ROM_FAILED, STUB_NOT_ENOUGH_DATA);
        return;
    }
    board_trace(b, b->now_ns, "  %llu bytes written", (unsigned long long)j->written);
    if (j->z_live)
        inflateEnd(&j->z);
    memset(j, 0, sizeof *j);
    if (b->mode == MODE_ROM)
        /* The ROM leaves the loader either way: 0 reboots, 1 runs the app. */
        rp->after = stay ? AFTER_RUN_APP : AFTER_REBOOT;
    else if (!stay)
        rp->after = AFTER_REBOOT;
}

static bool region_ok(const struct sim_board *b, uint32_t addr, uint32_t size)
{
    return (uint64_t)addr + size <= b->flash.size;
}

void cmd_md5(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    if (rq->len < 8) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    uint32_t addr = rom_u32(rq->data), size = rom_u32(rq->data + 4);
    if (rom_needs_attach(b)) {
        rom_fail(b, rp, ROM_FAILED, STUB_SPI_FAILED);
        return;
    }
    if (!region_ok(b, addr, size)) {
        rom_fail(b, rp, ROM_FLASH_READ, STUB_SPI_FAILED);
        return;
    }
    rp->sw.flash = true;
    MD5_CTX ctx;
    uint8_t digest[16];
    MD5Init(&ctx);
    MD5Update(&ctx, b->flash.mem + addr, size);
    MD5Final(digest, &ctx);
    rp->work_ns = nor_read_ns(size) + (uint64_t)size * MD5_NS_PER_BYTE +
                  (uint64_t)b->opts.md5_delay_ms * 1000000u;
    if (b->mode == MODE_STUB) {
        memcpy(rp->data, digest, 16);
        rp->len = 16;
    } else {
        for (int i = 0; i < 16; i++)
            snprintf((char *)rp->data + 2 * i, 3, "%02x", digest[i]);
        rp->len = 32;
    }
}

void cmd_read_flash_slow(struct sim_board *b, const struct rom_request *rq,
                         struct rom_reply *rp)
{
    if (rq->len < 8) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    uint32_t addr = rom_u32(rq->data), len = rom_u32(rq->data + 4);
    if (len > ROM_READ_SLOW_BLOCK) {
        rom_fail(b, rp, ROM_READ_LENGTH, STUB_BAD_LENGTH);
        return;
    }
    if (rom_needs_attach(b) || !region_ok(b, addr, len)) {
        rom_fail(b, rp, ROM_FLASH_READ, STUB_SPI_FAILED);
        return;
    }
    /* The ROM always answers with a 64-byte buffer, whatever was asked. */
    memset(rp->data, 0xFF, ROM_READ_SLOW_BLOCK);
    size_t avail = b->flash.size - addr < ROM_READ_SLOW_BLOCK ? b->flash.size - addr
                                                                : ROM_READ_SLOW_BLOCK;
    memcpy(rp->data, b->flash.mem + addr, avail);
    rp->len = ROM_READ_SLOW_BLOCK;
    rp->work_ns = nor_read_ns(ROM_READ_SLOW_BLOCK);
    rp->sw.flash = true;
}

void cmd_erase_flash(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    (void)rq;
    rp->work_ns = nor_erase_chip(&b->flash);
    rp->sw.flash = true;
}

void cmd_erase_region(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    if (rq->len < 8) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    uint32_t addr = rom_u32(rq->data), size = rom_u32(rq->data + 4);
    if (addr % SECTOR_SIZE) {
        rom_fail(b, rp, ROM_FAILED, STUB_ERASE_UNALIGNED_ADDR);
        return;
    }
    if (size % SECTOR_SIZE) {
        rom_fail(b, rp, ROM_FAILED, STUB_ERASE_UNALIGNED_LEN);
        return;
    }
    if (!region_ok(b, addr, size)) {
        rom_fail(b, rp, ROM_FAILED, STUB_TOO_MUCH_DATA);
        return;
    }
    rp->work_ns = nor_erase(&b->flash, addr, size);
    rp->sw.flash = true;
}

void cmd_read_flash(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    if (rq->len < 16) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    struct read_job *r = &b->rj;
    uint32_t addr = rom_u32(rq->data), len = rom_u32(rq->data + 4);
    uint32_t packet = rom_u32(rq->data + 8), inflight = rom_u32(rq->data + 12);
    if (!region_ok(b, addr, len) || packet == 0 || packet > SIM_SLIP_MAX_FRAME - 64 ||
        inflight == 0) {
        rom_fail(b, rp, ROM_FAILED, STUB_BAD_LENGTH);
        return;
    }
    memset(r, 0, sizeof *r);
    r->offset = addr;
    r->length = len;
    r->packet = packet;
    r->inflight = inflight;
    MD5Init(&r->md5);
    rp->after = AFTER_READ_FLASH;
    rp->sw.flash = true;
}

void read_flash_pump(struct sim_board *b, uint64_t t_ns)
{
    struct read_job *r = &b->rj;
    r->active = true;
    uint64_t t = t_ns;
    while (r->sent < r->length &&
           (uint64_t)r->sent - r->acked < (uint64_t)r->inflight * r->packet) {
        uint32_t n = r->length - r->sent < r->packet ? r->length - r->sent : r->packet;
        const uint8_t *p = b->flash.mem + r->offset + r->sent;
        MD5Update(&r->md5, p, n);
        if (board_timed(b))
            t += nor_read_ns(n);
        chip_emit_frame(b, p, n, t);
        account_output(b, sim_slip_wire_len(p, n), nor_read_ns(n), true);
        r->sent += n;
    }
    b->busy_until_ns = t;
    if (r->acked >= r->length) {
        uint8_t digest[16];
        MD5Final(digest, &r->md5);
        chip_emit_frame(b, digest, sizeof digest, t);
        account_output(b, sim_slip_wire_len(digest, sizeof digest), 0, false);
        board_trace(b, t, "  READ_FLASH done: %u bytes and their MD5 sent", r->length);
        r->active = false;
    }
}
