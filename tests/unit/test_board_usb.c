/* The chip's own USB port (board/usbdev.c): the USB-Serial/JTAG controller's line-state
 * decode, and the USB-OTG device leaving the bus and coming back with the chip. The
 * sequences are spelled out here as esptool's reset.py has them. */
#include "test_board_util.h"

struct lines {
    bool dtr, rts;
    unsigned wait_ms;
};

static void play(struct rig *r, const struct lines *seq, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ed_tp_set_lines(r->tp, seq[i].dtr, seq[i].rts);
        if (seq[i].wait_ms)
            ed_tp_sleep_ms(r->tp, seq[i].wait_ms);
    }
}

/* esptool USBJTAGSerialReset: (0,0) 100 ms, (1,0) 100 ms, (1,1), (0,1) 100 ms, (0,0). */
static const struct lines usb_jtag_reset[] = {
    { 0, 0, 100 }, { 1, 0, 100 }, { 1, 1, 0 }, { 0, 1, 100 }, { 0, 0, 0 },
};
/* esptool ClassicReset as two-call libraries produce it. */
static const struct lines classic_reset[] = {
    { 0, 0, 0 }, { 0, 1, 100 }, { 1, 1, 0 }, { 1, 0, 50 }, { 0, 0, 0 },
};
/* esptool HardReset: RTS up 100 ms, then down. */
static const struct lines hard_reset[] = {
    { 0, 1, 100 }, { 0, 0, 0 },
};

static struct rig jtag_board(const char *chip, bool boot_held)
{
    struct sim_board_opts o = rig_opts(chip);
    o.link = SIM_LINK_USB_SERIAL_JTAG;
    o.boot_held = boot_held;
    o.firmware = SIM_FW_APP;
    return rig_open(&o, 115200);
}

static void after(struct rig *r, const struct lines *seq, size_t n, char *log, size_t cap)
{
    rig_collect(r, log, cap, 20);   /* what came before */
    play(r, seq, n);
    rig_collect(r, log, cap, 300);
}

Test(board_usb, usb_jtag_sequence_enters_download_mode)
{
    static const char *const chips[] = { "esp32c3", "esp32s3", "esp32c6" };
    for (size_t i = 0; i < 3; i++) {
        struct rig r = jtag_board(chips[i], false);
        char log[4096];
        after(&r, usb_jtag_reset, 5, log, sizeof log);
        cr_expect(sim_board_in_download_mode(r.board), "%s: %s", chips[i], log);
        cr_expect(strstr(log, "rst:0x15 (USB_UART_"), "%s: %s", chips[i], log);
        rig_close(&r);
    }
}

Test(board_usb, transistor_sequences_do_not_reach_download_mode)
{
    struct rig r = jtag_board("esp32c3", false);
    char log[4096];
    after(&r, classic_reset, 5, log, sizeof log);
    cr_expect_not(sim_board_in_download_mode(r.board), "classic reset: %s", log);
    cr_expect(strstr(log, "boot:0xc (SPI_FAST_FLASH_BOOT)"), "%s", log);
    rig_close(&r);
}

Test(board_usb, opening_the_port_resets_nothing)
{
    struct rig r = jtag_board("esp32c3", false);
    char log[4096];
    rig_collect(&r, log, sizeof log, 100);
    ed_tp_set_lines(r.tp, true, true);   /* what Linux does on open */
    rig_collect(&r, log, sizeof log, 300);
    cr_expect_not(strstr(log, "rst:"), "a reset on open: %s", log);
    rig_close(&r);
}

Test(board_usb, hard_reset_is_a_core_reset_into_the_app)
{
    struct rig r = jtag_board("esp32s3", false);
    char log[4096];
    after(&r, usb_jtag_reset, 5, log, sizeof log);
    cr_assert(sim_board_in_download_mode(r.board));
    after(&r, hard_reset, 2, log, sizeof log);
    cr_expect_not(sim_board_in_download_mode(r.board), "%s", log);
    cr_expect(strstr(log, "rst:0x15 (USB_UART_CHIP_RESET),boot:0x8"), "%s", log);
    rig_close(&r);
}

