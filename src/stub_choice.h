/* Which flasher stub a command uses, and why (CLI layer): --no-stub, --stub FILE|DIR, or
 * the places stub.h lists, each file checked against the known releases by SHA-256. The
 * verdict is said the same way by flash, erase, read and info, in text and JSON. */
#ifndef ESPDOCTOR_STUB_CHOICE_H
#define ESPDOCTOR_STUB_CHOICE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "espdoctor/stub.h"

enum ed_stub_verdict {
    ED_STUB_DECLINED,    /* --no-stub */
    ED_STUB_NONE,        /* none found in the places searched */
    ED_STUB_UNUSABLE,    /* found, but not a stub file (or unreadable) */
    ED_STUB_REFUSED,     /* found by searching, but its digest is no known release */
    ED_STUB_USE,         /* a known release, or an unknown file given with --stub */
};

#define ED_STUB_WHY_MAX 1400

struct ed_stub_choice {
    enum ed_stub_verdict verdict;
    bool asked;                             /* --stub was given */
    struct ed_stub_place place;             /* where it was found (path "" when not) */
    struct ed_stub stub;                    /* loaded when USE (heap: ed_stub_choice_free) */
    const struct ed_stub_release *release;  /* NULL: not a known release */
    char why[ED_STUB_WHY_MAX];              /* a sentence for the notes, or the error */
};

/* Decide. ED_OK with a verdict in c (ROM verdicts explained in c->why); ED_E_NOTFOUND,
 * ED_E_IO or ED_E_IMAGE when the stub given with --stub cannot be used (an input error:
 * the sentence is in c->why). */
int ed_stub_choose(const char *option, bool no_stub, const struct ed_chip *chip,
                   struct ed_stub_choice *c);
void ed_stub_choice_free(struct ed_stub_choice *c);

/* "esptool-js 0.7.0's esp8266.json, installed (PATH)" or "PATH, given with --stub: not a
 * release espdoctor knows (SHA-256 ...)". Only for a found file. */
void ed_stub_choice_describe(const struct ed_stub_choice *c, char *out, size_t len);

/* {"path","from","release","sha256","known","used"} or NULL when no file was found. */
json_object *ed_stub_choice_json(const struct ed_stub_choice *c);

#endif
