/* Status codes shared by every layer. Functions return ED_OK or a negative code;
 * the detail (errno, ROM status bytes) is kept by the context that failed. */
#ifndef ESPDOCTOR_ERROR_H
#define ESPDOCTOR_ERROR_H

enum ed_status {
    ED_OK = 0,
    ED_E_IO = -1,          /* the OS refused a read/write/ioctl; errno kept */
    ED_E_TIMEOUT = -2,     /* nothing (complete) arrived in time */
    ED_E_PROTOCOL = -3,    /* a reply that does not fit the protocol */
    ED_E_ROM = -4,         /* the device answered with a failure status; bytes kept */
    ED_E_UNSUPPORTED = -5, /* the chip, ROM or transport cannot do this */
    ED_E_NOMEM = -6,
    ED_E_ARG = -7,         /* caller passed something invalid */
    ED_E_GONE = -8,        /* the port vanished (unplugged) */
    ED_E_BUSY = -9,        /* another program holds the port */
    ED_E_PERM = -10,       /* permission denied */
    ED_E_NOTFOUND = -11,   /* no such port / file / device */
    ED_E_IMAGE = -12,      /* a firmware file that is not what it must be */
    ED_E_VERIFY = -13,     /* data read back differs from what was written */
    ED_E_CANCELLED = -14,  /* the user interrupted */
    ED_E_REFUSED = -15,    /* a safety rule refused it before anything was sent (a write
                              that would erase flash outside what was asked) */
};

/* A short English name for a status ("timed out", "port vanished", ...). */
const char *ed_strerror(int status);

#endif
