/* The serial protocol: SLIP frames in, commands decoded and answered the way the chip's
 * ROM loader does, or the flasher stub once one was uploaded and started (2 status bytes,
 * SYNC answered once, its own commands and error codes). */
#include "rom_internal.h"

#include <stdlib.h>
#include <string.h>

#define COMMAND_NS (30 * NS_PER_US)       /* decoding and answering a command */
#define STUB_START_NS (2 * NS_PER_MS)     /* from the jump to "OHAI" */
#define ROM_SYNC_REPLIES 8
#define UNSUPPORTED_REPLIES 2             /* real ROMs repeat this reply */
#define ROM_UNKNOWN_OP_REPLY 0x00         /* the op byte of that reply: not the request's */
#define SECURITY_FLAG_SECURE_DOWNLOAD (1u << 2)
#define SDM_DEFAULT_FLASH_SIZE (2u << 20)   /* what the ROM assumes in secure download */
#define KEY_PURPOSE_XTS_AES_128 4

static const uint8_t SYNC_PAYLOAD_HEAD[4] = { 0x07, 0x07, 0x12, 0x20 };

uint32_t rom_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void rom_fail(const struct sim_board *b, struct rom_reply *rp, uint8_t rom_error,
              uint8_t stub_error)
{
    rp->status = 1;
    rp->error = b->mode == MODE_STUB ? stub_error : rom_error;
}

static const char *op_name(uint8_t op)
{
    switch (op) {
    case OP_FLASH_BEGIN: return "FLASH_BEGIN";
    case OP_FLASH_DATA: return "FLASH_DATA";
    case OP_FLASH_END: return "FLASH_END";
    case OP_MEM_BEGIN: return "MEM_BEGIN";
    case OP_MEM_END: return "MEM_END";
    case OP_MEM_DATA: return "MEM_DATA";
    case OP_SYNC: return "SYNC";
    case OP_WRITE_REG: return "WRITE_REG";
    case OP_READ_REG: return "READ_REG";
    case OP_SPI_SET_PARAMS: return "SPI_SET_PARAMS";
    case OP_SPI_ATTACH: return "SPI_ATTACH";
    case OP_READ_FLASH_SLOW: return "READ_FLASH_SLOW";
    case OP_CHANGE_BAUDRATE: return "CHANGE_BAUDRATE";
    case OP_FLASH_DEFL_BEGIN: return "FLASH_DEFL_BEGIN";
    case OP_FLASH_DEFL_DATA: return "FLASH_DEFL_DATA";
    case OP_FLASH_DEFL_END: return "FLASH_DEFL_END";
    case OP_SPI_FLASH_MD5: return "SPI_FLASH_MD5";
    case OP_GET_SECURITY_INFO: return "GET_SECURITY_INFO";
    case OP_ERASE_FLASH: return "ERASE_FLASH";
    case OP_ERASE_REGION: return "ERASE_REGION";
    case OP_READ_FLASH: return "READ_FLASH";
    case OP_RUN_USER_CODE: return "RUN_USER_CODE";
    default: return "unknown";
    }
}

void rom_reset(struct sim_board *b)
{
    sim_slip_reset(&b->slip);
    b->sdm_flash_size = SDM_DEFAULT_FLASH_SIZE;
    b->synced = false;
    b->spi_attached = false;
    flash_jobs_end(b);
}

/* Secure Download Mode: "in addition to being unable to read flash data or read/write
 * RAM" (esptool docs, "Secure Download Mode Limitations"); "reading/writing RAM or
 * registers is not supported (i.e. stub download is not supported)" (the eFuse field
 * ENABLE_SECURITY_DOWNLOAD's description). The ROM answers these as it answers commands
 * it does not have. */
static bool refused_in_secure_download(uint8_t op)
{
    switch (op) {
    case OP_READ_REG: case OP_WRITE_REG:
    case OP_MEM_BEGIN: case OP_MEM_DATA: case OP_MEM_END:
    case OP_READ_FLASH_SLOW:
        return true;
    default:
        return false;
    }
}

