# Shared helpers for the Powernode scripts: logging, package install, ports, waiting, secrets,
# and starting/stopping a powernode-server process. Source it; it sets strict mode.
# shellcheck shell=bash

set -euo pipefail

PN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PN_PG_BIN="${PN_PG_BIN:-/usr/lib/postgresql/15/bin}"
PN_SERVICE_USER="${PN_SERVICE_USER:-powernode}"
PN_LOG_TAG="${PN_LOG_TAG:-$(basename "$0" .sh)}"
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- logging

pn_log() {
    printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$PN_LOG_TAG" "$*" >&2
}
pn_warn() {
    printf '[%s %s] WARNING: %s\n' "$(date +%H:%M:%S)" "$PN_LOG_TAG" "$*" >&2
}
pn_die() {
    printf '[%s %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$PN_LOG_TAG" "$*" >&2
    exit 1
}
pn_need_root() {
    [[ $(id -u) -eq 0 ]] || pn_die "run this as root (it installs packages and creates the '$PN_SERVICE_USER' user)"
}

# ---------------------------------------------------------------- packages

# What the platform needs to build, run, test and benchmark on Debian 12. curl and procps are
# used by the scripts themselves (health checks, pgrep).
PN_PACKAGES=(build-essential cmake pkg-config clang libclang-rt-14-dev clang-format clang-tidy
    libevent-dev libpq-dev libhiredis-dev libjansson-dev libjwt-dev libyaml-dev libcunit1-dev
    libssl-dev libcurl4-openssl-dev libargon2-dev postgresql redis-server nginx-light wrk
    slowhttptest python3 ruby-sidekiq curl procps
    libvips-dev libjpeg62-turbo-dev libexif-dev libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
    libvips-tools ffmpeg libimage-exiftool-perl imagemagick strace chromium time)
# The security update of libevent 2.1 (see README "Libraries and why").
PN_LIBEVENT_MIN="2.1.12-stable-8+deb12u1"
PN_LIBEVENT_PKGS=(libevent-2.1-7 libevent-core-2.1-7 libevent-pthreads-2.1-7 libevent-dev)

pn_pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}
pn_pkg_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}
pn_libevent_ok() {
    local p v
    for p in "${PN_LIBEVENT_PKGS[@]}"; do
        v=$(pn_pkg_version "$p")
        [[ -n $v ]] && pn_pkg_installed "$p" || return 1
        dpkg --compare-versions "$v" ge "$PN_LIBEVENT_MIN" || return 1
    done
}

