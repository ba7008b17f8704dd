/* When a board command cannot reach the bootloader, it does not stop at a bare error: the
 * doctor examines the port and prints its findings (text output only; with --json the
 * command's own document says what failed, and `espdoctor --json` gives the diagnosis). */
#include "commands.h"
#include "render.h"

#include "espdoctor/doctor.h"
#include "espdoctor/error.h"
#include "espdoctor/loader.h"

#include <stdio.h>

bool ed_connect_failed(const struct ed_loader *ld)
{
    if (!ld || ld->chip || ld->attempt_count == 0)
        return false;
    for (size_t i = 0; i < ld->attempt_count; i++)
        if (ld->attempts[i].result == ED_OK)
            return false;
    return true;
}

void ed_cli_diagnose(struct ed_cli *cli, const char *port)
{
    if (cli->json || cli->quiet)
        return;
    fprintf(cli->out, "\nThe doctor examines %s to find out why:\n\n", port);
    fflush(cli->out);
    struct ed_doctor d;
    ed_doctor_init(&d, port);
    ed_doctor_run(&d);
    ed_doctor_close_port(&d);
    ed_render_text(cli->out, &d.report, ed_first_problem(&d.report), cli->color);
    ed_doctor_free(&d);
}
