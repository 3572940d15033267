#!/usr/bin/env bash
# THE run command: a local broker plus the four services, built in release mode,
# running in the background with their logs and data under .run/.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: deploy/scripts/run.sh [up|stop|status|summary]

  up      (default) install missing packages, start the local RabbitMQ node "itr"
          (127.0.0.1:5672, management on http://127.0.0.1:15672, guest/guest),
          build the services in release mode, start intake, itr-router,
          ltc-extractor and ipd-feedback in the background, wait until each
          answers GET /readyz, replay a sample day through the real entry points
          (itrctl sample --replay: AMQP itr.ingress + intake HTTP, service-desk
          actions), wait until the queues drain, print what happened (itrctl
          summary) and where to look. Running it again keeps what is already
          running (and does not replay the same day twice). When the services
          refused a report or an action the day meant to be accepted (HTTP or
          AMQP), it says which and why, reports the loop as NOT healthy and
          exits non-zero.
  stop    stop the services (SIGTERM, then SIGKILL after a timeout) and the broker
  status  show the broker and each service (pid, /readyz)
  summary [--json]  print the summary again (itrctl summary)

Files: .run/<product>.pid, .run/logs/<product>.log, .run/data/<product>/,
       .run/api-token (the sample's upstream token: reports:submit for its HTTP sources),
       .run/desk-token (tickets:read tickets:act, identity local-desk),
       .run/ops-token (admin, identity local-ops: what itrctl uses, $ITR_API_TOKEN)

Settings (environment):
  LOG_LEVEL               services' log level (default info)
  ITR_RUN_READY_TIMEOUT   seconds to wait for each /readyz (default 60)
  ITR_RUN_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL (default 30)
  ITR_RUN_SKIP_BUILD      1 to use the existing binaries without building
  ITR_RUN_BIN_DIR         where the binaries are (default .build/release)
  ITR_RUN_SKIP_SAMPLE     1 to skip the sample replay
  ITR_RUN_SAMPLE_AGAIN    1 to replay another sample day on top of the last
  ITR_RUN_SEED            the sample day's seed (default 7)
  ITR_RUN_CLOCK_SPEED     how much faster than wall time the deployment's clock runs
                          (default 120, 40 in the ha profile: the replayed day lives through hours of SLA/OLA time,
                          so breaches and escalations happen; 1 = wall time). Every service
                          gets the same ITR_CLOCK_SPEED and ITR_CLOCK_EPOCH (kept in
                          .run/data/clock-epoch, so a restart continues the same timeline)
  ITR_RUN_CLOCK_START     what the deployment's clock reads at the epoch (RFC 3339; default: the
                          latest weekday 07:00 UTC, when the China and Europe coverage calendars
                          are both open, so the replay's response clocks run; "wall" for wall
                          time). Kept in .run/data/clock-start; the sample day is the 24 hours
                          before it
  ITR_RUN_REPORTS         report messages in the sample day (default 3000)
  ITR_RUN_DRAIN_TIMEOUT   seconds to wait for the queues to drain (default 300)
  ITR_RUN_BROKER_NAME     broker.sh node name (default itr)
  ITR_RUN_AMQP_PORT       AMQP port (default 5672)
  ITR_RUN_MGMT_PORT       management port (default 15672)
  ITR_RUN_PROFILE         single (default): one broker node, each service once, SQLite in
                          .run/data; ha: PostgreSQL (postgres.sh, /tmp/itr-postgres-itr, port
                          5432), the three-node cluster (broker.sh cluster: itr-1..itr-3 on AMQP
                          5672-5674) and two instances of each service (<product>-1 on the ports
                          above, <product>-2 on port + 10), each with ITR_INSTANCE, every node in
                          its AMQP_URL, its own role's DATABASE_URL. `up` records the profile in
                          .run/profile: stop, status and summary follow it
EOF
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
BROKER="$SCRIPT_DIR/broker.sh"
cd "$ROOT"
# Our nodes live in their default state directories (/tmp/itr-broker-<name>).
unset ITR_BROKER_DIR

BROKER_NAME=${ITR_RUN_BROKER_NAME:-itr}
AMQP_PORT=${ITR_RUN_AMQP_PORT:-5672}
MGMT_PORT=${ITR_RUN_MGMT_PORT:-15672}
RUN_DIR="$ROOT/.run"
BIN_DIR=${ITR_RUN_BIN_DIR:-"$ROOT/.build/release"}
READY_TIMEOUT=${ITR_RUN_READY_TIMEOUT:-60}
STOP_TIMEOUT=${ITR_RUN_STOP_TIMEOUT:-30}

# product:port, in start order
SERVICES=(intake:8080 itr-router:8081 ltc-extractor:8082 ipd-feedback:8083)
POSTGRES="$SCRIPT_DIR/postgres.sh"

# The profile: what `up` was asked for, else what the running deployment was started with.
PROFILE=${ITR_RUN_PROFILE:-}
if [ -z "$PROFILE" ] && [ -s "$RUN_DIR/profile" ]; then PROFILE=$(cat "$RUN_DIR/profile"); fi
PROFILE=${PROFILE:-single}
case "$PROFILE" in
    single) INSTANCES=1 ;;
    ha) INSTANCES=2 ;;
    *) echo "run.sh: error: ITR_RUN_PROFILE must be single or ha, got '$PROFILE'" >&2; exit 2 ;;
