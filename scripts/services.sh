#!/usr/bin/env bash
# PostgreSQL 15 and Redis for one profile (dev or test), on 127.0.0.1 only, data under
# var/<profile>/, run as the unprivileged system user 'powernode'. Connection settings go to
# var/<profile>/env for other scripts to source.
#
#   scripts/services.sh start|stop|status [--profile dev|test]
#   scripts/services.sh restart-pg|restart-redis [--profile test] [--hard] [--down SECONDS]
#   scripts/services.sh wipe --profile test        (stop, then delete the test data)
#
# --hard kills instead of shutting down cleanly (PostgreSQL "immediate" mode, Redis SIGKILL);
# --down keeps the service stopped that long before starting it again.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '6,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
profile=dev hard=0 down=0
while [[ $# -gt 0 ]]; do
    case $1 in
    --profile) profile=${2:?--profile needs dev or test}; shift 2 ;;
    --profile=*) profile=${1#*=}; shift ;;
    --hard) hard=1; shift ;;
    --down) down=${2:?--down needs seconds}; shift 2 ;;
    *) usage ;;
    esac
done
[[ $profile == dev || $profile == test ]] || pn_die "unknown profile '$profile' (dev or test)"
[[ $down =~ ^[0-9]+(\.[0-9]+)?$ ]] || pn_die "--down wants a number of seconds"
# shellcheck disable=SC2034  # read by lib.sh
PN_LOG_TAG="services:$profile"

VAR="$PN_ROOT/var/$profile"
ENV_FILE="$VAR/env"
PORTS_FILE="$VAR/ports"
SECRETS_FILE="$VAR/secrets.env"
DB_NAME=powernode
DB_USER=powernode

# Run a command as the service user, from a directory it can read, without the lock fd (a
# daemon that inherited it would hold the lock for its whole life).
as_svc() {
    (cd / && runuser -u "$PN_SERVICE_USER" -- "$@" 8>&- 9>&-)
}

ensure_user() {
    if ! getent passwd "$PN_SERVICE_USER" >/dev/null; then
        pn_log "creating system user $PN_SERVICE_USER"
        useradd --system --user-group --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin "$PN_SERVICE_USER"
    fi
}

# Where the service data lives: var/<profile>/ when the service user can reach it; otherwise
# (a checkout under a private home directory) a per-checkout folder under /var/lib/powernode.
svc_base() {
    mkdir -p "$VAR"
    chmod 0755 "$VAR"
    if getent passwd "$PN_SERVICE_USER" >/dev/null && as_svc test -x "$VAR" 2>/dev/null; then
        echo "$VAR"
    else
        echo "/var/lib/powernode/$(printf '%s' "$PN_ROOT" | md5sum | cut -c1-12)/$profile"
    fi
}

