# Helpers the project's scripts share (sourced, never run): messages, root, packages, ports.
# The sourcing script sets PROG first.

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

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

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

check_port() { # value what
    if ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
        die "invalid $2: '$1'"
    fi
}

# Installs Debian packages with apt-get. Their own services are kept from starting (the
# standard policy-rc.d): a distribution rabbitmq-server or postgresql would take the ports
# the project's scripts start their servers on.
apt_install() { # package...
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
    log "installing: $*"
    local policy=/usr/sbin/policy-rc.d added_policy="" rc=0
    if ! as_root test -e "$policy"; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        added_policy=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || rc=$?
    if [ $rc -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" || rc=$?
    fi
    [ -z "$added_policy" ] || as_root rm -f "$policy"
    [ $rc -eq 0 ] || die "apt-get failed (exit $rc)"
    log "installed: $*"
}

# Waits until pid no longer exists; false after timeout seconds. With "zombie", an exited
# child of ours not yet reaped counts as gone (a server that checks its lock file's pid, like
# PostgreSQL's, must not be restarted before the zombie is gone: leave it out there).
wait_gone() { # pid timeout [zombie]
    local pid=$1 deadline=$((SECONDS + $2)) zombie=${3:-}
    while kill -0 "$pid" 2>/dev/null; do
        if [ -n "$zombie" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then return 0; fi
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
