/* deflate_floor: the fastest a client could flash an image, from the image alone.
 *
 *   deflate_floor IMAGE ADDR BAUD stub|rom [STUB_BYTES [USB_LATENCY_US]]
 *
 * Prints one JSON object: the image's zlib -9 and libdeflate -12 sizes, and a floor in
 * seconds for writing it at ADDR through the loader at BAUD with the smaller stream. It does
 * not depend on what any client sent: the stream is the best this machine can make, cut
 * into the loader's largest blocks (stub 16 KiB, ROM 1 KiB: esptool's serial-protocol
 * docs), each a SLIP frame (escapes counted on the stream itself) with its 8 + 16 byte
 * headers and a reply (8 bytes and the status: 2 on the stub, 4 on the ESP32 ROM), one
 * USB latency per command (espsim's --usb-latency, default 1000 us). Flash work on the
 * GD25Q32C's datasheet times (tests/sim/README.md): 64 KiB block erase 0.25 s, 4 KiB
 * sector 50 ms, 256 B page 0.6 ms, inflate 20 ns a byte, 30 us to decode a command;
 * SPI_FLASH_MD5 reads 100 ns and hashes 60 ns a byte. The ROM works in series (erase at
 * FLASH_DEFL_BEGIN, each block before its reply). The stub overlaps its flash work with
 * the wire as the real one does (esptool's serial-protocol docs: "each block is read into
 * RAM via serial while the previous block is simultaneously being written"; the legacy
 * stub's two 16 KiB buffers): a block is acknowledged when the stub's loop takes it, then
 * inflated and programmed while the next one comes in; an idle loop erases ahead through
 * the region (64 KiB blocks from a block boundary, else 4 KiB sectors), and a write first
 * erases up to its own last sector. Each block's flash work is what its compressed bytes
 * really inflate to (zlib's inflate, block by block), and the client waits for each
 * acknowledgement, the one round trip per block no client can skip. STUB_BYTES: the
 * stub's code, sent at BAUD in 6 KiB MEM_DATA blocks. Reset, boot and SYNC are not in it. */
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define STUB_BLOCK 0x4000u
#define ROM_BLOCK 0x400u
#define MEM_BLOCK 0x1800u
#define SECTOR 0x1000u
#define ERASE_BLOCK 0x10000u
#define BLOCK_ERASE_S 0.25
#define SECTOR_ERASE_S 0.050
#define PAGE_PROGRAM_S 0.0006
#define INFLATE_S_PER_BYTE 20e-9
#define DECODE_S 30e-6
#define MD5_S_PER_BYTE ((100 + 60) * 1e-9)

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    *len = 0;
    rewind(f);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Bytes SLIP adds: one for every 0xC0 or 0xDB. */
static size_t escapes(const uint8_t *p, size_t n)
{
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        e += p[i] == 0xC0 || p[i] == 0xDB;
    return e;
}

static double erase_s(size_t addr, size_t len)
{
    double s = 0;
    size_t end = addr + len;
    for (size_t at = addr / SECTOR * SECTOR; at < end;) {
        if (at % ERASE_BLOCK == 0 && end - at >= ERASE_BLOCK) {
            s += BLOCK_ERASE_S;
            at += ERASE_BLOCK;
        } else {
            s += SECTOR_ERASE_S;
            at += SECTOR;
        }
    }
    return s;
}

/* The stub's loop and the flash chip behind it, on an ideal client's timeline. */
struct stub_timeline {
    double cpu_free, flash_free, flash_busy;
    size_t erase_next, erase_end;   /* sectors still to erase: [next, end) */
};

static void erase_step(struct stub_timeline *t, double from)
{
    size_t per_block = ERASE_BLOCK / SECTOR;
    int block = t->erase_next % per_block == 0 && t->erase_end - t->erase_next >= per_block;
    double s = block ? BLOCK_ERASE_S : SECTOR_ERASE_S;
    t->flash_free = (t->flash_free > from ? t->flash_free : from) + s;
    t->flash_busy += s;
    t->erase_next += block ? per_block : 1;
}

/* Bytes each compressed block inflates to, feeding zlib's inflate block by block;
 * false if the stream does not inflate to the image. */