/* Which commands this loader knows (the ROM's set differs per chip). */
static bool supported(const struct sim_board *b, uint8_t op)
{
    const struct sim_chip *c = b->sim;
    bool stub = b->mode == MODE_STUB;
    if (!stub && b->opts.secure_download && refused_in_secure_download(op))
        return false;
    switch (op) {
    case OP_FLASH_BEGIN: case OP_FLASH_DATA: case OP_FLASH_END:
    case OP_MEM_BEGIN: case OP_MEM_END: case OP_MEM_DATA:
    case OP_SYNC: case OP_WRITE_REG: case OP_READ_REG:
        return true;
    case OP_SPI_SET_PARAMS: case OP_SPI_ATTACH:
        return stub || c->rom_spi_attach;
    case OP_READ_FLASH_SLOW:
        return !stub && c->rom_read_flash_slow;
    case OP_CHANGE_BAUDRATE:
        return stub || c->rom_change_baud;
    case OP_FLASH_DEFL_BEGIN: case OP_FLASH_DEFL_DATA: case OP_FLASH_DEFL_END:
        return stub || c->rom_compressed;
    case OP_SPI_FLASH_MD5:
        return stub || c->rom_md5;
    case OP_GET_SECURITY_INFO:
        return b->sim->security_info_len > 0;
    case OP_ERASE_FLASH: case OP_ERASE_REGION: case OP_READ_FLASH: case OP_RUN_USER_CODE:
        return stub;
    default:
        return false;
    }
}

static void cmd_sync(struct sim_board *b, const struct rom_request *rq, struct rom_reply *rp)
{
    bool valid = rq->len == 36 && memcmp(rq->data, SYNC_PAYLOAD_HEAD, 4) == 0;
    for (size_t i = 4; valid && i < 36; i++)
        valid = rq->data[i] == 0x55;
    if (!valid) {
        rp->copies = 0;   /* not a SYNC the loader recognises: silence */
        return;
    }
    if (b->mode == MODE_STUB)
        return;   /* the stub answers once, value 0 */
    rp->copies = ROM_SYNC_REPLIES;
    rp->value = b->sim->sync_value;
    b->synced = true;
}

static void cmd_read_reg(struct sim_board *b, const struct rom_request *rq,
                         struct rom_reply *rp)
{
    if (rq->len < 4) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    rp->value = reg_read(b, rom_u32(rq->data));
}

static void cmd_write_reg(struct sim_board *b, const struct rom_request *rq,
                          struct rom_reply *rp)
{
    if (rq->len < 16 || rq->len % 16 != 0) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    for (size_t i = 0; i < rq->len; i += 16) {
        const uint8_t *w = rq->data + i;
        reg_write(b, rom_u32(w), rom_u32(w + 4), rom_u32(w + 8));
        rp->work_ns += rom_u32(w + 12) * NS_PER_US;   /* the requested delay */
    }
}

static void cmd_spi_attach(struct sim_board *b, const struct rom_request *rq,
                           struct rom_reply *rp)
{
    if (rq->len < 4) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    b->spi_attached = true;
}

static void cmd_spi_set_params(struct sim_board *b, const struct rom_request *rq,
                               struct rom_reply *rp)
{
    if (rq->len < 24) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    b->sdm_flash_size = rom_u32(rq->data + 4);
    board_trace(b, b->now_ns, "  flash params: id %u, size 0x%X, block 0x%X, sector 0x%X, "
                "page 0x%X", rom_u32(rq->data), rom_u32(rq->data + 4), rom_u32(rq->data + 8),
                rom_u32(rq->data + 12), rom_u32(rq->data + 16));
}

static void cmd_change_baudrate(struct sim_board *b, const struct rom_request *rq,
                                struct rom_reply *rp)
{
    if (rq->len < 8 || rom_u32(rq->data) == 0) {
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
        return;
    }
    rp->after = AFTER_CHANGE_BAUD;
    rp->after_arg = rom_u32(rq->data);
}

static void cmd_security_info(struct sim_board *b, const struct rom_request *rq,
                              struct rom_reply *rp)
{
    (void)rq;
    /* flags, flash crypt count, 7 key purposes; then chip id and API version, which the
     * ESP32-S2 ROM does not send (esptool docs, "Serial Protocol"). Flag bit 2 is
     * SECURE_DOWNLOAD_ENABLE (esptool's and esptool-js's flag map); flash encryption is an
     * odd crypt count, its key in KEY0 with purpose 4 (XTS_AES_128_KEY). */
    memset(rp->data, 0, 20);
    if (b->opts.secure_download)
        put_u32(rp->data, SECURITY_FLAG_SECURE_DOWNLOAD);
    if (b->opts.flash_encrypted) {
        rp->data[4] = 1;
        rp->data[5] = KEY_PURPOSE_XTS_AES_128;
    }
    put_u32(rp->data + 12, (uint32_t)b->sim->image_chip_id);
    rp->len = b->sim->security_info_len;
}

