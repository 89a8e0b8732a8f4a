#!/usr/bin/env bash
# Fuzzes the decoders a peer or a client can reach (cargo-fuzz, libFuzzer, nightly toolchain): txs, blocks
# and block sync, votes and proposals, consensus and tx gossip, RPC bodies; and the contract runtime a
# deployer can reach: the host API from inside a running module (host_api) and hostile modules
# (contract_code). Each target first replays fuzz/regressions/<target>/ (inputs that once crashed it) and
# fuzz/seeds/<target>/ (hand-made starting points), then fuzzes.
#   scripts/fuzz.sh                         10 s per target, as scripts/test runs it
#   FUZZ_SECS=600 scripts/fuzz.sh tx gossip   longer runs of some targets
# A crash leaves its input in fuzz/artifacts/<target>/: fix the bug, then copy the input into
# fuzz/regressions/<target>/ so every later run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
# Its own cache: nightly and the sanitizer flags would otherwise rebuild the main cache.
FUZZ_TARGET_DIR="$(dirname "$CARGO_TARGET_DIR")/fuzz-target"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(tx block vote gossip rpc_body host_api contract_code)
cd fuzz
cargo +nightly fuzz build --target-dir "$FUZZ_TARGET_DIR"
for target in "${TARGETS[@]}"; do
  corpus="$(mktemp -d /tmp/consort-fuzz-XXXXXX)"
  mkdir -p "regressions/$target"
  dirs=("$corpus" "regressions/$target")
  [ -d "seeds/$target" ] && dirs+=("seeds/$target")
  # Small modules: each input is compiled by Cranelift, which under the sanitizer takes about a second
  # for an agreement-sized (250 KB) module; mutations of small modules reach the same checks.
  max_len=65536
  [ "$target" = contract_code ] && max_len=8192
  echo "fuzz: $target for ${FUZZ_SECS:-10} s"
  status=0
  cargo +nightly fuzz run --target-dir "$FUZZ_TARGET_DIR" "$target" "${dirs[@]}" -- \
    -max_total_time="${FUZZ_SECS:-10}" -max_len="$max_len" -print_final_stats=1 >"$corpus.log" 2>&1 || status=$?
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$corpus.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$corpus.log" >&2
    echo "fuzz: $target found a crash (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  rm -rf "$corpus" "$corpus.log"
done
