#!/usr/bin/env bash
# HTTP benchmark against peers, in one run on loopback (see bench/README.md):
#   (a) GET /health on powernode-server      (c) the same bytes from nginx
#   (b) GET /api/v1/hello/greetings/<id>      (d) pgbench running the same SELECT by id
#   (e) the server's idle RSS
# It is a benchmark, not a test: it prints figures and exits 0 unless something could not run
# (BENCH_STRICT=1 also exits 1 when a target ratio is missed).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
# shellcheck disable=SC2034  # read by lib.sh
PN_LOG_TAG=bench

BUILD="$PN_ROOT/build/release"
SERVER="$BUILD/$PN_SERVER_REL"
VAR="$PN_ROOT/var/dev"
CONFIG="$VAR/server.yaml"
BASE_URL="${BENCH_URL:-http://127.0.0.1:3000}"
WRK_ARGS=(-t2 -c64 -d"${BENCH_DURATION:-10}s" --latency)
RUNS=${BENCH_RUNS:-3}
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-1}
PIN=${BENCH_PIN:-1}

for tool in wrk nginx curl pgbench; do
    command -v "$tool" >/dev/null || pn_die "$tool is missing; run scripts/setup.sh first"
done

TMP=$(mktemp -d /tmp/pn-bench.XXXXXX)
chmod 0755 "$TMP" # nginx workers run as 'nobody' and read the static file from here
started_services=0 started_server=0 nginx_pid="" server_pid=""

