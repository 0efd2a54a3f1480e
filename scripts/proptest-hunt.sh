#!/usr/bin/env bash
# Hunts for property-test failures with random seeds, for longer than CI.
#
# CI (scripts/test.sh) runs every property with one fixed seed, so the same
# commit always gets the same verdict. This script runs them again and again,
# each time under a new random PROPTEST_RNG_SEED and with more cases:
#
#   bash scripts/proptest-hunt.sh                  # 500 seeds, 4x the cases
#   SEEDS=2000 CASES=20000 bash scripts/proptest-hunt.sh
#
# A failure prints its seed and proptest's minimal input, and proptest adds the
# case to crates/preflight/proptest-regressions/ (commit that file with the
# fix: every later run, CI's included, replays it first). Replay one seed with
#   PROPTEST_RNG_SEED=SEED cargo test -p preflight --lib plan::
# Exit status: 0 when every seed passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-500}
# Cases per property; unset, each property runs 4x its CI count.
cases=${CASES:-}
jobs=${JOBS:-$(nproc)}
log_dir=${LOG_DIR:-target/proptest-hunt}
mkdir -p "$log_dir"
rm -f "$log_dir"/fail-*.log

# The properties: every module of the workspace with a `proptest!` block, run
# from the test binary that holds it (a library's unit tests, or a package's
# tests/ binary). Built once, run once per seed.
plan_file="$log_dir/properties"
cargo test --workspace --locked --no-run --lib --tests --message-format=json 2>/dev/null |
  python3 -c '
import json, os, re, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable") or not m["profile"]["test"]:
        continue
    root = os.path.dirname(m["target"]["src_path"])   # .../src or .../tests
    filters = []
    for folder, _, files in os.walk(root):
        for f in files:
            path = os.path.join(folder, f)
            if not f.endswith(".rs") or "proptest!" not in open(path).read():
                continue
            module = os.path.relpath(path, root)[:-3].replace(os.sep, "::")
            module = re.sub(r"(::)?mod$", "", module)
            filters.append(module + "::")
    if filters:
        print(m["executable"], *sorted(filters))
' >"$plan_file"
[ -s "$plan_file" ] || { echo "hunt: found no property tests" >&2; exit 2; }
echo "hunt: properties in" >&2
sed 's|^[^ ]*/deps/||' "$plan_file" >&2

run_seed() {
  local seed=$1 log="$log_dir/fail-$1.log" bin filters
  local env=(PROPTEST_RNG_SEED="$seed")
  if [ -n "$cases" ]; then env+=(PROPTEST_CASES="$cases"); else env+=(PREFLIGHT_PROPTEST_FACTOR=4); fi
  while read -r bin filters; do
    # shellcheck disable=SC2086 # one argument per module filter
    if ! env "${env[@]}" "$bin" -q $filters >>"$log" 2>&1; then
      echo "seed $seed FAILED: $log" >&2
      grep -E "minimal failing input|Test failed|panicked" "$log" | head -5 >&2
      return 1
    fi
  done <"$plan_file"
  rm -f "$log"
}

started=$(date +%s)
failed=0
# Seeds from /dev/urandom: any u64, as PROPTEST_RNG_SEED takes.
for _ in $(seq "$seeds"); do od -An -N8 -tu8 /dev/urandom | tr -d ' '; done >"$log_dir/seeds"
while read -r seed; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=$((failed + 1)); done
  run_seed "$seed" &
done <"$log_dir/seeds"
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=$((failed + 1)); done

echo "hunt: $seeds seeds ($([ -n "$cases" ] && echo "$cases cases" || echo "4x the CI cases") per property), $failed failed, $(( $(date +%s) - started )) s" >&2
[ "$failed" -eq 0 ]
