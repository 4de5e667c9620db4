#!/usr/bin/env bash
# bench/files: 1 GiB uploaded (tus) and downloaded through the files API to local storage, next
# to nginx serving the same file and curl writing it, in one run on loopback; prints MB/s, the
# ratios and the server's RSS growth (median of BENCH_RUNS, default 3). Builds an optimised
# server in build/bench-files unless BENCH_BUILD_DIR names a Release build. A benchmark, not a
# test: exits 0 unless something could not run (BENCH_STRICT=1 also fails when an aim is missed).
# Needs a PostgreSQL it may create a database on and a Redis: PN_TEST_DATABASE_URL and
# PN_TEST_REDIS_URL (as for the integration tests). Knobs: BENCH_SIZE_MIB, BENCH_RUNS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for tool in nginx curl python3 cmake psql; do
    command -v "$tool" >/dev/null || { echo "bench/files: $tool is missing" >&2; exit 1; }
done
: "${PN_TEST_DATABASE_URL:?bench/files: set PN_TEST_DATABASE_URL (a PostgreSQL URL it may create databases on)}"
: "${PN_TEST_REDIS_URL:?bench/files: set PN_TEST_REDIS_URL}"
if [[ -z ${BENCH_BUILD_DIR:-} ]]; then
    BENCH_BUILD_DIR="$ROOT/build/bench-files"
    cmake -S "$ROOT" -B "$BENCH_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DPN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BENCH_BUILD_DIR" -j2 >/dev/null
fi
export PN_BUILD_DIR="$BENCH_BUILD_DIR" PN_SOURCE_DIR="${PN_SOURCE_DIR:-$ROOT}"
exec python3 "$ROOT/bench/files/bench.py"
