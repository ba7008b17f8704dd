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

/* The version of the JSON documents and events: every top-level object carries it as
 * "schema" (share/espdoctor/espdoctor.schema.json describes that version). */
#define ED_JSON_SCHEMA 1

/* Print a JSON document or event on f as one line (a stream an IDE reads line by line),
 * "schema" first; takes ownership of obj. */
void ed_out_json(FILE *f, json_object *obj);

/* obj with "schema": ED_JSON_SCHEMA as its first key (obj itself when it has one or is not
 * an object); takes ownership of obj. */
json_object *ed_json_versioned(json_object *obj);

/* Seconds rounded to milliseconds (23.877974999 prints as 23.878). */
json_object *ed_json_seconds(double seconds);

/* A rate in bytes per second, rounded to a whole byte. */
json_object *ed_json_rate(double bytes_per_second);

/* json_object_new_string that accepts NULL (-> JSON null). */
json_object *ed_json_str(const char *s);

/* "aa:bb:cc:dd:ee:ff" */
void ed_format_mac(const unsigned char mac[6], char out[18]);

#endif
