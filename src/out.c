/* Terminal presentation helpers (see out.h). */
#include "out.h"

#include <stdio.h>

const char *ed_tone_on(bool color, enum ed_tone tone)
{
    if (!color)
        return "";
    switch (tone) {
    case ED_TONE_OK: return "\033[32m";
    case ED_TONE_INFO: return "\033[36m";
    case ED_TONE_WARN: return "\033[33m";
    case ED_TONE_ERROR: return "\033[31;1m";
    case ED_TONE_BOLD: return "\033[1m";
    case ED_TONE_DIM: return "\033[2m";
    }
    return "";
}

const char *ed_tone_off(bool color)
{
    return color ? "\033[0m" : "";
}

const char *ed_tone_mark(enum ed_tone tone)
{
    switch (tone) {
    case ED_TONE_OK: return "\u2713";
    case ED_TONE_WARN: return "!";
    case ED_TONE_ERROR: return "\u2717";
    case ED_TONE_INFO:
    case ED_TONE_BOLD:
    case ED_TONE_DIM: return "\u00b7";
    }
    return " ";
}

json_object *ed_json_versioned(json_object *obj)
{
    if (!json_object_is_type(obj, json_type_object) ||
        json_object_object_get_ex(obj, "schema", NULL))
        return obj;
    json_object *v = json_object_new_object();
    json_object_object_add(v, "schema", json_object_new_int(ED_JSON_SCHEMA));
    json_object_object_foreach(obj, key, val)
        json_object_object_add(v, key, json_object_get(val));
    json_object_put(obj);
    return v;
}

void ed_out_json(FILE *f, json_object *obj)
{
    obj = ed_json_versioned(obj);
    fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_SPACED |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE), f);
    fputc('\n', f);
    json_object_put(obj);
}

json_object *ed_json_seconds(double seconds)
{
    char text[32];
    snprintf(text, sizeof text, "%.3f", seconds);
    return json_object_new_double_s(seconds, text);
}

json_object *ed_json_rate(double bytes_per_second)
{
    return json_object_new_int64(bytes_per_second > 0 ? (int64_t)(bytes_per_second + 0.5) : 0);
}

json_object *ed_json_str(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

void ed_format_mac(const unsigned char mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}
