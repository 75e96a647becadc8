#!/usr/bin/env bash
# The banks' payee check: in process, then over HTTP on loopback under concurrent load beside
# Redis doing the same look-ups in the same run (docs/design/021-payee-check.md, BENCHMARKS.md).
#
#   bench/payee.sh                      # 1,000,000 reported payees, 64 clients, 20 s, 3 runs
#   N=100000 SECS=5 RUNS=1 bench/payee.sh   # quicker
#
# Needs Redis on $REDIS (default 127.0.0.1:6379; scripts/start-services.sh starts one); its keys
# are written under a prefix of their own and removed at the end. posbon runs from a release
# build on a temporary SQLite database, with one bank key and N synthetic reported payees in
# memory (`posbon serve --synthetic-threats N`; request logs off: POSBON_LOG=warn).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
CLIENTS=${CLIENTS:-64}
SECS=${SECS:-20}
RUNS=${RUNS:-3}
PORT=${PORT:-18181}
REDIS=${REDIS:-127.0.0.1:6379}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/posbon/target}

redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" ping >/dev/null \
    || { echo "no Redis at $REDIS: run scripts/start-services.sh or set REDIS=HOST:PORT" >&2; exit 1; }

cargo build --release -p cli --bin posbon
POSBON=$CARGO_TARGET_DIR/release/posbon

if [ "${SKIP_INPROCESS:-0}" != 1 ]; then
    echo "== in process: cargo bench -p server --bench payee (POSBON_BENCH_N=$N)"
    POSBON_BENCH_N=$N cargo bench -p server --bench payee
fi

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
DB="sqlite:$TMP/posbon.db"
"$POSBON" bank-keys create --database "$DB" --bank "Benchmark bank" --rate 100000 --key-file "$TMP/bank.key" >/dev/null
POSBON_LOG=warn "$POSBON" serve --database "$DB" --data-dir "$TMP" --listen "127.0.0.1:$PORT" \
    --no-workers --retention-days 0 --synthetic-threats "$N" >"$TMP/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; exit 1; }
    sleep 0.5
done
grep '^synthetic' "$TMP/serve.log" || true

echo "== over HTTP on loopback: $CLIENTS clients x $SECS s, $RUNS runs, posbon then Redis GET in each"
cargo bench -p server --bench payee_http -- \
    --addr "127.0.0.1:$PORT" --key-file "$TMP/bank.key" --card-key-file "$TMP/keys/card-hash.key" \
    --n "$N" --clients "$CLIENTS" --seconds "$SECS" --runs "$RUNS" --redis "$REDIS"
echo "server's own counters:"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep '^posbon_payee_checks_total'
