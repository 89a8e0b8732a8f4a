#!/usr/bin/env bash
# The reference case on a local 4-validator testnet, through the CLI only: the brand Stride opens a data
# program, three wearers activate shoes (one syncs a heart monitor), they commit hashes of their data,
# two buyers purchase datasets, one wearer revokes consent before the second sale, and everyone
# withdraws. Prints each party's balance before and after, and the agreement table.
#   DEMO_DIR=/some/dir scripts/demo-shoe-data.sh     (default: a fresh temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/bootstrap
cargo build --quiet --workspace --all-targets
scripts/build-contracts >/dev/null
BIN="$CARGO_TARGET_DIR/debug"
DIR="${DEMO_DIR:-$(mktemp -d /tmp/consort-demo-XXXXXX)}"
export CONSORT_TESTNET="$DIR"
WASM="$CARGO_TARGET_DIR/wasm32-unknown-unknown/contract/shoe_data.wasm"

"$BIN/consort-node" testnet --validators 4 --base-port 0 --out "$DIR" >/dev/null
trap 'scripts/testnet.sh stop >/dev/null' EXIT
scripts/testnet.sh start 4 >/dev/null 2>&1
rpc() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])]["rpc"])' "$DIR/testnet.json" "$1"; }
# Each party talks to a different validator: it is one chain whichever node you ask.
cli() { local node=$1; shift; "$BIN/consort" --home "$DIR" --node "$(rpc "$node")" "$@"; }
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
event_attr() { python3 -c '
import json, sys
r = json.load(sys.stdin)
print(next(a["value"] for e in r["events"] if e["kind"] == sys.argv[1] for a in e["attributes"] if a["key"] == sys.argv[2]))' "$1" "$2"; }

echo "== 4 validators starting in $DIR"
for i in 0 1 2 3; do
  for _ in $(seq 1 600); do
    h=$(cli "$i" status --json 2>/dev/null | json_field '["height"]' 2>/dev/null || echo 0)
    [ "${h:-0}" -ge 2 ] && break; sleep 0.2
  done
done
cli 0 status | head -3

# Who is who: the brand and the buyers are member organisations (dev accounts); wearers get new keys.
for who in ana ben cy; do cli 0 keys new "$who" >/dev/null; done
addr() { cli 0 keys show "$1" --json | json_field '["address"]'; }
declare -A NAME=([dev1]="Stride (brand)" [dev2]="DataCo (buyer)" [dev3]="HealthLab (buyer)" [ana]="ana (wearer)" [ben]="ben (wearer)" [cy]="cy (wearer)")
PARTIES=(dev1 dev2 dev3 ana ben cy)
for who in ana ben cy; do cli 0 transfer --from dev0 --to "$who" --amount 1000000 >/dev/null; done
declare -A BEFORE
for p in "${PARTIES[@]}"; do BEFORE[$p]=$(cli 0 balance "$p" --json | json_field '["balance"]'); done

echo; echo "== Stride deploys the shoe-data contract and opens its program"
CODE=$(cli 0 contract deploy "$WASM" --from dev1 --json | event_attr store_code code_hash)
TERMS='{"brand":"Stride","wearer_share_bps":7000,"categories":["steps","pace","route","heart_rate"],"units_per_pair":10,"sync_bonus_units":3}'
PROGRAM=$(cli 1 contract instantiate "$CODE" --label stride-data --msg "$TERMS" --from dev1 --json | event_attr instantiate contract)
echo "program $PROGRAM: wearers get 70% of data revenue by records, 10 share units per pair, 3 per synced wearable"

echo; echo "== Three wearers activate their shoes; ana syncs a heart monitor"
cli 1 contract execute "$PROGRAM" --msg '{"activate":{"shoe_id":"STRIDE-0001","consent":["steps","pace"],"device_key":null}}' --from ana >/dev/null
cli 2 contract execute "$PROGRAM" --msg '{"activate":{"shoe_id":"STRIDE-0002","consent":["steps","route"],"device_key":null}}' --from ben >/dev/null
cli 3 contract execute "$PROGRAM" --msg '{"activate":{"shoe_id":"STRIDE-0003","consent":["steps","pace"],"device_key":null}}' --from cy >/dev/null
cli 1 contract execute "$PROGRAM" --msg '{"sync_wearable":{"device_id":"HRM-77","kind":"heart monitor","categories":["heart_rate"],"device_key":null}}' --from ana >/dev/null
for who in ana ben cy; do
  echo "  $who: $(cli 0 contract query "$PROGRAM" --msg "{\"wearer\":{\"address\":\"$(addr "$who")\"}}" --json | json_field '["units"]') share units, consent $(cli 0 contract query "$PROGRAM" --msg "{\"wearer\":{\"address\":\"$(addr "$who")\"}}" --json | json_field '["consent"]')"
done

echo; echo "== They commit hashes of their data; the data itself stays on their phones"
mkdir -p "$DIR/offchain"
commit() { # who category records node
  local file="$DIR/offchain/$1-$2.csv"
  python3 -c 'import sys, random; r = random.Random(sys.argv[2]); print("\n".join(f"{1700000000000+i*1000},{r.randint(60,190)}" for i in range(int(sys.argv[1]))))' "$3" "$1-$2" > "$file"
  local hash; hash=$(cli 0 hash "$file")
  cli "$4" contract execute "$PROGRAM" --from "$1" --msg "{\"commit\":{\"wearer\":null,\"category\":\"$2\",\"hash\":\"$hash\",\"from_ms\":1700000000000,\"to_ms\":1700086400000,\"records\":$3}}" >/dev/null
  echo "  $1 committed $3 $2 records: blake3 $hash"
}
commit ana steps 3000 1; commit ben steps 1000 2; commit cy steps 1000 3; commit ana heart_rate 500 1

echo; echo "== DataCo buys the steps dataset for 100000"
BUY='{"purchase":{"category":"steps","from_ms":1700000000000,"to_ms":1700086400000}}'
cli 2 contract execute "$PROGRAM" --msg "$BUY" --funds 100000 --from dev2 | grep dataset_purchased

echo; echo "== ben revokes consent for steps; HealthLab then buys steps (without ben) and heart rate"
cli 2 contract execute "$PROGRAM" --msg '{"revoke_consent":{"categories":["steps"]}}' --from ben >/dev/null
cli 3 contract execute "$PROGRAM" --msg "$BUY" --funds 40000 --from dev3 | grep dataset_purchased
cli 3 contract execute "$PROGRAM" --msg '{"purchase":{"category":"heart_rate","from_ms":1700000000000,"to_ms":1700086400000}}' --funds 20000 --from dev3 | grep dataset_purchased

echo; echo "== The agreement before withdrawals"
cli 0 agreements --contract "$PROGRAM"

echo; echo "== Everyone withdraws"
for who in dev1 ana ben cy; do
  cli 0 contract execute "$PROGRAM" --msg '{"withdraw":{}}' --from "$who" | grep withdrawal
done

echo; echo "== Balances (fees are not charged yet, so the differences are exactly the money flows)"
printf "  %-20s %28s %28s %14s\n" party before after change
for p in "${PARTIES[@]}"; do
  after=$(cli 0 balance "$p" --json | json_field '["balance"]')
  printf "  %-20s %28s %28s %14s\n" "${NAME[$p]}" "${BEFORE[$p]}" "$after" "$(python3 -c "print(f'{int(\"$after\")-int(\"${BEFORE[$p]}\"):+d}')")"
done

echo; echo "== ana's agreements"
cli 0 agreements --party ana
echo; echo "== The agreement after withdrawals"
cli 0 agreements --contract "$PROGRAM"
