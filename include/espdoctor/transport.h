/* The port seam: every byte and every modem-line change goes through these ops, and so
 * does the clock, so a virtual board can own time in tests. */
#ifndef ESPDOCTOR_TRANSPORT_H
#define ESPDOCTOR_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ed_transport;

struct ed_transport_ops {
    /* Wait at most timeout_ms for the first byte, then return what is there (up to cap).
     * No byte in time: *got = 0 and ED_E_TIMEOUT. */
    int (*read)(struct ed_transport *t, uint8_t *buf, size_t cap, size_t *got,
                unsigned timeout_ms);
    /* Write everything (blocking until queued to the device). */
    int (*write)(struct ed_transport *t, const uint8_t *buf, size_t len);
    /* Set DTR and RTS together ("true" = asserted). ED_E_UNSUPPORTED without modem lines. */
    int (*set_lines)(struct ed_transport *t, bool dtr, bool rts);
    /* Drain pending output, then change the line speed. */
    int (*set_baud)(struct ed_transport *t, uint32_t baud);
    /* Discard what was received and not yet read. */
    int (*flush_input)(struct ed_transport *t);
    /* Release the port and free the transport. */
    void (*close)(struct ed_transport *t);
    /* Monotonic clock in microseconds, and a sleep on the same clock. */
    uint64_t (*now_us)(struct ed_transport *t);
    void (*sleep_ms)(struct ed_transport *t, unsigned ms);
};

struct ed_transport {
    const struct ed_transport_ops *ops;
    void *impl;              /* backend state */
    int os_errno;            /* errno of the last failed OS call, 0 if none */
    bool has_modem_lines;    /* false for raw TCP: no reset possible */
    uint32_t baud;           /* current line speed */
    char name[256];          /* what the user asked for, e.g. /dev/ttyUSB0 */
};

/* Convenience wrappers: they only dispatch through ops. */
static inline int ed_tp_read(struct ed_transport *t, uint8_t *b, size_t cap, size_t *got,
                             unsigned timeout_ms)
{ return t->ops->read(t, b, cap, got, timeout_ms); }
static inline int ed_tp_write(struct ed_transport *t, const uint8_t *b, size_t n)
{ return t->ops->write(t, b, n); }
static inline int ed_tp_set_lines(struct ed_transport *t, bool dtr, bool rts)
{ return t->ops->set_lines(t, dtr, rts); }
static inline int ed_tp_set_baud(struct ed_transport *t, uint32_t baud)
{ return t->ops->set_baud(t, baud); }
static inline int ed_tp_flush_input(struct ed_transport *t)
{ return t->ops->flush_input(t); }
static inline uint64_t ed_tp_now_us(struct ed_transport *t)
{ return t->ops->now_us(t); }
static inline void ed_tp_sleep_ms(struct ed_transport *t, unsigned ms)
{ t->ops->sleep_ms(t, ms); }
static inline void ed_tp_close(struct ed_transport *t)
{ if (t) t->ops->close(t); }

/* Open a local serial port through libserialport at `baud`, without leaving the chip in
 * reset: DTR and RTS are released right after open. *out is freed by ed_tp_close.
 * On failure *out is NULL and errno holds the OS error: ED_E_ARG with ENOTTY means the
 * path is not a serial port. */
int ed_serial_open(const char *path, uint32_t baud, struct ed_transport **out);

#endif
