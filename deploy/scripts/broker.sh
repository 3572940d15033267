#!/usr/bin/env bash
# Local RabbitMQ node for development and tests: no systemd, no docker.
#
# Every node keeps its data, logs, config, HOME and Erlang cookie in its own state
# directory (default /tmp/itr-broker-<name>, override with ITR_BROKER_DIR), so
# several nodes can run side by side and a node restarted after `kill` finds its
# durable queues and persistent messages again.
set -euo pipefail

PROG=$(basename "$0")

usage() {
    cat <<EOF
Usage: $PROG COMMAND [OPTIONS]

Runs a local RabbitMQ node bound to 127.0.0.1, as root or as a normal user.

Commands:
  install                 install missing Debian packages (rabbitmq-server,
                          librabbitmq-dev, sqlite3, libsqlite3-dev, openssl, curl,
                          procps, python3-venv when needed); idempotent
  start [OPTIONS]         start the node in the background and wait until it is
                          ready; ok if it is already running
      --name NAME           node name (default: \$ITR_BROKER_NAME or itr)
      --port N              AMQP port (default 5672)
      --tls-port N          AMQPS port (needs --tls-dir)
      --tls-dir DIR         directory with ca.pem, server.pem, server.key
      --dist-port N         Erlang distribution port (default AMQP port + 20000)
      --mgmt-port N         enable the management plugin on this port
      --timeout SECONDS     how long to wait for readiness (default 120)
                          Options not given are taken from the node's previous
                          start (saved in its state directory), then defaults.
  stop [--name NAME] [--purge]
                          stop the node and wait until its process has exited;
                          --purge also deletes its state directory; idempotent
  kill [--name NAME]      kill -9 the node (crash test); its data is kept
  ctl [--name NAME] -- ARGS...
                          run rabbitmqctl ARGS against the node
  status [--name NAME]    print the node's state; exit 0 if running, 3 if not
  env [--name NAME]       print export lines (AMQP_URL, ...) for sourcing:
                          eval "\$($PROG env --name itr)"
  make-ca DIR [--force]   create a test CA, a server certificate for localhost and
                          127.0.0.1, and a client certificate in DIR (ca.pem,
                          ca.key, server.pem, server.key, client.pem, client.key)
  help                    this text

Environment:
  ITR_BROKER_DIR          state directory (default /tmp/itr-broker-<name>)
  ITR_BROKER_NAME         default node name
  ITR_RABBITMQ_BIN        directory holding rabbitmq-server and rabbitmqctl
                          (default /usr/lib/rabbitmq/bin)
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

# ---------------------------------------------------------------------------
# install

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

cmd_install() {
    [ $# -eq 0 ] || die "install takes no arguments"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install rabbitmq-server, librabbitmq-dev, sqlite3, libsqlite3-dev and openssl by hand"
    local wanted=(rabbitmq-server librabbitmq-dev sqlite3 libsqlite3-dev openssl curl ca-certificates procps)
    if ! command -v python3 >/dev/null 2>&1; then
        wanted+=(python3 python3-venv)
    elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        wanted+=(python3-venv)
    fi
    local missing=() p
    for p in "${wanted[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "all packages present"
        return 0
    fi
    log "installing: ${missing[*]}"
    # Keep the distribution's own rabbitmq-server service from being started by
    # the package install (it would take port 5672): the standard policy-rc.d.
    local policy=/usr/sbin/policy-rc.d added_policy=""
    if [[ " ${missing[*]} " == *" rabbitmq-server "* ]] && ! as_root test -e "$policy"; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        added_policy=1
    fi
    local rc=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || rc=$?
    if [ $rc -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
    fi
    if [ -n "$added_policy" ]; then
        as_root rm -f "$policy"
    fi
    [ $rc -eq 0 ] || die "apt-get failed (exit $rc)"
    log "installed: ${missing[*]}"
}

# ---------------------------------------------------------------------------
# node state

NAME=""
STATE_DIR=""
PORT=""
TLS_PORT=""
TLS_DIR=""
DIST_PORT=""
MGMT_PORT=""

rmq_bin() {
    if [ -n "${ITR_RABBITMQ_BIN:-}" ]; then
        echo "$ITR_RABBITMQ_BIN"
    elif [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
        echo /usr/lib/rabbitmq/bin
    elif command -v rabbitmq-server >/dev/null 2>&1; then
        dirname "$(command -v rabbitmq-server)"
    else
        die "rabbitmq-server not found: run '$PROG install'"
    fi
}

set_name() {
    NAME=${1:-${ITR_BROKER_NAME:-itr}}
    [[ "$NAME" =~ ^[A-Za-z0-9_-]+$ ]] || die "invalid node name '$NAME' (letters, digits, _ and - only)"
    STATE_DIR=${ITR_BROKER_DIR:-/tmp/itr-broker-$NAME}
    # One state directory belongs to one node: never act on another node's files.
    if [ -f "$STATE_DIR/node.env" ]; then
        local owner
        owner=$(sed -n 's/^NAME=//p' "$STATE_DIR/node.env")
        if [ -n "$owner" ] && [ "$owner" != "$NAME" ]; then
            die "state directory $STATE_DIR belongs to node '$owner', not '$NAME' (check ITR_BROKER_DIR)"
        fi
    fi
}

node_id() { echo "$NAME@localhost"; }

load_saved() {
    local f="$STATE_DIR/node.env"
    [ -f "$f" ] || return 0
    local key value
    while IFS='=' read -r key value; do
        case "$key" in
            PORT) PORT=${PORT:-$value} ;;
            TLS_PORT) TLS_PORT=${TLS_PORT:-$value} ;;
            TLS_DIR) TLS_DIR=${TLS_DIR:-$value} ;;
            DIST_PORT) DIST_PORT=${DIST_PORT:-$value} ;;
            MGMT_PORT) MGMT_PORT=${MGMT_PORT:-$value} ;;
        esac
    done <"$f"
}