static int inflated_per_block(const uint8_t *z, size_t zlen, size_t block, size_t image_len,
                              size_t *out, size_t blocks)
{
    z_stream st;
    memset(&st, 0, sizeof st);
    uint8_t *sink = malloc(image_len + 1);
    if (!sink || inflateInit(&st) != Z_OK) {
        free(sink);
        return 0;
    }
    st.next_out = sink;
    st.avail_out = (uInt)(image_len + 1);
    int rc = Z_OK;
    for (size_t i = 0; i < blocks; i++) {
        size_t n = zlen - i * block < block ? zlen - i * block : block;
        uLong before = st.total_out;
        st.next_in = (Bytef *)(z + i * block);
        st.avail_in = (uInt)n;
        while (st.avail_in && rc == Z_OK)
            rc = inflate(&st, Z_NO_FLUSH);
        out[i] = st.total_out - before;
    }
    int ok = rc == Z_STREAM_END && st.total_out == image_len;
    inflateEnd(&st);
    free(sink);
    return ok;
}

static size_t pages_of(size_t at, size_t n)
{
    return n ? (at + n - 1) / 256 - at / 256 + 1 : 0;
}

/* From the moment the client may send the first block to the last acknowledgement's
 * arrival, and the stub's loop and flash state then (for the MD5 that follows). */
