/* Why a connect loop failed: one finding id, what the attempts showed, and the fix (for
 * people, and the command when there is one), judged from the attempts the loader
 * recorded. Shared by every command that connects and by the doctor. */
#ifndef ESPDOCTOR_VERDICT_H
#define ESPDOCTOR_VERDICT_H

#include <stddef.h>

#include "espdoctor/loader.h"

#define ED_VERDICT_TEXT_MAX 512

struct ed_connect_judgement {
    const char *id;                       /* "reset.no-autoreset", "bootloader.no-sync" */
    char observed[ED_VERDICT_TEXT_MAX];   /* a sentence: what the board did */
    char fix[ED_VERDICT_TEXT_MAX];        /* sentences: what to do */
    char fix_command[ED_VERDICT_TEXT_MAX];/* "" when the fix is an action (a button) */
};

/* Judge a failed ed_loader_connect (rc is what it returned). */
void ed_connect_verdict(const struct ed_loader *ld, int rc, struct ed_connect_judgement *j);

#endif
