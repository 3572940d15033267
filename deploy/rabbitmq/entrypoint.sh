#!/usr/bin/env bash
# Entry point of the rabbitmq service in docker-compose.yml: puts the boot definitions and the
# TLS files where RabbitMQ (user rabbitmq) reads them, then runs the image's own entry point.
#   /etc/itr/definitions.json        the topology (deploy/rabbitmq/definitions.json, read-only)
#   /run/secrets/rabbitmq_users      the broker users with password_hash only (secrets.sh init)
#   /run/secrets/itr_ca, itr_server_cert, itr_server_key   the broker's TLS files
#   /run/secrets/rabbitmq_erlang_cookie   a cluster's shared Erlang cookie (the ha profile's
#                                    nodes; without it a single node makes its own)
# No password in clear is ever written: the users file holds salted SHA-256 hashes.
set -euo pipefail
users=${ITR_RABBITMQ_USERS_FILE:-/run/secrets/rabbitmq_users}
[ -s "$users" ] || { echo "entrypoint: no broker users in $users (deploy/scripts/secrets.sh init)" >&2; exit 1; }
if grep -q '"password"' "$users"; then
    echo "entrypoint: $users holds a clear-text password; only password_hash is accepted" >&2
    exit 1
fi
dir=/var/lib/rabbitmq/itr-definitions
tls=/var/lib/rabbitmq/itr-tls
mkdir -p "$dir" "$tls"
cp /etc/itr/definitions.json "$dir/10-topology.json"
cp "$users" "$dir/00-users.json"
for pair in ca.pem:itr_ca server.pem:itr_server_cert server.key:itr_server_key; do
    file=${pair%%:*}
    secret=/run/secrets/${pair##*:}
    [ -s "$secret" ] || { echo "entrypoint: missing $secret (deploy/scripts/secrets.sh init)" >&2; exit 1; }
    cp "$secret" "$tls/$file"
done
chmod 600 "$dir"/*.json "$tls/server.key"
chown -R rabbitmq:rabbitmq "$dir" "$tls" 2>/dev/null || true
# The cluster's cookie: Erlang accepts it only in a file no one but its owner can read, so it is
# written to a private temporary file (mktemp: 0600), made 0400 and the rabbitmq user's, then
# renamed over $HOME/.erlang.cookie (a cookie kept in the volume is replaced, never edited).
cookie=${ITR_RABBITMQ_COOKIE_FILE:-/run/secrets/rabbitmq_erlang_cookie}
if [ -e "$cookie" ]; then
    [ -s "$cookie" ] || { echo "entrypoint: $cookie is empty (deploy/scripts/secrets.sh init)" >&2; exit 1; }
    home=/var/lib/rabbitmq
    tmp=$(mktemp "$home/.erlang.cookie.XXXXXX")
    tr -d '\r\n' <"$cookie" >"$tmp"
    [ -s "$tmp" ] || { rm -f "$tmp"; echo "entrypoint: $cookie holds no cookie" >&2; exit 1; }
    chmod 400 "$tmp"
    chown rabbitmq:rabbitmq "$tmp" 2>/dev/null || true
    mv -f "$tmp" "$home/.erlang.cookie"
fi
# the image's entry point chowns /var/lib/rabbitmq to the rabbitmq user when started as root
exec docker-entrypoint.sh rabbitmq-server