static void run_command(struct sim_board *b, const struct rom_request *rq,
                        struct rom_reply *rp)
{
    switch (rq->op) {
    case OP_SYNC: cmd_sync(b, rq, rp); break;
    case OP_READ_REG: cmd_read_reg(b, rq, rp); break;
    case OP_WRITE_REG: cmd_write_reg(b, rq, rp); break;
    case OP_SPI_ATTACH: cmd_spi_attach(b, rq, rp); break;
    case OP_SPI_SET_PARAMS: cmd_spi_set_params(b, rq, rp); break;
    case OP_CHANGE_BAUDRATE: cmd_change_baudrate(b, rq, rp); break;
    case OP_GET_SECURITY_INFO: cmd_security_info(b, rq, rp); break;
    case OP_FLASH_BEGIN: case OP_FLASH_DEFL_BEGIN: cmd_flash_begin(b, rq, rp); break;
    case OP_FLASH_DATA: case OP_FLASH_DEFL_DATA: cmd_flash_data(b, rq, rp); break;
    case OP_FLASH_END: case OP_FLASH_DEFL_END: cmd_flash_end(b, rq, rp); break;
    case OP_MEM_BEGIN: cmd_mem_begin(b, rq, rp); break;
    case OP_MEM_DATA: cmd_mem_data(b, rq, rp); break;
    case OP_MEM_END: cmd_mem_end(b, rq, rp); break;
    case OP_SPI_FLASH_MD5: cmd_md5(b, rq, rp); break;
    case OP_READ_FLASH_SLOW: cmd_read_flash_slow(b, rq, rp); break;
    case OP_ERASE_FLASH: cmd_erase_flash(b, rq, rp); break;
    case OP_ERASE_REGION: cmd_erase_region(b, rq, rp); break;
    case OP_READ_FLASH: cmd_read_flash(b, rq, rp); break;
    case OP_RUN_USER_CODE:
        rp->copies = 0;   /* the stub jumps without answering */
        rp->after = AFTER_RUN_APP;
        break;
    default:
        rom_fail(b, rp, ROM_BAD_MESSAGE, STUB_NOT_IMPLEMENTED);
        break;
    }
}

/* Bytes one copy of the reply takes on the wire. */
static size_t send_reply(struct sim_board *b, uint8_t op, const struct rom_reply *rp,
                         uint64_t t_ns)
{
    unsigned status_len = b->mode == MODE_STUB ? 2 : b->sim->rom_status_bytes;
    uint8_t frame[8 + sizeof rp->data + 4];
    size_t size = rp->len + status_len;
    frame[0] = 0x01;
    frame[1] = op;
    frame[2] = (uint8_t)size;
    frame[3] = (uint8_t)(size >> 8);
    put_u32(frame + 4, rp->value);
    memcpy(frame + 8, rp->data, rp->len);
    uint8_t *status = frame + 8 + rp->len;
    memset(status, 0, status_len);
    status[0] = rp->status;
    status[1] = rp->error;
    for (unsigned i = 0; i < rp->copies; i++)
        chip_emit_frame(b, frame, 8 + size, t_ns);
    board_trace(b, t_ns, "  reply %s: value 0x%08X, %zu data bytes, status %u error 0x%02X%s",
                op_name(op), rp->value, rp->len, rp->status, rp->error,
                rp->copies > 1 ? " (repeated)" : "");
    return sim_slip_wire_len(frame, 8 + size);
}

/* The statistics (board.h): what this command costs a client that sends it, waits for
 * the first copy of its reply and sends the next at once. */