static double stub_blocks(struct stub_timeline *t, const uint8_t *z, size_t zlen, size_t block,
                          const size_t *out, size_t blocks, size_t addr, double bit,
                          double latency, double reply)
{
    double host = 0;
    size_t at = addr;
    for (size_t i = 0; i < blocks; i++) {
        size_t n = zlen - i * block < block ? zlen - i * block : block;
        double arrival = host + (2 + 8 + 16 + n + escapes(z + i * block, n)) * bit + latency;
        double start = arrival > t->cpu_free ? arrival : t->cpu_free;
        while (t->erase_next < t->erase_end &&
               (t->flash_free > t->cpu_free ? t->flash_free : t->cpu_free) < start)
            erase_step(t, t->cpu_free);
        double ack = start + DECODE_S;
        double work_from = ack + out[i] * INFLATE_S_PER_BYTE;
        size_t last_sector = out[i] ? (at + out[i] - 1) / SECTOR : at / SECTOR;
        while (t->erase_next < t->erase_end && t->erase_next <= last_sector)
            erase_step(t, work_from);
        double program = pages_of(at, out[i]) * PAGE_PROGRAM_S;
        double written = (t->flash_free > work_from ? t->flash_free : work_from) + program;
        t->flash_free = t->cpu_free = written;
        t->flash_busy += program + out[i] * INFLATE_S_PER_BYTE;
        at += out[i];
        host = ack + reply + latency;
    }
    return host;
}

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[4], "stub") && strcmp(argv[4], "rom"))) {
        fprintf(stderr, "usage: deflate_floor IMAGE ADDR BAUD stub|rom [STUB_BYTES "
                        "[USB_LATENCY_US]]\n");
        return 2;
    }
    size_t len = 0;
    uint8_t *image = slurp(argv[1], &len);
    size_t addr = strtoul(argv[2], NULL, 0);
    double baud = atof(argv[3]);
    int stub = !strcmp(argv[4], "stub");
    double stub_bytes = argc > 5 ? atof(argv[5]) : 0;
    double latency = (argc > 6 ? atof(argv[6]) : 1000) * 1e-6;
    if (!image || baud <= 0) {
        fprintf(stderr, "deflate_floor: cannot read %s (or bad baud)\n", argv[1]);
        return 1;
    }
    uLongf zlen = compressBound(len);
    uint8_t *z = malloc(zlen);
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(12);
    size_t dcap = c ? libdeflate_zlib_compress_bound(c, len) : 0;
    uint8_t *d = malloc(dcap ? dcap : 1);
    if (!z || !c || !d || compress2(z, &zlen, image, len, 9) != Z_OK) {
        fprintf(stderr, "deflate_floor: out of memory\n");
        return 1;
    }
    size_t dlen = libdeflate_zlib_compress(c, image, len, d, dcap);
    const uint8_t *best = dlen && dlen < zlen ? d : z;
    size_t blen = dlen && dlen < zlen ? dlen : zlen;

    double bit = 10.0 / baud;   /* 8N1 */
    double status = stub ? 2 : 4;
    double reply = (2 + 8 + status) * bit;
    size_t block = stub ? STUB_BLOCK : ROM_BLOCK;
    size_t blocks = (blen + block - 1) / block;
    double wire = 0;
    for (size_t i = 0; i < blocks; i++) {
        size_t n = blen - i * block < block ? blen - i * block : block;
        double t = (2 + 8 + 16 + n + escapes(best + i * block, n)) * bit + latency + reply;
        wire += t;
    }
    /* Flash work: what each block's data makes (an even share of the image per block). */
    double pages = (double)((len + 255) / 256);
    double erase = erase_s(addr, len);
    double work = erase + pages * PAGE_PROGRAM_S + len * INFLATE_S_PER_BYTE + blocks * DECODE_S;
    double begin = (2 + 8 + 16) * bit + latency + DECODE_S + reply;
    double md5 = (2 + 8 + 16) * bit + latency + DECODE_S + len * MD5_S_PER_BYTE +
                 (2 + 8 + (stub ? 16 : 32) + status) * bit;
    double data;
    if (stub) {
        size_t *out = calloc(blocks, sizeof *out);
        if (!out || !inflated_per_block(best, blen, block, len, out, blocks)) {
            fprintf(stderr, "deflate_floor: the stream does not inflate back to the image\n");
            return 1;
        }
        struct stub_timeline t = { .erase_next = addr / SECTOR,
                                   .erase_end = (addr + len + SECTOR - 1) / SECTOR };
        double acked = stub_blocks(&t, best, blen, block, out, blocks, addr, bit, latency,
                                   reply);
        /* SPI_FLASH_MD5 waits for the loop and for the flash (md5 below adds its work). */
        double busy = t.cpu_free > t.flash_free ? t.cpu_free : t.flash_free;
        double md5_arrival = acked + (2 + 8 + 16) * bit + latency;
        data = (busy > md5_arrival ? busy : md5_arrival) - (2 + 8 + 16) * bit - latency;
        work = t.flash_busy;
        free(out);
    } else {
        data = erase + wire + (work - erase);
    }
    double mem_cmds = stub_bytes > 0 ? 2 + (stub_bytes + MEM_BLOCK - 1) / MEM_BLOCK + 2 : 0;
    double upload = stub_bytes > 0 ? (stub_bytes + mem_cmds * (2 + 8 + 16)) * bit +
                                         mem_cmds * (latency + DECODE_S) : 0;
    double floor_s = upload + begin + data + md5;
    printf("{\"image_bytes\":%zu,\"zlib9_bytes\":%lu,\"libdeflate12_bytes\":%zu,"
           "\"best_bytes\":%zu,\"block\":%zu,\"blocks\":%zu,\"wire_seconds\":%.3f,"
           "\"flash_work_seconds\":%.3f,\"stub_upload_seconds\":%.3f,\"floor_seconds\":%.3f,"
           "\"how\":\"%s: %zu B at 0x%zX, %.0f baud: min(zlib -9 %lu B, libdeflate -12 %zu B) in %zu "
           "blocks of %zu B, SLIP-escaped, 26 B framing + %.0f B reply + %.0f us latency per block"
           "; flash work %.3f s (GD25Q32C datasheet times) %s; + begin, SPI_FLASH_MD5%s; "
           "reset, boot and SYNC left out\"}\n",
           len, (unsigned long)zlen, dlen, blen, block, blocks, wire, work, upload, floor_s,
           stub ? "stub" : "ROM", len, addr, baud, (unsigned long)zlen, dlen, blocks, block,
           10 + status, latency * 1e6, work,
           stub ? "overlapped with the wire as the stub's two buffers allow"
                : "in series with the wire",
           stub_bytes > 0 ? ", stub upload at the same baud" : "");
    libdeflate_free_compressor(c);
    free(image);
    free(z);
    free(d);
    return 0;
}
