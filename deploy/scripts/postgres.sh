#!/usr/bin/env bash
# Local PostgreSQL for development and tests: Debian's `postgresql` package, a cluster in a
# directory of its own on 127.0.0.1, no systemd, no docker.
#
# The cluster keeps its data, socket, log and passwords in its state directory (default
# /tmp/itr-postgres-<name>, override with ITR_POSTGRES_DIR). It holds one database (`itr` by
# default) and a login role per service named after the product (intake, itr-router,
# ltc-extractor, ipd-feedback); each service makes a schema named after its product on first
# start and owns it, so no service reads another's tables. The role `itr` owns the database
# (one URL for every service of one machine) and `itr_admin` is the superuser the tests use to
# make databases of their own.
set -euo pipefail

PROG=$(basename "$0")
SERVICES=(intake itr-router ltc-extractor ipd-feedback)

usage() {
    cat <<EOF
Usage: $PROG COMMAND [OPTIONS]

Runs a local PostgreSQL cluster bound to 127.0.0.1, as root (the server then runs as the
'postgres' system user) or as a normal user.

Commands:
  install                 install Debian's postgresql package when missing; idempotent
  start [OPTIONS]         create the cluster on first use, start it in the background and
                          wait until it accepts connections; ok if it is already running
      --name NAME           cluster name (default: \$ITR_POSTGRES_NAME or itr)
      --port N              TCP port on 127.0.0.1 (default 5432; saved for later starts)
      --database DB         the database made for the services (default itr)
      --timeout SECONDS     how long to wait for readiness (default 60)
  stop [--name NAME] [--purge]
                          stop the cluster (fast shutdown) and wait until it has exited;
                          --purge also deletes its state directory; idempotent
  kill [--name NAME]      kill -9 the postmaster (crash test); its data is kept
  status [--name NAME]    print the cluster's state; exit 0 if running, 3 if not
  env [--name NAME] [--database DB]
                          print export lines for sourcing:
                            DATABASE_URL               role itr (owns the database)
                            ITR_DATABASE_URL_<SERVICE> the service's own role (least privilege)
                            ITR_POSTGRES_ADMIN_URL     the superuser (tests, maintenance)
                          eval "\$($PROG env)"
  url [--name NAME] [--user ROLE] [--database DB]
                          print one URL (default role itr)
  create-database DB [--name NAME]
                          make database DB with the services' schemas and rights (tests);
                          idempotent
  drop-database DB [--name NAME]
                          drop database DB, ending its sessions; idempotent
  psql [--name NAME] [--database DB] -- ARGS...
                          run psql as the superuser
  help                    this text

Environment:
  ITR_POSTGRES_DIR        state directory (default /tmp/itr-postgres-<name>)
  ITR_POSTGRES_NAME       default cluster name
  ITR_POSTGRES_BIN        directory holding initdb, pg_ctl, postgres, psql
                          (default: the newest /usr/lib/postgresql/<version>/bin)
EOF
}

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cmd_install() {
    [ $# -eq 0 ] || die "install takes no arguments"
    if pg_bin_dir >/dev/null 2>&1; then
        log "postgresql present ($(pg_bin_dir))"
        return 0
    fi
    apt_install postgresql
    log "installed: postgresql ($(pg_bin_dir))"
}

# ---------------------------------------------------------------------------
# cluster state

NAME=""
STATE_DIR=""
PORT=""
DATABASE=""

pg_bin_dir() {
    if [ -n "${ITR_POSTGRES_BIN:-}" ]; then
        [ -x "$ITR_POSTGRES_BIN/pg_ctl" ] || return 1
        echo "$ITR_POSTGRES_BIN"
        return 0
    fi
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/pg_ctl" ] || return 1
    echo "$d"
}

bin() {
    local d
    d=$(pg_bin_dir) || die "PostgreSQL not found: run '$PROG install'"
    echo "$d/$1"
}

set_name() {
    NAME=${1:-${ITR_POSTGRES_NAME:-itr}}
    [[ "$NAME" =~ ^[A-Za-z0-9_-]+$ ]] || die "invalid cluster name '$NAME' (letters, digits, _ and - only)"
    STATE_DIR=${ITR_POSTGRES_DIR:-/tmp/itr-postgres-$NAME}
    if [ -f "$STATE_DIR/cluster.env" ]; then
        local owner
        owner=$(sed -n 's/^NAME=//p' "$STATE_DIR/cluster.env")
        if [ -n "$owner" ] && [ "$owner" != "$NAME" ]; then
            die "state directory $STATE_DIR belongs to cluster '$owner', not '$NAME' (check ITR_POSTGRES_DIR)"
        fi
    fi
}

load_saved() {
    local f="$STATE_DIR/cluster.env" key value
    [ -f "$f" ] || return 0
    while IFS='=' read -r key value; do
        case "$key" in
            PORT) PORT=${PORT:-$value} ;;
            DATABASE) DATABASE=${DATABASE:-$value} ;;
        esac
    done <"$f"
}

