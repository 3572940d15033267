#!/usr/bin/env bash
# The secrets of the docker-compose.yml deployment, made on the operator's machine:
#
#   deploy/scripts/secrets.sh init [--dir DIR] [--force]
#
# writes into DIR (default deploy/secrets, git-ignored), keeping what exists unless --force:
#   tls/ca.pem, tls/server.pem, tls/server.key   a CA and the broker's certificate (rabbitmq, localhost)
#   amqp/<user>                                   one random password per broker user
#                                                 (deploy/rabbitmq/users.json) and itr-admin
#   rabbitmq-users.json                           the users for RabbitMQ's boot definitions:
#                                                 password_hash only, rights and topic rights
#   api-tokens                                    API_TOKENS_FILE of every service: SHA-256 only
#   tokens/<identity>.token                       the tokens themselves, to hand out
#   grafana-admin-password
# Nothing secret is printed. The files are readable by the containers' users (0644 inside the
# 0700 directory DIR, which is what protects them on the host: compose bind-mounts secret files
# with their host mode).
set -euo pipefail

PROG=$(basename "$0")
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

# The deployment's API tokens: identity and scopes (README "Who may do what").
TOKENS=(
    "prometheus metrics:read"
    "service-desk tickets:read tickets:act"
    "ops admin"
    "portal reports:submit=//portal.example.com,//api.partner.example.com"
    "monitoring reports:submit=//monitoring.example.com"
    "sales opportunities:read"
    "rnd defects:read"
)

random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Writes a random secret to FILE unless it exists.
ensure_secret() { # file
    [ -s "$1" ] && [ -z "$FORCE" ] && return 0
    (umask 077; random_secret >"$1")
    chmod 644 "$1"
    MADE+=("$1")
}

cmd_init() {
    local dir="$ROOT/deploy/secrets"
    FORCE=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --dir) dir=${2:?--dir needs a value}; shift 2 ;;
            --force) FORCE=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "init: unknown option '$1'" ;;
        esac
    done
    command -v python3 >/dev/null 2>&1 || die "python3 is needed (deploy/scripts/broker.sh install)"
    command -v openssl >/dev/null 2>&1 || die "openssl is needed (deploy/scripts/broker.sh install)"
    mkdir -p "$dir"
    chmod 700 "$dir"
    MADE=()

    # TLS: the CA and the broker's certificate for its compose name and localhost.
    "$SCRIPT_DIR/broker.sh" make-ca "$dir/tls" --host rabbitmq ${FORCE:+--force} >/dev/null 2>&1 \
        || die "making the CA failed (deploy/scripts/broker.sh make-ca)"
    chmod 644 "$dir/tls/ca.pem" "$dir/tls/server.pem" "$dir/tls/server.key"

    # Broker users: a password each, the boot definitions with password_hash only.
    mkdir -p "$dir/amqp"
    chmod 755 "$dir/amqp"
    local users
    users=$(python3 -c 'import json,sys; print("\n".join(u["name"] for u in json.load(open(sys.argv[1]))["users"]))' \
        "$ROOT/deploy/rabbitmq/users.json") || die "cannot read deploy/rabbitmq/users.json"
    local user
    for user in $users itr-admin; do ensure_secret "$dir/amqp/$user"; done
    if [ ! -s "$dir/rabbitmq-users.json" ] || [ -n "$FORCE" ] || [ ${#MADE[@]} -gt 0 ]; then
        python3 "$SCRIPT_DIR/broker_users.py" definitions --users "$ROOT/deploy/rabbitmq/users.json" \
            --passwords "$dir/amqp" --admin itr-admin >"$dir/rabbitmq-users.json.tmp"
        mv "$dir/rabbitmq-users.json.tmp" "$dir/rabbitmq-users.json"
        chmod 644 "$dir/rabbitmq-users.json"
        MADE+=("$dir/rabbitmq-users.json")
    fi

    # API tokens: the clear tokens to hand out, the services' file of hashes.
    mkdir -p "$dir/tokens"
    chmod 700 "$dir/tokens"
    local entry identity scopes lines=()
    for entry in "${TOKENS[@]}"; do
        identity=${entry%% *}
        scopes=${entry#* }
        ensure_secret "$dir/tokens/$identity.token"
        chmod 600 "$dir/tokens/$identity.token"
        lines+=("$(printf %s "$(cat "$dir/tokens/$identity.token")" | sha256sum | cut -d' ' -f1) $identity $scopes")
    done
    {
        echo "# API_TOKENS_FILE of the ITR services (deploy/scripts/secrets.sh): <sha256 of the token> <identity> <scopes>"
        printf '%s\n' "${lines[@]}"
    } >"$dir/api-tokens"
    chmod 644 "$dir/api-tokens"
    # Prometheus reads its token from a file of its own (credentials_file).
    cp "$dir/tokens/prometheus.token" "$dir/prometheus-token"
    chmod 644 "$dir/prometheus-token"

    ensure_secret "$dir/grafana-admin-password"

    log "secrets in $dir (${#MADE[@]} made, the rest kept): tls/, amqp/<user>, rabbitmq-users.json, api-tokens, tokens/<identity>.token, grafana-admin-password"
}

case "${1:-}" in
    init) shift; cmd_init "$@" ;;
    -h|--help|help|"") usage ;;
    *) die "unknown command '$1' (init)" ;;
esac
