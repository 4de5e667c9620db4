#!/usr/bin/env bash
# The first command on a fresh Debian 12 machine (as root): install what is missing, build a
# Release server, start PostgreSQL + Redis (dev profile), migrate, create the first admin and
# start powernode-server on http://127.0.0.1:3000. Safe to run again: it rebuilds and restarts.
#
# Environment: POWERNODE_ADMIN_EMAIL / POWERNODE_ADMIN_PASSWORD choose the first admin;
# PN_CMAKE_ARGS adds cmake options (e.g. "-DPN_AREAS=core"); PN_HEALTH_URL overrides
# http://127.0.0.1:3000/health.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD="$PN_ROOT/build/release"
VAR="$PN_ROOT/var/dev"
SERVER="$BUILD/$PN_SERVER_REL"
CONFIG_SRC="$PN_ROOT/config/server.yaml"
CONFIG="$VAR/server.yaml"
SECRETS="$VAR/secrets.env"
ADMIN_ENV="$VAR/admin.env"
PIDFILE="$VAR/server.pid"
LOGFILE="$VAR/server.log"
HEALTH_URL="${PN_HEALTH_URL:-http://127.0.0.1:3000/health}"
BASE_URL="${HEALTH_URL%/health}"

pn_need_root
pn_install_deps

# ---------------------------------------------------------------- build
# The platform build needs no tests. PN_AREAS is given every time: a value left in the cmake
# cache by an earlier run would stick.
# shellcheck disable=SC2086  # PN_CMAKE_ARGS is a list of words on purpose
pn_cmake_build "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPN_AREAS=all -DPN_BUILD_TESTS=OFF ${PN_CMAKE_ARGS:-}

if [[ -f $PN_ROOT/frontend/package.json ]]; then
    # Reinstall only when the lock file changed, so a second run needs no network.
    (
        cd "$PN_ROOT/frontend" || exit 1
        if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
            pn_log "frontend: npm ci"
            if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
        fi
        pn_log "frontend: npm run build"
        npm run build
    )
fi

# ---------------------------------------------------------------- services and secrets
"$PN_ROOT/scripts/services.sh" start --profile dev

# Generated once; deleting secrets.env invalidates tokens and encrypted secrets.
pn_secret_ensure "$SECRETS" POWERNODE_JWT_KEY "$(pn_random_hex 32)"
pn_secret_ensure "$SECRETS" WORKER_SERVICE_TOKEN "$(pn_random_hex 32)"
pn_secret_ensure "$SECRETS" POWERNODE_MASTER_KEY "$(pn_random_hex 32)"
pn_secret_ensure "$SECRETS" POWERNODE_PLUGINS_STORAGE_MASTER_KEY "$(pn_random_hex 32)"
pn_log "secrets: ${SECRETS#"$PN_ROOT"/} (mode 0600)"

if [[ -f $CONFIG ]]; then
    pn_log "config: keeping ${CONFIG#"$PN_ROOT"/}"