save_settings() {
    printf 'NAME=%s\nPORT=%s\nDATABASE=%s\n' "$NAME" "$PORT" "$DATABASE" >"$STATE_DIR/cluster.env"
}


check_database_name() {
    [[ "$1" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "invalid database name '$1' (lower-case letters, digits and _; at most 63)"
}

# The server must not run as root: as root, everything of the cluster belongs to 'postgres'.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        getent passwd postgres >/dev/null || die "running as root needs the 'postgres' system user (Debian's postgresql package makes it)"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

data_dir() { echo "$STATE_DIR/data"; }

postmaster_pid() {
    local f pid
    f="$(data_dir)/postmaster.pid"
    [ -s "$f" ] || return 0
    pid=$(head -n 1 "$f" | tr -dc '0-9')
    [ -n "$pid" ] || return 0
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$(data_dir)"; then
        echo "$pid"
    fi
}

password_of() { # role
    local f="$STATE_DIR/passwords/$1"
    [ -s "$f" ] || die "no password for role '$1' in $STATE_DIR/passwords (start the cluster first)"
    cat "$f"
}

make_password() { # role
    local f="$STATE_DIR/passwords/$1"
    [ -s "$f" ] && return 0
    (umask 077; od -An -N18 -tx1 /dev/urandom | tr -dc '0-9a-f' >"$f")
}


# psql as the superuser over the cluster's own socket (no password on the socket: peer of the owner).
admin_psql() { # database args...
    local db=$1
    shift
    as_owner env PGOPTIONS="-c client_min_messages=warning" "$(bin psql)" -X -q -v ON_ERROR_STOP=1 \
        -h "$STATE_DIR/socket" -p "$PORT" -U itr_admin -d "$db" "$@"
}

sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

init_cluster() {
    mkdir -p "$STATE_DIR/passwords" "$STATE_DIR/socket" "$STATE_DIR/log"
    chmod 700 "$STATE_DIR/passwords"
    local role
    for role in itr_admin itr "${SERVICES[@]}"; do make_password "$role"; done
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$STATE_DIR" "$STATE_DIR/socket" "$STATE_DIR/log"
    fi
    [ -f "$(data_dir)/PG_VERSION" ] && return 0
    log "creating cluster $NAME in $(data_dir)"
    local pwfile="$STATE_DIR/initdb.pw"
    (umask 077; password_of itr_admin >"$pwfile")
    [ "$(id -u)" -ne 0 ] || chown postgres "$pwfile"
    as_owner "$(bin initdb)" -D "$(data_dir)" -U itr_admin --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >"$STATE_DIR/log/initdb.log" 2>&1 \
        || { rm -f "$pwfile"; tail -n 20 "$STATE_DIR/log/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
    # As root the peer is 'postgres', not itr_admin: map it (and only it) to the superuser.
    {
        echo "# generated by $PROG"
        echo "owner $(id -un) itr_admin"
        echo "owner postgres itr_admin"
    } | as_owner tee "$(data_dir)/pg_ident.conf" >/dev/null
    {
        echo "# generated by $PROG: the socket for the cluster's owner, TCP on loopback with passwords"
        echo "local all itr_admin peer map=owner"
        echo "host  all all 127.0.0.1/32 scram-sha-256"
    } | as_owner tee "$(data_dir)/pg_hba.conf" >/dev/null
}

write_config() {
    {
        echo "# generated by $PROG; rewritten on every start"
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PORT"
        echo "unix_socket_directories = '$STATE_DIR/socket'"
        echo "max_connections = 200"
        echo "shared_buffers = 128MB"
        echo "logging_collector = off"
        echo "log_min_messages = warning"
        echo "password_encryption = scram-sha-256"
    } | as_owner tee "$(data_dir)/itr.conf" >/dev/null
    if ! grep -q "^include_if_exists = 'itr.conf'" "$(data_dir)/postgresql.conf"; then
        echo "include_if_exists = 'itr.conf'" | as_owner tee -a "$(data_dir)/postgresql.conf" >/dev/null
    fi
}

wait_ready() { # timeout
    local deadline=$((SECONDS + $1))
    until as_owner "$(bin pg_isready)" -q -h "$STATE_DIR/socket" -p "$PORT" -U itr_admin; do
        if [ -z "$(postmaster_pid)" ] && [ $SECONDS -gt $((deadline - $1 + 5)) ]; then
            tail -n 30 "$STATE_DIR/log/server.log" >&2 || true
            die "cluster $NAME exited while starting (log: $STATE_DIR/log/server.log)"
        fi
        if [ $SECONDS -ge "$deadline" ]; then
            tail -n 30 "$STATE_DIR/log/server.log" >&2 || true
            die "cluster $NAME not ready after $1 s (log: $STATE_DIR/log/server.log)"
        fi
        sleep 0.2
    done
}

# Roles, the database and its schemas; idempotent (run on every start and create-database).
ensure_roles() {
    local role sql=""
    for role in itr "${SERVICES[@]}"; do
        local pw
        pw=$(sql_literal "$(password_of "$role")")
        sql+="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE \"$role\" LOGIN PASSWORD $pw;
  ELSE
    ALTER ROLE \"$role\" LOGIN PASSWORD $pw;
  END IF;
END \$\$;
"
    done
    printf '%s' "$sql" | admin_psql postgres -f - >/dev/null || die "cannot create the roles"
}

ensure_database() { # db
    local db=$1 role
    if [ "$(admin_psql postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
        admin_psql postgres -c "CREATE DATABASE \"$db\" OWNER itr ENCODING 'UTF8' TEMPLATE template0" >/dev/null \
            || die "cannot create database $db"
    fi
    # Every role may connect and make schemas; each service makes the schema named after its
    # product on first start and owns it, so no service can read another's tables.
    local sql="REVOKE ALL ON DATABASE \"$db\" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
"
    for role in itr "${SERVICES[@]}"; do
        sql+="GRANT CONNECT, CREATE, TEMPORARY ON DATABASE \"$db\" TO \"$role\";
"
    done
    printf '%s' "$sql" | admin_psql "$db" -f - >/dev/null || die "cannot set up the schemas of database $db"
}

# ---------------------------------------------------------------------------
# commands

cmd_start() {
    local name="" timeout=60 o_port="" o_db=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) name=${2:?--name needs a value}; shift 2 ;;
            --port) o_port=${2:?--port needs a value}; shift 2 ;;
            --database) o_db=${2:?--database needs a value}; shift 2 ;;
            --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
            -h|--help) usage; exit 0 ;;
            *) die "start: unknown option '$1'" ;;
        esac
    done
    set_name "$name"
    PORT=$o_port DATABASE=$o_db
    load_saved
    PORT=${PORT:-5432}
    DATABASE=${DATABASE:-itr}
    check_port "$PORT" "--port"
    check_database_name "$DATABASE"
    local pid
    pid=$(postmaster_pid)
    if [ -n "$pid" ]; then
        local s_port
        s_port=$(sed -n 's/^PORT=//p' "$STATE_DIR/cluster.env" 2>/dev/null)
        [ "$s_port" = "$PORT" ] || die "cluster $NAME is already running (pid $pid) on port $s_port; stop it first"
        wait_ready "$timeout"
        save_settings
        ensure_roles
        ensure_database "$DATABASE"
        log "cluster $NAME already running (pid $pid, 127.0.0.1:$PORT)"
        return 0
    fi
    port_open "$PORT" && die "port $PORT is already in use by another process; choose another --port"
    mkdir -p "$STATE_DIR"
    init_cluster
    write_config
    save_settings
    log "starting cluster $NAME (127.0.0.1:$PORT, dir $STATE_DIR)"
    as_owner "$(bin pg_ctl)" -D "$(data_dir)" -l "$STATE_DIR/log/server.log" -s -w -t "$timeout" start >/dev/null \
        || { tail -n 30 "$STATE_DIR/log/server.log" >&2 || true; die "pg_ctl start failed (log: $STATE_DIR/log/server.log)"; }
    wait_ready "$timeout"
    ensure_roles
    ensure_database "$DATABASE"
    log "cluster $NAME ready: database $DATABASE on 127.0.0.1:$PORT"
}

