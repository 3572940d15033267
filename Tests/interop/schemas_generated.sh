#!/usr/bin/env bash
# The committed JSON Schemas and AsyncAPI document are what Tests/interop/gen_schemas.py
# generates (regenerated in a scratch copy and compared file by file), and every schema is a
# valid JSON Schema 2020-12. Prints "checks: N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${ITR_PYTHON:-python3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/Tests/interop" "$scratch/Shared/ITREvents/Schemas"
cp "$HERE/gen_schemas.py" "$scratch/Tests/interop/"
"$PY" "$scratch/Tests/interop/gen_schemas.py" >/dev/null
passed=0 failed=0
for generated in "$scratch"/Shared/ITREvents/Schemas/*.json "$scratch/Shared/ITREvents/asyncapi.yaml"; do
    rel=${generated#"$scratch"/}
    if cmp -s "$generated" "$ROOT/$rel"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $rel differs from what gen_schemas.py generates:"
        diff -u "$ROOT/$rel" "$generated" | head -20 || true
    fi
done
for committed in "$ROOT"/Shared/ITREvents/Schemas/*.json; do
    rel=${committed#"$ROOT"/}
    if [ ! -e "$scratch/$rel" ]; then
        failed=$((failed + 1))
        echo "FAIL $rel is committed but not generated"
    fi
done
if "$PY" - "$ROOT/Shared/ITREvents/Schemas" <<'PYEOF'
import json, os, sys
from jsonschema import Draft202012Validator
d = sys.argv[1]
for name in sorted(n for n in os.listdir(d) if n.endswith(".json")):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        Draft202012Validator.check_schema(json.load(f))
PYEOF
then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL a committed schema is not valid JSON Schema 2020-12"; fi
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