save_settings() {
    {
        echo "NAME=$NAME"
        echo "PORT=$PORT"
        echo "TLS_PORT=$TLS_PORT"
        echo "TLS_DIR=$TLS_DIR"
        echo "DIST_PORT=$DIST_PORT"
        echo "MGMT_PORT=$MGMT_PORT"
    } >"$STATE_DIR/node.env"
}

# The node's environment for RabbitMQ's scripts, as NAME=value words.
node_env() {
    local dist=${DIST_PORT:-25672}
    NODE_ENV=(
        HOME="$STATE_DIR/home"
        RABBITMQ_CONF_ENV_FILE="$STATE_DIR/rabbitmq-env.conf"
        RABBITMQ_NODENAME="$(node_id)"
        RABBITMQ_USE_LONGNAME=false
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="${PORT:-5672}"
        RABBITMQ_DIST_PORT="$dist"
        RABBITMQ_CTL_DIST_PORT_MIN="$((dist + 10000))"
        RABBITMQ_CTL_DIST_PORT_MAX="$((dist + 10010))"
        RABBITMQ_MNESIA_BASE="$STATE_DIR/mnesia"
        RABBITMQ_LOG_BASE="$STATE_DIR/log"
        RABBITMQ_CONFIG_FILE="$STATE_DIR/rabbitmq.conf"
        RABBITMQ_CONFIG_FILES="$STATE_DIR/conf.d"
        RABBITMQ_ADVANCED_CONFIG_FILE="$STATE_DIR/advanced.config"
        RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/enabled_plugins"
        RABBITMQ_PID_FILE="$STATE_DIR/rabbitmq.pid"
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    )
}

ctl() {
    node_env
    env "${NODE_ENV[@]}" "$(rmq_bin)/rabbitmqctl" -n "$(node_id)" "$@"
}

