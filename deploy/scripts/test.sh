#!/usr/bin/env bash
# THE test command: installs what is missing, starts a local test broker, builds and
# runs the Swift tests, then the interop scripts, and stops the broker it started.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: deploy/scripts/test.sh [SWIFT TEST ARGS...]

Runs the whole test suite on a Debian machine with Swift installed:
  1. deploy/scripts/broker.sh install      (missing apt packages only)
  2. Python venv .venv-test + Tests/interop/requirements.txt (pip, from PyPI)
  3. a local RabbitMQ node "itr-test" on 127.0.0.1:5672 (plus AMQPS on 5671 with a
     test CA when that port is free), and a local PostgreSQL "itr-test" on 5442
     (deploy/scripts/postgres.sh: installed when missing)
  4. swift build --build-tests
  5. swift test --skip 'ClusterFailoverTests|ScaleOutFailoverTests', then swift test
     --filter with the same (the suites that start and kill engines of their own run
     alone); with SWIFT TEST ARGS (e.g. --filter RouterTests), swift test ARGS once
  6. Tests/interop/*.sh, each with bash
The broker and PostgreSQL are stopped at the end if this script started them (and
any node of the tests' own cluster, itr-test-c-1..3, left by a failed test); a
broker that was already running (your own) is used and left running. Exit code is non-zero if any
step failed. Every step says what it ran: swift test how many tests ran and which
were skipped (a run of 0 tests fails), each interop script how many checks passed
(a script that reports no passed check fails, and so does a step 6 with no script).

Environment given to the tests:
  AMQP_URL            amqp://guest:guest@127.0.0.1:<port>/%2f
  AMQPS_URL           amqps://guest:guest@localhost:5671/%2f (when TLS is on)
  ITR_TEST_TLS_DIR    ca.pem, client.pem, client.key for AMQPS_URL (when TLS is on)
  ITR_BROKER_SCRIPT   absolute path of broker.sh (kill/start/ctl the test node)
  ITR_BROKER_NAME     the test node's name for broker.sh --name
  ITR_BROKER_EXTERNAL 1 if the broker is not a broker.sh node (do not kill it)
  ITR_TEST_BROKER     1
  ITR_TEST_POSTGRES   1 (PostgreSQL tests must run)
  ITR_TEST_DATABASE_URL, ITR_DATABASE_URL_<SERVICE>, ITR_POSTGRES_ADMIN_URL
                      the test PostgreSQL (postgres.sh env --name itr-test; its
                      DATABASE_URL renamed, so services started by tests keep SQLite)
  ITR_PYTHON          the venv's python (when Tests/interop/requirements.txt exists)

Settings:
  ITR_TEST_BROKER_NAME  node name (default itr-test)
  ITR_TEST_AMQP_PORT    AMQP port (default 5672)
  ITR_TEST_TLS_PORT     AMQPS port (default 5671; "off" disables TLS)
  ITR_TEST_POSTGRES_PORT  the test PostgreSQL's port (default 5442)
  ITR_TEST_CLUSTER_PORT   first AMQP port of the tests' three-node cluster (default 5700)
  ITR_TEST_TIMEOUT      seconds before a hanging swift test is killed (default
                        1800, 0 for none)
  ITR_TEST_SKIP_INTEROP 1 to skip step 6
EOF
}

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
esac

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
BROKER="$SCRIPT_DIR/broker.sh"
POSTGRES="$SCRIPT_DIR/postgres.sh"
cd "$ROOT"
# Our nodes live in their default state directories (/tmp/itr-broker-<name>).
unset ITR_BROKER_DIR

BROKER_NAME=${ITR_TEST_BROKER_NAME:-itr-test}
AMQP_PORT=${ITR_TEST_AMQP_PORT:-5672}
TLS_PORT=${ITR_TEST_TLS_PORT:-5671}
PG_PORT=${ITR_TEST_POSTGRES_PORT:-5442}
unset ITR_POSTGRES_DIR

STEP=0
step() {
    STEP=$((STEP + 1))
    printf '\n==> [%d] %s\n' "$STEP" "$*"
}

RESULTS=()
FAILED=0
record() { # status name
    RESULTS+=("$(printf '%-6s %s' "$1" "$2")")
    [ "$1" = ok ] || [ "$1" = skip ] || FAILED=1
}

summary() {
    printf '\n==> summary\n'
    local r
    for r in "${RESULTS[@]}"; do
        echo "  $r"
    done
    if [ "$FAILED" -eq 0 ]; then
        echo "  ALL PASSED"
    else
        echo "  FAILED"
    fi
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ends every process of the running swift test session (TERM, then KILL).
TEST_SID=""
end_test_session() {
    [ -n "$TEST_SID" ] || return 0
    pkill -TERM -s "$TEST_SID" 2>/dev/null || true
    for _ in $(seq 1 50); do
        pgrep -s "$TEST_SID" >/dev/null 2>&1 || return 0
        sleep 0.2
    done
    pkill -KILL -s "$TEST_SID" 2>/dev/null || true
}

STARTED_BROKER=""
STARTED_POSTGRES=""
cleanup() {
    local rc=$?
    end_test_session
    # The tests' own clusters (ClusterFailoverTests, ScaleOutFailoverTests stop theirs; a failed
    # test may not have).
    local prefix
    for prefix in itr-test-c itr-test-s; do
        if [ -f "/tmp/itr-broker-cluster-$prefix.env" ] || ls -d /tmp/itr-broker-"$prefix"-* >/dev/null 2>&1; then
            "$BROKER" cluster stop --prefix "$prefix" --purge >/dev/null 2>&1 || true
        fi
    done
    if [ -n "$STARTED_POSTGRES" ]; then
        printf '\n==> stopping the test PostgreSQL\n'
        "$POSTGRES" stop --name itr-test --purge || true
    fi
    if [ -n "$STARTED_BROKER" ]; then
        printf '\n==> stopping the test broker %s\n' "$BROKER_NAME"
        "$BROKER" stop --name "$BROKER_NAME" || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. packages ------------------------------------------------------------------
step "install missing packages (broker.sh install)"
"$BROKER" install
command -v swift >/dev/null 2>&1 || { echo "swift not found in PATH" >&2; exit 1; }
record ok "packages"

# --- 2. Python venv ---------------------------------------------------------------
REQS="$ROOT/Tests/interop/requirements.txt"
if [ -f "$REQS" ]; then
    step "Python venv .venv-test (Tests/interop/requirements.txt)"
    VENV="$ROOT/.venv-test"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    stamp="$VENV/.requirements.sha256"
    want=$(sha256sum "$REQS" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQS"
        echo "$want" >"$stamp"
        echo "installed $(wc -l <"$REQS") requirement line(s)"
    else
        echo "requirements unchanged, venv up to date"
    fi
    export ITR_PYTHON="$VENV/bin/python"
    export PATH="$VENV/bin:$PATH"
    record ok "python venv"
fi

# --- 3. broker --------------------------------------------------------------------
step "test broker $BROKER_NAME on 127.0.0.1:$AMQP_PORT"
export ITR_BROKER_SCRIPT="$BROKER"
export ITR_BROKER_NAME="$BROKER_NAME"
export ITR_TEST_BROKER=1
export ITR_BROKER_EXTERNAL=0
if "$BROKER" status --name "$BROKER_NAME" >/dev/null 2>&1; then
    echo "using the already running node $BROKER_NAME (left running afterwards)"
    eval "$("$BROKER" env --name "$BROKER_NAME")"
elif port_open "$AMQP_PORT"; then
    echo "a broker that broker.sh does not manage already listens on $AMQP_PORT: using it (left running)"
    export AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
    export ITR_BROKER_EXTERNAL=1
else
    # A fresh node every run: no queues or messages left over from earlier runs.
    "$BROKER" stop --name "$BROKER_NAME" --purge >/dev/null 2>&1 || true
    tls_args=()
    if [ "$TLS_PORT" != off ] && ! port_open "$TLS_PORT"; then
        ca_dir="$ROOT/.run/test-ca"
        "$BROKER" make-ca "$ca_dir"
        tls_args=(--tls-port "$TLS_PORT" --tls-dir "$ca_dir")
    fi
    STARTED_BROKER=1
    "$BROKER" start --name "$BROKER_NAME" --port "$AMQP_PORT" "${tls_args[@]}"
    eval "$("$BROKER" env --name "$BROKER_NAME")"
fi
if [ -n "${ITR_BROKER_TLS_DIR:-}" ]; then
    export ITR_TEST_TLS_DIR="$ITR_BROKER_TLS_DIR"
fi
echo "AMQP_URL=$AMQP_URL${AMQPS_URL:+  AMQPS_URL=$AMQPS_URL}"
record ok "broker"

step "test PostgreSQL itr-test on 127.0.0.1:$PG_PORT (postgres.sh)"
"$POSTGRES" install
export ITR_TEST_POSTGRES=1
if "$POSTGRES" status --name itr-test >/dev/null 2>&1; then
    echo "using the already running cluster itr-test (left running afterwards)"
else
    # A fresh cluster every run.
    "$POSTGRES" stop --name itr-test --purge >/dev/null 2>&1 || true
    STARTED_POSTGRES=1
    "$POSTGRES" start --name itr-test --port "$PG_PORT"
fi
# DATABASE_URL itself would move every service a test starts to PostgreSQL: the tests get it
# as ITR_TEST_DATABASE_URL and choose.
eval "$("$POSTGRES" env --name itr-test | sed 's/^export DATABASE_URL=/export ITR_TEST_DATABASE_URL=/')"
record ok "postgresql"

# --- 4. build ---------------------------------------------------------------------
step "swift build --build-tests"
if swift build --build-tests; then
    record ok "swift build --build-tests"
else
    record FAIL "swift build --build-tests"
    summary
    exit 1
fi

# --- 5. swift test ----------------------------------------------------------------
# Suites that start engines of their own and kill them (the three-node cluster) run after the
# rest, alone: three Erlang nodes booting, or a node killed, beside 400 parallel tests starved
# the timing of unrelated tests on a two-core CI machine. With arguments, one run with them.
ALONE_SUITES='ClusterFailoverTests|ScaleOutFailoverTests'
test_timeout=${ITR_TEST_TIMEOUT:-1800}
mkdir -p "$ROOT/.run"

# Runs `swift test ARGS...` in a session of its own (so that a hung run can be ended with
# everything it started: the test binary is not always in swift test's process group), with
# its output in .run/swift-test<LOG_SUFFIX>.log, and records what ran.
run_swift_test() { # log-suffix args...
    local suffix=$1
    shift
    step "swift test${*:+ $*}"
    local rc=0 timed_out="" log="$ROOT/.run/swift-test$suffix.log"
    setsid bash -o pipefail -c 'swift test "$@" 2>&1 | tee "$0"' "$log" "$@" &
    TEST_SID=$!
    local deadline=$((SECONDS + test_timeout))
    while kill -0 "$TEST_SID" 2>/dev/null; do
        if [ "$test_timeout" != 0 ] && [ $SECONDS -ge $deadline ]; then
            timed_out=1
            echo "swift test still running after ${test_timeout}s: stopping it" >&2
            end_test_session
            break
        fi
        sleep 1
    done
    wait "$TEST_SID" || rc=$?
    TEST_SID=""
    # What ran: swift-testing's closing line ("Test run with N tests in M suites ..."), XCTest's
    # "Executed N tests", and every skipped test or suite by name.
    local ran xctests total skipped nskipped what
    ran=$(grep -aoE 'Test run with [0-9]+ tests?' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
    xctests=$(grep -aoE 'Executed [0-9]+ tests?' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
    total=$(( ${ran:-0} + ${xctests:-0} ))
    skipped=$(grep -aE '(Test|Suite) .* skipped' "$log" | sed -E 's/^[^A-Za-z]*//' || true)
    nskipped=$(printf '%s' "$skipped" | grep -c . || true)
    echo "swift test ran $total test(s) (swift-testing ${ran:-0}, XCTest ${xctests:-0}); skipped $nskipped"
    [ -z "$skipped" ] || printf '  skipped: %s\n' "$skipped" | head -n 50
    what="swift test${*:+ $*}: $total tests, $nskipped skipped"
    if [ -n "$timed_out" ]; then
        record FAIL "$what (timed out after ${test_timeout}s)"
    elif [ $rc -ne 0 ]; then
        record FAIL "$what"
    elif [ "$total" -eq 0 ]; then
        record FAIL "$what (ran nothing)"
    else
        record ok "$what"
    fi
}

