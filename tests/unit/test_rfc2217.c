/* The Telnet / RFC 2217 codec (decoding, encoding, option answers) and the port URL
 * parser: pure functions, byte-exact. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/telnet.h"   /* the tests have no -Isrc */
#include "espdoctor/error.h"
#include "espdoctor/netport.h"

#define IAC 255

/* Everything a decoder made of a stream, fed in pieces of `step` bytes. */
struct decoded {
    uint8_t data[1024];
    size_t data_len;
    enum ed_telnet_event ev[32];
    uint8_t verb[32], option[32], command[32];
    uint8_t sb[32][ED_TELNET_SB_MAX];
    size_t sb_len[32];
    bool sb_truncated[32];
    size_t nev;
};

static void decode_all(const uint8_t *in, size_t n, size_t step, struct decoded *out)
{
    struct ed_telnet_decoder d;
    ed_telnet_decoder_init(&d);
    memset(out, 0, sizeof *out);
    for (size_t at = 0; at < n;) {
        size_t piece = n - at < step ? n - at : step;
        size_t used_total = 0;
        while (used_total < piece) {
            enum ed_telnet_event ev;
            cr_assert_leq(out->data_len + piece, sizeof out->data);
            size_t used = ed_telnet_decode(&d, in + at + used_total, piece - used_total,
                                           out->data, &out->data_len, &ev);
            cr_assert_gt(used, 0, "the decoder must make progress");
            used_total += used;
            if (ev == ED_TN_EV_NONE)
                continue;
            size_t k = out->nev++;
            if (k >= 32)
                continue;   /* counted; only the first ones are kept */
            out->ev[k] = ev;
            out->verb[k] = d.verb;
            out->option[k] = d.option;
            out->command[k] = d.command;
            out->sb_len[k] = d.sb_len;
            out->sb_truncated[k] = d.sb_truncated;
            memcpy(out->sb[k], d.sb, d.sb_len);
        }
        at += piece;
    }
}

Test(telnet_decode, plain_data_passes_and_doubled_iac_is_one_0xff)
{
    const uint8_t in[] = { 'o', 'k', IAC, IAC, 0x00, 0xc0, IAC, IAC, IAC, IAC };
    struct decoded o;
    decode_all(in, sizeof in, sizeof in, &o);
    const uint8_t want[] = { 'o', 'k', 0xff, 0x00, 0xc0, 0xff, 0xff };
    cr_assert_eq(o.nev, 0);
    cr_assert_eq(o.data_len, sizeof want);
    cr_assert_arr_eq(o.data, want, sizeof want);
}

Test(telnet_decode, option_negotiation_is_an_event_between_data)
{
    const uint8_t in[] = { 'a', IAC, ED_TN_DO, 44, 'b', IAC, ED_TN_WILL, 1 };
    struct ed_telnet_decoder d;
    ed_telnet_decoder_init(&d);
    uint8_t data[16];
    size_t len = 0;
    enum ed_telnet_event ev;
    size_t used = ed_telnet_decode(&d, in, sizeof in, data, &len, &ev);
    cr_assert_eq(used, 4, "stops right after the first event");
    cr_assert_eq(ev, ED_TN_EV_OPTION);
    cr_assert_eq(d.verb, ED_TN_DO);
    cr_assert_eq(d.option, 44);
    cr_assert_eq(len, 1);
    cr_assert_eq(data[0], 'a');
    used += ed_telnet_decode(&d, in + used, sizeof in - used, data, &len, &ev);
    cr_assert_eq(used, sizeof in);
    cr_assert_eq(ev, ED_TN_EV_OPTION);
    cr_assert_eq(d.verb, ED_TN_WILL);
    cr_assert_eq(d.option, 1);
    cr_assert_eq(len, 2);
    cr_assert_eq(data[1], 'b');
}