# apt-get with a wait on the dpkg lock (another engineer's install may hold it), and without
# letting package scripts start the system-wide daemons (we run our own on loopback).
pn_apt() {
    local made_policy=0 rc=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\n# written by powernode scripts/lib.sh during apt-get; removed after\nexit 101\n' \
            >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold "$@" || rc=$?
    if [[ $made_policy == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
    return $rc
}

# Install what is missing; touches the network only when something is missing, so a second run
# is fast and works offline.
pn_install_deps() {
    local missing=() p
    for p in "${PN_PACKAGES[@]}"; do
        pn_pkg_installed "$p" || missing+=("$p")
    done
    # A node from elsewhere (e.g. NodeSource) ships its own npm: leave it alone.
    if ! command -v node >/dev/null 2>&1; then
        pn_pkg_installed nodejs || missing+=(nodejs)
        pn_pkg_installed npm || missing+=(npm)
    fi
    local need_libevent=0
    pn_libevent_ok || need_libevent=1
    if [[ ${#missing[@]} -eq 0 && $need_libevent == 0 ]]; then
        pn_log "packages: all present (libevent $(pn_pkg_version libevent-core-2.1-7))"
        return 0
    fi
    pn_need_root
    pn_log "packages: installing ${missing[*]:-(none)}; libevent >= $PN_LIBEVENT_MIN: $([[ $need_libevent == 1 ]] && echo update || echo ok)"
    pn_apt update -q
    if [[ ${#missing[@]} -gt 0 ]]; then
        pn_apt install -y -q --no-install-recommends "${missing[@]}"
    fi
    if ! pn_libevent_ok; then
        pn_apt install -y -q --no-install-recommends "${PN_LIBEVENT_PKGS[@]}"
    fi
    pn_libevent_ok || pn_die "libevent must be >= $PN_LIBEVENT_MIN (have $(pn_pkg_version libevent-core-2.1-7)); is bookworm-security in the apt sources?"
    for p in "${missing[@]}"; do
        pn_pkg_installed "$p" || pn_die "package $p did not install"
    done
    pn_log "packages: done"
}

# ---------------------------------------------------------------- ports and waiting

pn_python() {
    if [[ -x /usr/bin/python3 ]]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
pn_port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Print a TCP port on 127.0.0.1 that is free right now (the kernel picks it).
pn_free_port() {
    local p
    if p=$(pn_python -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null); then
        echo "$p"
        return 0
    fi
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 30000))
        if ! pn_port_open "$p"; then
            echo "$p"
            return 0
        fi
    done
    pn_die "no free port found on 127.0.0.1"
}

# pn_wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND every 0.2 s until it succeeds.
pn_wait_for() {
    local secs=$1 what=$2
    shift 2
    local deadline=$((SECONDS + secs))
    while ! "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            pn_warn "timed out after ${secs}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}
pn_wait_port() {
    pn_wait_for "$2" "127.0.0.1:$1" pn_port_open "$1"
}

# pn_pid_alive PIDFILE: the pid in the file is a live process.
pn_pid_alive() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(<"$1")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# pn_kill_wait PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL. 0 once it is gone.
pn_kill_wait() {
    local pid=$1 secs=$2 deadline
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            pn_warn "pid $pid ignored SIGTERM for ${secs}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    ! kill -0 "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- secrets and env files

pn_random_hex() { # bytes
    od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# pn_secret_ensure FILE KEY VALUE: add KEY='VALUE' to FILE (mode 0600) unless KEY is there.
pn_secret_ensure() {
    local file=$1 key=$2 value=$3
    (
        umask 077
        touch "$file"
    )
    chmod 0600 "$file"
    if ! grep -q "^${key}=" "$file"; then
        printf "%s='%s'\n" "$key" "$value" >>"$file"
    fi
}

# pn_env_get FILE KEY: the value of KEY in a KEY='value' file written by these scripts.
pn_env_get() {
    [[ -f $1 ]] || return 1
    (
        set +u
        # shellcheck disable=SC1090
        source "$1"
        [[ -n ${!2:-} ]] || exit 1
        printf '%s\n' "${!2}"
    )
}

# pn_source_env FILE...: export every variable defined in the files that exist.
pn_source_env() {
    local f
    for f in "$@"; do
        if [[ -f $f ]]; then
            set -a
            # shellcheck disable=SC1090
            source "$f"
            set +a
        fi
    done
}

# ---------------------------------------------------------------- cmake

pn_nproc_build() {
    local n
    n=$(nproc 2>/dev/null || echo 2)
    ((n > 2)) && n=2 # the machine is shared; the brief caps parallel builds at 2
    echo "${PN_BUILD_JOBS:-$n}"
}

# pn_cmake_build DIR ARGS...: configure (into DIR) and build.
pn_cmake_build() {
    local dir=$1
    shift
    pn_log "cmake: configure $dir ($*)"
    mkdir -p "$dir"
    cmake -S "$PN_ROOT" -B "$dir" "$@" >"$dir/pn-configure.log" 2>&1 || {
        cat "$dir/pn-configure.log" >&2
        pn_die "cmake configure of $dir failed"
    }
    pn_log "cmake: build $dir (-j$(pn_nproc_build))"
    cmake --build "$dir" -j"$(pn_nproc_build)" || pn_die "build of $dir failed (compiler messages above)"
}

# ---------------------------------------------------------------- the server process

# shellcheck disable=SC2034  # used by the scripts that source this file
PN_SERVER_REL="kernel/src/app/powernode-server"

# pn_server_start BINARY CONFIG PIDFILE LOGFILE [ENVFILE...]: start the server detached (own
# session, so it survives the calling script) with the env files exported.
pn_server_start() {
    local bin=$1 cfg=$2 pidfile=$3 logfile=$4
    shift 4
    [[ -x $bin ]] || pn_die "server binary $bin does not exist"
    (
        pn_source_env "$@"
        cd "$PN_ROOT"
        printf '\n=== %s start %s --config %s\n' "$(date -Is)" "$bin" "$cfg" >>"$logfile"
        setsid "$bin" --config "$cfg" </dev/null >>"$logfile" 2>&1 8>&- 9>&- &
        echo $! >"$pidfile"
    )
    pn_log "server: started pid $(<"$pidfile"), log $logfile"
}

pn_server_stop() { # PIDFILE
    local pidfile=$1 pid
    if pn_pid_alive "$pidfile"; then
        pid=$(<"$pidfile")
        pn_log "server: stopping pid $pid"
        pn_kill_wait "$pid" 20 || pn_die "could not stop pid $pid"
    fi
    rm -f "$pidfile"
}

# pn_http_ok URL: GET answers 2xx.
pn_http_ok() {
    curl -fs -o /dev/null --max-time 2 "$1"
}

# npm ci in a folder with a package-lock.json, only when node_modules is missing or older than
# the lock file, so a second run touches no network.
pn_npm_ci() {
    local dir=$1
    [[ -f $dir/package-lock.json ]] || return 0
    if [[ -f $dir/node_modules/.package-lock.json && $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        return 0
    fi
    pn_log "npm ci in ${dir#"$PN_ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || pn_die "npm ci failed in $dir"
}

# Every folder of the project whose node packages the tests need.
PN_NPM_DIRS=(tests/integration tests/interop/storage tests/e2e frontend)
pn_npm_all() {
    local d
    for d in "${PN_NPM_DIRS[@]}"; do
        pn_npm_ci "$PN_ROOT/$d"
    done
}
