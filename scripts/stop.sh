#!/usr/bin/env bash
# Stop what scripts/setup.sh started: the server, the worker (when there is one) and the dev
# PostgreSQL + Redis; also test-profile services left behind by an interrupted test run.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pn_need_root
VAR="$PN_ROOT/var/dev"
pn_server_stop "$VAR/worker.pid"
pn_server_stop "$VAR/server.pid"
"$PN_ROOT/scripts/services.sh" stop --profile dev
# Only when no test run holds the lock (a running scripts/test.sh stops its own).
if [[ -d $PN_ROOT/var/test ]] && "$PN_ROOT/scripts/services.sh" status --profile test >/dev/null 2>&1; then
    exec 8>"$PN_ROOT/var/.test.lock"
    if flock -n 8; then
        "$PN_ROOT/scripts/services.sh" stop --profile test
    else
        pn_log "test services belong to a running scripts/test.sh; leaving them"
    fi
fi
pn_log "everything stopped"
