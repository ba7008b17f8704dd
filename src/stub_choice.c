/* Choosing the flasher stub (see stub_choice.h). */
#include "stub_choice.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "out.h"

#include "espdoctor/error.h"

static void say(struct ed_stub_choice *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct ed_stub_choice *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
}

static const char *file_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void ed_stub_choice_describe(const struct ed_stub_choice *c, char *out, size_t len)
{
    if (c->release)
        snprintf(out, len, "%s's %s, %s (%s)", c->release->release, file_name(c->place.path),
                 ed_stub_origin_text(c->place.origin), c->place.path);
    else
        snprintf(out, len, "%s, %s: not a release espdoctor knows (SHA-256 %s)",
                 c->place.path, ed_stub_origin_text(c->place.origin), c->stub.sha256);
}

int ed_stub_choose(const char *option, bool no_stub, const struct ed_chip *chip,
                   struct ed_stub_choice *c)
{
    memset(c, 0, sizeof *c);
    c->asked = option != NULL;
    if (no_stub) {
        c->verdict = ED_STUB_DECLINED;
        say(c, "the ROM loader does the work (--no-stub)");
        return ED_OK;
    }
    char err[ED_STUB_PATH_MAX + 256];
    int rc = ed_stub_locate(option, chip, &c->place, err, sizeof err);
    if (rc != ED_OK) {
        c->verdict = ED_STUB_NONE;
        if (option) {
            say(c, "--stub: %s", err);
            return rc;
        }
        char places[3 * ED_STUB_PATH_MAX + 16];
        ed_stub_describe_search(places, sizeof places);
        say(c, "no flasher stub for the %s (%s.json in $ESPDOCTOR_STUB_DIR or %s; the build "
            "fetches them with npm, 'make install' installs them, or give --stub FILE): the "
            "ROM loader does the work", chip->name, chip->key, places);
        return ED_OK;
    }
    rc = ed_stub_load(c->place.path, &c->stub, err, sizeof err);
    if (rc != ED_OK) {
        c->verdict = ED_STUB_UNUSABLE;
        if (option) {
            say(c, "--stub: %s", err);
            return rc;
        }
        say(c, "the flasher stub found was not usable (%s): the ROM loader does the work", err);
        return ED_OK;
    }
    c->release = ed_stub_release_of(chip->key, c->stub.sha256);
    if (!c->release && !option) {
        /* Code that runs on the chip and vouches for the MD5: only a known release, or
         * what the user named. */
        c->verdict = ED_STUB_REFUSED;
        say(c, "the flasher stub %s (%s) is not a release espdoctor knows (SHA-256 %s): "
            "refused, the ROM loader does the work; to run it anyway: --stub %s",
            c->place.path, ed_stub_origin_text(c->place.origin), c->stub.sha256,
            c->place.path);
        ed_stub_free(&c->stub);
        return ED_OK;
    }
    c->verdict = ED_STUB_USE;
    if (!c->release)
        say(c, "warning: the flasher stub %s is not a release espdoctor knows (SHA-256 %s); "
            "it runs on the chip and checks the MD5, so it is used only because --stub named "
            "it", c->place.path, c->stub.sha256);
    return ED_OK;
}

void ed_stub_choice_free(struct ed_stub_choice *c)
{
    ed_stub_free(&c->stub);
}

json_object *ed_stub_choice_json(const struct ed_stub_choice *c)
{
    if (!c->place.path[0] || c->verdict == ED_STUB_DECLINED)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "path", json_object_new_string(c->place.path));
    json_object_object_add(o, "from",
                           json_object_new_string(ed_stub_origin_key(c->place.origin)));
    json_object_object_add(o, "release", ed_json_str(c->release ? c->release->release : NULL));
    json_object_object_add(o, "sha256", ed_json_str(c->stub.sha256[0] ? c->stub.sha256 : NULL));
    json_object_object_add(o, "known", json_object_new_boolean(c->release != NULL));
    json_object_object_add(o, "used", json_object_new_boolean(c->verdict == ED_STUB_USE));
    return o;
}