Test(telnet_decode, subnegotiation_is_collected_with_doubled_iac)
{
    /* SET-BAUDRATE answer for 65535 (0x0000ffff: two escaped bytes) */
    const uint8_t in[] = { 'x', IAC, ED_TN_SB, 44, 101, 0, 0, IAC, IAC, IAC, IAC,
                           IAC, ED_TN_SE, 'y' };
    struct decoded o;
    decode_all(in, sizeof in, sizeof in, &o);
    cr_assert_eq(o.nev, 1);
    cr_assert_eq(o.ev[0], ED_TN_EV_SUBNEG);
    const uint8_t want[] = { 44, 101, 0, 0, 0xff, 0xff };
    cr_assert_eq(o.sb_len[0], sizeof want);
    cr_assert_arr_eq(o.sb[0], want, sizeof want);
    cr_assert_not(o.sb_truncated[0]);
    cr_assert_eq(o.data_len, 2);
    cr_assert_eq(o.data[0], 'x');
    cr_assert_eq(o.data[1], 'y');
}

/* A realistic server stream: ser2net's greeting (captured), a notification, data with
 * 0xff, a baud answer. */
static const uint8_t server_stream[] = {
    IAC, ED_TN_WILL, 3, IAC, ED_TN_DO, 3, IAC, ED_TN_WILL, 1, IAC, ED_TN_DONT, 1,
    IAC, ED_TN_DO, 0, IAC, ED_TN_WILL, 0, IAC, ED_TN_DO, 44,
    IAC, ED_TN_SB, 44, 107, 0, IAC, ED_TN_SE,
    'w', 'o', 'r', 'l', 'd', IAC, IAC, 0xc0,
    IAC, ED_TN_SB, 44, 101, 0, 1, 0xc2, 0, IAC, ED_TN_SE,
    '\r', '\n', IAC, ED_TN_NOP, 'z',
};

Test(telnet_decode, the_same_result_whatever_the_read_sizes)
{
    struct decoded whole, piece;
    decode_all(server_stream, sizeof server_stream, sizeof server_stream, &whole);
    cr_assert_eq(whole.nev, 10);
    cr_assert_eq(whole.ev[7], ED_TN_EV_SUBNEG);
    cr_assert_eq(whole.ev[8], ED_TN_EV_SUBNEG);
    cr_assert_eq(whole.ev[9], ED_TN_EV_COMMAND);
    cr_assert_eq(whole.command[9], ED_TN_NOP);
    const uint8_t data[] = { 'w', 'o', 'r', 'l', 'd', 0xff, 0xc0, '\r', '\n', 'z' };
    cr_assert_eq(whole.data_len, sizeof data);
    cr_assert_arr_eq(whole.data, data, sizeof data);
    for (size_t step = 1; step < sizeof server_stream; step++) {
        decode_all(server_stream, sizeof server_stream, step, &piece);
        cr_assert_eq(piece.data_len, whole.data_len, "step %zu", step);
        cr_assert_arr_eq(piece.data, whole.data, whole.data_len, "step %zu", step);
        cr_assert_eq(piece.nev, whole.nev, "step %zu", step);
        for (size_t k = 0; k < whole.nev; k++) {
            cr_assert_eq(piece.ev[k], whole.ev[k]);
            cr_assert_eq(piece.verb[k], whole.verb[k]);
            cr_assert_eq(piece.option[k], whole.option[k]);
            cr_assert_eq(piece.sb_len[k], whole.sb_len[k]);
            cr_assert_arr_eq(piece.sb[k], whole.sb[k], whole.sb_len[k]);
        }
    }
}

Test(telnet_decode, a_subnegotiation_without_se_does_not_swallow_the_stream)
{
    /* IAC SB 44 5 8, then IAC WILL 0 where IAC SE should be, then data. */
    const uint8_t in[] = { IAC, ED_TN_SB, 44, 5, 8, IAC, ED_TN_WILL, 0, 'd', 'a' };
    struct decoded o;
    decode_all(in, sizeof in, 3, &o);
    cr_assert_eq(o.nev, 1, "the broken subnegotiation is dropped");
    cr_assert_eq(o.ev[0], ED_TN_EV_OPTION);
    cr_assert_eq(o.verb[0], ED_TN_WILL);
    cr_assert_eq(o.option[0], 0);
    cr_assert_eq(o.data_len, 2);
    cr_assert_eq(o.data[0], 'd');
}