cleanup() {
    local rc=$?
    [[ -z $nginx_pid ]] || pn_kill_wait "$nginx_pid" 10 || true
    [[ $started_server == 0 ]] || pn_server_stop "$VAR/bench-server.pid"
    if [[ $started_services == 1 ]]; then
        "$PN_ROOT/scripts/services.sh" stop --profile dev || true
    elif [[ $PIN == 1 ]]; then
        unpin_postgres
    fi
    if [[ $started_server == 0 && -n $server_pid && $PIN == 1 ]]; then
        taskset -a -p -c "0-$(($(nproc) - 1))" "$server_pid" >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- CPU pinning
# Both cores are shared: the measured side (server, nginx, PostgreSQL) gets CPU 0 and the
# load generator (wrk, pgbench) CPU 1, so the two do not fight over one core.
if (($(nproc) < 2)); then PIN=0; fi
SERVER_CPU=0 LOAD_CPU=1
on_load_cpu() {
    if [[ $PIN == 1 ]]; then taskset -c "$LOAD_CPU" "$@"; else "$@"; fi
}
pg_pids() {
    local pm
    pm=$(head -n 1 "$(pn_env_get "$VAR/env" PN_PG_DATA)/postmaster.pid" 2>/dev/null) || return 0
    echo "$pm"
    pgrep -P "$pm" || true
}
pin_postgres() {
    local p
    for p in $(pg_pids); do taskset -a -p -c "$SERVER_CPU" "$p" >/dev/null 2>&1 || true; done
}
unpin_postgres() {
    local p
    for p in $(pg_pids); do taskset -a -p -c "0-$(($(nproc) - 1))" "$p" >/dev/null 2>&1 || true; done
}

# ---------------------------------------------------------------- services and server
if ! "$PN_ROOT/scripts/services.sh" status --profile dev >/dev/null 2>&1; then
    "$PN_ROOT/scripts/services.sh" start --profile dev
    started_services=1
fi
DATABASE_URL=$(pn_env_get "$VAR/env" DATABASE_URL)

if pn_http_ok "$BASE_URL/health"; then
    pn_log "reusing the server already answering on $BASE_URL"
    if pn_pid_alive "$VAR/server.pid"; then
        server_pid=$(<"$VAR/server.pid")
    else
        port=${BASE_URL##*:}
        server_pid=$(ss -Htlnp "sport = :${port%%/*}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
    fi
else
    [[ -x $SERVER ]] || pn_die "no server on $BASE_URL and no ${SERVER#"$PN_ROOT"/}: run scripts/setup.sh first"
    # A stale binary would measure old code: bring the release build up to date first.
    pn_log "building ${BUILD#"$PN_ROOT"/} (no-op when up to date)"
    cmake --build "$BUILD" -j2 >/dev/null || pn_die "release build failed"
    [[ -f $CONFIG ]] || pn_die "no ${CONFIG#"$PN_ROOT"/}: run scripts/setup.sh first"
    # wrk sends thousands of requests a second as one user: the per-user limit (600 a minute
    # by default) would turn the run into a benchmark of 429s.
    export POWERNODE_AUTH_RATE_LIMIT_USER_PER_MINUTE=0
    pn_server_start "$SERVER" "$CONFIG" "$VAR/bench-server.pid" "$VAR/bench-server.log" \
        "$VAR/env" "$VAR/secrets.env"
    started_server=1
    server_pid=$(<"$VAR/bench-server.pid")
    pn_wait_for 60 "$BASE_URL/health" pn_http_ok "$BASE_URL/health" || {
        tail -n 30 "$VAR/bench-server.log" >&2
        pn_die "the server did not answer /health"
    }
fi
if [[ $PIN == 1 ]]; then
    [[ -z $server_pid ]] || taskset -a -p -c "$SERVER_CPU" "$server_pid" >/dev/null
    pin_postgres
fi

# (e) idle RSS, before any load
sleep 1
rss_mib="n/a" threads="?"
if [[ -n $server_pid && -r /proc/$server_pid/status ]]; then
    rss_mib=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/$server_pid/status")
fi

# ---------------------------------------------------------------- helpers
json_get() { # json_get PATH < json   (PATH like data.access_token)
    pn_python -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

# wrk_series NAME URL [wrk args...]: a 2 s warm-up, then RUNS runs; writes NAME.rps / NAME.p99
# (one figure per line) and NAME.errors under $TMP.
wrk_series() {
    local name=$1 url=$2 i out
    shift 2
    pn_log "$name: warm-up, then $RUNS x wrk ${WRK_ARGS[*]} $url"
    on_load_cpu wrk -t2 -c64 -d2s "$@" "$url" >/dev/null
    : >"$TMP/$name.rps"
    : >"$TMP/$name.p99"
    : >"$TMP/$name.errors"
    for ((i = 1; i <= RUNS; i++)); do
        out=$(on_load_cpu wrk "${WRK_ARGS[@]}" "$@" "$url")
        echo "$out" >"$TMP/$name.wrk$i"
        awk '/^Requests\/sec:/ { print $2 }' <<<"$out" >>"$TMP/$name.rps"
        awk '$1 == "99%" {
                v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
                if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
                printf "%.3f\n", v }' <<<"$out" >>"$TMP/$name.p99"
        grep -E '^ *(Non-2xx|Socket errors)' <<<"$out" >>"$TMP/$name.errors" || true
    done
}

median() { # median FILE
    sort -g "$1" | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- (a) /health
curl -fsS "$BASE_URL/health" -o "$TMP/health.body"
wrk_series health "$BASE_URL/health"

# ---------------------------------------------------------------- (c) nginx, same bytes
mkdir -p "$TMP/www" "$TMP/nginx"
cp "$TMP/health.body" "$TMP/www/health"
chmod 0755 "$TMP/www"
chmod 0644 "$TMP/www/health"
NGINX_PORT=$(pn_free_port)
# powernode-server writes an access line per request; so does nginx here, like Debian's default.
NGINX_ACCESS_LOG="$TMP/nginx/access.log"
[[ ${BENCH_NGINX_ACCESS_LOG:-1} == 1 ]] || NGINX_ACCESS_LOG=off
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $NGINX_ACCESS_LOG;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        location = /health { default_type application/json; }
    }
}
EOF
if [[ $PIN == 1 ]]; then
    taskset -c "$SERVER_CPU" nginx -p "$TMP/nginx/" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" &
else
    nginx -p "$TMP/nginx/" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" &
fi
nginx_pid=$!
pn_wait_port "$NGINX_PORT" 10 || pn_die "nginx did not start: $(cat "$TMP/nginx/error.log")"
cmp -s "$TMP/health.body" <(curl -fsS "http://127.0.0.1:$NGINX_PORT/health") ||
    pn_die "nginx does not serve the same /health bytes"
wrk_series nginx "http://127.0.0.1:$NGINX_PORT/health"
pn_kill_wait "$nginx_pid" 10 || true
nginx_pid=""

# ---------------------------------------------------------------- (b) plugin route reading one row
db_note=""
email=${BENCH_EMAIL:-$(pn_env_get "$VAR/admin.env" POWERNODE_ADMIN_EMAIL 2>/dev/null || true)}
password=${BENCH_PASSWORD:-$(pn_env_get "$VAR/admin.env" POWERNODE_ADMIN_PASSWORD 2>/dev/null || true)}
greeting_id=""
if [[ -z $email || -z $password ]]; then
    db_note="no admin credentials (BENCH_EMAIL/BENCH_PASSWORD or var/dev/admin.env)"
else
    login=$(pn_python -c 'import json, sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' "$email" "$password")
    if ! token=$(curl -fsS -X POST "$BASE_URL/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "$login" | json_get data.access_token); then
        db_note="login as $email failed"
    elif ! greeting_id=$(curl -fsS -X POST "$BASE_URL/api/v1/hello/greetings" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d '{"message":"hi"}' | json_get data.id); then
        db_note="POST /api/v1/hello/greetings failed (is the hello plugin loaded?)"
        greeting_id=""
    elif ! curl -fsS -o /dev/null -H "Authorization: Bearer $token" \
        "$BASE_URL/api/v1/hello/greetings/$greeting_id"; then
        db_note="GET /api/v1/hello/greetings/$greeting_id failed"
    fi
fi
if [[ -z $db_note ]]; then
    wrk_series dbroute "$BASE_URL/api/v1/hello/greetings/$greeting_id" -H "Authorization: Bearer $token"
    # (f) the identity path alone: token check, denylist + rate count in Redis, permissions.
    wrk_series authme "$BASE_URL/api/v1/auth/me" -H "Authorization: Bearer $token"
else
    pn_warn "db route skipped: $db_note"
fi

# (g) one password hash at the server's cost (argon2id), median of 15
hash_ms="n/a"
if [[ -x $BUILD/bench/bench_hash_time ]]; then
    hash_ms=$("$BUILD/bench/bench_hash_time" 15 || echo n/a)
fi

# ---------------------------------------------------------------- (d) pgbench, same SELECT
pg_note=""
query=${BENCH_PG_QUERY:-} account_id=""
if [[ -n $greeting_id && ! $greeting_id =~ ^[0-9a-fA-F-]{36}$ ]]; then
    pg_note="the greeting id '$greeting_id' is not a uuid"
    greeting_id=""
fi
if [[ -n $greeting_id ]]; then
    # The plugin's own query (examples/hello-plugin/hello.c, greeting_show), same parameters.
    account_id=$(psql "$DATABASE_URL" -X -A -t -v ON_ERROR_STOP=1 \
        -c "SELECT account_id FROM hello_greetings WHERE id = '$greeting_id'" 2>/dev/null || true)
    if [[ -z $query && -n $account_id ]]; then
        query="SELECT id, message, created_at FROM hello_greetings WHERE id = :id AND account_id = :account"
    fi
fi
if [[ -n $pg_note ]]; then
    :
elif [[ -z $greeting_id ]]; then
    pg_note="no greeting to read (see (b))"
elif [[ -z $query ]]; then
    pg_note="no hello_greetings row to read (set BENCH_PG_QUERY, using :id and :account)"
else
    echo "$query;" >"$TMP/select.sql"
    pn_log "pgbench: $RUNS x -M prepared -c 8 -j 2 -T ${BENCH_DURATION:-10} '$query'"
    : >"$TMP/pgbench.rps"
    : >"$TMP/pgbench.p99"
    on_load_cpu pgbench -n -M prepared -c 8 -j 2 -T 2 -D "id=$greeting_id" -D "account=${account_id:-}" -f "$TMP/select.sql" \
        "$DATABASE_URL" >/dev/null 2>&1 || true
    for ((i = 1; i <= RUNS; i++)); do
        (
            cd "$TMP"
            on_load_cpu pgbench -n -M prepared -c 8 -j 2 -T "${BENCH_DURATION:-10}" \
                -D "id=$greeting_id" -D "account=${account_id:-}" -f "$TMP/select.sql" -l --log-prefix="pgb$i" \
                "$DATABASE_URL" >"$TMP/pgbench$i.out" 2>&1
        ) || {
            cat "$TMP/pgbench$i.out" >&2
            pg_note="pgbench failed"
            break
        }
        awk '/^tps = / { print $3 }' "$TMP/pgbench$i.out" >>"$TMP/pgbench.rps"
        cat "$TMP"/pgb"$i".* | awk '{ print $3 }' | sort -n |
            awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f\n", a[i] / 1000 }' \
                >>"$TMP/pgbench.p99"
        rm -f "$TMP"/pgb"$i".*
    done
fi
[[ -z $pg_note ]] || pn_warn "pgbench skipped: $pg_note"

# ---------------------------------------------------------------- report
fig() { # fig NAME rps|p99: the median, rounded for the table
    local m fmt=%.0f
    [[ $2 == rps ]] || fmt=%.2f
    if [[ -s $TMP/$1.$2 ]]; then m=$(median "$TMP/$1.$2"); else m="n/a"; fi
    # shellcheck disable=SC2059  # the format is one of two constants above
    if [[ $m == n/a ]]; then echo "$m"; else printf "$fmt\n" "$m"; fi
}
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}
h_rps=$(fig health rps) n_rps=$(fig nginx rps) d_rps=$(fig dbroute rps) p_rps=$(fig pgbench rps)
a_rps=$(fig authme rps)
r_auth=$(ratio "$a_rps" "$h_rps")
r_health=$(ratio "$h_rps" "$n_rps")
r_db=$(ratio "$d_rps" "$p_rps")

report=$(
    echo
    echo "Powernode HTTP benchmark  $(date -Is)  (median of $RUNS; wrk ${WRK_ARGS[*]})"
    echo "server pid ${server_pid:-?}: $threads threads (http.threads handlers + event loop); nginx: worker_processes $NGINX_WORKERS, access_log ${NGINX_ACCESS_LOG##*/}"
    if [[ $PIN == 1 ]]; then echo "pinned: server, nginx, PostgreSQL on CPU $SERVER_CPU; wrk, pgbench on CPU $LOAD_CPU"; else echo "not pinned"; fi
    printf '%-44s %12s %10s\n' "benchmark" "req/s" "p99 ms"
    printf '%-44s %12s %10s\n' "(a) GET /health (powernode)" "$h_rps" "$(fig health p99)"
    printf '%-44s %12s %10s\n' "(c) GET /health (nginx, same bytes)" "$n_rps" "$(fig nginx p99)"
    printf '%-44s %12s %10s\n' "(b) GET /api/v1/hello/greetings/<id>" "$d_rps" "$(fig dbroute p99)"
    printf '%-44s %12s %10s\n' "(d) pgbench same SELECT (-M prepared -c8 -j2)" "$p_rps" "$(fig pgbench p99)"
    printf '%-44s %12s %10s\n' "(f) GET /api/v1/auth/me" "$a_rps" "$(fig authme p99)"
    echo
    printf '%-44s %12s   target >= 0.6\n' "ratio health / nginx" "$r_health"
    printf '%-44s %12s   target >= 0.5\n' "ratio db route / pgbench" "$r_db"
    printf '%-44s %12s   target < 30\n' "(e) server idle RSS MiB" "$rss_mib"
    printf '%-44s %12s   target >= 0.8\n' "ratio /auth/me / health" "$r_auth"
    printf '%-44s %12s\n' "(g) one argon2id hash, ms (m=19456 t=2 p=1)" "$hash_ms"
    for n in health nginx dbroute authme; do
        [[ ! -s $TMP/$n.errors ]] || echo "WARNING $n: $(sort -u "$TMP/$n.errors" | tr -s ' ' | paste -sd';')"
    done
    [[ -z $db_note ]] || echo "(b) skipped: $db_note"
    [[ -z $pg_note ]] || echo "(d) skipped: $pg_note"
)
echo "$report"
mkdir -p "$PN_ROOT/var/bench"
echo "$report" >"$PN_ROOT/var/bench/http-$(date +%Y%m%d-%H%M%S).txt"

if [[ ${BENCH_STRICT:-0} == 1 ]]; then
    awk -v a="$r_health" -v b="$r_db" -v r="$rss_mib" 'BEGIN {
        bad = (a == "n/a" || a < 0.6) || (b == "n/a" || b < 0.5) || (r == "n/a" || r >= 30)
        exit bad }' || pn_die "a target was missed (BENCH_STRICT=1)"
fi
