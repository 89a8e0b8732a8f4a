#!/usr/bin/env bash
# Transfer throughput and latency of 4 validators as 4 release processes on this machine, beside the
# machine's limit (ed25519 batch verification on all cores), and the contract-call benchmark.
#   scripts/bench-tps.sh                  30 s at saturation, then 30 s at half that rate
#   BENCH_SECS=10 BENCH_ACCOUNTS=500 BENCH_CONTRACT_CALLS=500 scripts/bench-tps.sh   (bench-quick.sh)
#   BENCH_STATE_ACCOUNTS=1000000 scripts/bench-tps.sh   growth: that many funded accounts in state
#     (BENCH_ACCOUNTS of them send the load)
#   BENCH_BIN=DIR scripts/bench-tps.sh    the consort-node and consort-bench binaries in DIR, unbuilt (A/B runs)
# Writes a table to stdout and the figures to ${BENCH_OUT:-bench-results.json}.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/bench-testnet.sh
scripts/bootstrap
[ -n "${BENCH_BIN:-}" ] || cargo build --quiet --release --workspace --bins
scripts/build-contracts >/dev/null
BIN="${BENCH_BIN:-$CARGO_TARGET_DIR/release}"
SECS="${BENCH_SECS:-30}"
ACCOUNTS="${BENCH_ACCOUNTS:-2000}"
CALLS="${BENCH_CONTRACT_CALLS:-2000}"
STATE_ACCOUNTS="${BENCH_STATE_ACCOUNTS:-$ACCOUNTS}"
[ "$STATE_ACCOUNTS" -ge "$ACCOUNTS" ] || STATE_ACCOUNTS="$ACCOUNTS"
OUT="${BENCH_OUT:-bench-results.json}"
SEED=7
DIR="$(mktemp -d /tmp/consort-bench-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

"$BIN/consort-bench" --json "$DIR/verify.json" verify --secs 5
"$BIN/consort-bench" --json "$DIR/contracts.json" contracts --calls "$CALLS" \
  --wasm-dir "$CARGO_TARGET_DIR/wasm32-unknown-unknown/contract"

start_testnet "$BIN" "$DIR" "$STATE_ACCOUNTS" "$SEED"
T0=$(node_ticks); C0=$(committed)
echo
"$BIN/consort-bench" --json "$DIR/saturation.json" load --nodes "$NODES" --accounts "$ACCOUNTS" --seed "$SEED" --secs "$SECS"
T1=$(node_ticks); C1=$(committed)
CPU_US_PER_TX=$(python3 -c 'import sys, os; t0, t1, c0, c1 = map(float, sys.argv[1:]); print((t1 - t0) / os.sysconf("SC_CLK_TCK") / max(c1 - c0, 1) * 1e6)' "$T0" "$T1" "$C0" "$C1")
HALF=$(python3 -c 'import json,sys; print(max(1, int(json.load(open(sys.argv[1]))["committed_tps"] / 2)))' "$DIR/saturation.json")
echo
"$BIN/consort-bench" --json "$DIR/half.json" load --nodes "$NODES" --accounts "$ACCOUNTS" --seed "$SEED" --secs "$SECS" --rate "$HALF"
RSS=$(for p in "${PIDS[@]}"; do awk '/VmHWM/ {print $2}' "/proc/$p/status"; done | paste -sd, -)

python3 - "$DIR" "$RSS" "$OUT" "$STATE_ACCOUNTS" "$CPU_US_PER_TX" <<'PY'
import json, sys, os, datetime, subprocess
d, rss, out = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], sys.argv[3]
load = lambda n: json.load(open(os.path.join(d, n)))
verify, contracts, sat, half = load("verify.json"), load("contracts.json"), load("saturation.json"), load("half.json")
validators = 4
eff = sat["committed_tps"] * validators / verify["batch_verify_per_sec"]
mem = subprocess.run(["awk", "/MemTotal/ {print $2}", "/proc/meminfo"], capture_output=True, text=True).stdout.strip()
result = {
    "date": datetime.date.today().isoformat(), "cores": verify["cores"], "mem_kib": int(mem),
    "verify": verify, "saturation": sat, "half_load": half, "contracts": contracts,
    "peak_rss_mib": [r / 1024 for r in rss], "efficiency": eff, "state_accounts": int(sys.argv[4]),
    "node_cpu_us_per_tx": float(sys.argv[5]),
}
json.dump(result, open(out, "w"), indent=2)
print()
print(f"== consort benchmarks, {result['date']}, {verify['cores']} cores, {int(mem)//1024} MiB, {result['state_accounts']} funded accounts")
print(f"  batch verify (limit)        {verify['batch_verify_per_sec']:>10.0f} sig/s  -> {verify['batch_verify_per_sec']/validators:.0f} tx/s with {validators} validators")
print(f"  node's ZIP-215 batch rule   {verify['node_batch_verify_per_sec']:>10.0f} sig/s  -> {verify['node_batch_verify_per_sec']/validators:.0f} tx/s with {validators} validators (batches of {verify['batch']})")
print(f"  ... in the node's batches   {verify['node_batch_len_verify_per_sec']:>10.0f} sig/s  -> {verify['node_batch_len_verify_per_sec']/validators:.0f} tx/s with {validators} validators (batches of {verify['node_batch_len']})")
print(f"  committed at saturation     {sat['committed_tps']:>10.0f} tx/s  efficiency = {eff:.3f}")
print(f"  blocks                      {sat['blocks_per_sec']:>10.2f} /s, {sat['mean_txs_per_block']:.0f} txs/block")
print(f"  CPU per committed tx        {result['node_cpu_us_per_tx']:>10.0f} us, the {validators} nodes together")
print(f"  latency at {half['offered_rate']} tx/s       p50 {half['latency_ms_p50']:.0f} ms, p99 {half['latency_ms_p99']:.0f} ms")
print(f"  peak RSS per node           {', '.join(f'{r:.0f}' for r in result['peak_rss_mib'])} MiB")
for row in contracts["rows"]:
    print(f"  {row['call']:<32} {row['executor_per_sec']:>8.0f} calls/s  {row['executor_cpu_us_per_call']:>6.1f} CPU µs/call  wasm/native {row['wasm_over_native']:.1f}x  (in memory, signatures ahead: {row['memory_over_native']:.1f}x)")
print(f"figures written to {out}")
PY