Test(telnet_decode, an_overlong_subnegotiation_is_marked_truncated)
{
    uint8_t in[3 + 200 + 2 + 1];
    size_t n = 0;
    in[n++] = IAC;
    in[n++] = ED_TN_SB;
    in[n++] = 44;
    for (int i = 0; i < 200; i++)
        in[n++] = 'S';
    in[n++] = IAC;
    in[n++] = ED_TN_SE;
    in[n++] = 'k';
    struct decoded o;
    decode_all(in, n, 7, &o);
    cr_assert_eq(o.nev, 1);
    cr_assert_eq(o.ev[0], ED_TN_EV_SUBNEG);
    cr_assert(o.sb_truncated[0]);
    cr_assert_eq(o.sb_len[0], ED_TELNET_SB_MAX);
    cr_assert_eq(o.data_len, 1);
    cr_assert_eq(o.data[0], 'k');
}

Test(telnet_decode, stray_commands_and_a_trailing_iac)
{
    const uint8_t in[] = { IAC, ED_TN_SE, 'a', IAC, 0x05, 'b', IAC };
    struct ed_telnet_decoder d;
    ed_telnet_decoder_init(&d);
    uint8_t data[16];
    size_t len = 0, used = 0;
    enum ed_telnet_event ev;
    used += ed_telnet_decode(&d, in + used, sizeof in - used, data, &len, &ev);
    cr_assert_eq(ev, ED_TN_EV_COMMAND);
    cr_assert_eq(d.command, ED_TN_SE);
    used += ed_telnet_decode(&d, in + used, sizeof in - used, data, &len, &ev);
    cr_assert_eq(ev, ED_TN_EV_COMMAND);
    cr_assert_eq(d.command, 0x05);
    used += ed_telnet_decode(&d, in + used, sizeof in - used, data, &len, &ev);
    cr_assert_eq(used, sizeof in);
    cr_assert_eq(ev, ED_TN_EV_NONE);
    cr_assert_eq(len, 2, "the trailing IAC waits for its next byte");
    const uint8_t next[] = { IAC };
    ed_telnet_decode(&d, next, 1, data, &len, &ev);
    cr_assert_eq(len, 3);
    cr_assert_eq(data[2], 0xff);
}

/* Deterministic noise: any input decodes without overrun, never yields more data than it
 * got, and escaped data always comes back unchanged. */
static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

Test(telnet_decode, random_streams)
{
    uint32_t seed = 0x2217u;
    for (int round = 0; round < 300; round++) {
        uint8_t in[300], esc[600];
        size_t n = next_random(&seed) % sizeof in;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = next_random(&seed);
            /* plenty of IACs and command bytes */
            in[i] = (r & 3) == 0 ? IAC : (r & 7) == 1 ? (uint8_t)(240 + (r >> 8) % 16)
                                                        : (uint8_t)(r >> 8);
        }
        struct decoded o;
        decode_all(in, n, 1 + next_random(&seed) % 17, &o);
        cr_assert_leq(o.data_len, n);

        size_t e = ed_telnet_escape(in, n, esc);
        decode_all(esc, e, 1 + next_random(&seed) % 17, &o);
        cr_assert_eq(o.nev, 0);
        cr_assert_eq(o.data_len, n);
        cr_assert_arr_eq(o.data, in, n);
    }
}

Test(rfc2217_encode, set_control_messages)
{
    uint8_t msg[ED_RFC2217_MSG_MAX];
    const uint8_t dtr_on[] = { IAC, ED_TN_SB, 44, 5, 8, IAC, ED_TN_SE };
    cr_assert_eq(ed_rfc2217_set_control_msg(ED_RFC2217_DTR_ON, msg), sizeof dtr_on);
    cr_assert_arr_eq(msg, dtr_on, sizeof dtr_on);
    const uint8_t rts_off[] = { IAC, ED_TN_SB, 44, 5, 12, IAC, ED_TN_SE };
    cr_assert_eq(ed_rfc2217_set_control_msg(ED_RFC2217_RTS_OFF, msg), sizeof rts_off);
    cr_assert_arr_eq(msg, rts_off, sizeof rts_off);
    cr_assert_eq(ED_RFC2217_DTR_OFF, 9);
    cr_assert_eq(ED_RFC2217_RTS_ON, 11);
}

