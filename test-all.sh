#!/usr/bin/env bash
# Runs every test of massline: the Rust workspace (unit, end-to-end, faults,
# security).
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace --locked "$@"