# True if pid is this node's beam process (its command line carries "-home <state>/home").
is_node_beam() {
    local args
    [ -r "/proc/$1/cmdline" ] || return 1
    args=$(tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline") || return 1
    case "$args" in
        *beam*) ;;
        *) return 1 ;;
    esac
    printf '%s\n' "$args" | grep -qxF -- "$STATE_DIR/home"
}

# The pid of the node's beam process if it is alive, else nothing.
node_pid() {
    local pid f
    if [ -s "$STATE_DIR/rabbitmq.pid" ]; then
        pid=$(tr -dc '0-9' <"$STATE_DIR/rabbitmq.pid")
        if [ -n "$pid" ] && is_node_beam "$pid"; then
            echo "$pid"
            return 0
        fi
    fi
    # No (valid) pid file, e.g. still booting: look for the process itself.
    while IFS= read -r f; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        if is_node_beam "$pid"; then
            echo "$pid"
            return 0
        fi
    done < <(grep -alF -- "$STATE_DIR/home" /proc/[0-9]*/cmdline 2>/dev/null)
    return 0
}

epmd_registered() {
    command -v epmd >/dev/null 2>&1 || return 0 # cannot tell: assume yes
    epmd -names 2>/dev/null | grep -q "^name $NAME at port"
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_gone() { # pid timeout
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        # a zombie child of ours counts as gone
        if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then return 0; fi
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

write_config() {
    mkdir -p "$STATE_DIR/home" "$STATE_DIR/mnesia" "$STATE_DIR/log" "$STATE_DIR/conf.d"
    if [ ! -s "$STATE_DIR/home/.erlang.cookie" ]; then
        (
            umask 077
            od -An -N20 -tx1 /dev/urandom | tr -dc '0-9a-f' | tr 'a-f' 'A-F' >"$STATE_DIR/home/.erlang.cookie"
        )
        chmod 400 "$STATE_DIR/home/.erlang.cookie"
    fi
    : >"$STATE_DIR/rabbitmq-env.conf"
    {
        echo "# generated by $PROG for node $(node_id); rewritten on every start"
        echo "listeners.tcp.default = 127.0.0.1:$PORT"
        echo "disk_free_limit.absolute = 50MB"
        echo "max_message_size = 16777216"
        echo "vm_memory_high_watermark.relative = 0.4"
        echo "log.file.level = info"
        echo "log.console = false"
        if [ -n "$TLS_PORT" ]; then
            echo "listeners.ssl.default = 127.0.0.1:$TLS_PORT"
            echo "ssl_options.cacertfile = $TLS_DIR/ca.pem"
            echo "ssl_options.certfile = $TLS_DIR/server.pem"
            echo "ssl_options.keyfile = $TLS_DIR/server.key"
            echo "ssl_options.verify = verify_peer"
            echo "ssl_options.fail_if_no_peer_cert = false"
        fi
        if [ -n "$MGMT_PORT" ]; then
            echo "management.tcp.ip = 127.0.0.1"
            echo "management.tcp.port = $MGMT_PORT"
        fi
    } >"$STATE_DIR/rabbitmq.conf"
    if [ -n "$MGMT_PORT" ]; then
        echo "[rabbitmq_management]." >"$STATE_DIR/enabled_plugins"
    else
        echo "[]." >"$STATE_DIR/enabled_plugins"
    fi
}

check_port() { # value what
    if ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
        die "invalid $2: '$1'"
    fi
}

show_log_tail() {
    local f
    for f in "$STATE_DIR/log/startup.log" "$STATE_DIR/log/$(node_id).log"; do
        if [ -s "$f" ]; then
            echo "----- last lines of $f -----" >&2
            tail -n 30 "$f" >&2
        fi
    done
}

cmd_start() {
    local name="" timeout=120
    local o_port="" o_tls_port="" o_tls_dir="" o_dist="" o_mgmt=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) name=${2:?--name needs a value}; shift 2 ;;
            --port) o_port=${2:?--port needs a value}; shift 2 ;;
            --tls-port) o_tls_port=${2:?--tls-port needs a value}; shift 2 ;;
            --tls-dir) o_tls_dir=${2:?--tls-dir needs a value}; shift 2 ;;
            --dist-port) o_dist=${2:?--dist-port needs a value}; shift 2 ;;
            --mgmt-port) o_mgmt=${2:?--mgmt-port needs a value}; shift 2 ;;
            --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
            -h|--help) usage; exit 0 ;;
            *) die "start: unknown option '$1'" ;;
        esac
    done
    set_name "$name"
    PORT=$o_port TLS_PORT=$o_tls_port TLS_DIR=$o_tls_dir DIST_PORT=$o_dist MGMT_PORT=$o_mgmt
    load_saved
    PORT=${PORT:-5672}
    check_port "$PORT" "--port"
    DIST_PORT=${DIST_PORT:-$((PORT + 20000))}
    check_port "$DIST_PORT" "--dist-port"
    [ -z "$MGMT_PORT" ] || check_port "$MGMT_PORT" "--mgmt-port"
    if [ -n "$TLS_PORT" ] || [ -n "$TLS_DIR" ]; then
        if [ -z "$TLS_PORT" ] || [ -z "$TLS_DIR" ]; then
            die "--tls-port and --tls-dir go together"
        fi
        check_port "$TLS_PORT" "--tls-port"
        TLS_DIR=$(cd "$TLS_DIR" && pwd) || die "no such directory: $TLS_DIR"
        local f
        for f in ca.pem server.pem server.key; do
            [ -r "$TLS_DIR/$f" ] || die "missing $TLS_DIR/$f (see '$PROG make-ca DIR')"
        done
    fi

    local pid
    pid=$(node_pid)
    if [ -n "$pid" ]; then
        # Already running: fine if it is what was asked for.
        local s_port="" s_tls="" s_tls_dir="" s_mgmt=""
        if [ -f "$STATE_DIR/node.env" ]; then
            s_port=$(sed -n 's/^PORT=//p' "$STATE_DIR/node.env")
            s_tls=$(sed -n 's/^TLS_PORT=//p' "$STATE_DIR/node.env")
            s_tls_dir=$(sed -n 's/^TLS_DIR=//p' "$STATE_DIR/node.env")
            s_mgmt=$(sed -n 's/^MGMT_PORT=//p' "$STATE_DIR/node.env")
        fi
        if [ "$s_port" != "$PORT" ] || [ "$s_tls" != "$TLS_PORT" ] || [ "$s_tls_dir" != "$TLS_DIR" ] \
            || [ "$s_mgmt" != "$MGMT_PORT" ]; then
            die "node $(node_id) is already running (pid $pid) with other settings (port $s_port, tls ${s_tls:-none} ${s_tls_dir}, mgmt ${s_mgmt:-none}); stop it first"
        fi
        wait_ready "$pid" "$timeout"
        log "node $(node_id) already running (pid $pid, amqp 127.0.0.1:$PORT)"
        return 0
    fi

    if port_open "$PORT"; then
        die "port $PORT is already in use by another process; choose another --port"
    fi
    mkdir -p "$STATE_DIR"
    write_config
    save_settings
    rm -f "$STATE_DIR/rabbitmq.pid" "$STATE_DIR/server.pid"
    local bin launcher=()
    bin=$(rmq_bin)
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    log "starting node $(node_id) (amqp 127.0.0.1:$PORT${TLS_PORT:+, amqps $TLS_PORT}${MGMT_PORT:+, management $MGMT_PORT}, dist $DIST_PORT, dir $STATE_DIR)"
    node_env
    (
        cd "$STATE_DIR"
        exec "${launcher[@]}" env "${NODE_ENV[@]}" "$bin/rabbitmq-server" \
            </dev/null >>"$STATE_DIR/log/startup.log" 2>&1
    ) &
    echo $! >"$STATE_DIR/server.pid"
    wait_ready "$!" "$timeout"
    log "node $(node_id) ready: amqp://guest:guest@127.0.0.1:$PORT/%2f"
}