elif [[ -f $CONFIG_SRC ]]; then
    # The example names installed paths; a build-tree server reads its plugins from the build
    # and its migrations from the source tree.
    ui=""
    [[ ! -d $PN_ROOT/frontend/dist ]] || ui="$PN_ROOT/frontend/dist"
    awk -v plugins="$BUILD/plugins" -v data="$BUILD/share/plugins" -v sql="$PN_ROOT/sql" -v ui="$ui" '
        /^[^ #]/ { section = $1 }
        section == "paths:" && $1 == "plugins:"     { sub(/plugins: *[^ #]*/, "plugins: " plugins) }
        section == "paths:" && $1 == "plugin_data:" { sub(/plugin_data: *[^ #]*/, "plugin_data: " data) }
        section == "paths:" && $1 == "sql:"         { sub(/sql: *[^ #]*/, "sql: " sql) }
        section == "paths:" && $1 == "ui:" && ui != "" { sub(/ui: *[^ #]*/, "ui: " ui) }
        { print }' "$CONFIG_SRC" >"$CONFIG.tmp"
    mv -f "$CONFIG.tmp" "$CONFIG"
    chmod 0644 "$CONFIG"
    pn_log "config: wrote ${CONFIG#"$PN_ROOT"/} from config/server.yaml (paths point into this checkout)"
else
    pn_warn "config/server.yaml does not exist yet: no ${CONFIG#"$PN_ROOT"/} written"
fi

not_ready() {
    pn_warn "$1"
    cat >&2 <<EOF

  The build and the services are ready, but the platform is NOT running:
  $1
  PostgreSQL and Redis (dev) are up; settings in var/dev/env. Stop them with scripts/stop.sh.
EOF
    exit 2
}
[[ -x $SERVER ]] || not_ready "the server binary ${SERVER#"$PN_ROOT"/} was not built (kernel/src/app is not written yet?)"
[[ -f $CONFIG ]] || not_ready "no server config (config/server.yaml is missing)"

# ---------------------------------------------------------------- migrate, admin, start
# A running server is stopped before migrating, then started again on the new build.
pn_server_stop "$PIDFILE"

run_server_cmd() { # runs the server binary once with the dev settings
    (
        pn_source_env "$VAR/env" "$SECRETS"
        cd "$PN_ROOT" || exit 1
        "$SERVER" --config "$CONFIG" "$@"
    )
}

pn_log "migrate"
run_server_cmd --migrate || pn_die "migration failed (see the messages above)"

recorded_email=$(pn_env_get "$ADMIN_ENV" POWERNODE_ADMIN_EMAIL 2>/dev/null || true)
if [[ -n $recorded_email && (-z ${POWERNODE_ADMIN_EMAIL:-} || ${POWERNODE_ADMIN_EMAIL:-} == "$recorded_email") ]]; then
    pn_log "admin: already created ($recorded_email; credentials in ${ADMIN_ENV#"$PN_ROOT"/})"
else
    email=${POWERNODE_ADMIN_EMAIL:-admin@example.com}
    # Upper, lower, digit and symbol always present, plus 20 random hex characters.
    password=${POWERNODE_ADMIN_PASSWORD:-Pn9-$(pn_random_hex 10)}
    pn_log "admin: creating $email"
    POWERNODE_ADMIN_EMAIL=$email POWERNODE_ADMIN_PASSWORD=$password run_server_cmd --create-admin ||
        pn_die "--create-admin failed; if this admin already exists, write its credentials to ${ADMIN_ENV#"$PN_ROOT"/} as POWERNODE_ADMIN_EMAIL='...' and POWERNODE_ADMIN_PASSWORD='...'"
    rm -f "$ADMIN_ENV"
    pn_secret_ensure "$ADMIN_ENV" POWERNODE_ADMIN_EMAIL "$email"
    pn_secret_ensure "$ADMIN_ENV" POWERNODE_ADMIN_PASSWORD "$password"
fi

# Settings that follow this checkout's state, rewritten on every run (the config file is
# generated once and then belongs to the operator): the built UI and where local storage lives.
mkdir -p "$VAR/storage"
{
    echo "POWERNODE_PLUGINS_STORAGE_LOCAL_ROOT=$VAR/storage"
    [[ ! -f $PN_ROOT/frontend/dist/index.html ]] || echo "POWERNODE_PATHS_UI=$PN_ROOT/frontend/dist"
} >"$VAR/server.env"
pn_server_start "$SERVER" "$CONFIG" "$PIDFILE" "$LOGFILE" "$VAR/env" "$SECRETS" "$VAR/server.env"
healthy() {
    pn_pid_alive "$PIDFILE" || return 2
    pn_http_ok "$HEALTH_URL"
}
deadline=$((SECONDS + 60))
until healthy; do
    if ! pn_pid_alive "$PIDFILE"; then
        tail -n 40 "$LOGFILE" >&2
        pn_die "powernode-server exited during start-up (log: ${LOGFILE#"$PN_ROOT"/})"
    fi
    if ((SECONDS >= deadline)); then
        tail -n 40 "$LOGFILE" >&2
        pn_die "no answer from $HEALTH_URL after 60 s (server pid $(<"$PIDFILE") left running; scripts/stop.sh stops it)"
    fi
    sleep 0.3
done

# ---------------------------------------------------------------- worker
# The worker reaches the server only over HTTP and Redis (queue database 1 of the same Redis).
WORKER="$BUILD/bin/powernode-worker"
WORKER_PID="$VAR/worker.pid"
WORKER_LOG="$VAR/worker.log"
worker_note="not built"
if [[ -x $WORKER ]]; then
    pn_server_stop "$WORKER_PID"
    {
        echo "BACKEND_API_URL=$BASE_URL"
        echo "PN_WORKER_QUEUES=file_processing:3,default:2,maintenance:1"
        echo "PN_WORKER_PLUGINS=$BUILD/worker/jobs/maintenance.so,$BUILD/worker/jobs/files.so"
    } >"$VAR/worker.env"
    pn_server_start "$WORKER" "$PN_ROOT/config/worker.yaml" "$WORKER_PID" "$WORKER_LOG" \
        "$VAR/env" "$SECRETS" "$VAR/worker.env"
    sleep 1
    if pn_pid_alive "$WORKER_PID"; then
        worker_note="pid $(<"$WORKER_PID"), log ${WORKER_LOG#"$PN_ROOT"/}"
    else
        tail -n 20 "$WORKER_LOG" >&2
        worker_note="FAILED to start (see ${WORKER_LOG#"$PN_ROOT"/})"
    fi
fi

admin_email=$(pn_env_get "$ADMIN_ENV" POWERNODE_ADMIN_EMAIL 2>/dev/null || echo '?')
admin_password=$(pn_env_get "$ADMIN_ENV" POWERNODE_ADMIN_PASSWORD 2>/dev/null || echo '?')
cat <<EOF

Powernode is running.
  API:        $BASE_URL/api/v1   (health: $HEALTH_URL)
  Admin:      $admin_email
  Password:   $admin_password   (kept in ${ADMIN_ENV#"$PN_ROOT"/}, mode 0600)
  Log in:     curl -s -X POST $BASE_URL/api/v1/auth/login -H 'Content-Type: application/json' \\
                -d '{"email":"$admin_email","password":"<password>"}'
  Server log: ${LOGFILE#"$PN_ROOT"/}   pid file: ${PIDFILE#"$PN_ROOT"/}
  Worker:     $worker_note
  Web UI:     $BASE_URL/
  Services:   PostgreSQL 127.0.0.1:$(pn_env_get "$VAR/env" PN_PG_PORT), Redis 127.0.0.1:$(pn_env_get "$VAR/env" PN_REDIS_PORT) (var/dev/env)
  Stop all:   scripts/stop.sh
EOF
