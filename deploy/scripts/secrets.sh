#!/usr/bin/env bash
# The secrets of the docker-compose.yml deployment, made on the operator's machine:
#
#   deploy/scripts/secrets.sh init [--dir DIR] [--force]
#
# writes into DIR (default deploy/secrets, git-ignored), keeping what exists unless --force:
#   tls/ca.pem, tls/server.pem, tls/server.key   a CA and the broker's certificate (localhost, rabbitmq,
#                                                 rabbitmq-1..3; made anew, CA too, when a kept one
#                                                 lacks one of these names)
#   amqp/<user>                                   one random password per broker user
#                                                 (deploy/rabbitmq/users.json) and itr-admin
#   rabbitmq-users.json                           the users for RabbitMQ's boot definitions:
#                                                 password_hash only, rights and topic rights
#   api-tokens                                    API_TOKENS_FILE of every service: SHA-256 only
#   tokens/<identity>.token                       the tokens themselves, to hand out
#   grafana-admin-password
#   rabbitmq-erlang-cookie                        the ha profile's RabbitMQ nodes' shared cookie (0600)
#   postgres/itr_admin                            the ha profile's PostgreSQL superuser password (0600)
#   postgres/<service>                            the password of each service's PostgreSQL role
#   database-url/<service>                        its DATABASE_URL_FILE: postgres://<service>:...@postgres:5432/itr
# Nothing secret is printed. The files are readable by the containers' users (0644 inside the
# 0700 directory DIR, which is what protects them on the host: compose bind-mounts secret files
# with their host mode and owner). Only files that nothing but a container's root reads (its
# entry point, before it steps down) are 0600: the Erlang cookie and the superuser password.
set -euo pipefail

PROG=$(basename "$0")
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

usage() {
    sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
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

# The services of the ha profile, each with a PostgreSQL role and schema named after it.
SERVICES=(intake itr-router ltc-extractor ipd-feedback)
# The names the broker's certificate must hold: the default profile's node and the ha cluster's.
BROKER_HOSTS=(rabbitmq rabbitmq-1 rabbitmq-2 rabbitmq-3)

random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Writes a random secret to FILE unless it exists, and gives it MODE (default 644).
ensure_secret() { # file [mode]
    if [ ! -s "$1" ] || [ -n "$FORCE" ]; then
        (umask 077; random_secret >"$1")
        MADE+=("$1")
    fi
    chmod "${2:-644}" "$1"
}

# Writes TEXT to FILE (mode 644) when it differs from what the file holds; never prints it.
ensure_file() { # file text
    if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
        (umask 077; printf '%s' "$2" >"$1.tmp")
        mv "$1.tmp" "$1"
        MADE+=("$1")
    fi
    chmod 644 "$1"
}

# True if the certificate names every broker host (subjectAltName DNS entries).
names_every_broker_host() { # certificate
    local names host
    names=$(openssl x509 -noout -ext subjectAltName -in "$1" 2>/dev/null) || return 1
    for host in "${BROKER_HOSTS[@]}"; do
        [[ "$names" =~ DNS:$host(,|$|[[:space:]]) ]] || return 1
    done
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

    # TLS: the CA and the broker's certificate for localhost and every compose name of a node.
    # A kept certificate made before the ha profile lacks rabbitmq-1..3: both are made anew
    # (hand the new ca.pem to the clients outside compose).
    local remake=$FORCE host hosts=()
    for host in "${BROKER_HOSTS[@]}"; do hosts+=(--host "$host"); done
    if [ -z "$remake" ] && [ -s "$dir/tls/server.pem" ] && ! names_every_broker_host "$dir/tls/server.pem"; then
        log "the kept broker certificate does not name ${BROKER_HOSTS[*]}: making a new CA and certificate"
        remake=1
    fi
    "$SCRIPT_DIR/broker.sh" make-ca "$dir/tls" "${hosts[@]}" ${remake:+--force} >/dev/null 2>&1 \
        || die "making the CA failed (deploy/scripts/broker.sh make-ca)"
    names_every_broker_host "$dir/tls/server.pem" || die "the broker certificate does not name ${BROKER_HOSTS[*]}"
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
        ensure_secret "$dir/tokens/$identity.token" 600
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

    # The ha profile: the cluster's Erlang cookie and PostgreSQL (deploy/postgres/init.sh makes a
    # role per service with the password in postgres/<service>; the service reads the same
    # password in its URL). The cookie and the superuser password are read by root only.
    ensure_secret "$dir/rabbitmq-erlang-cookie" 600
    mkdir -p "$dir/postgres" "$dir/database-url"
    chmod 755 "$dir/postgres" "$dir/database-url"
    ensure_secret "$dir/postgres/itr_admin" 600
    local service
    for service in "${SERVICES[@]}"; do
        ensure_secret "$dir/postgres/$service"
        ensure_file "$dir/database-url/$service" "postgres://$service:$(cat "$dir/postgres/$service")@postgres:5432/itr"
    done

    log "secrets in $dir (${#MADE[@]} made, the rest kept): tls/, amqp/<user>, rabbitmq-users.json, api-tokens, tokens/<identity>.token, grafana-admin-password, rabbitmq-erlang-cookie, postgres/<role>, database-url/<service>"
}

case "${1:-}" in
    init) shift; cmd_init "$@" ;;
    -h|--help|help|"") usage ;;
    *) die "unknown command '$1' (init)" ;;
esac
