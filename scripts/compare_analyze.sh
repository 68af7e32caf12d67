#!/usr/bin/env bash
# Whole-Analyze speed against the reuse issue's baseline commit: builds `benches/analyze.rs` here and
# in a worktree of BASE (its imports moved to that commit's module paths), then runs the two benches
# alternately ROUNDS times and prints each run's median and the ratio of the medians' medians.
#
#   scripts/compare_analyze.sh [BASE=518a13a] [ROUNDS=3]
set -euo pipefail
base=${1:-518a13a}
rounds=${2:-3}
here=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'git -C "$here" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git -C "$here" worktree add --detach "$work/base" "$base" >/dev/null
cp "$here/benches/analyze.rs" "$work/base/benches/analyze.rs"
# A base from before the layout issue's module moves has the old paths.
if [ ! -d "$work/base/src/domain" ]; then
    sed -i -e 's/idforensics::analysis::decode::/idforensics::decode::/' \
           -e 's/idforensics::domain::ids::/idforensics::ids::/' \
           -e 's/idforensics::storage::store::/idforensics::store::/' "$work/base/benches/analyze.rs"
fi
# A base from before the bench existed does not declare it.
grep -q '^name = "analyze"' "$work/base/Cargo.toml" ||
    printf '\n[[bench]]\nname = "analyze"\nharness = false\n' >>"$work/base/Cargo.toml"

# The baseline's build is kept beside ours, so a second comparison starts warm.
base_target="$here/target/compare-$base"
median() { # criterion's median estimate of the last run, in ms
    python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['median']['point_estimate']/1e6, 2))" \
        "$1/criterion/analyze/2MP_card_photo/new/estimates.json"
}
(cd "$here" && cargo bench --bench analyze --no-run -q)
(cd "$work/base" && CARGO_TARGET_DIR="$base_target" cargo bench --bench analyze --no-run -q)
ours=() theirs=()
for round in $(seq "$rounds"); do
    (cd "$work/base" && CARGO_TARGET_DIR="$base_target" cargo bench -q --bench analyze >/dev/null 2>&1)
    theirs+=("$(median "$base_target")")
    (cd "$here" && cargo bench -q --bench analyze >/dev/null 2>&1)
    ours+=("$(median "$here/target")")
    echo "round $round: $base ${theirs[-1]} ms, $(git -C "$here" rev-parse --short HEAD) ${ours[-1]} ms"
done
python3 - "${theirs[*]}" "${ours[*]}" <<'PY'
import statistics, sys
base, head = ([float(v) for v in arg.split()] for arg in sys.argv[1:3])
b, h = statistics.median(base), statistics.median(head)
print(f"median of medians: base {b:.2f} ms, head {h:.2f} ms, ratio {h / b:.2f}")
PY