static void account_command(struct sim_board *b, const struct rom_request *rq,
                            size_t request_wire_bytes, const struct rom_reply *rp,
                            size_t reply_wire_bytes, uint64_t stub_flash_ns)
{
    struct sim_board_stats *st = &b->stats;
    st->commands++;
    bool data = rq->op == OP_FLASH_DATA || rq->op == OP_FLASH_DEFL_DATA;
    if (data && rp->status == 0)
        st->blocks_written++;
    bool begin = rq->op == OP_FLASH_BEGIN || rq->op == OP_FLASH_DEFL_BEGIN;
    if (begin && !b->flash_phase) {
        b->flash_phase = true;
        b->flash_phase_from_ns = st->model_min_ns;
    }
    if (board_timed(b)) {
        uint64_t byte_ns = wire_byte_ns(usbdev_line_baud(b, b->chip_baud));
        uint64_t latency = (uint64_t)b->opts.usb_latency_us * NS_PER_US;
        st->wire_ns += (request_wire_bytes + reply_wire_bytes) * byte_ns;
        st->latency_ns += latency;
        if (rq->op != OP_WRITE_REG)   /* its work is the delay the host asked for */
            st->flash_busy_ns += rp->work_ns;
        st->flash_busy_ns += stub_flash_ns;
        /* The ideal client: the request right after the last reply, on its own copy of the
         * stub's pipeline (a ROM does each command's work before it answers). */
        uint64_t arrival = b->ideal_now_ns + request_wire_bytes * byte_ns + latency;
        uint64_t reply = b->mode == MODE_STUB
                             ? pipe_reply_at(&b->ideal_pipe, arrival, &rp->sw, rp->work_ns,
                                             COMMAND_NS)
                             : arrival + COMMAND_NS + rp->work_ns;
        b->ideal_now_ns = reply + reply_wire_bytes * byte_ns;
        st->model_min_ns = b->ideal_now_ns;
    }
    if (rq->op == OP_SPI_FLASH_MD5 && b->flash_phase)
        b->flash_phase_to_ns = st->model_min_ns;
}

/* Output the chip sends on its own after a command (OHAI, READ_FLASH data) that a client
 * must wait for. */
void account_output(struct sim_board *b, size_t wire_bytes, uint64_t work_ns, bool flash)
{
    if (!board_timed(b))
        return;
    struct sim_board_stats *st = &b->stats;
    uint64_t wire = wire_bytes * wire_byte_ns(usbdev_line_baud(b, b->chip_baud));
    st->wire_ns += wire;
    if (flash)
        st->flash_busy_ns += work_ns;
    b->ideal_now_ns += wire + work_ns;
    st->model_min_ns = b->ideal_now_ns;
}

static void after_reply(struct sim_board *b, const struct rom_reply *rp, uint64_t t_ns)
{
    static const uint8_t ohai[] = { 'O', 'H', 'A', 'I' };
    switch (rp->after) {
    case AFTER_NONE:
        break;
    case AFTER_START_STUB:
        b->mode = MODE_STUB;
        flash_jobs_end(b);
        sim_slip_reset(&b->slip);
        t_ns += board_timed(b) ? STUB_START_NS : 0;
        chip_emit_frame(b, ohai, sizeof ohai, t_ns);
        account_output(b, sim_slip_wire_len(ohai, sizeof ohai), STUB_START_NS, false);
        pipe_reset(&b->pipe, b->flash.part, t_ns);
        pipe_reset(&b->ideal_pipe, b->flash.part, b->ideal_now_ns);
        b->busy_until_ns = t_ns;
        board_trace(b, t_ns, "stub running: OHAI");
        break;
    case AFTER_CHANGE_BAUD:
        if (b->mode == MODE_ROM && b->sim->rom_estimates_xtal) {
            /* The ROM divides its estimate of the crystal, not the crystal. */
            uint32_t real = clock_rom_uart_baud(b, rp->after_arg);
            board_trace(b, t_ns, "chip UART %u -> %u asked; the ROM's divider from its "
                        "%.3f MHz estimate makes it %u", b->chip_baud, rp->after_arg,
                        clock_rom_estimate_hz(b) / 1e6, real);
            b->chip_baud = real;
        } else {
            board_trace(b, t_ns, "chip UART %u -> %u", b->chip_baud, rp->after_arg);
            b->chip_baud = rp->after_arg;
        }
        break;
    case AFTER_REBOOT:
        board_trace(b, t_ns, "loader reboots the chip");
        chip_restart(b, t_ns, b->sim->cause_sw, false);
        break;
    case AFTER_RUN_APP:
        board_trace(b, t_ns, "loader runs the app in flash");
        rom_reset(b);
        boot_run_app(b, t_ns);
        break;
    case AFTER_READ_FLASH:
        read_flash_pump(b, t_ns);
        break;
    case AFTER_RUN_FOREIGN:
        /* The jump lands in code the chip cannot run: it faults and hangs, deaf to the
         * host, until something resets it. */
        rom_reset(b);
        b->mode = MODE_APP;
        b->app = APP_SILENT;
        b->app_next_ns = NO_TIME;
        break;
    }
}

