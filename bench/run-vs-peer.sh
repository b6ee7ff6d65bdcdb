#!/usr/bin/env bash
# Runs the automerge-repo peer and massline on the same village workload, one
# after the other on this machine, and prints massline against the peer.
#
#   bench/run-vs-peer.sh            S1 to S4, 3 runs each (about 2 minutes)
#   bench/run-vs-peer.sh all        S1 to S5 (S5: 30 villages; about 15 minutes)
#
# Environment: RUNS (3), S5_RUNS (1), PEER_SRC (../shared/bench/automerge-repo
# beside the project), PEER_DIR (a writable copy, made once; /tmp/massline-peer),
# OUT (where both result files go; bench/results), CARGO_TARGET_DIR (where
# cargo builds; target/ of the project by default).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scenario="${1:-chain}"
case "$scenario" in chain | all) ;; *)
    echo "usage: $0 [chain|all]" >&2
    exit 2
    ;;
esac
runs="${RUNS:-3}"
s5_runs="${S5_RUNS:-1}"
peer_src="${PEER_SRC:-$root/../shared/bench/automerge-repo}"
peer_dir="${PEER_DIR:-/tmp/massline-peer}"
out="${OUT:-$root/bench/results}"
mkdir -p "$out"

# The peer needs a writable folder and its locked packages (npm install, not
# npm ci: see its README).
if [ ! -d "$peer_dir/node_modules" ]; then
    mkdir -p "$peer_dir"
    cp -r "$peer_src/." "$peer_dir/"
    (cd "$peer_dir" && npm install --no-audit --no-fund)
fi

cargo build --release --locked -p massline-server -p massline-bench \
    --manifest-path "$root/Cargo.toml"
bench="${CARGO_TARGET_DIR:-$root/target}/release/massline-bench"

extra=()
if [ "$scenario" = all ]; then
    # S5 replays the same 30-village workload on both sides.
    if [ ! -f "$peer_dir/data/workload-30.json" ]; then
        mkdir -p "$peer_dir/data"
        (cd "$peer_dir" && node workload.mjs --villages 30 --out data/workload-30.json)
    fi
    extra=(--workload-30 "$peer_dir/data/workload-30.json" --s5-runs "$s5_runs")
fi

echo "== automerge-repo peer: $scenario, $runs runs"
(cd "$peer_dir" && node bench.mjs --scenario "$scenario" --runs "$runs" \
    --s5-runs "$s5_runs" --out "$out/peer.json")
echo "== massline: $scenario, $runs runs"
"$bench" run --scenario "$scenario" --runs "$runs" "${extra[@]}" --out "$out/massline.json"
echo
"$bench" compare --ours "$out/massline.json" --peer "$out/peer.json"
