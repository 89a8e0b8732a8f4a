# Sourced by the benchmark scripts: a 4-validator testnet of release processes on loopback.
#   start_testnet BIN DIR STATE_ACCOUNTS SEED   starts it in DIR and waits for height 2; sets NODES (RPC
#                                               URLs, comma-separated) and appends the node pids to PIDS
#   node_ticks                                  CPU ticks the nodes have used so far
#   committed                                   txs committed, from the first node's metrics
# CPU per committed tx (the difference of both around a run) is steadier than the rate on a machine whose
# speed drifts.

start_testnet() {
  local bin=$1 dir=$2 accounts=$3 seed=$4
  "$bin/consort-node" testnet --validators 4 --base-port 0 --out "$dir/net" \
    --accounts "$accounts" --accounts-seed "$seed" >/dev/null
  for i in 0 1 2 3; do
    RUST_LOG=warn nohup "$bin/consort-node" start --home "$dir/net/node$i" >"$dir/node$i.log" 2>&1 &
    PIDS+=($!)
  done
  NODES=$(python3 -c 'import json,sys; print(",".join(n["rpc"] for n in json.load(open(sys.argv[1]))))' "$dir/net/testnet.json")
  for url in ${NODES//,/ }; do
    for _ in $(seq 1 600); do
      h=$(curl -sf "$url/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || echo 0)
      [ "$h" -ge 2 ] && break; sleep 0.2
    done
  done
}

node_ticks() { for p in "${PIDS[@]}"; do echo "/proc/$p/stat"; done | xargs awk '{ s += $14 + $15 } END { print s }'; }
committed() { curl -sf "${NODES%%,*}/metrics" | awk '/^consort_txs_committed/ {print $2}'; }