Test(board_usb, a_core_reset_keeps_the_strap_of_the_boot_button)
{
    /* esptool docs: the USB-Serial/JTAG "can only trigger a core reset, which does not
     * re-sample the state of the boot strapping pin". */
    struct rig r = jtag_board("esp32c3", true);
    char log[4096];
    rig_collect(&r, log, sizeof log, 100);
    cr_assert(sim_board_in_download_mode(r.board), "%s", log);
    after(&r, hard_reset, 2, log, sizeof log);
    cr_expect(sim_board_in_download_mode(r.board), "left download mode: %s", log);
    rig_close(&r);
}

/* ---- USB-OTG -------------------------------------------------------------------------- */

static struct rig otg_board(enum sim_app_usb app_usb)
{
    struct sim_board_opts o = rig_opts("esp32s3");
    o.link = SIM_LINK_USB_OTG;
    o.firmware = SIM_FW_APP;
    o.app_usb = app_usb;
    return rig_open(&o, 115200);
}

static enum sim_usb_device usb_now(struct rig *r)
{
    return sim_board_usb_device(r->board, ed_tp_now_us(r->tp));
}

Test(board_usb, otg_app_port_reboots_into_the_rom_port_and_re_enumerates)
{
    struct rig r = otg_board(SIM_APP_USB_CDC);
    ed_tp_sleep_ms(r.tp, SIM_USB_ENUM_MS_DEFAULT + 50);
    cr_assert_eq(usb_now(&r), SIM_USB_APP);
    /* The tight reset's (1,1) -> (0,1) is TinyUSB's reset to bootloader. */
    ed_tp_set_lines(r.tp, false, false);
    ed_tp_set_lines(r.tp, true, true);
    ed_tp_set_lines(r.tp, false, true);
    cr_expect_eq(usb_now(&r), SIM_USB_ABSENT, "the device stayed on the bus through a reset");
    ed_tp_sleep_ms(r.tp, SIM_USB_ENUM_MS_DEFAULT - 50);
    cr_expect_eq(usb_now(&r), SIM_USB_ABSENT);
    ed_tp_sleep_ms(r.tp, 100);
    cr_expect_eq(usb_now(&r), SIM_USB_ROM);
    cr_expect(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(board_usb, otg_rom_port_ignores_the_lines)
{
    struct sim_board_opts o = rig_opts("esp32s2");
    o.link = SIM_LINK_USB_OTG;
    o.boot_held = true;
    struct rig r = rig_open(&o, 115200);
    ed_tp_sleep_ms(r.tp, SIM_USB_ENUM_MS_DEFAULT + 50);
    cr_assert_eq(usb_now(&r), SIM_USB_ROM);
    play(&r, usb_jtag_reset, 5);
    play(&r, hard_reset, 2);
    cr_expect_eq(usb_now(&r), SIM_USB_ROM, "the ROM's CDC reset on its lines");
    cr_expect(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(board_usb, an_app_without_usb_never_brings_the_port_back)
{
    struct rig r = otg_board(SIM_APP_USB_NONE);
    ed_tp_sleep_ms(r.tp, 5000);
    cr_expect_eq(usb_now(&r), SIM_USB_ABSENT);
    cr_expect_not(sim_board_in_download_mode(r.board));
    rig_close(&r);
}

Test(board_usb, native_usb_ignores_the_line_speed)
{
    /* CDC-ACM has no UART: what the host sets as baud changes nothing on the wire. */
    struct sim_board_opts o = rig_opts("esp32c3");
    o.link = SIM_LINK_USB_SERIAL_JTAG;
    o.boot_held = true;
    struct rig r = rig_open(&o, 9600);
    struct rig_reply rep;
    bool synced = false;
    for (int i = 0; i < 5 && !synced; i++)
        synced = rig_command(&r, 0x08, SYNC_DATA, sizeof SYNC_DATA, 0, &rep, 100);
    cr_expect(synced, "no SYNC over USB at a host baud of 9600");
    rig_close(&r);
}
