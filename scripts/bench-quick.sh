#!/usr/bin/env bash
# The headline numbers in under two minutes once built: 10 s of load, fewer accounts and calls.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_SECS="${BENCH_SECS:-10}" BENCH_ACCOUNTS="${BENCH_ACCOUNTS:-500}" BENCH_CONTRACT_CALLS="${BENCH_CONTRACT_CALLS:-500}" \
  BENCH_OUT="${BENCH_OUT:-bench-quick.json}" exec scripts/bench-tps.sh