# Reads --name (and --purge where allowed) for stop, kill and status; sets NAME and PURGE.
parse_name_option() { # command allow-purge args...
    local command=$1 allow=$2 name=""
    shift 2
    PURGE=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) name=${2:?--name needs a value}; shift 2 ;;
            --purge) [ -n "$allow" ] || die "$command: unknown option '$1'"; PURGE=1; shift ;;
            *) die "$command: unknown option '$1'" ;;
        esac
    done
    set_name "$name"
}

cmd_stop() {
    parse_name_option stop 1 "$@"
    local pid
    pid=$(postmaster_pid)
    if [ -n "$pid" ]; then
        log "stopping cluster $NAME (pid $pid)"
        as_owner "$(bin pg_ctl)" -D "$(data_dir)" -s -m fast -w -t 60 stop >/dev/null || {
            log "fast shutdown failed: killing pid $pid"
            kill -9 "$pid" 2>/dev/null || true
        }
        wait_gone "$pid" 30 || die "cluster $NAME (pid $pid) did not exit"
    fi
    if [ -n "$PURGE" ] && [ -d "$STATE_DIR" ]; then
        rm -rf "$STATE_DIR"
        log "deleted $STATE_DIR"
    fi
    return 0
}

cmd_kill() {
    parse_name_option kill "" "$@"
    local pid
    pid=$(postmaster_pid)
    [ -n "$pid" ] || { log "cluster $NAME is not running"; return 0; }
    kill -9 "$pid"
    wait_gone "$pid" 30 || die "pid $pid survived SIGKILL"
    # the backends go down with the postmaster; a start recovers from the WAL
    log "killed cluster $NAME (pid $pid)"
}

