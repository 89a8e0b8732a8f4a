#!/usr/bin/env bash
# Runs a local N-validator testnet as background processes, with logs and pid files.
#   scripts/testnet.sh start [N]   create (first time) and start N validators (default 4)
#   scripts/testnet.sh stop        stop them (SIGTERM, then wait)
#   scripts/testnet.sh status      pid and height of each node
# The testnet lives in $CONSORT_TESTNET (default ~/.consort-testnet); its keystore holds dev0…dev9.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
DIR="${CONSORT_TESTNET:-$HOME/.consort-testnet}"
BIN="$CARGO_TARGET_DIR/debug"

nodes() { ls -d "$DIR"/node* 2>/dev/null | sort -V; }

case "${1:-}" in
  start)
    n="${2:-4}"
    scripts/bootstrap
    cargo build --workspace --all-targets
    if [ ! -f "$DIR/testnet.json" ]; then
      "$BIN/consort-node" testnet --validators "$n" --out "$DIR"
    fi
    for home in $(nodes); do
      name=$(basename "$home")
      if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
        echo "$name already running (pid $(cat "$DIR/$name.pid"))"; continue
      fi
      nohup "$BIN/consort-node" start --home "$home" >"$DIR/$name.log" 2>&1 &
      echo $! >"$DIR/$name.pid"
      echo "started $name (pid $!, log $DIR/$name.log)"
    done
    echo "try: $BIN/consort --home $DIR --node $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["rpc"])' "$DIR/testnet.json") status"
    ;;
  stop)
    for pidfile in "$DIR"/node*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      if kill -TERM "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "stopped $(basename "$pidfile" .pid)"
      fi
      rm -f "$pidfile"
    done
    ;;
  status)
    [ -f "$DIR/testnet.json" ] || { echo "no testnet in $DIR; run: scripts/testnet.sh start"; exit 1; }
    python3 - "$DIR" <<'PY'
import json, sys, os, urllib.request
d = sys.argv[1]
for n in json.load(open(os.path.join(d, "testnet.json"))):
    pidfile = os.path.join(d, n["name"] + ".pid")
    pid = open(pidfile).read().strip() if os.path.exists(pidfile) else "-"
    try:
        s = json.load(urllib.request.urlopen(n["rpc"] + "/v1/status", timeout=2))
        state = f"height {s['height']}, peers {s['peers']}"
    except Exception:
        state = "not answering"
    print(f"{n['name']:<6} pid {pid:<8} {n['rpc']:<26} {state}")
PY
    ;;
  *)
    echo "usage: scripts/testnet.sh start [N] | stop | status" >&2; exit 2 ;;
esac
