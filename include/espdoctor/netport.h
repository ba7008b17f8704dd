/* Serial ports across the network: rfc2217://HOST:PORT (a Telnet COM-PORT-OPTION server
 * such as ser2net or esp_rfc2217_server: data, baud and DTR/RTS) and socket://HOST:PORT
 * (raw TCP: data only, no reset). */
#ifndef ESPDOCTOR_NETPORT_H
#define ESPDOCTOR_NETPORT_H

#include <stdint.h>

#include "espdoctor/transport.h"

enum ed_port_scheme {
    ED_PORT_LOCAL,      /* not a URL: a path such as /dev/ttyUSB0 */
    ED_PORT_RFC2217,
    ED_PORT_SOCKET,
};

struct ed_port_url {
    enum ed_port_scheme scheme;
    char host[256];     /* without the brackets of an IPv6 literal */
    unsigned port;      /* 1..65535 */
    const char *problem;   /* why parsing failed, for the user: "the port is missing" */
};

/* "rfc2217://host:port", "socket://[::1]:port" (a trailing '/' is allowed). Text without
 * "scheme://" is a local path: ED_OK with scheme ED_PORT_LOCAL. ED_E_UNSUPPORTED for
 * another scheme, ED_E_ARG for a malformed address; both set url->problem. */
int ed_port_url_parse(const char *text, struct ed_port_url *url);

/* "rfc2217" / "socket" / "local". */
const char *ed_port_scheme_name(enum ed_port_scheme scheme);

/* Connect to an RFC 2217 server, agree on COM-PORT-OPTION and BINARY, set baud and 8N1,
 * and release DTR and RTS (the chip is neither reset nor held). *out is freed by
 * ed_tp_close. On failure *out is NULL, the status says what kind of failure and errno
 * which one:
 *   ED_E_NOTFOUND  ENOENT: the host name does not resolve; ECONNREFUSED: nothing listens;
 *                  EHOSTUNREACH / ENETUNREACH: no route
 *   ED_E_TIMEOUT   ETIMEDOUT: no answer to the connection within ED_NET_CONNECT_MS
 *   ED_E_BUSY      ECONNRESET: the server closed the connection during the handshake
 *                  (it serves one client at a time, or refuses this one)
 *   ED_E_UNSUPPORTED EPROTO: it answered, but did not agree to COM-PORT-OPTION
 *   ED_E_ARG       EINVAL: empty host, port 0, baud 0 */
int ed_rfc2217_open(const char *host, unsigned port, uint32_t baud,
                    struct ed_transport **out);

/* Connect to a raw TCP serial bridge. has_modem_lines is false: set_lines answers
 * ED_E_UNSUPPORTED, set_baud only records the value (the far end decides the speed).
 * Failures as for ed_rfc2217_open (without the handshake ones). */
int ed_socket_open(const char *host, unsigned port, uint32_t baud,
                   struct ed_transport **out);

/* How long a TCP connection may take to be accepted. */
#define ED_NET_CONNECT_MS 3000u

/* ---- shared by both network transports ------------------------------------------------ */

/* The start both network transports share: check baud, allocate the transport and its
 * impl (impl_size zeroed bytes whose first member is the socket, an int), connect it, and
 * set the name ("SCHEME://host:port", IPv6 in brackets) and baud. The caller sets ops and
 * has_modem_lines. Errors as ed_tcp_connect (ED_E_ARG for baud 0), nothing left allocated. */
int ed_tcp_transport_open(const char *scheme, const char *host, unsigned port, uint32_t baud,
                          size_t impl_size, struct ed_transport **out);

/* Resolve host and connect within timeout_ms; *fd is a non-blocking socket with Nagle
 * off (each reset step must leave at once). Errors as listed for ed_rfc2217_open. */
int ed_tcp_connect(const char *host, unsigned port, unsigned timeout_ms, int *fd);

/* Send all of buf within timeout_ms (no SIGPIPE). ED_E_GONE if the peer closed. */
int ed_tcp_send_all(int fd, const uint8_t *buf, size_t len, unsigned timeout_ms);

/* Monotonic clock and sleep for transports that run on real time. */
uint64_t ed_tcp_now_us(struct ed_transport *t);
void ed_tcp_sleep_ms(struct ed_transport *t, unsigned ms);

#endif
