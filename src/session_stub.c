/* Uploading the flasher stub over a line that may be noisy (see flash_session.h). A try
 * that fails is followed by a reset into the ROM (a half-uploaded stub leaves RAM in a
 * state nobody knows) and a try in smaller MEM_DATA pieces: a piece is sent again while the
 * ROM refuses it as damaged, and at a line error rate of 1e-3 a whole 6 KiB piece is
 * damaged nearly every time, a 256-byte one about one time in four. After the last try the
 * ROM loader does the work, and the session says so. */
#include "flash_session.h"

#include <stdio.h>

#include "flash_internal.h"

#include "espdoctor/error.h"

/* Whole pieces first (a clean line), then quickly down to 256 bytes, which get through
 * 1e-3 line errors about half the time per try (a lost reply still ends a try: the ROM
 * may have taken the piece, and taken again it would land after itself). */
static const uint32_t piece_sizes[] = { ED_RAM_BLOCK, 0x400, 0x100, 0x100, 0x100, 0x100 };
#define UPLOAD_TRIES (sizeof piece_sizes / sizeof piece_sizes[0])

static bool cancelled(const struct ed_flash_session *s)
{
    return s->cancel && *s->cancel;
}

/* The ROM again, freshly reset; reopening the port first if it vanished. */
static int fresh_rom(struct ed_flash_session *s, int why)
{
    if (why == ED_E_GONE || !s->tp)
        return ed_session_recover(s, s->ld, ED_E_GONE);
    return ed_session_connect_quietly(s);
}

int ed_session_upload_stub(struct ed_flash_session *s, const struct ed_stub *stub,
                           const char *path)
{
    int rc = ED_OK;
    unsigned tries = 0;
    for (; tries < UPLOAD_TRIES; tries++) {
        if (cancelled(s))
            return ED_E_CANCELLED;
        if (tries > 0 && (rc = fresh_rom(s, rc)) != ED_OK)
            break;
        rc = ed_stub_upload_pieces(s->ld, stub, piece_sizes[tries]);
        if (rc == ED_OK) {
            s->stub_piece = piece_sizes[tries];
            return ED_OK;
        }
        if (!ed_flash_link_recoverable(rc))
            return rc;
    }
    /* The ROM loader can do all a stub does, more slowly: better than no write at all. */
    char why[256];
    ed_session_describe_error(s->ld, rc, why, sizeof why);
    /* After the jump nothing answered: the code did not start as a stub (on a chip, code
     * that is no stub for it crashes). */
    bool silent = rc == ED_E_TIMEOUT && s->ld->last_op == ED_OP_MEM_END;
    int back = cancelled(s) ? ED_E_CANCELLED : fresh_rom(s, rc);
    if (back != ED_OK)
        return back;
    if (silent)
        snprintf(s->stub_fallback, sizeof s->stub_fallback, "the flasher stub %s did not start "
                 "on the chip (%u tries; the last: %s, no OHAI after MEM_END: code that is no "
                 "stub for this chip crashes it): the ROM loader does the work instead", path,
                 tries, why);
    else
        snprintf(s->stub_fallback, sizeof s->stub_fallback, "the flasher stub %s could not be "
                 "uploaded over this line (%u tries, in pieces down to %u bytes; the last: %s): "
                 "the ROM loader does the work instead", path, tries,
                 piece_sizes[tries ? tries - 1 : 0], why);
    ed_session_note(s, "%s", s->stub_fallback);
    return ED_OK;
}