static void trace_request(const struct sim_board *b, const struct rom_request *rq,
                          uint64_t t_ns)
{
    if (!b->opts.trace)
        return;
    char params[96] = "";
    size_t words = rq->len / 4 < 5 ? rq->len / 4 : 5;
    if (rq->op == OP_FLASH_DATA || rq->op == OP_FLASH_DEFL_DATA || rq->op == OP_MEM_DATA)
        words = rq->len >= 16 ? 2 : 0;   /* length and sequence */
    if (rq->op == OP_SYNC)
        words = 0;
    size_t used = 0;
    for (size_t i = 0; i < words && used < sizeof params; i++)
        used += (size_t)snprintf(params + used, sizeof params - used, " 0x%X",
                                 rom_u32(rq->data + 4 * i));
    board_trace(b, t_ns, "%s %s (0x%02X), %zu bytes:%s", b->mode == MODE_STUB ? "stub" : "ROM",
                op_name(rq->op), rq->op, rq->len, params);
}

static void handle_frame(struct sim_board *b, const uint8_t *f, size_t n, uint64_t t_ns)
{
    if (b->rj.active) {
        /* During READ_FLASH the host only sends acknowledgements. */
        if (n == 4) {
            b->rj.acked = rom_u32(f);
            read_flash_pump(b, t_ns);
        }
        return;
    }
    if (n < 8 || f[0] != 0x00) {
        board_trace(b, t_ns, "ignored frame of %zu bytes (not a request)", n);
        return;
    }
    struct rom_request rq = {
        .op = f[1], .data = f + 8, .len = (size_t)(f[2] | f[3] << 8),
        .checksum = rom_u32(f + 4),
    };
    struct rom_reply rp = { .copies = 1 };
    trace_request(b, &rq, t_ns);
    if (rq.len > n - 8) {
        rom_fail(b, &rp, ROM_BAD_MESSAGE, STUB_BAD_LENGTH);
    } else if (!supported(b, rq.op)) {
        rom_fail(b, &rp, ROM_BAD_MESSAGE, STUB_NOT_IMPLEMENTED);
        if (b->mode == MODE_ROM) {
            rp.copies = UNSUPPORTED_REPLIES;
            /* Real ROMs do not echo an op they do not know: esptool and esptool-js only
             * recognise "unsupported" on a reply whose op differs from the request. */
            rp.op_override = true;
        }
    } else {
        run_command(b, &rq, &rp);
    }
    uint64_t done = t_ns, stub_flash_ns = 0;
    if (board_timed(b) && b->mode == MODE_STUB) {
        /* Overlapped: a data block is acknowledged at once and written meanwhile. */
        uint64_t before = b->pipe.flash_ns;
        done = pipe_reply_at(&b->pipe, t_ns, &rp.sw, rp.work_ns, COMMAND_NS);
        stub_flash_ns = b->pipe.flash_ns - before;
    } else if (board_timed(b)) {
        done = t_ns + COMMAND_NS + rp.work_ns;
    }
    b->busy_until_ns = done;
    size_t reply_bytes = 0;
    if (rp.copies)
        reply_bytes = send_reply(b, rp.op_override ? ROM_UNKNOWN_OP_REPLY : rq.op, &rp, done);
    account_command(b, &rq, sim_slip_wire_len(f, n), &rp, reply_bytes, stub_flash_ns);
    after_reply(b, &rp, done);
}

void rom_rx(struct sim_board *b, uint8_t byte, uint64_t t_ns)
{
    if (sim_slip_rx(&b->slip, byte)) {
        /* Copy: a command may restart the decoder (a stub starting). */
        size_t n = b->slip.len;
        uint8_t *frame = malloc(n ? n : 1);
        if (!frame)
            return;
        memcpy(frame, b->slip.frame, n);
        handle_frame(b, frame, n, t_ns);
        free(frame);
    }
}
