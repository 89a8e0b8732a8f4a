#!/usr/bin/env bash
# Crash loop under load, long form: 4 validators on loopback take transfers and agreement payments while a
# random validator is SIGKILLed and restarted every few seconds (tests/tests/chaos.rs; CI runs it for 40 s
# as part of scripts/test). Checks no fork, no lost or doubled final tx, supply and agreement accounts.
#   scripts/chaos.sh                      10 minutes
#   CHAOS_SECS=3600 scripts/chaos.sh      an hour
#   CHAOS_SEED=<n> scripts/chaos.sh       replay the kill schedule a failed run printed
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/bootstrap
cargo build --workspace --all-targets
scripts/build-contracts >/dev/null
CHAOS_SECS="${CHAOS_SECS:-600}" cargo test --workspace --all-targets --test chaos -- --nocapture
