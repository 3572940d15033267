#!/usr/bin/env bash
# Entry point of the rabbitmq service in docker-compose.yml: writes the definitions RabbitMQ
# imports at boot (topology + the user from the secret), then runs the image's own entry point.
#   /etc/itr/definitions.json          the topology (deploy/rabbitmq/definitions.json, read-only)
#   /run/secrets/rabbitmq_password     the password (compose secret)
#   ITR_RABBITMQ_USER                  the user name (default itr)
set -euo pipefail
user=${ITR_RABBITMQ_USER:-itr}
secret=${ITR_RABBITMQ_PASSWORD_FILE:-/run/secrets/rabbitmq_password}
[ -s "$secret" ] || { echo "entrypoint: no password in $secret" >&2; exit 1; }
password=$(tr -d '\r\n' <"$secret")
json_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }
dir=/var/lib/rabbitmq/itr-definitions
mkdir -p "$dir"
cp /etc/itr/definitions.json "$dir/10-topology.json"
umask 077
cat >"$dir/00-users.json" <<JSON
{
  "users": [{"name": "$(json_escape "$user")", "password": "$(json_escape "$password")", "tags": "administrator"}],
  "vhosts": [{"name": "/"}],
  "permissions": [{"user": "$(json_escape "$user")", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]
}
JSON
# the image's entry point chowns /var/lib/rabbitmq to the rabbitmq user when started as root
exec docker-entrypoint.sh rabbitmq-server