cmd_status() {
    parse_name_option status "" "$@"
    load_saved
    local pid
    pid=$(postmaster_pid)
    if [ -n "$pid" ]; then
        echo "cluster $NAME: running (pid $pid, 127.0.0.1:${PORT:-?}, database ${DATABASE:-itr}, dir $STATE_DIR)"
        return 0
    fi
    echo "cluster $NAME: not running (dir $STATE_DIR)"
    return 3
}

url_of() { # role database
    printf 'postgres://%s:%s@127.0.0.1:%s/%s' "$1" "$(password_of "$1")" "$PORT" "$2"
}

# Options shared by env and url: --name, --database, --user.
parse_url_options() {
    O_NAME="" O_DB="" O_USER=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) O_NAME=${2:?--name needs a value}; shift 2 ;;
            --database) O_DB=${2:?--database needs a value}; shift 2 ;;
            --user) O_USER=${2:?--user needs a value}; shift 2 ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    set_name "$O_NAME"
    load_saved
    [ -n "$PORT" ] || die "cluster $NAME has never been started (no $STATE_DIR/cluster.env)"
    DATABASE=${O_DB:-${DATABASE:-itr}}
    check_database_name "$DATABASE"
}

cmd_env() {
    parse_url_options "$@"
    [ -z "$O_USER" ] || die "env: --user is for url"
    echo "export DATABASE_URL='$(url_of itr "$DATABASE")'"
    local role var
    for role in "${SERVICES[@]}"; do
        var=$(echo "$role" | tr 'a-z-' 'A-Z_')
        echo "export ITR_DATABASE_URL_$var='$(url_of "$role" "$DATABASE")'"
    done
    echo "export ITR_POSTGRES_ADMIN_URL='$(url_of itr_admin postgres)'"
    echo "export ITR_POSTGRES_NAME='$NAME'"
    echo "export ITR_POSTGRES_PORT='$PORT'"
}