Test(rfc2217_encode, set_baudrate_is_four_bytes_big_endian)
{
    uint8_t msg[ED_RFC2217_MSG_MAX];
    const uint8_t b115200[] = { IAC, ED_TN_SB, 44, 1, 0x00, 0x01, 0xc2, 0x00, IAC, ED_TN_SE };
    cr_assert_eq(ed_rfc2217_set_baud_msg(115200, msg), sizeof b115200);
    cr_assert_arr_eq(msg, b115200, sizeof b115200);
    /* 0xff00ff01: IAC bytes in the value are doubled */
    const uint8_t odd[] = { IAC, ED_TN_SB, 44, 1, IAC, IAC, 0x00, IAC, IAC, 0x01, IAC, ED_TN_SE };
    cr_assert_eq(ed_rfc2217_set_baud_msg(0xff00ff01u, msg), sizeof odd);
    cr_assert_arr_eq(msg, odd, sizeof odd);
    /* the worst case fits the documented maximum */
    cr_assert_eq(ed_rfc2217_set_baud_msg(0xffffffffu, msg), ED_RFC2217_MSG_MAX);
}

Test(rfc2217_encode, command_refuses_a_short_buffer_and_escape_doubles_iac)
{
    uint8_t out[8];
    const uint8_t v[] = { 1, 2, 3 };
    cr_assert_eq(ed_rfc2217_command(ED_RFC2217_PURGE_DATA, v, 3, out, 8), 0);
    cr_assert_eq(ed_rfc2217_command(ED_RFC2217_PURGE_DATA, v, 2, out, 8), 8);
    const uint8_t in[] = { 'a', IAC, 'b' }, want[] = { 'a', IAC, IAC, 'b' };
    cr_assert_eq(ed_telnet_escape(in, sizeof in, out), sizeof want);
    cr_assert_arr_eq(out, want, sizeof want);
}

static size_t answer(struct ed_telnet_opts *o, uint8_t verb, uint8_t opt, uint8_t out[3])
{
    memset(out, 0, 3);
    return ed_telnet_answer(o, verb, opt, out);
}

static void expect_reply(const uint8_t got[3], uint8_t verb, uint8_t opt)
{
    cr_assert_eq(got[0], IAC);
    cr_assert_eq(got[1], verb);
    cr_assert_eq(got[2], opt);
}

Test(telnet_options, requests_and_their_acknowledgements)
{
    struct ed_telnet_opts o = { 0 };
    uint8_t out[3];
    cr_assert_eq(ed_telnet_request(&o, ED_TN_WILL, 44, out), 3);
    expect_reply(out, ED_TN_WILL, 44);
    cr_assert_eq(ed_telnet_request(&o, ED_TN_WILL, 44, out), 0, "asked once");
    cr_assert_eq(o.us[44], ED_TN_ASKED);
    cr_assert_eq(answer(&o, ED_TN_DO, 44, out), 0, "an acknowledgement gets no answer");
    cr_assert_eq(o.us[44], ED_TN_ON);
    cr_assert_eq(answer(&o, ED_TN_DO, 44, out), 0, "nor does a repeat");
    cr_assert_eq(ed_telnet_request(&o, ED_TN_DO, ED_TN_OPT_BINARY, out), 3);
    expect_reply(out, ED_TN_DO, 0);
    cr_assert_eq(answer(&o, ED_TN_WONT, ED_TN_OPT_BINARY, out), 0);
    cr_assert_eq(o.him[0], ED_TN_REFUSED);
}

Test(telnet_options, unknown_options_are_refused_known_ones_accepted)
{
    struct ed_telnet_opts o = { 0 };
    uint8_t out[3];
    cr_assert_eq(answer(&o, ED_TN_WILL, ED_TN_OPT_ECHO, out), 3);
    expect_reply(out, ED_TN_DONT, ED_TN_OPT_ECHO);
    cr_assert_eq(answer(&o, ED_TN_DO, 24, out), 3);      /* terminal type */
    expect_reply(out, ED_TN_WONT, 24);
    cr_assert_eq(answer(&o, ED_TN_DONT, ED_TN_OPT_ECHO, out), 0);
    cr_assert_eq(answer(&o, ED_TN_WILL, ED_TN_OPT_SGA, out), 3);
    expect_reply(out, ED_TN_DO, ED_TN_OPT_SGA);
    cr_assert_eq(answer(&o, ED_TN_DO, ED_TN_OPT_SGA, out), 3);
    expect_reply(out, ED_TN_WILL, ED_TN_OPT_SGA);
    cr_assert_eq(answer(&o, ED_TN_WILL, ED_TN_OPT_SGA, out), 0);
    /* The server turns an option off: agree once. */
    cr_assert_eq(answer(&o, ED_TN_WONT, ED_TN_OPT_SGA, out), 3);
    expect_reply(out, ED_TN_DONT, ED_TN_OPT_SGA);
    cr_assert_eq(answer(&o, ED_TN_WONT, ED_TN_OPT_SGA, out), 0);
    cr_assert_eq(answer(&o, 0x42, 1, out), 0, "not a negotiation verb");
}

