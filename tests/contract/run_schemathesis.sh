#!/usr/bin/env bash
# Schemathesis from outside the process: serve the app with demo data on a scratch database, then run the
# schemathesis CLI against its /openapi.json once per principal (bank A's API key, then a fresh token of each
# demo staff role), every check on, every phase including stateful. Each principal gets a freshly seeded
# database: an admin's fuzzed DELETE /institutions/keys/{prefix} or a payer's batches must not change what
# the next principal sees.
#
#   tests/contract/run_schemathesis.sh                      # every principal, 5 examples per operation
#   MAX_EXAMPLES=25 PRINCIPALS="admin" tests/contract/run_schemathesis.sh
#
# Writes a text and a JUnit report per run under $OUT (default var/schemathesis/) and a line
# "principal operations cases failures" per principal to $OUT/summary.txt. Exits non-zero if any run failed.
# Not part of `make test`: 1 to 5 minutes per principal (depending on the load on the machine).
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=.venv/bin
PORT=${PORT:-8765}
MAX_EXAMPLES=${MAX_EXAMPLES:-5}
SEED=${SEED:-20260401}
PRINCIPALS=${PRINCIPALS:-"BANK_A reviewer1 approver1 payer1 admin auditor1"}
OUT=${OUT:-var/schemathesis}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/claims-schemathesis.XXXXXX")
BASE="http://127.0.0.1:$PORT"
export CLAIMS_ENV=test  # the test settings: a generous rate limit and no embedded scheduler
export SCHEMATHESIS_HOOKS=tests.contract.hooks PYTHONPATH=.  # generators for the uscc and resident-id formats
mkdir -p "$OUT"
: >"$OUT/summary.txt"
SERVER=""

stop_server() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; SERVER=""; fi
}
trap 'stop_server; rm -rf "$SCRATCH"' EXIT

seed_template() {  # one seeded demo database, copied afresh for each principal
  local dir="$SCRATCH/template"
  mkdir -p "$dir"
  CLAIMS_DATA_DIR="$dir" DATABASE_URL="sqlite:///$dir/claims.db" $BIN/claims init-db >"$dir/init.log" 2>&1 \
    && CLAIMS_DATA_DIR="$dir" DATABASE_URL="sqlite:///$dir/claims.db" $BIN/claims seed --demo >"$dir/seed.log" 2>&1 \
    || { echo "seeding failed:"; cat "$dir"/*.log; exit 2; }
}

start_server() {  # a fresh copy of the demo database for one principal
  local dir="$SCRATCH/$1"
  cp -a "$SCRATCH/template" "$dir"
  # The demo signing certificate and documents live under the data dir, so the copy carries them.
  CLAIMS_DATA_DIR="$dir" DATABASE_URL="sqlite:///$dir/claims.db" $BIN/claims serve --port "$PORT" \
    >"$dir/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do curl -sf "$BASE/health" >/dev/null && return 0; sleep 0.5; done
  echo "server did not start"; cat "$dir/server.log"; exit 2
}

credentials() {  # the header a principal sends: a demo API key, or a staff token from POST /auth/token
  if [[ $1 == BANK_* ]]; then
    echo "X-API-Key: $($BIN/python -c "from claims.services.seeding import demo_api_key; print(demo_api_key('$1')[1])")"
  else
    local password
    password=$($BIN/python -c "from claims.services.seeding import DEMO_USERS; print({u: p for u, _, _, p in DEMO_USERS}['$1'])")
    echo "Authorization: Bearer $(curl -sf "$BASE/auth/token" -H 'Content-Type: application/json' \
      -d "{\"username\": \"$1\", \"password\": \"$password\"}" | $BIN/python -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  fi
}

run() {  # one schemathesis run: report name, credentials header, then filters
  local name=$1 header=$2
  shift 2
  $BIN/schemathesis --config-file tests/contract/schemathesis.toml run "$BASE/openapi.json" "$@" \
    -H "$header" --checks all --phases examples,coverage,fuzzing,stateful --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" --generation-database none --workers 1 --no-color \
    --report junit --report-junit-path "$OUT/$name.junit.xml" >"$OUT/$name.txt" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || status=1
  # "Tested: N" and "N generated, ..., K unique failures" from schemathesis' summary
  local operations cases failures
  operations=$(grep -oP '^  Tested: \K[0-9]+' "$OUT/$name.txt")
  cases=$(grep -oP '^  \K[0-9]+(?= generated)' "$OUT/$name.txt")
  failures=$(grep -oP '[0-9]+(?= unique failure)' "$OUT/$name.txt" || echo 0)
  echo "$name operations=${operations:-?} cases=${cases:-?} failures=${failures:-0} rc=$rc" | tee -a "$OUT/summary.txt"
}

seed_template
status=0
for principal in $PRINCIPALS; do
  start_server "$principal"
  if [[ $principal == BANK_* ]]; then
    run "$principal" "$(credentials "$principal")"
  else
    # Logging out or changing the password ends the session the run is using: those two get their own run
    # (with a token of their own), after every other operation has been tried with a live session.
    run "$principal" "$(credentials "$principal")" --exclude-path /auth/logout --exclude-path /auth/password
    run "$principal-session" "$(credentials "$principal")" --include-path /auth/logout --include-path /auth/password
  fi
  stop_server
done
exit $status
