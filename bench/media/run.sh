#!/usr/bin/env bash
# bench/media: the files job plugin in the worker's local mode (powernode-worker --run) against
# ImageMagick `convert`, `vipsthumbnail`, `exiftool` and `ffprobe` + `ffmpeg` on the same generated
# inputs, in one run. Builds an optimised worker and files.so in build/bench-media unless
# BENCH_WORKER and BENCH_FILES_SO are set. A benchmark, not a test: exits 0 unless something
# could not run (BENCH_STRICT=1 also fails on a missed aim).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for tool in python3 convert vipsthumbnail vips exiftool ffmpeg ffprobe openssl cmake sha256sum /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench/media: $tool is missing" >&2; exit 1; }
done
if [[ -z ${BENCH_WORKER:-} || -z ${BENCH_FILES_SO:-} ]]; then
    B="$ROOT/build/bench-media"
    cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DPN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$B" --target powernode-worker job_files -j2 >/dev/null
    export BENCH_WORKER="$B/bin/powernode-worker" BENCH_FILES_SO="$B/worker/jobs/files.so"
fi
exec python3 "$ROOT/bench/media/bench.py"