esac
# ha: 40, not 120. The router applies events on one instance at a time and each costs more on
# PostgreSQL (a round trip per statement) than in SQLite: the replay's messages wait in its queue
# for a while, and at 120 business seconds a second that wait let OLA escalations fire before the
# desk's own escalations arrived (refused: no-higher-tier). At 40 the figures match the single
# profile's (README, "PostgreSQL and a RabbitMQ cluster").
CLOCK_SPEED=${ITR_RUN_CLOCK_SPEED:-$([ "$PROFILE" = ha ] && echo 40 || echo 120)}

# The instances of a product, as name:port: the product itself on its port (single), or
# <product>-1 on its port and <product>-2 on port + 10 (ha).
instances() { # product port
    if [ "$INSTANCES" = 1 ]; then
        echo "$1:$2"
    else
        echo "$1-1:$2"
        echo "$1-2:$(($2 + 10))"
    fi
}

say() { printf '==> %s\n' "$*"; }
die() { echo "run.sh: error: $*" >&2; exit 1; }

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The pid from .run/<name>.pid if that process is alive and is the product (name: the
# instance, the product itself in the single profile).
service_pid() { # name [product]
    local name=$1 product=${2:-$1} pidfile="$RUN_DIR/$1.pid" pid
    [ -s "$pidfile" ] || return 0
    pid=$(tr -dc '0-9' <"$pidfile")
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    # argv[0] is the binary (argv[1] when started through an interpreter)
    local args=() a
    mapfile -d '' -n 2 args 2>/dev/null <"/proc/$pid/cmdline" || true
    for a in "${args[@]}"; do
        if [ "${a##*/}" = "$product" ]; then
            echo "$pid"
            return 0
        fi
    done
}

http_status() { # url
    curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
}

broker_up() {
    if [ "$PROFILE" = ha ]; then
        say "local three-node RabbitMQ cluster"
        "$BROKER" install
        "$BROKER" cluster start --nodes 3
        # every node's URL, comma-separated: AMQP_URL (guest) and ITR_AMQP_URL_<USER>
        eval "$("$BROKER" cluster env | grep '^export ')"
        export ITR_DESK_AMQP_URL=${ITR_AMQP_URL_ITR_DESK:-}
        return 0
    fi
    say "local broker"
    "$BROKER" install
    if "$BROKER" status --name "$BROKER_NAME" >/dev/null 2>&1; then
        "$BROKER" start --name "$BROKER_NAME"
    elif port_open "$AMQP_PORT"; then
        say "a broker not managed by broker.sh already listens on $AMQP_PORT: using it"
    else
        "$BROKER" start --name "$BROKER_NAME" --port "$AMQP_PORT" --mgmt-port "$MGMT_PORT"
    fi
    # Least privilege: each service connects as its own broker user, the replay's actions go as
    # itr-desk (broker.sh start made them; deploy/rabbitmq/users.json). A broker not managed by
    # broker.sh has no such users: everything then runs as guest (and the router, by access.yaml,
    # accepts no AMQP action from guest).
    if "$BROKER" status --name "$BROKER_NAME" >/dev/null 2>&1; then
        eval "$("$BROKER" env --name "$BROKER_NAME" | grep '^export ITR_AMQP_URL_')"
        export ITR_DESK_AMQP_URL=${ITR_AMQP_URL_ITR_DESK:-}
    fi
}

# PostgreSQL for the ha profile: one database, a role per service (postgres.sh), the URL of
# each service's role in ITR_DATABASE_URL_<SERVICE>.
postgres_up() {
    [ "$PROFILE" = ha ] || return 0
    say "local PostgreSQL"
    "$POSTGRES" install
    "$POSTGRES" start
    eval "$("$POSTGRES" env | grep '^export ')"
}

# The DATABASE_URL of a product's instances (ha), empty otherwise (SQLite in DATA_DIR).
service_database_url() { # product
    [ "$PROFILE" = ha ] || return 0
    local var
    var="ITR_DATABASE_URL_$(printf %s "$1" | tr 'a-z-' 'A-Z_')"
    printf %s "${!var:?postgres.sh env printed no $var}"
}

# The broker URL a service connects with: its own user's when broker.sh made one.
service_amqp_url() { # product
    local var
    var="ITR_AMQP_URL_$(printf %s "$1" | tr 'a-z-' 'A-Z_')"
    printf %s "${!var:-$AMQP_URL}"
}

build() {
    if [ "${ITR_RUN_SKIP_BUILD:-0}" = 1 ]; then
        say "skipping the build (ITR_RUN_SKIP_BUILD=1)"
        return 0
    fi
    say "swift build -c release"
    swift build -c release
    local entry product
    for entry in "${SERVICES[@]}" itrctl:0; do
        product=${entry%%:*}
        [ -x "$BIN_DIR/$product" ] || die "the build did not produce $BIN_DIR/$product"
    done
}

# The deployment's accelerated clock for the demo (every service runs the same one): every
# real second is CLOCK_SPEED seconds of business time from one epoch (so a restart continues
# the same timeline), and the sample day, replayed in a few minutes, lives through hours of
# SLA and OLA clocks: breaches and escalations happen. The epoch lives with the services'
# data: new data, new timeline.
clock_epoch() {
    local f="$RUN_DIR/data/clock-epoch"
    [ -s "$f" ] || { mkdir -p "$(dirname "$f")"; date +%s >"$f"; }
    cat "$f"
}

# What the deployment's clock reads at the epoch (Unix seconds; empty: wall time). By default the
# latest weekday 07:00 UTC (15:00 in Shanghai, 08:00/09:00 in Berlin): the tickets of the replay
# open inside the coverage hours of every package, so response and resolution clocks run during
# the replay (run at night on wall time, the business-hours packages' clocks stood still and
# every response took 0 business seconds).
clock_start() {
    local f="$RUN_DIR/data/clock-start" wanted=${ITR_RUN_CLOCK_START:-} now day i ts
    if [ ! -e "$f" ]; then
        mkdir -p "$(dirname "$f")"
        if [ "$wanted" = wall ]; then
            : >"$f"
        elif [ -n "$wanted" ]; then
            date -u -d "$wanted" +%s >"$f" || die "ITR_RUN_CLOCK_START is not a date: $wanted"
        else
            now=$(date -u +%s)
            for i in 0 1 2 3 4 5 6 7; do
                day=$(date -u -d "@$((now - i * 86400))" +%F)
                ts=$(date -u -d "$day 07:00:00" +%s)
                if [ "$(date -u -d "$day" +%u)" -le 5 ] && [ "$ts" -le "$now" ]; then
                    echo "$ts" >"$f"
                    break
                fi
            done
        fi
    fi
    cat "$f"
}

# The deployment's clock for a process: ITR_CLOCK_SPEED, ITR_CLOCK_EPOCH and ITR_CLOCK_START.
clock_env() {
    local start
    start=$(clock_start)
    printf '%s\n' "ITR_CLOCK_SPEED=$CLOCK_SPEED" "ITR_CLOCK_EPOCH=$(clock_epoch)"
    [ -z "$start" ] || printf '%s\n' "ITR_CLOCK_START=$start"
}

start_service() { # product port [name]
    local product=$1 port=$2 name=${3:-$1} pid
    pid=$(service_pid "$name" "$product")
    if [ -n "$pid" ]; then
        echo "$name already running (pid $pid)"
        return 0
    fi
    [ -x "$BIN_DIR/$product" ] || die "$BIN_DIR/$product not found: build first (swift build -c release)"
    if port_open "$port"; then
        die "port $port (for $name) is already in use by another process"
    fi
    mkdir -p "$RUN_DIR/logs" "$RUN_DIR/data/$name"
    local log="$RUN_DIR/logs/$name.log" launcher=() database instance=()
    database=$(service_database_url "$product")
    [ "$name" = "$product" ] || instance=(ITR_INSTANCE="$name")
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    {
        echo "----- $(date -u +%Y-%m-%dT%H:%M:%SZ) run.sh starting $name -----"
    } >>"$log"
    (
        exec "${launcher[@]}" env \
            AMQP_URL="$(service_amqp_url "$product")" \
            HTTP_HOST=127.0.0.1 \
            HTTP_PORT="$port" \
            DATA_DIR="$RUN_DIR/data/$name" \
            DATABASE_URL="$database" \
            "${instance[@]}" \
            CONFIG_DIR="$ROOT/deploy/config" \
            LOG_LEVEL="${LOG_LEVEL:-info}" \
            API_TOKENS="$API_TOKENS_ENTRY" \
            "${CLOCK_ENV[@]}" \
            "$BIN_DIR/$product" </dev/null >>"$log" 2>&1
    ) &
    echo $! >"$RUN_DIR/$name.pid"
    echo "$name started (pid $!, http://127.0.0.1:$port, log .run/logs/$name.log)"
}

wait_ready() { # name port [product]
    local product=$1 port=$2 binary=${3:-$1} deadline=$((SECONDS + READY_TIMEOUT)) code
    while :; do
        code=$(http_status "http://127.0.0.1:$port/readyz")
        if [ "$code" = 200 ]; then
            echo "$product ready"
            return 0
        fi
        if [ -z "$(service_pid "$product" "$binary")" ]; then
            echo "$product exited; last lines of .run/logs/$product.log:" >&2
            tail -n 30 "$RUN_DIR/logs/$product.log" >&2 || true
            return 1
        fi
        if [ $SECONDS -ge "$deadline" ]; then
            echo "$product not ready after ${READY_TIMEOUT}s (last /readyz answer: ${code:-none}); last lines of .run/logs/$product.log:" >&2
            tail -n 30 "$RUN_DIR/logs/$product.log" >&2 || true
            return 1
        fi
        sleep 0.5
    done
}

# ---------------------------------------------------------------------------------
# The sample day (issue 7): replays a generated day of after-sales traffic through the
# running services (itrctl sample --replay), waits until they have caught up and prints
# what happened (itrctl summary). Replayed once per data directory (.run/sample-replayed);
# ITR_RUN_SAMPLE_AGAIN=1 replays another day (new event ids) on top.
# The tokens are made ONCE, before any service starts (ensure_tokens in cmd_up): the services
# start in background subshells, and each making its own on a fresh machine was a race that left
# intake with one token and the replay with another (every HTTP report refused with 401).
ensure_token() { # name
    local file="$RUN_DIR/$1" tmp
    [ -s "$file" ] && return 0
    mkdir -p "$RUN_DIR"
    tmp=$(mktemp "$RUN_DIR/.$1.XXXXXX")
    (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp")
    chmod 600 "$tmp"
    # first writer wins (ln fails when the file exists), so every reader sees one token
    ln "$tmp" "$file" 2>/dev/null || true
    rm -f "$tmp"
}

ensure_tokens() { local name; for name in api-token desk-token ops-token; do ensure_token "$name"; done; }

read_token() { # name
    local file="$RUN_DIR/$1"
    [ -s "$file" ] || die "no $file: the tokens are made by 'run.sh up' before the services start"
    cat "$file"
}

api_token() { read_token api-token; }

token_hash() { printf %s "$(read_token "$1")" | sha256sum | cut -d' ' -f1; }

# The services' API_TOKENS (the hashes of the tokens, never the tokens; see README "Who may do
# what"): the sample's upstream systems, a service-desk identity, the local operator.
api_tokens_entry() {
    printf '%s sample-upstream reports:submit=//portal.example.com,//api.partner.example.com;' "$(token_hash api-token)"
    printf '%s local-desk tickets:read tickets:act;' "$(token_hash desk-token)"
    printf '%s local-ops admin' "$(token_hash ops-token)"
}

# itrctl runs on the deployment's clock too (the service-desk actions of the replay carry it).
itrctl() {
    env AMQP_URL="$AMQP_URL" ITR_DESK_AMQP_URL="${ITR_DESK_AMQP_URL:-}" CONFIG_DIR="$ROOT/deploy/config" ITR_API_TOKEN="$(cat "$RUN_DIR/ops-token" 2>/dev/null || true)" \
        "${CLOCK_ENV[@]}" "$BIN_DIR/itrctl" "$@"
}

# The further instances for itrctl's summary (ha: <product>-2 on port + 10), whose /metrics it
# adds up with the first's.
instance_args() {
    [ "$PROFILE" = ha ] || return 0
    local entry
    for entry in "${SERVICES[@]}"; do
        printf -- '--instance-url\n%s=http://127.0.0.1:%s\n' "${entry%%:*}" "$((${entry##*:} + 10))"
    done
}

run_sample() {
    if [ "${ITR_RUN_SKIP_SAMPLE:-0}" = 1 ]; then
        say "skipping the sample replay (ITR_RUN_SKIP_SAMPLE=1)"
        return 0
    fi
    [ -x "$BIN_DIR/itrctl" ] || die "$BIN_DIR/itrctl not found: build first (swift build -c release)"
    # per profile: the ha profile's tickets are in PostgreSQL, not in .run/data
    local marker="$RUN_DIR/sample-replayed$([ "$PROFILE" = single ] || echo "-$PROFILE")"
    if [ -e "$marker" ] && [ "${ITR_RUN_SAMPLE_AGAIN:-0}" != 1 ]; then
        say "sample day already replayed on $(cat "$marker") (ITR_RUN_SAMPLE_AGAIN=1 replays another)"
    else
        say "sample day: itrctl sample --replay --summary --seed ${ITR_RUN_SEED:-7} --reports ${ITR_RUN_REPORTS:-3000}"
        # replays, waits until the queues drain, then prints what happened; fails (status 3) when
        # the services refused a report or an action the day meant to be accepted
        local rc=0 start_args=() start further=()
        start=$(clock_start)
        # the day before the deployment's clock starts (no report lies after the tickets open)
        [ -z "$start" ] || start_args=(--start "$(date -u -d "@$((start - 86400))" +%Y-%m-%dT%H:%M:%SZ)")
        mapfile -t further < <(instance_args)
        itrctl sample --replay --summary --token "$(api_token)" --seed "${ITR_RUN_SEED:-7}" --reports "${ITR_RUN_REPORTS:-3000}" \
            "${start_args[@]}" "${further[@]}" --drain-timeout "${ITR_RUN_DRAIN_TIMEOUT:-300}" || rc=$?
        date -u +%Y-%m-%dT%H:%M:%SZ >"$marker"
        if [ "$rc" -ne 0 ]; then
            SAMPLE_FAILED="itrctl sample exited $rc"
            echo "$SAMPLE_FAILED" >"$RUN_DIR/sample-failed"
        else
            rm -f "$RUN_DIR/sample-failed"
        fi
        return 0
    fi
    if [ -s "$RUN_DIR/sample-failed" ]; then
        SAMPLE_FAILED="the replay of $(cat "$marker") was not clean ($(cat "$RUN_DIR/sample-failed"))"
    fi
    say "what happened (itrctl summary)"
    local further=()
    mapfile -t further < <(instance_args)
    itrctl summary --wait "${ITR_RUN_DRAIN_TIMEOUT:-300}" "${further[@]}" || echo "(summary incomplete; see above)" >&2
}
# END SAMPLE HOOK
# ---------------------------------------------------------------------------------

print_where() {
    if [ -n "$SAMPLE_FAILED" ]; then
        cat >&2 <<EOF

ITR is running, but the closed loop is NOT healthy: $SAMPLE_FAILED.
Status 3: the services refused input the sample day meant to be accepted (REPLAY NOT CLEAN
above says which and why); any other: the replay itself failed (see above). The services'
logs are in .run/logs/; 'deploy/scripts/run.sh stop' stops everything.
EOF
        return 0
    fi
    cat <<EOF

ITR is running (profile $PROFILE$([ "$PROFILE" = ha ] && echo ": PostgreSQL $(printf %s "${DATABASE_URL:-}" | sed 's|//[^@]*@|//|'), three broker nodes, two instances of each service; the second on port + 10"))
  broker         $(printf %s "$AMQP_URL" | sed 's|//[^@]*@|//|g')
  management     http://127.0.0.1:$MGMT_PORT/  (guest/guest, when broker.sh started the broker)
  intake         http://127.0.0.1:8080  POST /v1/reports
  itr-router     http://127.0.0.1:8081  GET /v1/tickets/{id}, POST /v1/tickets/{id}/actions, GET /v1/service-levels
  ltc-extractor  http://127.0.0.1:8082  GET /v1/opportunities
  ipd-feedback   http://127.0.0.1:8083  GET /v1/defects
  every service  GET /healthz, /readyz; /metrics with a metrics:read token, or open on 127.0.0.1:<port + 1000>
  queues         feed.defects, feed.opportunities, itr.rejected (and each service's .dlq)
  exchanges      itr.ingress (reports, ticket actions, defect status in), itr.events (domain events out)
  logs, data     .run/logs/<product>.log, .run/data/<product>/
  ops CLI        .build/release/itrctl --help   (status, dlq, ticket show|reclassify, config validate, sample, summary, classifier)
  tokens         .run/api-token (reports from //portal.example.com, //api.partner.example.com),
                 .run/desk-token (read and act on tickets), .run/ops-token (admin; itrctl's \$ITR_API_TOKEN)
                 e.g. curl -H "Authorization: Bearer \$(cat .run/desk-token)" http://127.0.0.1:8081/v1/service-levels
  dashboards     docker compose up (Prometheus http://127.0.0.1:9090, Grafana http://127.0.0.1:3000)
  summary again  deploy/scripts/run.sh summary
  stop           deploy/scripts/run.sh stop
EOF
}

SAMPLE_FAILED=""
cmd_up() {
    if [ -s "$RUN_DIR/profile" ] && [ "$(cat "$RUN_DIR/profile")" != "$PROFILE" ] && any_running; then
        die "the $(cat "$RUN_DIR/profile") profile is running: 'deploy/scripts/run.sh stop' first"
    fi
    mkdir -p "$RUN_DIR"
    echo "$PROFILE" >"$RUN_DIR/profile"
    broker_up
    [ "$PROFILE" = ha ] || export AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
    postgres_up
    build
    ensure_tokens
    API_TOKENS_ENTRY=$(api_tokens_entry)
    mapfile -t CLOCK_ENV < <(clock_env)
    say "services"
    local entry product port instance failed=0
    for entry in "${SERVICES[@]}"; do
        product=${entry%%:*}
        port=${entry##*:}
        for instance in $(instances "$product" "$port"); do
            start_service "$product" "${instance##*:}" "${instance%%:*}"
        done
    done
    say "waiting for /readyz"
    for entry in "${SERVICES[@]}"; do
        product=${entry%%:*}
        port=${entry##*:}
        for instance in $(instances "$product" "$port"); do
            wait_ready "${instance%%:*}" "${instance##*:}" "$product" || failed=1
        done
    done
    if [ "$failed" -ne 0 ]; then
        echo "some services are not ready; see above. 'deploy/scripts/run.sh stop' stops everything." >&2
        exit 1
    fi
    run_sample
    print_where
    [ -z "$SAMPLE_FAILED" ]
}

# Whether any instance of the recorded profile runs.
any_running() {
    local entry product instance
    for entry in "${SERVICES[@]}"; do
        product=${entry%%:*}
        for instance in $(instances "$product" "${entry##*:}"); do
            [ -z "$(service_pid "${instance%%:*}" "$product")" ] || return 0
        done
    done
    return 1
}

cmd_summary() {
    if [ "$PROFILE" = ha ]; then
        eval "$("$BROKER" cluster env | grep '^export ')"
    else
        export AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
    fi
    mapfile -t CLOCK_ENV < <(clock_env)
    local further=()
    mapfile -t further < <(instance_args)
    itrctl summary "${further[@]}" "$@"
}

stop_service() { # name [product]
    local product=$1 pid
    pid=$(service_pid "$product" "${2:-$1}")
    if [ -z "$pid" ]; then
        echo "$product not running"
        rm -f "$RUN_DIR/$product.pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge "$deadline" ]; then
            echo "$product did not stop within ${STOP_TIMEOUT}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.2
    done
    rm -f "$RUN_DIR/$product.pid"
    echo "$product stopped"
}

cmd_stop() {
    say "services"
    local i product instance
    # reverse start order
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        product=${SERVICES[$i]%%:*}
        for instance in $(instances "$product" "${SERVICES[$i]##*:}"); do
            stop_service "${instance%%:*}" "$product"
        done
    done
    if [ "$PROFILE" = ha ]; then
        say "local three-node RabbitMQ cluster"
        "$BROKER" cluster stop
        say "local PostgreSQL"
        "$POSTGRES" stop
    else
        say "local broker"
        "$BROKER" stop --name "$BROKER_NAME"
    fi
}

cmd_status() {
    local entry product port pid name instance rc=0
    echo "profile: $PROFILE"
    if [ "$PROFILE" = ha ]; then
        "$BROKER" cluster status || rc=1
        "$POSTGRES" status || rc=1
    else
        "$BROKER" status --name "$BROKER_NAME" || rc=1
    fi
    echo
    for entry in "${SERVICES[@]}"; do
        product=${entry%%:*}
        for instance in $(instances "$product" "${entry##*:}"); do
            name=${instance%%:*}
            port=${instance##*:}
            pid=$(service_pid "$name" "$product")
            if [ -n "$pid" ]; then
                printf '%-16s running (pid %s), /readyz %s\n' "$name" "$pid" "$(http_status "http://127.0.0.1:$port/readyz")"
            else
                printf '%-16s not running\n' "$name"
                rc=1
            fi
        done
    done
    return $rc
}

case "${1:-up}" in
    up) shift $(($# > 0 ? 1 : 0)); [ $# -eq 0 ] || die "up takes no arguments"; cmd_up ;;
    stop) shift; cmd_stop ;;
    status) shift; cmd_status ;;
    summary) shift; cmd_summary "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