cmd_url() {
    parse_url_options "$@"
    local role=${O_USER:-itr}
    case " itr itr_admin ${SERVICES[*]} " in
        *" $role "*) ;;
        *) die "url: unknown role '$role' (itr, itr_admin, ${SERVICES[*]})" ;;
    esac
    url_of "$role" "$DATABASE"
    echo
}

running_or_die() {
    load_saved
    [ -n "$(postmaster_pid)" ] || die "cluster $NAME is not running ('$PROG start --name $NAME')"
}

# Reads "DB [--name NAME]" for create-database and drop-database; sets DB_ARG, NAME, PORT.
parse_database_command() { # command args...
    local command=$1 name=""
    shift
    DB_ARG=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) name=${2:?--name needs a value}; shift 2 ;;
            -*) die "$command: unknown option '$1'" ;;
            *) [ -z "$DB_ARG" ] || die "$command takes one database name"; DB_ARG=$1; shift ;;
        esac
    done
    [ -n "$DB_ARG" ] || die "$command needs a database name"
    check_database_name "$DB_ARG"
    set_name "$name"
    running_or_die
}

cmd_create_database() {
    parse_database_command create-database "$@"
    ensure_database "$DB_ARG"
}

cmd_drop_database() {
    parse_database_command drop-database "$@"
    admin_psql postgres -c "DROP DATABASE IF EXISTS \"$DB_ARG\" WITH (FORCE)" >/dev/null || die "cannot drop database $DB_ARG"
}

cmd_psql() {
    local name="" db=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --name) name=${2:?--name needs a value}; shift 2 ;;
            --database) db=${2:?--database needs a value}; shift 2 ;;
            --) shift; break ;;
            *) die "psql: unknown option '$1' (psql's own arguments go after --)" ;;
        esac
    done
    set_name "$name"
    running_or_die
    DATABASE=${db:-${DATABASE:-itr}}
    admin_psql "$DATABASE" "$@"
}

main() {
    local cmd=${1:-help}
    [ $# -eq 0 ] || shift
    case "$cmd" in
        install) cmd_install "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        kill) cmd_kill "$@" ;;
        status) cmd_status "$@" ;;
        env) cmd_env "$@" ;;
        url) cmd_url "$@" ;;
        create-database) cmd_create_database "$@" ;;
        drop-database) cmd_drop_database "$@" ;;
        psql) cmd_psql "$@" ;;
        help|-h|--help) usage ;;
        *) usage >&2; die "unknown command '$cmd'" ;;
    esac
}

main "$@"
