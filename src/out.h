/* Terminal presentation: colours (only when asked for), marks, JSON printing. */
#ifndef ESPDOCTOR_OUT_H
#define ESPDOCTOR_OUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

enum ed_tone { ED_TONE_OK, ED_TONE_INFO, ED_TONE_WARN, ED_TONE_ERROR, ED_TONE_BOLD,
               ED_TONE_DIM };

/* ANSI sequences, or "" when colour is off. */
const char *ed_tone_on(bool color, enum ed_tone tone);
const char *ed_tone_off(bool color);

/* "✓", "·", "!", "✗" for ok/info/warn/error. */
const char *ed_tone_mark(enum ed_tone tone);

/* Print a JSON document on f, pretty, with a final newline; takes ownership of obj. */
void ed_out_json(FILE *f, json_object *obj);

/* json_object_new_string that accepts NULL (-> JSON null). */
json_object *ed_json_str(const char *s);

/* "aa:bb:cc:dd:ee:ff" */
void ed_format_mac(const unsigned char mac[6], char out[18]);

#endif
