#!/usr/bin/env bash
# Interop, service level: the built intake on a virtual host of its own on the test broker,
# fed by Python's CloudEvents SDK + pika and read back with them (intake_roundtrip.py).
# Run by deploy/scripts/test.sh (step 6); needs AMQP_URL, ITR_PYTHON, ITR_BROKER_SCRIPT and
# ITR_BROKER_NAME from it. Prints "checks: N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${AMQP_URL:?AMQP_URL is not set (run through deploy/scripts/test.sh)}"
: "${ITR_PYTHON:?ITR_PYTHON is not set (run through deploy/scripts/test.sh)}"
INTAKE="$ROOT/.build/debug/intake"
[ -x "$INTAKE" ] || { echo "FAIL: $INTAKE not built (swift build --build-tests)" >&2; exit 1; }

base=${AMQP_URL%/*}
url=$AMQP_URL
vhost=""
if [ "${ITR_BROKER_EXTERNAL:-0}" != 1 ] && [ -n "${ITR_BROKER_SCRIPT:-}" ]; then
    vhost="interop-$$-$RANDOM"
    "$ITR_BROKER_SCRIPT" ctl --name "${ITR_BROKER_NAME:-itr-test}" -- add_vhost "$vhost" >/dev/null
    "$ITR_BROKER_SCRIPT" ctl --name "${ITR_BROKER_NAME:-itr-test}" -- set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
    url="$base/$vhost"
fi
data=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    if [ -n "$vhost" ]; then
        "$ITR_BROKER_SCRIPT" ctl --name "${ITR_BROKER_NAME:-itr-test}" -- delete_vhost "$vhost" >/dev/null 2>&1 || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT

port=$("$ITR_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AMQP_URL="$url" HTTP_HOST=127.0.0.1 HTTP_PORT="$port" DATA_DIR="$data" CONFIG_DIR="$ROOT/deploy/config" LOG_LEVEL=warning \
    "$INTAKE" >"$data/intake.log" 2>&1 </dev/null &
pid=$!
ready=""
for _ in $(seq 1 120); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" 2>/dev/null || true)" = 200 ]; then
        ready=1
        break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
done
if [ -z "$ready" ]; then
    echo "FAIL: intake did not become ready; its log:" >&2
    tail -n 30 "$data/intake.log" >&2 || true
    exit 1
fi
echo "intake ready on 127.0.0.1:$port (vhost ${vhost:-default})"
"$ITR_PYTHON" "$HERE/intake_roundtrip.py" --url "$url" --schemas "$ROOT/Shared/ITREvents/Schemas"