wait_ready() { # pid timeout
    local pid=$1 deadline=$((SECONDS + $2))
    while :; do
        local alive=""
        if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
            alive=1
        elif [ -n "$(node_pid)" ]; then
            alive=1
        fi
        if [ -z "$alive" ]; then
            log "node $(node_id) exited during start-up"
            show_log_tail
            exit 1
        fi
        # await_startup fails at once while the node is not yet registered with
        # epmd, so only ask once it is, and retry until the deadline.
        if epmd_registered; then
            local left=$((deadline - SECONDS))
            [ $left -gt 1 ] || left=1
            if ctl await_startup --timeout "$left" >/dev/null 2>&1 && port_open "$PORT"; then
                return 0
            fi
        fi
        if [ $SECONDS -ge "$deadline" ]; then
            log "node $(node_id) not ready after $2 s"
            show_log_tail
            exit 1
        fi
        sleep 0.5
    done
}

parse_name_only() { # sets NAME; remaining allowed flags via $ALLOW_PURGE
    local name=""
    PURGE=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) name=${2:?--name needs a value}; shift 2 ;;
            --purge) [ -n "${ALLOW_PURGE:-}" ] || die "unknown option --purge"; PURGE=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    set_name "$name"
    load_saved
}

cmd_stop() {
    ALLOW_PURGE=1 parse_name_only "$@"
    local pid
    pid=$(node_pid)
    if [ -n "$pid" ]; then
        log "stopping node $(node_id) (pid $pid)"
        ctl stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 60; then
            log "node did not stop in 60 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 10 || die "cannot stop pid $pid"
        fi
        log "node $(node_id) stopped"
    else
        log "node $(node_id) is not running"
    fi
    rm -f "$STATE_DIR/rabbitmq.pid" "$STATE_DIR/server.pid"
    if [ -n "$PURGE" ] && [ -d "$STATE_DIR" ]; then
        case "$STATE_DIR" in
            /|"") die "refusing to delete '$STATE_DIR'" ;;
        esac
        chmod -R u+w "$STATE_DIR" 2>/dev/null || true
        rm -rf "$STATE_DIR"
        log "deleted $STATE_DIR"
    fi
}

