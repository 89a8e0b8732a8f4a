#!/usr/bin/env bash
# Fuzzes the decoders a peer or a client can reach (cargo-fuzz, libFuzzer, nightly toolchain): txs, blocks
# and block sync, votes and proposals, consensus and tx gossip, RPC bodies.
# Each target first replays fuzz/regressions/<target>/ (inputs that once crashed it), then fuzzes.
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
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(tx block vote gossip rpc_body)
cd fuzz
cargo +nightly fuzz build --target-dir "$FUZZ_TARGET_DIR"
for target in "${TARGETS[@]}"; do
  corpus="$(mktemp -d /tmp/consort-fuzz-XXXXXX)"
  mkdir -p "regressions/$target"
  echo "fuzz: $target for ${FUZZ_SECS:-10} s"
  status=0
  cargo +nightly fuzz run --target-dir "$FUZZ_TARGET_DIR" "$target" "$corpus" "regressions/$target" -- \
    -max_total_time="${FUZZ_SECS:-10}" -max_len=65536 -print_final_stats=1 >"$corpus.log" 2>&1 || status=$?
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$corpus.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$corpus.log" >&2
    echo "fuzz: $target found a crash (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  rm -rf "$corpus" "$corpus.log"
done
