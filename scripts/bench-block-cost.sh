#!/usr/bin/env bash
# The fixed CPU cost of a height: a 4-validator testnet of prebuilt release binaries making empty blocks as
# fast as consensus allows (empty_block_interval_ms = 1), with the 4 nodes' CPU ticks over blocks committed.
# What a height costs whatever it holds (proposal, votes, journal, synced writes); the load runs' CPU per
# tx minus this, spread over their block size, is what the txs themselves cost.
#   scripts/bench-block-cost.sh DIR [SECS]    consort-node from DIR; 20 s by default
set -euo pipefail
BIN=$(realpath "$1")
cd "$(dirname "$0")/.."
source scripts/bench-testnet.sh
SECS=${2:-20}
DIR="$(mktemp -d /tmp/consort-blockcost-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
export CONSORT__CONSENSUS__EMPTY_BLOCK_INTERVAL_MS=1
start_testnet "$BIN" "$DIR" 100 7
blocks() { curl -sf "${NODES%%,*}/metrics" | awk '/^consort_blocks_committed/ {print $2}'; }
T0=$(node_ticks); B0=$(blocks)
sleep "$SECS"
T1=$(node_ticks); B1=$(blocks)
python3 - "$T0" "$T1" "$B0" "$B1" "$SECS" <<'PY'
import os, sys
t0, t1, b0, b1, secs = map(float, sys.argv[1:6])
cpu = (t1 - t0) / os.sysconf("SC_CLK_TCK")
blocks = b1 - b0
print("%d empty blocks in %.0f s (%.1f /s); the 4 nodes used %.1f%% of a core: %.2f CPU ms per block"
      % (blocks, secs, blocks / secs, cpu / secs * 100, cpu / max(blocks, 1) * 1000))
PY
