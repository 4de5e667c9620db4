#!/bin/sh
# Interop with real Sidekiq: a private redis-server on a free loopback port, N jobs enqueued
# by our C producer (one scheduled 1 s ahead), Sidekiq runs them; passes only if every jid
# ran exactly once and Sidekiq::Stats agrees. Usage: run.sh <path to pn_sidekiq_enqueue> [N]
set -u

TOOL=${1:?usage: run.sh <pn_sidekiq_enqueue> [jobs]}
N=${2:-8}
QUEUE=pn_interop
CLASS=PnInteropJob
HERE=$(cd "$(dirname "$0")" && pwd)
REDIS_PID=
SIDEKIQ_PID=
WORK=

fail() {
    echo "interop_sidekiq: FAIL: $*" >&2
    for f in "$WORK/sidekiq.log" "$WORK/redis.log"; do
        [ -n "$WORK" ] && [ -s "$f" ] && { echo "--- tail of $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

# Stop one process we started: TERM, wait up to 15 s for it to exit, then KILL.
stop_pid() {
    pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "interop_sidekiq: pid $pid ignored TERM for 15 s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

cleanup() {
    stop_pid "$SIDEKIQ_PID"
    SIDEKIQ_PID=
    stop_pid "$REDIS_PID"
    REDIS_PID=
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for cmd in redis-server redis-cli ruby sidekiq; do
    command -v "$cmd" >/dev/null 2>&1 ||
        fail "$cmd not found (Debian: apt-get install redis-server ruby-sidekiq)"
done
[ -x "$TOOL" ] || fail "enqueue tool $TOOL is not executable"
WORK=$(mktemp -d /tmp/pn-sidekiq.XXXXXX) || fail "mktemp"

# A free loopback port: try to bind random ports (bounded), keep the first that binds.
free_port() {
    ruby -rsocket -e '
        50.times do
          port = 20000 + rand(40000)
          begin
            TCPServer.new("127.0.0.1", port).close
            puts port
            exit 0
          rescue SystemCallError
          end
        end
        exit 1'
}

rcli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

# Start redis; another process may grab the port in between, so check it is ours (bounded).
attempt=0
while [ -z "$REDIS_PID" ] && [ $attempt -lt 5 ]; do
    attempt=$((attempt + 1))
    PORT=$(free_port) || fail "no free loopback port found"
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --maxmemory-policy noeviction --dir "$WORK" --logfile "$WORK/redis.log" &
    pid=$!
    i=0
    while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
        if [ "$(rcli INFO server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')" = "$pid" ]; then
            REDIS_PID=$pid
            break
        fi
        sleep 0.05
        i=$((i + 1))
    done
    [ -n "$REDIS_PID" ] || stop_pid "$pid"
done
[ -n "$REDIS_PID" ] || fail "could not start redis-server"
echo "interop_sidekiq: redis-server pid $REDIS_PID on 127.0.0.1:$PORT"

# Enqueue (queue database = 1), then check the layout before Sidekiq touches it.
"$TOOL" "redis://127.0.0.1:$PORT/0" "$QUEUE" "$CLASS" "$N" >"$WORK/jids" ||
    fail "enqueue tool failed"
[ "$(wc -l <"$WORK/jids")" -eq "$N" ] || fail "enqueue tool printed $(wc -l <"$WORK/jids") jids, want $N"
grep -qvE '^[0-9a-f]{24}$' "$WORK/jids" && fail "malformed jid in: $(cat "$WORK/jids")"
[ "$(rcli -n 1 LLEN "queue:$QUEUE")" -eq $((N - 1)) ] || fail "queue:$QUEUE does not hold $((N - 1)) jobs"
[ "$(rcli -n 1 ZCARD schedule)" -eq 1 ] || fail "schedule does not hold the scheduled job"
[ "$(rcli -n 1 SISMEMBER queues "$QUEUE")" -eq 1 ] || fail "queues set lacks $QUEUE"

REDIS_URL="redis://127.0.0.1:$PORT/1" sidekiq -r "$HERE/worker.rb" -q "$QUEUE" -c 2 -t 5 \
    >"$WORK/sidekiq.log" 2>&1 &
SIDEKIQ_PID=$!

# Wait (at most 20 s) until every job, the scheduled one included, has been recorded.
i=0
done_count=0
while [ $i -lt 100 ]; do
    kill -0 "$SIDEKIQ_PID" 2>/dev/null || fail "sidekiq exited early"
    done_count=$(rcli -n 1 LLEN pn:interop:executed)
    [ "$done_count" -ge "$N" ] && break
    sleep 0.2
    i=$((i + 1))
done
[ "$done_count" -ge "$N" ] || fail "only $done_count of $N jobs ran within 20 s"
echo "interop_sidekiq: $done_count jobs ran after $((i / 5)).$((i % 5 * 2)) s"

# A clean stop flushes Sidekiq's processed counter to Redis.
stop_pid "$SIDEKIQ_PID"
SIDEKIQ_PID=

rcli -n 1 LRANGE pn:interop:executed 0 -1 | sort >"$WORK/executed"
sort "$WORK/jids" >"$WORK/wanted"
dups=$(uniq -d "$WORK/executed")
[ -z "$dups" ] || fail "jobs ran more than once: $dups"
cmp -s "$WORK/executed" "$WORK/wanted" ||
    fail "executed jids differ from enqueued ones: $(diff "$WORK/wanted" "$WORK/executed" | tr '\n' ' ')"

stats=$(REDIS_URL="redis://127.0.0.1:$PORT/1" ruby -e '
    require "sidekiq/api"
    s = Sidekiq::Stats.new
    puts [s.processed, s.failed, s.scheduled_size, s.retry_size, s.dead_size, s.enqueued].join(" ")
' 2>/dev/null) || fail "Sidekiq::Stats failed"
[ "$stats" = "$N 0 0 0 0 0" ] ||
    fail "Sidekiq::Stats processed/failed/scheduled/retry/dead/enqueued = $stats, want $N 0 0 0 0 0"

echo "interop_sidekiq: PASS ($N jobs, each ran exactly once; Sidekiq::Stats: $stats)"
exit 0
