/* espdoctor image FILE [--json]: what a firmware file is, without touching a board. */
#include <json-c/json.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "out.h"
#include "espdoctor/error.h"
#include "espdoctor/image.h"

int cmd_image(struct ed_cli *cli, int argc, char **argv)
{
    if (argc != 1) {
        ed_cli_error(cli, "usage: %s image FILE [--json]", cli->prog);
        return ED_EXIT_USAGE;
    }
    const char *path = argv[0];
    struct ed_image_info info;
    char err[512];
    int rc = ed_image_open(path, &info, err, sizeof err);
    if (rc != ED_OK) {
        if (cli->json) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "path", json_object_new_string(path));
            json_object_object_add(o, "error", json_object_new_string(err));
            ed_out_json(cli->out, o);
        }
        fprintf(cli->err, "%s: %s. Check the path; the firmware file must be readable by "
                "you.\n", cli->prog, err);
        return ED_EXIT_INPUT;
    }

    if (cli->json) {
        struct json_object *o = ed_image_to_json(&info);
        if (!o) {
            fprintf(cli->err, "%s: %s\n", cli->prog, ed_strerror(ED_E_NOMEM));
            return ED_EXIT_FAIL;
        }
        ed_out_json(cli->out, o);
    } else {
        ed_image_print(cli->out, &info);
    }

    if (!ed_image_kind_is_firmware(info.kind) || info.corrupt) {
        fprintf(cli->err, "%s: ", cli->prog);
        ed_image_explain_unusable(cli->err, &info);
        return ED_EXIT_INPUT;
    }
    return ED_EXIT_OK;
}
