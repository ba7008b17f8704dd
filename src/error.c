/* Names for status codes. */
#include "espdoctor/error.h"

const char *ed_strerror(int status)
{
    switch ((enum ed_status)status) {
    case ED_OK: return "ok";
    case ED_E_IO: return "input/output error";
    case ED_E_TIMEOUT: return "timed out";
    case ED_E_PROTOCOL: return "unexpected reply";
    case ED_E_ROM: return "the chip reported a failure";
    case ED_E_UNSUPPORTED: return "not supported";
    case ED_E_NOMEM: return "out of memory";
    case ED_E_ARG: return "invalid argument";
    case ED_E_GONE: return "the port vanished";
    case ED_E_BUSY: return "the port is in use";
    case ED_E_PERM: return "permission denied";
    case ED_E_NOTFOUND: return "not found";
    case ED_E_IMAGE: return "not a valid firmware image";
    case ED_E_VERIFY: return "verification failed";
    case ED_E_CANCELLED: return "cancelled";
    case ED_E_REFUSED: return "refused: it would erase flash outside what was asked";
    }
    return "unknown error";
}
