#!/usr/bin/env bash
# The second command: install what is missing, build Debug with AddressSanitizer + UBSan
# (build/debug) and the libFuzzer targets with clang (build/fuzz), start PostgreSQL + Redis
# (test profile, fresh data, free loopback ports), run every ctest, stop the services.
# Exits non-zero when a build or any test fails. Safe to run again.
#
# Environment: PN_AREAS (e.g. "core;http") builds only those kernel areas; PN_CTEST_JOBS
# (default 1) runs the debug tests in parallel, PN_FUZZ_JOBS (default 2) the fuzz targets;
# PN_TEST_TIMEOUT (default 600 s) is the per-test limit
# for tests that set none; PN_SKIP_FUZZ=1 skips the fuzz build; PN_TEST_KEEP_DATA=1 keeps the
# previous run's test database (and running test services, which it then leaves running).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEBUG="$PN_ROOT/build/debug"
FUZZ="$PN_ROOT/build/fuzz"
VAR="$PN_ROOT/var/test"
LOGDIR="$VAR/logs"
SERVICES="$PN_ROOT/scripts/services.sh"
started_services=0

pn_need_root
mkdir -p "$PN_ROOT/var"
exec 8>"$PN_ROOT/var/.test.lock"
flock -n 8 || pn_die "another scripts/test.sh is running in this checkout"

cleanup() {
    local rc=$?
    if [[ $started_services == 1 ]]; then
        "$SERVICES" stop --profile test || pn_warn "could not stop the test services"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
pn_install_deps
pn_npm_all

# ---------------------------------------------------------------- builds
# Always given: a value left in the cmake cache by an earlier run would otherwise stick.
area_args=("-DPN_AREAS=${PN_AREAS:-all}")
mkdir -p "$PN_ROOT/build"
pn_cmake_build "$DEBUG" -DCMAKE_BUILD_TYPE=Debug -DPN_SANITIZE=address,undefined "${area_args[@]}"
if [[ ${PN_SKIP_FUZZ:-0} != 1 ]]; then
    # Optimised like a real fuzzing run, still with both sanitizers.
    pn_cmake_build "$FUZZ" -DPN_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DPN_SANITIZE=address,undefined "${area_args[@]}"
fi
pn_log "builds done in $((SECONDS - t0)) s"

# ---------------------------------------------------------------- services
# The lock above means no other run owns the test services, so ones still running are left
# over from an interrupted run: start afresh (unless asked to keep them).
if [[ ${PN_TEST_KEEP_DATA:-0} == 1 ]] && "$SERVICES" status --profile test >/dev/null 2>&1; then
    pn_log "PN_TEST_KEEP_DATA=1: using the running test services and leaving them running"
else
    [[ ${PN_TEST_KEEP_DATA:-0} == 1 ]] || "$SERVICES" wipe --profile test >/dev/null
    started_services=1
    "$SERVICES" start --profile test
fi
PN_TEST_DATABASE_URL=$(pn_env_get "$VAR/env" DATABASE_URL)
PN_TEST_REDIS_URL=$(pn_env_get "$VAR/env" REDIS_URL)
PN_TEST_PG_ADMIN_URL=$(pn_env_get "$VAR/env" PN_PG_ADMIN_URL)
export PN_TEST_DATABASE_URL PN_TEST_REDIS_URL PN_TEST_PG_ADMIN_URL
# Down for a second, so a client really sees the outage before the service is back.
export PN_TEST_PG_RESTART_CMD="$SERVICES restart-pg --profile test --down 1"
export PN_TEST_REDIS_RESTART_CMD="$SERVICES restart-redis --profile test --down 1"
export PN_SOURCE_DIR="$PN_ROOT"
# Tests must not reach the dev services by accident.
unset DATABASE_URL REDIS_URL

export ASAN_OPTIONS="halt_on_error=1:print_stacktrace=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

# ---------------------------------------------------------------- ctest
mkdir -p "$LOGDIR"
summaries=()
total_pass=0 total_fail=0 any_error=0

# run_ctest NAME BUILD_DIR ARGS...
run_ctest() {
    local name=$1 dir=$2 log="$LOGDIR/ctest-$1.log" rc line n_total n_fail
    shift 2
    pn_log "ctest ($name) in ${dir#"$PN_ROOT"/}"
    set +e
    PN_BUILD_DIR="$dir" ctest --test-dir "$dir" --output-on-failure --no-tests=ignore \
        --timeout "${PN_TEST_TIMEOUT:-600}" -j "${CTEST_J:-${PN_CTEST_JOBS:-1}}" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
    if [[ -n $line ]]; then
        n_total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
        n_fail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    elif [[ $rc == 0 ]]; then
        line="no tests found"
        n_total=0 n_fail=0
    else
        line="ctest printed no summary (exit $rc)"
        n_total=0 n_fail=0
        any_error=1
    fi
    [[ $rc == 0 ]] || any_error=1
    total_pass=$((total_pass + n_total - n_fail))
    total_fail=$((total_fail + n_fail))
    summaries+=("$(printf '%-6s %s' "$name:" "$line")")
}

run_ctest debug "$DEBUG"
if [[ ${PN_SKIP_FUZZ:-0} != 1 ]]; then
    # Each fuzz target is one single-threaded process bounded by -max_total_time and touches
    # no shared service: two at a time use both cores without shortening any run.
    CTEST_J=${PN_FUZZ_JOBS:-2} run_ctest fuzz "$FUZZ" -L fuzz
fi

echo
echo "==== test summary ($((SECONDS - t0)) s; logs in ${LOGDIR#"$PN_ROOT"/}) ===="
printf '%s\n' "${summaries[@]}"
if ((total_pass + total_fail == 0)); then
    pn_warn "no test ran"
fi
echo "total: $total_pass passed, $total_fail failed"
if [[ $any_error == 1 || $total_fail -gt 0 ]]; then
    exit 1
fi
