#!/usr/bin/env bash
# The ha profile's PostgreSQL (docker-compose.yml, service postgres): mounted read-only into
# /docker-entrypoint-initdb.d/, so the official image runs it once, as the postgres user, on the
# server it starts over its socket while the data directory is new. It sets up what
# deploy/scripts/postgres.sh start sets up on a local cluster:
#   - one login role per service, named after the product (intake, itr-router, ltc-extractor,
#     ipd-feedback), its password from the secret /run/secrets/postgres_<product with _>
#     (deploy/scripts/secrets.sh init: postgres/<product>, the password of database-url/<product>);
#   - the database (itr): nothing for PUBLIC on it or on its schema public; every role may
#     connect, make schemas and temporary tables;
#   - a schema per service named after its product and owned by its role, the one the service
#     uses (it would make it on first start; here it exists, with that owner, from the start).
# The superuser (POSTGRES_USER, itr_admin as in postgres.sh) and its password come from the
# image's own POSTGRES_PASSWORD_FILE. There is no shared role `itr` (postgres.sh's one URL for a
# whole machine): every instance connects as its service's own role.
# Idempotent: it may be run again to apply changed passwords or a new service:
#   docker compose exec -u postgres postgres /docker-entrypoint-initdb.d/10-itr.sh
# No password is ever on a command line or in the environment: psql reads each secret file.
set -euo pipefail

SERVICES=(intake itr-router ltc-extractor ipd-feedback)
database=${POSTGRES_DB:-itr}
secrets=${ITR_POSTGRES_SECRETS_DIR:-/run/secrets}

die() { echo "init.sh: error: $*" >&2; exit 1; }

[[ "$database" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "invalid database name '$database'"

# Roles: made when missing, their password (re)set from the secret in every run.
roles=""
for service in "${SERVICES[@]}"; do
    file="$secrets/postgres_${service//-/_}"
    [ -s "$file" ] || die "no password for role $service in $file (deploy/scripts/secrets.sh init)"
    [[ "$file" != *[\'\`\\]* ]] || die "unusable secret path $file"
    roles+="\\set password \`cat '$file'\`
SELECT format('CREATE ROLE %I LOGIN', '$service') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$service') \\gexec
ALTER ROLE \"$service\" LOGIN PASSWORD :'password';
\\unset password
"
done

# The database, its rights and the services' schemas.
rights="SELECT format('CREATE DATABASE %I ENCODING ''UTF8'' TEMPLATE template0', '$database')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$database') \\gexec
\\connect \"$database\"
REVOKE ALL ON DATABASE \"$database\" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
"
for service in "${SERVICES[@]}"; do
    rights+="GRANT CONNECT, CREATE, TEMPORARY ON DATABASE \"$database\" TO \"$service\";
CREATE SCHEMA IF NOT EXISTS \"$service\" AUTHORIZATION \"$service\";
ALTER SCHEMA \"$service\" OWNER TO \"$service\";
"
done

printf '%s%s' "$roles" "$rights" | PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 --no-password \
    --username "${POSTGRES_USER:-postgres}" --dbname postgres -f - >/dev/null
echo "init.sh: database $database with the roles and schemas ${SERVICES[*]}"
