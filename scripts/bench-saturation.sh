#!/usr/bin/env bash
# One load run against a fresh 4-validator testnet, for interleaved A/B pairs of builds on a machine whose
# speed drifts: prints blocks, latency and refusals, committed tx/s, the 4 nodes' CPU µs per committed tx
# and each node's signature checks (ahead of execution / by the executor), blocks decided after round 0 and
# gossip dropped.
#   scripts/bench-saturation.sh DIR [SECS]    consort-node and consort-bench from DIR; 30 s at saturation
#   RATE=7000 scripts/bench-saturation.sh DIR  an offered rate instead
# Node settings come from CONSORT__* variables, e.g. CONSORT__CONSENSUS__BLOCK_INTERVAL_MIN_MS=300.
set -euo pipefail
BIN=$(realpath "$1")
cd "$(dirname "$0")/.."
source scripts/bench-testnet.sh
SECS=${2:-30}
ACCOUNTS=2000
DIR="$(mktemp -d /tmp/consort-sat-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
start_testnet "$BIN" "$DIR" "$ACCOUNTS" 7
T0=$(node_ticks); C0=$(committed)
"$BIN/consort-bench" --json "$DIR/load.json" load --nodes "$NODES" --accounts "$ACCOUNTS" --seed 7 --secs "$SECS" \
  ${RATE:+--rate "$RATE"} >"$DIR/load.log"
T1=$(node_ticks); C1=$(committed)
grep -E "blocks|latency|refused" "$DIR/load.log"
for url in ${NODES//,/ }; do
  curl -sf "$url/metrics" | awk '/^consort_(signatures_checked|blocks_past_round_zero|gossip_dropped)/ {printf "%s=%s ", $1, $2}'; echo
done
python3 - "$T0" "$T1" "$C0" "$C1" "$DIR/load.json" <<'PY'
import json, os, sys
t0, t1, c0, c1 = map(float, sys.argv[1:5])
load = json.load(open(sys.argv[5]))
cpu = (t1 - t0) / os.sysconf("SC_CLK_TCK") / max(c1 - c0, 1) * 1e6
print("committed %.0f tx/s, %.1f CPU us per committed tx (4 nodes)" % (load["committed_tps"], cpu))
PY
