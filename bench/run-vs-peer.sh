#!/usr/bin/env bash
# Runs the automerge-repo peer and massline on the same village workload on
# this machine, in turn: each round runs the peer once and then massline once
# (the chain S1 to S4, and with `all` S5 after them), so that both sides meet
# the machine as it is during the round. Prints massline against the peer,
# the medians of each side over all rounds.
#
#   bench/run-vs-peer.sh            S1 to S4, 3 rounds (about 2 minutes)
#   bench/run-vs-peer.sh all        and S5 (30 villages), 1 round (about 10 minutes)
#
# Environment: RUNS (rounds of the chain, 3), S5_RUNS (rounds of S5, 1), PEER_SRC (../shared/bench/automerge-repo
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

if [ "$scenario" = all ] && [ ! -f "$peer_dir/data/workload-30.json" ]; then
    # S5 replays the same 30-village workload on both sides.
    mkdir -p "$peer_dir/data"
    (cd "$peer_dir" && node workload.mjs --villages 30 --out data/workload-30.json)
fi

rm -f "$out"/peer-*.json "$out"/massline-*.json
rounds=(); for i in $(seq "$runs"); do rounds+=("chain-$i"); done
if [ "$scenario" = all ]; then
    for i in $(seq "$s5_runs"); do rounds+=("s5-$i"); done
fi
for round in "${rounds[@]}"; do
    what="${round%-*}"
    # Each side starts with the other's files written back to the disk.
    sync
    echo "== round $round: automerge-repo peer"
    if [ "$what" = chain ]; then peer_scenario=chain; else peer_scenario=S5; fi
    (cd "$peer_dir" && node bench.mjs --scenario "$peer_scenario" --runs 1 \
        --s5-runs 1 --out "$out/peer-$round.json")
    sync
    echo "== round $round: massline"
    if [ "$what" = chain ]; then
        "$bench" run --scenario chain --runs 1 --out "$out/massline-$round.json"
    else
        "$bench" run --scenario s5 --s5-runs 1 \
            --workload-30 "$peer_dir/data/workload-30.json" --out "$out/massline-$round.json"
    fi
done
echo
args=()
for round in "${rounds[@]}"; do
    args+=(--peer "$out/peer-$round.json" --ours "$out/massline-$round.json")
done
"$bench" compare "${args[@]}"
