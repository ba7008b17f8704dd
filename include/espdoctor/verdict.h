/* Why a connect loop failed: one finding id and one paragraph of advice, judged from the
 * attempts the loader recorded. Shared by every command that connects and by the doctor. */
#ifndef ESPDOCTOR_VERDICT_H
#define ESPDOCTOR_VERDICT_H

#include <stddef.h>

#include "espdoctor/loader.h"

/* Returns the finding id ("reset.no-autoreset", "bootloader.no-sync", ...) and writes the
 * advice into text. rc is what ed_loader_connect returned. */
const char *ed_connect_verdict(const struct ed_loader *ld, int rc, char *text, size_t len);

#endif