cmd_kill() {
    parse_name_only "$@"
    local pid
    pid=$(node_pid)
    if [ -z "$pid" ]; then
        log "node $(node_id) is not running"
        return 0
    fi
    log "kill -9 node $(node_id) (pid $pid)"
    kill -KILL "$pid"
    wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
    # epmd drops the name when the node's connection closes.
    local deadline=$((SECONDS + 10))
    while epmd_registered && command -v epmd >/dev/null 2>&1 && [ $SECONDS -lt $deadline ]; do
        sleep 0.2
    done
    rm -f "$STATE_DIR/rabbitmq.pid" "$STATE_DIR/server.pid"
}

cmd_ctl() {
    local name=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) name=${2:?--name needs a value}; shift 2 ;;
            --) shift; break ;;
            -h|--help) usage; exit 0 ;;
            *) break ;;
        esac
    done
    set_name "$name"
    load_saved
    [ -d "$STATE_DIR/home" ] || die "node $(node_id) has no state directory $STATE_DIR: start it first"
    ctl "$@"
}

cmd_status() {
    parse_name_only "$@"
    local pid
    pid=$(node_pid)
    echo "node:       $(node_id)"
    echo "state dir:  $STATE_DIR"
    if [ -n "$pid" ]; then
        echo "status:     running (pid $pid)"
    else
        echo "status:     not running"
    fi
    [ -z "$PORT" ] || echo "amqp:       amqp://guest:guest@127.0.0.1:$PORT/%2f"
    [ -z "$TLS_PORT" ] || echo "amqps:      amqps://guest:guest@localhost:$TLS_PORT/%2f (certificates in $TLS_DIR)"
    [ -z "$MGMT_PORT" ] || echo "management: http://127.0.0.1:$MGMT_PORT/ (guest/guest)"
    [ -z "$DIST_PORT" ] || echo "dist port:  $DIST_PORT"
    [ -n "$pid" ] || return 3
}

