#!/usr/bin/env bash
# bench/jobs: powernode-worker against Sidekiq 6.4 (Debian's ruby-sidekiq) on one private Redis
# at concurrency 10: 20,000 no-op jobs and 5,000 jobs making one HTTP call to a local nginx;
# prints jobs/s, peak RSS and the ratios (median of BENCH_RUNS, default 3). Builds an
# optimised worker in build/bench-worker unless BENCH_WORKER_BIN / BENCH_WORKER_JOBS are set.
# A benchmark, not a test: exits 0 unless something could not run (BENCH_STRICT=1 also fails
# when a goal is missed). Knobs: BENCH_CONCURRENCY, BENCH_NOOP_JOBS, BENCH_HTTP_JOBS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for tool in redis-server sidekiq nginx python3 cmake; do
    command -v "$tool" >/dev/null || { echo "bench/jobs: $tool is missing" >&2; exit 1; }
done
if [[ -z ${BENCH_WORKER_BIN:-} ]]; then
    B="$ROOT/build/bench-worker"
    cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DPN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$B" --target powernode-worker job_maintenance -j2 >/dev/null
    export BENCH_WORKER_BIN="$B/bin/powernode-worker" BENCH_WORKER_JOBS="$B/worker/jobs/maintenance.so"
fi
exec python3 "$ROOT/bench/jobs/bench.py"