if [ $# -gt 0 ]; then
    run_swift_test "" "$@"
else
    run_swift_test "" --skip "$ALONE_SUITES"
    run_swift_test "-alone" --filter "$ALONE_SUITES"
fi

# --- 6. interop -------------------------------------------------------------------
shopt -s nullglob
interop=("$ROOT"/Tests/interop/*.sh)
shopt -u nullglob
if [ "${ITR_TEST_SKIP_INTEROP:-0}" = 1 ]; then
    record skip "interop (ITR_TEST_SKIP_INTEROP=1)"
elif [ ${#interop[@]} -eq 0 ]; then
    step "interop"
    echo "no Tests/interop/*.sh: the interop step has nothing to run" >&2
    record FAIL "interop (no Tests/interop/*.sh)"
else
    for script in "${interop[@]}"; do
        rel=${script#"$ROOT"/}
        step "interop: $rel"
        log="$ROOT/.run/interop-$(basename "$script" .sh).log"
        src=0
        bash "$script" 2>&1 | tee "$log" || src=$?
        # Each script ends with "checks: N passed, M failed".
        passed=$(grep -aoE '^checks: [0-9]+ passed' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
        if [ "$src" -ne 0 ]; then
            record FAIL "$rel: ${passed:-0} checks passed, exit $src"
        elif [ "${passed:-0}" -eq 0 ]; then
            record FAIL "$rel: ran no check"
        else
            record ok "$rel: $passed checks"
        fi
    done
fi

summary
[ "$FAILED" -eq 0 ]
