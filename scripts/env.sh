# Sourced by the scripts: one build cache outside the clone, shared by developers' runs and CI.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/consort/target}"
