/* The loader context: sending commands, matching replies, SYNC, and the boot log that
 * collects every byte that arrives outside a frame (see loader.h). */
#include "espdoctor/loader.h"

#include <string.h>

#include "espdoctor/error.h"

/* How long to keep reading after an "unsupported" reply: ROMs repeat it. */
#define DRAIN_QUIET_MS 30u   /* repeats follow at once; a later one is skipped by op */
#define DRAIN_MAX_FRAMES 16u
/* SYNC: a ROM answers 8 times in quick succession. */
#define SYNC_EXTRA_REPLIES 7u

static const uint8_t sync_payload[36] = {
    0x07, 0x07, 0x12, 0x20,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
};

void ed_loader_init(struct ed_loader *ld, struct ed_transport *tp)
{
    memset(ld, 0, sizeof *ld);
    ld->tp = tp;
    ed_slip_reset(&ld->slip);
    ld->status_bytes = 4;
    ld->security_chip_id = UINT32_MAX;
}

static void bootlog_add(struct ed_loader *ld, uint8_t byte)
{
    if (ld->bootlog_len == ED_BOOTLOG_MAX) {
        /* Keep the newest text: it is about the latest reset. Drop a quarter at a time. */
        size_t drop = ED_BOOTLOG_MAX / 4;
        memmove(ld->bootlog, ld->bootlog + drop, ED_BOOTLOG_MAX - drop);
        ld->bootlog_len -= drop;
    }
    ld->bootlog[ld->bootlog_len++] = (char)byte;
    ld->bootlog[ld->bootlog_len] = '\0';
    ld->bootlog_total++;
}

int ed_loader_next_frame(struct ed_loader *ld, uint64_t deadline_us)
{
    for (;;) {
        while (ld->rx_pos < ld->rx_len) {
            switch (ed_slip_feed(&ld->slip, ld->rx[ld->rx_pos++])) {
            case ED_SLIP_FRAME:
                ld->frames_received++;
                return ED_OK;
            case ED_SLIP_TEXT:
                bootlog_add(ld, ld->slip.text);
                break;
            case ED_SLIP_BAD:
                ld->bad_frames++;
                break;
            case ED_SLIP_NONE:
                break;
            }
        }
        uint64_t now = ed_tp_now_us(ld->tp);
        if (now >= deadline_us)
            return ED_E_TIMEOUT;
        unsigned wait_ms = (unsigned)((deadline_us - now + 999) / 1000);
        size_t got = 0;
        int rc = ed_tp_read(ld->tp, ld->rx, sizeof ld->rx, &got, wait_ms);
        if (rc != ED_OK)
            return rc;
        ld->rx_pos = 0;
        ld->rx_len = got;
    }
}

static uint64_t deadline_after(struct ed_loader *ld, unsigned ms)
{
    return ed_tp_now_us(ld->tp) + (uint64_t)ms * 1000u;
}

/* Wait for the reply to `op`, skipping frames that are not it. */
static int wait_reply(struct ed_loader *ld, uint8_t op, unsigned status_bytes,
                      uint64_t deadline_us, struct ed_response *resp)
{
    unsigned skipped = 0;
    for (;;) {
        int rc = ed_loader_next_frame(ld, deadline_us);
        if (rc != ED_OK)
            return rc;
        if (ed_proto_decode_response(ld->slip.frame, ld->slip.len, status_bytes, resp) == ED_OK) {
            if (resp->op == op)
                return ED_OK;
            /* A ROM that does not know a command answers "invalid message" (status 1,
             * error 0x05) without echoing the op: that reply is ours. */
            if (resp->status == 1 && resp->error == ED_ROM_ERR_UNSUPPORTED)
                return ED_OK;
        }
        ld->frames_skipped++;
        if (++skipped > ED_LOADER_FOREIGN_FRAMES)
            return ED_E_PROTOCOL;
    }
}

/* Read and drop further replies to `op` until the line has been quiet for a while. */
static void drain_replies(struct ed_loader *ld, uint8_t op)
{
    struct ed_response r;
    for (unsigned i = 0; i < DRAIN_MAX_FRAMES; i++) {
        if (wait_reply(ld, op, ld->status_bytes, deadline_after(ld, DRAIN_QUIET_MS), &r) != ED_OK)
            return;
    }
}

int ed_loader_flush(struct ed_loader *ld)
{
    ld->rx_pos = ld->rx_len = 0;
    ed_slip_reset(&ld->slip);
    return ed_tp_flush_input(ld->tp);
}

int ed_loader_listen(struct ed_loader *ld, unsigned max_ms, unsigned quiet_ms)
{
    uint64_t end = deadline_after(ld, max_ms);
    for (;;) {
        uint64_t quiet_end = deadline_after(ld, quiet_ms);
        uint64_t until = quiet_end < end ? quiet_end : end;
        uint64_t text_before = ld->bootlog_total;
        unsigned long frames_before = ld->frames_received;
        int rc = ed_loader_next_frame(ld, until);
        if (rc == ED_OK) {
            ld->frames_skipped++;
            continue;
        }
        if (rc != ED_E_TIMEOUT)
            return rc;
        bool heard = ld->bootlog_total != text_before || ld->frames_received != frames_before;
        if (!heard || ed_tp_now_us(ld->tp) >= end)
            return ED_OK;
    }
}

