/* When a board command cannot reach the bootloader, it does not stop at a bare error: the
 * doctor examines the port, and the one finding that explains the failure is printed with
 * its evidence and its fix, then the command for the full diagnosis (text output only;
 * with --json the command's own document says what failed, and `espdoctor --json` gives
 * the diagnosis). Everything goes to stderr, with the error it explains. */
#include "connect.h"
#include "espdoctor/interrupt.h"
#include "render.h"
#include "wrap.h"

#include "espdoctor/doctor.h"
#include "espdoctor/error.h"
#include "espdoctor/loader.h"
#include "espdoctor/shell.h"

#include <stdio.h>

bool ed_connect_failed(const struct ed_loader *ld)
{
    /* A connect a signal cut short says nothing about the board. */
    if (!ld || ld->chip || ld->attempt_count == 0 || ed_interrupted())
        return false;
    for (size_t i = 0; i < ld->attempt_count; i++)
        if (ld->attempts[i].result == ED_OK)
            return false;
    return true;
}

void ed_cli_diagnose(struct ed_cli *cli, const char *port)
{
    if (cli->json || cli->quiet || cli->before == ED_BEFORE_NONE)
        return;   /* --before no-reset: the doctor's own resets were not asked for */
    struct ed_text_style st;
    ed_cli_style(cli, true, &st);
    fflush(cli->out);
    struct ed_doctor d;
    ed_doctor_init(&d, port);
    ed_doctor_run(&d);
    ed_doctor_close_port(&d);
    const struct ed_finding *problem = ed_first_problem(&d.report);
    if (problem)
        ed_render_problem(cli->err, problem, 0, &st);
    else
        ed_wrap(cli->err, st.width, "", "", "The doctor found nothing wrong around the port "
                "itself; the board may have been busy or reset at the wrong moment. Run the "
                "command again.");
    char quoted[300], command[320];
    snprintf(command, sizeof command, "espdoctor -p %s", ed_shell_quote(port, quoted,
                                                                       sizeof quoted));
    ed_render_fix(cli->err, "Every other check of the doctor:", "", NULL, command, &st);
    ed_doctor_free(&d);
}
