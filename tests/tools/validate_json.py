#!/usr/bin/python3
"""Validate espdoctor's JSON lines against the shipped schema (Debian's python3-jsonschema).

Usage: validate_json.py SCHEMA LOG...
Each LOG line is "WHERE<TAB>LINE": a line a --json run printed on stdout, and where it came
from (tests/e2e/e2e_json.h writes them). Every LINE must be one JSON object that the schema
accepts, with no number given to more than three decimals (seconds are rounded to
milliseconds, rates and sizes are whole). Prints each failure with its WHERE, the line and
the schema's error, then the count; exits 1 when any failed, 2 when it cannot run."""
import json
import re
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_json.py: no jsonschema module: apt-get install python3-jsonschema")

TOO_PRECISE = re.compile(r"\.\d{4,}")


def check_line(validator, line):
    """The reason line is not a valid document or event, or None."""
    precise = []

    def parse_float(text):
        if TOO_PRECISE.search(text.split("e")[0].split("E")[0]):
            precise.append(text)
        return float(text)

    try:
        doc = json.loads(line, parse_float=parse_float)
    except ValueError as e:
        return "not JSON: %s" % e
    if not isinstance(doc, dict):
        return "not a JSON object"
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        return "at %s: %s" % (where, error.message)
    if precise:
        return "numbers not rounded to what they mean: %s" % ", ".join(precise[:3])
    return None


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: validate_json.py SCHEMA LOG...")
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    checked = failed = 0
    for log in argv[2:]:
        with open(log, encoding="utf-8", errors="replace") as f:
            for raw in f:
                where, _, line = raw.rstrip("\n").partition("\t")
                checked += 1
                why = check_line(validator, line)
                if why:
                    failed += 1
                    if failed <= 20:
                        print("validate_json: %s\n  %s\n  %s" % (where, line[:300], why),
                              file=sys.stderr)
    print("json schema: %d lines validated against %s, %d failing"
          % (checked, argv[1], failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