static int send_request(struct ed_loader *ld, uint8_t op, const uint8_t *data, size_t len)
{
    size_t n = ed_proto_encode_request(op, data, len, ld->tx, sizeof ld->tx);
    if (n == 0)
        return ED_E_ARG;
    ld->last_op = op;
    ld->commands_sent++;
    return ed_tp_write(ld->tp, ld->tx, n);
}

static void keep_status(struct ed_loader *ld, const struct ed_response *r)
{
    memcpy(ld->last_status, r->status_raw, sizeof ld->last_status);
    ld->last_status_len = r->status_len;
    ld->last_error = r->status ? r->error : 0;
}

int ed_loader_command(struct ed_loader *ld, uint8_t op, const uint8_t *data, size_t len,
                      unsigned timeout_ms, struct ed_response *resp)
{
    struct ed_response local;
    if (!resp)
        resp = &local;
    ld->last_status_len = 0;
    ld->last_error = 0;
    int rc = send_request(ld, op, data, len);
    if (rc != ED_OK)
        return rc;
    rc = wait_reply(ld, op, ld->status_bytes, deadline_after(ld, timeout_ms), resp);
    if (rc != ED_OK)
        return rc;
    keep_status(ld, resp);
    if (resp->status == 0)
        return ED_OK;
    if (resp->status == 1 && resp->error == ED_ROM_ERR_UNSUPPORTED) {
        drain_replies(ld, op);
        return ED_E_UNSUPPORTED;
    }
    /* The stub's own words for "no such command". */
    if (ld->stub && (resp->error == 0xC3 || resp->error == 0xFF))
        return ED_E_UNSUPPORTED;
    return ED_E_ROM;
}

int ed_loader_sync(struct ed_loader *ld)
{
    struct ed_response r;
    int rc = send_request(ld, ED_OP_SYNC, sync_payload, sizeof sync_payload);
    if (rc != ED_OK)
        return rc;
    /* Decode with 2 status bytes (every loader sends at least 2): the body length then
     * tells which kind answered, 4 bytes for an ESP32-and-later ROM. */
    rc = wait_reply(ld, ED_OP_SYNC, 2, deadline_after(ld, ED_TIMEOUT_SYNC_MS), &r);
    if (rc != ED_OK)
        return rc;
    size_t body = ld->slip.len - ED_PROTO_HEADER_LEN;
    unsigned status_bytes = body >= 4 ? 4 : 2;
    ed_proto_decode_response(ld->slip.frame, ld->slip.len, status_bytes, &r);
    keep_status(ld, &r);
    if (r.status != 0)
        return ED_E_ROM;

    ld->status_bytes = status_bytes;
    ld->sync_value = r.value;
    ld->sync_replies = 1;
    bool all_zero = r.value == 0;
    for (unsigned i = 0; i < SYNC_EXTRA_REPLIES; i++) {
        rc = wait_reply(ld, ED_OP_SYNC, 2, deadline_after(ld, ED_TIMEOUT_SYNC_MS), &r);
        if (rc == ED_E_TIMEOUT)
            break;
        if (rc != ED_OK)
            return rc;
        ld->sync_replies++;
        all_zero = all_zero && r.value == 0;
    }
    /* ROMs answer with a non-zero value (8 times); a running stub answers once with 0. */
    ld->stub = all_zero;
    if (ld->stub)
        ld->status_bytes = 2;
    return ED_OK;
}

int ed_loader_read_reg(struct ed_loader *ld, uint32_t addr, uint32_t *value)
{
    uint8_t d[4];
    struct ed_response r;
    ed_put_le32(d, addr);
    int rc = ed_loader_command(ld, ED_OP_READ_REG, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, &r);
    if (rc == ED_OK)
        *value = r.value;
    return rc;
}

int ed_loader_write_reg(struct ed_loader *ld, uint32_t addr, uint32_t value, uint32_t mask,
                        uint32_t delay_us)
{
    uint8_t d[16];
    ed_put_le32(d, addr);
    ed_put_le32(d + 4, value);
    ed_put_le32(d + 8, mask);
    ed_put_le32(d + 12, delay_us);
    return ed_loader_command(ld, ED_OP_WRITE_REG, d, sizeof d, ED_TIMEOUT_DEFAULT_MS, NULL);
}

int ed_loader_wait_stub(struct ed_loader *ld, unsigned timeout_ms)
{
    uint64_t deadline = deadline_after(ld, timeout_ms);
    for (unsigned skipped = 0; skipped <= ED_LOADER_FOREIGN_FRAMES; skipped++) {
        int rc = ed_loader_next_frame(ld, deadline);
        if (rc != ED_OK)
            return rc;
        if (ld->slip.len == 4 && memcmp(ld->slip.frame, "OHAI", 4) == 0) {
            ld->stub = true;
            ld->status_bytes = 2;
            ld->spi_attached = false;
            return ED_OK;
        }
        ld->frames_skipped++;
    }
    return ED_E_PROTOCOL;
}

int ed_loader_hard_reset(struct ed_loader *ld)
{
    return ed_reset_run(ld->tp, ED_SEQ_HARD, 0);
}