cmd_env() {
    parse_name_only "$@"
    local port=${PORT:-5672}
    echo "export ITR_BROKER_NAME='$NAME'"
    echo "export ITR_BROKER_STATE_DIR='$STATE_DIR'"
    echo "export ITR_BROKER_NODE='$(node_id)'"
    echo "export AMQP_URL='amqp://guest:guest@127.0.0.1:$port/%2f'"
    if [ -n "$TLS_PORT" ]; then
        echo "export AMQPS_URL='amqps://guest:guest@localhost:$TLS_PORT/%2f'"
        echo "export ITR_BROKER_TLS_DIR='$TLS_DIR'"
    fi
    if [ -n "$MGMT_PORT" ]; then
        echo "export ITR_BROKER_MGMT_URL='http://127.0.0.1:$MGMT_PORT'"
    fi
}

cmd_make_ca() {
    local dir="" force=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --force) force=1; shift ;;
            -h|--help) usage; exit 0 ;;
            -*) die "make-ca: unknown option '$1'" ;;
            *) [ -z "$dir" ] || die "make-ca takes one directory"; dir=$1; shift ;;
        esac
    done
    [ -n "$dir" ] || die "usage: $PROG make-ca DIR"
    command -v openssl >/dev/null 2>&1 || die "openssl not found: run '$PROG install'"
    mkdir -p "$dir"
    if [ -z "$force" ] && [ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] \
        && [ -s "$dir/client.pem" ] && [ -s "$dir/client.key" ]; then
        log "certificates already in $dir (use --force to recreate)"
        return 0
    fi
    local tmp rc=0
    tmp=$(mktemp -d)
    cat >"$tmp/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ITR Test CA
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    cat >"$tmp/server.ext" <<'EOF'
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    cat >"$tmp/client.ext" <<'EOF'
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    (
        set -e
        umask 077
        openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -config "$tmp/ca.cnf" -extensions v3_ca -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
        for who in server client; do
            cn=localhost
            [ "$who" = client ] && cn=itr-client
            openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=$cn" \
                -keyout "$tmp/$who.key" -out "$tmp/$who.csr" 2>/dev/null
            openssl x509 -req -in "$tmp/$who.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
                -CAcreateserial -days 3650 -sha256 -extfile "$tmp/$who.ext" -out "$tmp/$who.pem" 2>/dev/null
        done
    ) || rc=$?
    if [ $rc -ne 0 ]; then
        rm -rf "$tmp"
        die "openssl failed"
    fi
    local f
    for f in ca.pem ca.key server.pem server.key client.pem client.key; do
        cp "$tmp/$f" "$dir/$f"
    done
    rm -rf "$tmp"
    chmod 644 "$dir/ca.pem" "$dir/server.pem" "$dir/client.pem"
    chmod 600 "$dir/ca.key" "$dir/server.key" "$dir/client.key"
    openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" "$dir/client.pem" >/dev/null || die "generated certificates do not verify"
    log "test CA and certificates written to $dir"
}

main() {
    [ $# -gt 0 ] || { usage; exit 2; }
    local cmd=$1
    shift
    case "$cmd" in
        install) cmd_install "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        kill) cmd_kill "$@" ;;
        ctl) cmd_ctl "$@" ;;
        status) cmd_status "$@" ;;
        env) cmd_env "$@" ;;
        make-ca) cmd_make_ca "$@" ;;
        help|-h|--help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
