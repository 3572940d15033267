#!/usr/bin/env python3
"""Validates event data against the JSON Schemas in Shared/ITREvents/Schemas.

Usage: validate_schemas.py <schemas-dir> <samples.json>
samples.json is an array of {"type": "<event type>", "data": <the event data>}.
Prints one line per sample ("ok <type>" or "FAIL <type>: <path>: <message>") and exits
non-zero if any sample fails or has no schema file.
"""
import json
import os
import sys

import jsonschema
from jsonschema import Draft202012Validator


def main() -> int:
    schemas_dir, samples_path = sys.argv[1], sys.argv[2]
    with open(samples_path, "rb") as f:
        samples = json.loads(f.read().decode("utf-8"))
    failures = 0
    for sample in samples:
        event_type = sample["type"]
        path = os.path.join(schemas_dir, event_type + ".json")
        if not os.path.exists(path):
            print(f"FAIL {event_type}: no schema file {path}")
            failures += 1
            continue
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(sample["data"]), key=lambda e: list(e.absolute_path))
        if errors:
            failures += 1
            for e in errors:
                where = "data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
                print(f"FAIL {event_type}: {where}: {e.message}")
        else:
            print(f"ok {event_type}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
