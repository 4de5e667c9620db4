#!/bin/sh
# Runs the storage provider test binary against real emulators: an S3 server that checks
# SigV4 signatures (@20minutes/s3rver, also standing in for GCS's XML API with HMAC keys) and
# Azurite (Azure Blob). Both listen on 127.0.0.1 on ports they pick themselves, use fresh
# random credentials and a private data folder, and are stopped by PID afterwards.
# Usage: run.sh <test_storage_providers> [provider...]   (default: s3 gcs azure)
# Needs node and `npm ci` done in this folder (scripts/test.sh does it); fails otherwise.
set -u

BIN=${1:?usage: run.sh <test_storage_providers> [provider...]}
shift
[ $# -gt 0 ] || set -- s3 gcs azure
HERE=$(cd "$(dirname "$0")" && pwd)
S3_PID=
AZ_PID=
WORK=

fail() {
    echo "storage interop: FAIL: $*" >&2
    for f in "$WORK/s3.log" "$WORK/azurite.log"; do
        [ -n "$WORK" ] && [ -s "$f" ] && { echo "--- tail of $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

# TERM one process we started, wait up to 15 s for it to go, then KILL.
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
        echo "storage interop: pid $pid ignored TERM for 15 s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

cleanup() {
    stop_pid "$S3_PID"
    S3_PID=
    stop_pid "$AZ_PID"
    AZ_PID=
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

command -v node >/dev/null 2>&1 || fail "node not found (Debian: apt-get install nodejs npm)"
[ -f "$HERE/node_modules/@20minutes/s3rver/package.json" ] &&
    [ -f "$HERE/node_modules/azurite/package.json" ] ||
    fail "emulators not installed: run (cd $HERE && npm ci --no-audit --no-fund)"
[ -x "$BIN" ] || fail "test binary $BIN is not executable"
WORK=$(mktemp -d /tmp/pn-storage-interop.XXXXXX) || fail "mktemp"

rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
S3_KEY="PNTEST$(rand 6 | tr 'a-f' 'A-F')"
S3_SECRET=$(rand 20)
AZ_ACCOUNT=pnstorage
AZ_KEY=$(head -c 64 /dev/urandom | base64 -w0)

# wait_line FILE REGEX PID: wait (bounded, 60 s) until FILE has a line matching REGEX.
wait_line() {
    i=0
    while [ $i -lt 600 ]; do
        grep -Eq "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

S3_KEY=$S3_KEY S3_SECRET=$S3_SECRET node "$HERE/run-s3.js" 0 "$WORK/s3data" pn-test pn-gcs \
    >"$WORK/s3.log" 2>&1 &
S3_PID=$!
AZURITE_ACCOUNTS="$AZ_ACCOUNT:$AZ_KEY" node "$HERE/node_modules/azurite/dist/src/blob/main.js" \
    --blobHost 127.0.0.1 --blobPort 0 --location "$WORK/azurite" --disableTelemetry \
    --skipApiVersionCheck >"$WORK/azurite.log" 2>&1 &
AZ_PID=$!

wait_line "$WORK/s3.log" '^listening 127\.0\.0\.1:[0-9]+$' "$S3_PID" || fail "S3 emulator did not start"
wait_line "$WORK/azurite.log" 'listens on http://127\.0\.0\.1:[0-9]+' "$AZ_PID" ||
    fail "azurite did not start"
S3_PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/s3.log" | head -n 1)
AZ_PORT=$(sed -n 's/.*listens on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/azurite.log" |
    head -n 1)
[ -n "$S3_PORT" ] && [ -n "$AZ_PORT" ] || fail "could not read the emulators' ports"
echo "storage interop: s3 emulator pid $S3_PID port $S3_PORT; azurite pid $AZ_PID port $AZ_PORT"

PN_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" PN_TEST_S3_KEY=$S3_KEY \
    PN_TEST_S3_SECRET=$S3_SECRET PN_TEST_S3_BUCKET=pn-test PN_TEST_GCS_BUCKET=pn-gcs \
    PN_TEST_AZURE_ENDPOINT="http://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT" \
    PN_TEST_AZURE_ACCOUNT=$AZ_ACCOUNT PN_TEST_AZURE_KEY=$AZ_KEY PN_TEST_AZURE_CONTAINER=pn-test \
    "$BIN" "$@"
rc=$?
[ $rc -eq 0 ] || fail "provider tests failed (exit $rc)"
exit 0