Test(telnet_options, the_com_port_refusal_is_visible)
{
    struct ed_telnet_opts o = { 0 };
    uint8_t out[3];
    ed_telnet_request(&o, ED_TN_WILL, 44, out);
    cr_assert_eq(answer(&o, ED_TN_DONT, 44, out), 0);
    cr_assert_eq(o.us[44], ED_TN_REFUSED);
}

Test(port_url, rfc2217_and_socket_addresses)
{
    struct ed_port_url u;
    cr_assert_eq(ed_port_url_parse("rfc2217://localhost:4000", &u), ED_OK);
    cr_assert_eq(u.scheme, ED_PORT_RFC2217);
    cr_assert_str_eq(u.host, "localhost");
    cr_assert_eq(u.port, 4000);
    cr_assert_eq(ed_port_url_parse("socket://192.168.4.1:23/", &u), ED_OK);
    cr_assert_eq(u.scheme, ED_PORT_SOCKET);
    cr_assert_str_eq(u.host, "192.168.4.1");
    cr_assert_eq(u.port, 23);
    cr_assert_eq(ed_port_url_parse("rfc2217://[::1]:65535", &u), ED_OK);
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(u.port, 65535);
    cr_assert_eq(ed_port_url_parse("socket://[fe80::1%eth0]:2217", &u), ED_OK);
    cr_assert_str_eq(u.host, "fe80::1%eth0");
    cr_assert_str_eq(ed_port_scheme_name(ED_PORT_SOCKET), "socket");
    cr_assert_eq(ed_port_url_parse("RFC2217://Board:4000", &u), ED_OK, "schemes ignore case");
    cr_assert_eq(u.scheme, ED_PORT_RFC2217);
}

Test(port_url, paths_are_not_urls)
{
    struct ed_port_url u;
    const char *paths[] = { "/dev/ttyUSB0", "/dev/serial/by-id/usb-Silicon_Labs-if00-port0",
                            "10c4:ea60", "serial=0001", "ttyUSB0", "" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        cr_assert_eq(ed_port_url_parse(paths[i], &u), ED_OK, "%s", paths[i]);
        cr_assert_eq(u.scheme, ED_PORT_LOCAL, "%s", paths[i]);
    }
}

Test(port_url, malformed_addresses_say_why)
{
    struct { const char *text; int rc; const char *why; } bad[] = {
        { "rfc2217://host", ED_E_ARG, "port is missing" },
        { "rfc2217://host:", ED_E_ARG, "1 to 65535" },
        { "rfc2217://host:0", ED_E_ARG, "1 to 65535" },
        { "rfc2217://host:65536", ED_E_ARG, "1 to 65535" },
        { "rfc2217://host:123456", ED_E_ARG, "1 to 65535" },
        { "rfc2217://host:-1", ED_E_ARG, "1 to 65535" },
        { "rfc2217://host:40a0", ED_E_ARG, "1 to 65535" },
        { "rfc2217://host:4000/ttyUSB0", ED_E_ARG, "1 to 65535" },
        { "socket://:4000", ED_E_ARG, "host is missing" },
        { "socket://[]:4000", ED_E_ARG, "host is missing" },
        { "socket://::1:4000", ED_E_ARG, "brackets" },
        { "socket://[::1]4000", ED_E_ARG, "port is missing" },
        { "socket://[::1:4000", ED_E_ARG, "']'" },
        { "socket://user@host:4000", ED_E_ARG, "only HOST:PORT" },
        { "tcp://host:4000", ED_E_UNSUPPORTED, "rfc2217:// and socket://" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ed_port_url u;
        cr_assert_eq(ed_port_url_parse(bad[i].text, &u), bad[i].rc, "%s", bad[i].text);
        cr_assert_not_null(u.problem, "%s", bad[i].text);
        cr_assert(strstr(u.problem, bad[i].why) != NULL, "%s: %s", bad[i].text, u.problem);
    }
}
