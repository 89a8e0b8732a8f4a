#!/usr/bin/env bash
# Catch-up: one of 4 release validators is stopped while the others commit BENCH_CATCHUP_BLOCKS blocks
# (default 10,000) under a steady transfer load; then it restarts and syncs. Compares its sync rate
# (blocks/s and txs/s) with the live commit rate. Figures go to ${BENCH_OUT:-bench-catchup.json}.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/bootstrap
cargo build --quiet --release --workspace --bins
BIN="$CARGO_TARGET_DIR/release"
BLOCKS="${BENCH_CATCHUP_BLOCKS:-10000}"
RATE="${BENCH_CATCHUP_RATE:-200}"
OUT="${BENCH_OUT:-bench-catchup.json}"
SEED=7
ACCOUNTS=500
DIR="$(mktemp -d /tmp/consort-catchup-XXXXXX)"
declare -A PID
cleanup() { for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
# Fast empty blocks so the gap is made of many blocks in reasonable time.
export CONSORT__CONSENSUS__EMPTY_BLOCK_INTERVAL_MS=20 CONSORT__CONSENSUS__TIMEOUT_PROPOSE_MS=1000 \
  CONSORT__CONSENSUS__TIMEOUT_PREVOTE_MS=500 CONSORT__CONSENSUS__TIMEOUT_PRECOMMIT_MS=500 RUST_LOG=warn
"$BIN/consort-node" testnet --validators 4 --base-port 0 --out "$DIR/net" --accounts "$ACCOUNTS" --accounts-seed "$SEED" >/dev/null
start() { nohup "$BIN/consort-node" start --home "$DIR/net/node$1" >>"$DIR/node$1.log" 2>&1 & PID[$1]=$!; }
for i in 0 1 2 3; do start "$i"; done
rpc() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])]["rpc"])' "$DIR/net/testnet.json" "$1"; }
height() { curl -sf "$1/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || echo 0; }
R0=$(rpc 0); R3=$(rpc 3)
until [ "$(height "$R3")" -ge 2 ]; do sleep 0.2; done

kill -TERM "${PID[3]}"; wait "${PID[3]}" 2>/dev/null || true
H0=$(height "$R0"); T0=$(date +%s.%N)
echo "node3 stopped at height $H0; the others commit $BLOCKS blocks under $RATE tx/s"
NODES="$(rpc 0),$(rpc 1),$(rpc 2)"
"$BIN/consort-bench" load --nodes "$NODES" --accounts "$ACCOUNTS" --seed "$SEED" --rate "$RATE" --secs 100000 >/dev/null 2>&1 &
LOAD=$!
until [ "$(height "$R0")" -ge $((H0 + BLOCKS)) ]; do sleep 1; done
kill "$LOAD" 2>/dev/null || true
H1=$(height "$R0"); T1=$(date +%s.%N)

start 3
T2=$(date +%s.%N)
until [ "$(height "$R3")" -ge "$H1" ]; do sleep 0.2; done
T3=$(date +%s.%N)
python3 - "$R0" "$H0" "$H1" "$T0" "$T1" "$T2" "$T3" "$OUT" <<'PY'
import json, sys, urllib.request
url, h0, h1, t0, t1, t2, t3, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:8]), sys.argv[8]
txs = sum(len(json.load(urllib.request.urlopen(f"{url}/v1/blocks/{h}"))["tx_hashes"]) for h in range(h0 + 1, h1 + 1))
live_bps, sync_bps = (h1 - h0) / (t1 - t0), (h1 - h0) / (t3 - t2)
r = {"blocks": h1 - h0, "txs": txs, "live_blocks_per_sec": live_bps, "live_txs_per_sec": txs / (t1 - t0),
     "sync_blocks_per_sec": sync_bps, "sync_txs_per_sec": txs / (t3 - t2), "catch_up_over_live": sync_bps / live_bps}
json.dump(r, open(out, "w"), indent=2)
print(f"gap of {r['blocks']} blocks holding {txs} txs")
print(f"  live:  {live_bps:8.1f} blocks/s {r['live_txs_per_sec']:8.0f} txs/s")
print(f"  sync:  {sync_bps:8.1f} blocks/s {r['sync_txs_per_sec']:8.0f} txs/s  ({r['catch_up_over_live']:.1f}x the live rate)")
PY
