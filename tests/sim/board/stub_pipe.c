/* The flasher stub's timing: its command loop and the flash chip behind it, as the real
 * stub overlaps them. esptool's docs (serial-protocol.rst): "each block is read into RAM
 * via serial while the previous block is simultaneously being written", with 16 KiB
 * blocks and 4 KiB or 64 KiB erases started as needed. The stub (esptool's legacy
 * flasher_stub) has two 16 KiB receive buffers and acknowledges a FLASH_DATA block as soon
 * as its loop picks it up, then writes it, blocking the loop, while the next block comes
 * in over the wire into the other buffer; whenever the loop is idle it starts the next
 * erase of the announced region (a 64 KiB block where the region covers one from a block
 * boundary, else a 4 KiB sector), and before a write it erases up to the write's last
 * sector. Any other command waits for the loop (and, if it touches the flash, for the
 * flash chip). The flash contents change at once (rom_flash.c); this file only says when
 * each reply goes out.
 *
 * The same model runs twice: on the chip's real timeline, and on an ideal client's for the
 * floor (board.h, model_min_ns), so that the floor is what an ideal client needs on this
 * overlapped stub, not on a serial one. */
#include "board_internal.h"

static uint64_t max_u64(uint64_t a, uint64_t c)
{
    return a > c ? a : c;
}

void pipe_reset(struct stub_pipe *p, const struct sim_flash_part *part, uint64_t t_ns)
{
    *p = (struct stub_pipe){ .part = part, .cpu_free_ns = t_ns, .flash_free_ns = t_ns };
}

/* One erase step at the flash's next free moment (not before `from`). */
static void erase_step(struct stub_pipe *p, uint64_t from)
{
    bool block = p->erase_next % (BLOCK_SIZE / SECTOR_SIZE) == 0 &&
                 p->erase_end - p->erase_next >= BLOCK_SIZE / SECTOR_SIZE;
    uint64_t ns = block ? p->part->block_erase_ns : p->part->sector_erase_ns;
    p->flash_free_ns = max_u64(p->flash_free_ns, from) + ns;
    p->flash_ns += ns;
    p->erase_next += block ? BLOCK_SIZE / SECTOR_SIZE : 1;
}

/* The loop is idle from cpu_free on: it keeps the flash erasing ahead until `until`. */
static void erase_ahead(struct stub_pipe *p, uint64_t until)
{
    while (p->erase_next < p->erase_end && max_u64(p->flash_free_ns, p->cpu_free_ns) < until)
        erase_step(p, p->cpu_free_ns);
}

uint64_t pipe_reply_at(struct stub_pipe *p, uint64_t arrival_ns, const struct stub_work *w,
                       uint64_t work_ns, uint64_t command_ns)
{
    uint64_t start = max_u64(arrival_ns, p->cpu_free_ns);
    if (w->data) {
        /* Acknowledged as the loop picks it up; then inflated and written. */
        erase_ahead(p, start);
        uint64_t ack = start + command_ns;
        uint64_t t = ack + w->inflate_ns;
        while (p->erase_next < p->erase_end && p->erase_next <= w->last_sector)
            erase_step(p, t);
        uint64_t written = max_u64(p->flash_free_ns, t) + w->program_ns;
        p->flash_free_ns = written;
        p->flash_ns += w->program_ns;
        p->cpu_free_ns = written;
        return ack;
    }
    if (w->flash) {
        erase_ahead(p, start);
        start = max_u64(start, p->flash_free_ns);
    }
    uint64_t reply = start + command_ns + work_ns;
    p->cpu_free_ns = reply;
    if (w->flash)
        p->flash_free_ns = reply;
    if (w->begin) {
        /* A new region: what is left of the last one's erasing is dropped. */
        p->erase_next = w->begin_offset / SECTOR_SIZE;
        p->erase_end = (uint32_t)(((uint64_t)w->begin_offset + w->begin_size + SECTOR_SIZE - 1) /
                                  SECTOR_SIZE);
    }
    return reply;
}