setup_paths() {
    BASE=$(svc_base)
    PGDATA="$BASE/pg"
    PGLOG="$BASE/pg.log"
    REDIS_DIR="$BASE/redis"
    REDIS_PID="$REDIS_DIR/redis.pid"
    SOCK_DIR="$BASE/run"
    # A Unix socket path is limited to 107 bytes.
    if ((${#SOCK_DIR} > 80)); then
        SOCK_DIR="/tmp/powernode-$(printf '%s' "$PN_ROOT" | md5sum | cut -c1-8)-$profile"
    fi
}

make_dirs() {
    mkdir -p "$BASE" "$REDIS_DIR" "$SOCK_DIR" "$PGDATA"
    chown "$PN_SERVICE_USER:" "$REDIS_DIR" "$SOCK_DIR" "$PGDATA"
    chmod 0700 "$REDIS_DIR" "$SOCK_DIR" "$PGDATA"
    touch "$PGLOG"
    chown "$PN_SERVICE_USER:" "$PGLOG"
    chmod 0600 "$PGLOG"
}

read_ports() {
    PG_PORT=$(pn_env_get "$PORTS_FILE" PN_PG_PORT 2>/dev/null || true)
    REDIS_PORT=$(pn_env_get "$PORTS_FILE" PN_REDIS_PORT 2>/dev/null || true)
}

choose_ports() {
    if [[ $profile == dev ]]; then
        PG_PORT=${PN_DEV_PG_PORT:-5433}
        REDIS_PORT=${PN_DEV_REDIS_PORT:-6380}
    else
        read_ports
        if ! pg_running || [[ -z $PG_PORT ]]; then PG_PORT=$(pn_free_port); fi
        if ! redis_running || [[ -z $REDIS_PORT ]]; then
            REDIS_PORT=$(pn_free_port)
            [[ $REDIS_PORT != "$PG_PORT" ]] || REDIS_PORT=$(pn_free_port)
        fi
    fi
    printf "PN_PG_PORT='%s'\nPN_REDIS_PORT='%s'\n" "$PG_PORT" "$REDIS_PORT" >"$PORTS_FILE"
}

# ---------------------------------------------------------------- PostgreSQL

pg_ctl() {
    as_svc "$PN_PG_BIN/pg_ctl" -D "$PGDATA" "$@"
}
pg_running() {
    [[ -f $PGDATA/PG_VERSION ]] && pg_ctl status >/dev/null 2>&1
}
psql_admin() {
    as_svc env PGOPTIONS="-c client_min_messages=warning" "$PN_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" \
        -U postgres -d postgres "$@"
}

pg_init() {
    [[ -f $PGDATA/PG_VERSION ]] && return 0
    pn_log "initdb $PGDATA"
    # The bootstrap superuser is 'postgres'; only the OS user powernode may act as it, over the
    # Unix socket (peer + map). The application role is created below.
    as_svc "$PN_PG_BIN/initdb" -D "$PGDATA" -U postgres --encoding=UTF8 --locale=C \
        --auth-local=peer --auth-host=scram-sha-256 >"$BASE/initdb.log" 2>&1 || {
        cat "$BASE/initdb.log" >&2
        pn_die "initdb failed"
    }
    if [[ $profile == test ]]; then
        # Test profile: trust, but only on the socket (mode 0700, owned by powernode) and
        # 127.0.0.1, so tests can connect as any role without secrets. Never used for dev.
        cat >"$PGDATA/pg_hba.conf" <<'EOF'
# written by scripts/services.sh (test profile: trust on loopback only)
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
EOF
    else
        cat >"$PGDATA/pg_hba.conf" <<'EOF'
# written by scripts/services.sh (dev profile)
local   all   all                 peer map=powernode
host    all   all   127.0.0.1/32  scram-sha-256
EOF
        cat >"$PGDATA/pg_ident.conf" <<EOF
# written by scripts/services.sh: the OS user $PN_SERVICE_USER may connect as these roles
powernode   $PN_SERVICE_USER   postgres
powernode   $PN_SERVICE_USER   $DB_USER
EOF
    fi
    echo "include_if_exists = 'powernode.conf'" >>"$PGDATA/postgresql.conf"
    chown "$PN_SERVICE_USER:" "$PGDATA/pg_hba.conf" "$PGDATA/pg_ident.conf" "$PGDATA/postgresql.conf"
}

pg_write_conf() {
    {
        echo "# written by scripts/services.sh on every start"
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PG_PORT"
        echo "unix_socket_directories = '$SOCK_DIR'"
        echo "unix_socket_permissions = 0700"
        echo "password_encryption = 'scram-sha-256'"
        if [[ $profile == test ]]; then
            # Throwaway data: a process crash still loses nothing (the page cache survives),
            # only a machine crash would.
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
            echo "max_connections = 200"
        fi
    } >"$PGDATA/powernode.conf"
    chown "$PN_SERVICE_USER:" "$PGDATA/powernode.conf"
}

pg_start() {
    if pg_running; then
        pn_log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
        return 0
    fi
    if pn_port_open "$PG_PORT"; then
        pn_die "port $PG_PORT is taken by another program; PostgreSQL ($profile) cannot start there"
    fi
    pg_write_conf
    pn_log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    pg_ctl -l "$PGLOG" -w -t 60 start >/dev/null || {
        tail -n 30 "$PGLOG" >&2
        pn_die "PostgreSQL did not start (log: $PGLOG)"
    }
}

pg_stop() {
    local mode=$1
    if pg_running; then
        pn_log "stopping PostgreSQL (-m $mode)"
        pg_ctl -m "$mode" -w -t 60 stop >/dev/null ||
            pg_ctl -m immediate -w -t 30 stop >/dev/null ||
            pn_die "PostgreSQL did not stop"
    fi
}

pg_ensure_db() {
    local pw
    if [[ $profile == dev ]]; then
        pw=$(pn_env_get "$SECRETS_FILE" PN_DB_PASSWORD 2>/dev/null || true)
        if [[ -z $pw ]]; then
            pn_secret_ensure "$SECRETS_FILE" PN_DB_PASSWORD "$(pn_random_hex 24)"
            pw=$(pn_env_get "$SECRETS_FILE" PN_DB_PASSWORD)
        fi
        [[ $pw =~ ^[0-9a-f]+$ ]] || pn_die "PN_DB_PASSWORD in $SECRETS_FILE must be hex"
    fi
    if [[ -z $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'") ]]; then
        pn_log "creating role $DB_USER"
        psql_admin -c "CREATE ROLE $DB_USER LOGIN"
    fi
    if [[ $profile == dev ]]; then
        # Re-applied every start so the role always matches secrets.env.
        psql_admin -c "ALTER ROLE $DB_USER LOGIN NOSUPERUSER PASSWORD '$pw'"
    else
        # Tests may create scratch databases and cut connections (restart/fault tests).
        psql_admin -c "ALTER ROLE $DB_USER LOGIN NOSUPERUSER CREATEDB" \
            -c "GRANT pg_signal_backend TO $DB_USER"
    fi
    if [[ -z $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'") ]]; then
        pn_log "creating database $DB_NAME"
        psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
    fi
}

# ---------------------------------------------------------------- Redis

redis_running() {
    pn_pid_alive "$REDIS_PID"
}
redis_ping() {
    [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

redis_start() {
    if redis_running; then
        pn_log "Redis already running on 127.0.0.1:$REDIS_PORT"
        return 0
    fi
    if pn_port_open "$REDIS_PORT"; then
        pn_die "port $REDIS_PORT is taken by another program; Redis ($profile) cannot start there"
    fi
    pn_log "starting Redis on 127.0.0.1:$REDIS_PORT"
    rm -f "$REDIS_PID"
    as_svc redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save '' \
        --dir "$REDIS_DIR" --daemonize yes --pidfile "$REDIS_PID" \
        --logfile "$REDIS_DIR/redis.log" ||
        pn_die "redis-server failed to start (log: $REDIS_DIR/redis.log)"
    pn_wait_for 30 "Redis on port $REDIS_PORT" redis_ping || {
        tail -n 20 "$REDIS_DIR/redis.log" >&2
        pn_die "Redis did not answer PING"
    }
}

redis_stop() {
    local sig=${1:-TERM} pid
    if redis_running; then
        pid=$(<"$REDIS_PID")
        if [[ $sig == KILL ]]; then
            pn_log "killing Redis pid $pid"
            kill -KILL "$pid"
            pn_wait_for 10 "Redis pid $pid to exit" bash -c "! kill -0 $pid" || true
        else
            pn_log "stopping Redis pid $pid"
            pn_kill_wait "$pid" 30 || pn_die "Redis did not stop"
        fi
    fi
    rm -f "$REDIS_PID"
}

# ---------------------------------------------------------------- env file

write_env() {
    local url admin=
    if [[ $profile == dev ]]; then
        url="postgres://$DB_USER:$(pn_env_get "$SECRETS_FILE" PN_DB_PASSWORD)@127.0.0.1:$PG_PORT/$DB_NAME"
    else
        url="postgres://$DB_USER@127.0.0.1:$PG_PORT/$DB_NAME"
        admin="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    fi
    (
        umask 077
        {
            echo "# written by scripts/services.sh start --profile $profile; source it"
            echo "PN_PROFILE='$profile'"
            echo "PN_PG_PORT='$PG_PORT'"
            echo "PN_PG_SOCKET_DIR='$SOCK_DIR'"
            echo "PN_PG_DATA='$PGDATA'"
            echo "PN_REDIS_PORT='$REDIS_PORT'"
            echo "PN_REDIS_DIR='$REDIS_DIR'"
            echo "DATABASE_URL='$url'"
            echo "REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'"
            [[ -z $admin ]] || echo "PN_PG_ADMIN_URL='$admin'"
        } >"$ENV_FILE.tmp"
    )
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- commands

need_tools() {
    [[ -x $PN_PG_BIN/pg_ctl ]] || pn_die "PostgreSQL 15 is not installed ($PN_PG_BIN); run scripts/setup.sh or: apt-get install postgresql"
    command -v redis-server >/dev/null || pn_die "redis-server is not installed; run scripts/setup.sh or: apt-get install redis-server"
}

lock() {
    mkdir -p "$VAR"
    exec 9>"$VAR/.services.lock"
    flock -w 120 9 || pn_die "another services.sh holds $VAR/.services.lock"
}

cmd_start() {
    pn_need_root
    need_tools
    ensure_user
    lock
    setup_paths
    make_dirs
    choose_ports
    pg_init
    pg_start
    pg_ensure_db
    redis_start
    write_env
    pn_log "ready: PostgreSQL 127.0.0.1:$PG_PORT, Redis 127.0.0.1:$REDIS_PORT (settings in ${ENV_FILE#"$PN_ROOT"/})"
}

cmd_stop() {
    pn_need_root
    lock
    setup_paths
    read_ports
    pg_stop fast
    redis_stop TERM
    pn_log "stopped"
}

cmd_status() {
    local rc=0
    setup_paths
    read_ports
    if pg_running; then
        echo "postgresql ($profile): running on 127.0.0.1:${PG_PORT:-?} data $PGDATA"
    else
        echo "postgresql ($profile): stopped"
        rc=3
    fi
    if redis_running; then
        echo "redis ($profile): running on 127.0.0.1:${REDIS_PORT:-?} pid $(<"$REDIS_PID") dir $REDIS_DIR"
    else
        echo "redis ($profile): stopped"
        rc=3
    fi
    return $rc
}

cmd_restart_pg() {
    pn_need_root
    lock
    setup_paths
    read_ports
    [[ -n $PG_PORT ]] || pn_die "no recorded port; start the services first"
    pg_stop "$([[ $hard == 1 ]] && echo immediate || echo fast)"
    sleep "$down"
    pg_start
    pn_log "PostgreSQL restarted on 127.0.0.1:$PG_PORT"
}

cmd_restart_redis() {
    pn_need_root
    lock
    setup_paths
    read_ports
    [[ -n $REDIS_PORT ]] || pn_die "no recorded port; start the services first"
    redis_stop "$([[ $hard == 1 ]] && echo KILL || echo TERM)"
    sleep "$down"
    redis_start
    pn_log "Redis restarted on 127.0.0.1:$REDIS_PORT"
}

cmd_wipe() {
    [[ $profile == test ]] || pn_die "wipe is only for the test profile"
    cmd_stop
    pn_log "deleting test data in $BASE"
    rm -rf "$PGDATA" "$REDIS_DIR" "$BASE/initdb.log" "$PGLOG" "$ENV_FILE" "$PORTS_FILE"
}

case $cmd in
start) cmd_start ;;
wipe) cmd_wipe ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart-pg) cmd_restart_pg ;;
restart-redis) cmd_restart_redis ;;
*) usage ;;
esac
