/* Bringing a session's board back when the link fails (see flash_session.h): a resync
 * on the same port first; if the chip no longer answers as it did, a reconnect from
 * scratch. Quiet: the command reports what happened in the end. */
#include "flash_internal.h"
#include "flash_session.h"

#include <errno.h>
#include <time.h>

#include "espdoctor/error.h"
#include "espdoctor/netport.h"

#define SETUP_TRIES 3u
#define REPLUG_WAIT_MS 15000u
#define REPLUG_POLL_MS 100u
#define OPEN_BAUD 115200u
#define RESTORE_SMALL_PIECE 0x100u

static bool cancelled(const struct ed_flash_session *s)
{
    return s->cancel && *s->cancel;
}

/* The port is closed while this runs: no transport clock to sleep on. */
static void pause_ms(unsigned ms)
{
    struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

int ed_session_connect_quietly(struct ed_flash_session *s)
{
    struct ed_connect_opts opts = { .style = ED_RESET_AUTO_CIRCUIT };
    if (s->pc.known && s->pc.info.bridge)
        opts.style = s->pc.info.bridge->reset;
    int rc = ED_E_TIMEOUT;
    for (unsigned i = 0; i < SETUP_TRIES && !cancelled(s); i++) {
        /* The ladder tries every reset sequence itself: no point running it again. */
        rc = ed_loader_connect(s->ld, &opts);
        if (rc != ED_OK)
            return rc;
        rc = ed_loader_detect_chip(s->ld);
        if (rc == ED_OK || !ed_flash_link_recoverable(rc) || rc == ED_E_UNSUPPORTED ||
            rc == ED_E_GONE)
            return rc;
    }
    return cancelled(s) ? ED_E_CANCELLED : rc;
}

/* The port vanished: close it, wait for the node to come back, open it again. */
static int reopen(struct ed_flash_session *s)
{
    ed_tp_close(s->tp);
    s->tp = NULL;
    s->ld->tp = NULL;
    struct ed_port_url url;
    bool local = ed_port_url_parse(s->pc.path, &url) == ED_OK && url.scheme == ED_PORT_LOCAL;
    const char *node = s->pc.known && s->pc.info.devnode[0] ? s->pc.info.devnode : s->pc.path;
    struct ed_transport *tp = NULL;
    int rc;
    for (unsigned waited = 0;; waited += REPLUG_POLL_MS) {
        if (local)
            rc = ed_serial_open(node, OPEN_BAUD, &tp);
        else
            rc = ed_open_port(s->cli, &s->pc, OPEN_BAUD, &tp) == ED_EXIT_OK ? ED_OK
                                                                            : ED_E_GONE;
        if (rc == ED_OK)
            break;
        bool absent = rc == ED_E_NOTFOUND || rc == ED_E_GONE || rc == ED_E_IO;
        if (!local || !absent || waited >= REPLUG_WAIT_MS)
            return rc == ED_E_NOTFOUND ? ED_E_GONE : rc;
        if (cancelled(s))
            return ED_E_CANCELLED;
        pause_ms(REPLUG_POLL_MS);
    }
    s->tp = tp;
    ed_loader_init(s->ld, tp);
    return ED_OK;
}

/* After a reset the chip is its bare ROM at 115200: make it what the session had. */
static int restore(struct ed_flash_session *s)
{
    if (s->chip && s->ld->chip != s->chip)
        return ED_E_PROTOCOL;   /* another chip answers on this port now */
    int rc = ED_OK;
    if (s->stub_path[0]) {
        /* The stub as chosen and checked at the start, not the file as it is now; in the
         * pieces that got it up the first time, then the smallest. */
        const struct ed_stub *stub = &s->stub_choice.stub;
        rc = ed_stub_upload_pieces(s->ld, stub, s->stub_piece ? s->stub_piece : ED_RAM_BLOCK);
        if (rc != ED_OK && ed_flash_link_recoverable(rc) &&
            (rc = ed_session_connect_quietly(s)) == ED_OK)
            rc = ed_stub_upload_pieces(s->ld, stub, RESTORE_SMALL_PIECE);
        if (rc != ED_OK)
            return rc;
    }
    uint32_t reached = s->ld->tp->baud;
    rc = ed_flash_set_baud(s->ld, s->baud, &reached);
    if (rc != ED_OK && rc != ED_E_UNSUPPORTED)
        return rc;
    s->baud = s->ld->tp->baud;
    return ed_flash_prepare(s->ld, s->flash_size);
}

int ed_session_recover(void *ctx, struct ed_loader *ld, int why)
{
    struct ed_flash_session *s = ctx;
    (void)ld;   /* the session's own loader: it stays the same object throughout */
    int rc = why;
    if (why != ED_E_GONE && s->tp) {
        rc = ed_flash_resync(s->ld, s->flash_size);
        if (rc == ED_OK) {
            s->resyncs++;
            return ED_OK;
        }
    }
    bool vanished = why == ED_E_GONE || rc == ED_E_GONE || !s->tp;
    for (unsigned i = 0; i < SETUP_TRIES; i++) {
        if (cancelled(s))
            return ED_E_CANCELLED;
        if (vanished && (rc = reopen(s)) != ED_OK)
            return rc;
        rc = ed_session_connect_quietly(s);
        if (rc == ED_OK)
            rc = restore(s);
        if (rc == ED_OK) {
            s->reconnects++;
            return ED_OK;
        }
        vanished = rc == ED_E_GONE;
        if (!ed_flash_link_recoverable(rc))
            return rc;
    }
    return rc;
}
