/* Telnet (RFC 854) and its COM-PORT-OPTION (RFC 2217) as pure byte codecs: no sockets, no
 * clock, no allocation, so tests and fuzzers can drive them with any byte string. The
 * RFC 2217 transport (transport_rfc2217.c) is their only user in the tool. */
#ifndef ESPDOCTOR_TELNET_H
#define ESPDOCTOR_TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Telnet command bytes (RFC 854). */
enum {
    ED_TN_SE = 240,
    ED_TN_NOP = 241,
    ED_TN_SB = 250,
    ED_TN_WILL = 251,
    ED_TN_WONT = 252,
    ED_TN_DO = 253,
    ED_TN_DONT = 254,
    ED_TN_IAC = 255,
};

/* Options this client knows. */
enum {
    ED_TN_OPT_BINARY = 0,      /* RFC 856 */
    ED_TN_OPT_ECHO = 1,        /* RFC 857 */
    ED_TN_OPT_SGA = 3,         /* suppress go-ahead, RFC 858 */
    ED_TN_OPT_COM_PORT = 44,   /* RFC 2217 */
};

/* COM-PORT-OPTION commands from the client; the server answers with the same code + 100
 * (ED_RFC2217_SERVER) and sends the NOTIFY and FLOWCONTROL codes on its own. */
enum {
    ED_RFC2217_SIGNATURE = 0,
    ED_RFC2217_SET_BAUDRATE = 1,
    ED_RFC2217_SET_DATASIZE = 2,
    ED_RFC2217_SET_PARITY = 3,
    ED_RFC2217_SET_STOPSIZE = 4,
    ED_RFC2217_SET_CONTROL = 5,
    ED_RFC2217_NOTIFY_LINESTATE = 6,
    ED_RFC2217_NOTIFY_MODEMSTATE = 7,
    ED_RFC2217_FLOWCONTROL_SUSPEND = 8,
    ED_RFC2217_FLOWCONTROL_RESUME = 9,
    ED_RFC2217_SET_LINESTATE_MASK = 10,
    ED_RFC2217_SET_MODEMSTATE_MASK = 11,
    ED_RFC2217_PURGE_DATA = 12,
    ED_RFC2217_SERVER = 100,
};

/* SET-CONTROL values used here, SET-PARITY / SET-STOPSIZE / PURGE-DATA values. */
enum {
    ED_RFC2217_FLOW_NONE = 1,
    ED_RFC2217_DTR_ON = 8,
    ED_RFC2217_DTR_OFF = 9,
    ED_RFC2217_RTS_ON = 11,
    ED_RFC2217_RTS_OFF = 12,
    ED_RFC2217_PARITY_NONE = 1,
    ED_RFC2217_STOPSIZE_1 = 1,
    ED_RFC2217_PURGE_RECEIVE = 1,   /* what the server got from the device, not yet sent */
};

/* The longest message ed_rfc2217_command builds for a 4-byte value: IAC SB 44 cmd,
 * every value byte doubled, IAC SE. */
#define ED_RFC2217_MSG_MAX 14

/* ---- decoding ---------------------------------------------------------------------- */

#define ED_TELNET_SB_MAX 64

enum ed_telnet_event {
    ED_TN_EV_NONE,      /* input used up; only data (if any) came out */
    ED_TN_EV_OPTION,    /* d->verb (WILL/WONT/DO/DONT) d->option */
    ED_TN_EV_SUBNEG,    /* d->sb[0..sb_len): option byte first; sb_truncated if cut short */
    ED_TN_EV_COMMAND,   /* IAC followed by another command byte (NOP, GA, ...): d->command */
};

struct ed_telnet_decoder {
    int state;
    uint8_t verb, option, command;
    uint8_t sb[ED_TELNET_SB_MAX];
    size_t sb_len;
    bool sb_truncated;
};

void ed_telnet_decoder_init(struct ed_telnet_decoder *d);

/* Decode in[0..n) from where the last call stopped (sequences may be split anywhere).
 * Data bytes are appended to data[*data_len...] (room for n more is enough: data never
 * grows). Stops right after the first non-data event and reports it in *ev (ED_TN_EV_NONE
 * when the input ran out). Returns how many input bytes were consumed.
 *
 * Malformed input never stalls the stream: IAC followed by something other than SE or IAC
 * inside a subnegotiation ends it unreported and is read as a fresh command. */
size_t ed_telnet_decode(struct ed_telnet_decoder *d, const uint8_t *in, size_t n,
                        uint8_t *data, size_t *data_len, enum ed_telnet_event *ev);

/* ---- encoding ---------------------------------------------------------------------- */

/* Copy in to out doubling each IAC; out needs room for 2 * n. Returns the bytes written. */
size_t ed_telnet_escape(const uint8_t *in, size_t n, uint8_t *out);

/* IAC SB COM-PORT-OPTION cmd <value, IAC doubled> IAC SE into out. Returns the length, or
 * 0 when cap is too small. */
size_t ed_rfc2217_command(uint8_t cmd, const uint8_t *value, size_t n, uint8_t *out,
                          size_t cap);

/* SET-BAUDRATE (4 bytes, network order) and SET-CONTROL (one value byte) messages. */
size_t ed_rfc2217_set_baud_msg(uint32_t baud, uint8_t out[ED_RFC2217_MSG_MAX]);
size_t ed_rfc2217_set_control_msg(uint8_t value, uint8_t out[ED_RFC2217_MSG_MAX]);

/* ---- option negotiation ------------------------------------------------------------ */

enum ed_telnet_opt_state {
    ED_TN_OFF = 0,
    ED_TN_ASKED,      /* we requested it and wait for the answer */
    ED_TN_ON,
    ED_TN_REFUSED,    /* we requested it and the peer said no */
};

/* Per option: "us" is what we do (their DO/DONT), "him" what the peer does (WILL/WONT). */
struct ed_telnet_opts {
    uint8_t us[256];
    uint8_t him[256];
};

/* Ask for an option: verb WILL (we offer it) or DO (we ask the peer). Writes the 3-byte
 * request to out and returns 3, or 0 if it is already on or asked for. */
size_t ed_telnet_request(struct ed_telnet_opts *o, uint8_t verb, uint8_t option,
                         uint8_t out[3]);

/* The peer sent verb+option: update the state and write the answer, if one is due, to
 * out (returns 3) or nothing (returns 0). BINARY, SGA and COM-PORT-OPTION are accepted
 * both ways; anything else is refused. Answers never loop: an acknowledgement of our own
 * request, or a repeat of the current state, gets no reply. */
size_t ed_telnet_answer(struct ed_telnet_opts *o, uint8_t verb, uint8_t option,
                        uint8_t out[3]);

#endif
