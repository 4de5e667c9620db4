#!/usr/bin/env bash
# bench/media: the files job plugin's local mode (pn-media) against ImageMagick `convert`,
# `vipsthumbnail`, `exiftool` and `ffprobe` + `ffmpeg` on the same generated inputs, in one run.
# Builds an optimised pn-media in build/bench-media unless BENCH_PN_MEDIA is set. A benchmark,
# not a test: exits 0 unless something could not run (BENCH_STRICT=1 also fails on a missed aim).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for tool in python3 convert vipsthumbnail vips exiftool ffmpeg ffprobe cmake; do
    command -v "$tool" >/dev/null || { echo "bench/media: $tool is missing" >&2; exit 1; }
done
if [[ -z ${BENCH_PN_MEDIA:-} ]]; then
    B="$ROOT/build/bench-media"
    cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DPN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$B" --target pn-media -j2 >/dev/null
    export BENCH_PN_MEDIA="$B/bin/pn-media"
fi
exec python3 "$ROOT/bench/media/bench.py"
