#!/usr/bin/env bash
# The main job on the bundled fixtures: installs what is missing, builds
# preflight, checks every fixture against Kling's limits, then repairs them all
# into ./fixed/ (open it: every file there is accepted by Kling).
#
# Some fixtures are non-compliant or broken on purpose, so the check lists
# violations and unreadable files and the repair reports the broken ones as
# failed; the script succeeds when preflight ran as designed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/preflight"
inputs=(fixtures/images fixtures/videos fixtures/damaged)

answer() { # COMMAND-NAME STATUS: 0, 1 and 2 are answers; anything else is a crash
  if [ "$2" -gt 2 ]; then
    echo "demo: preflight $1 failed with status $2" >&2
    exit "$2"
  fi
}

echo "== preflight check (provider kling, model kling-v3, orientation video)"
status=0
"$bin" check "${inputs[@]}" || status=$?
answer check "$status"
echo "demo: check exit status $status (1: some files not compliant, 2: some unreadable)."

echo
echo "== preflight fix --out fixed/"
status=0
"$bin" fix --out fixed --report fixed-report.json "${inputs[@]}" || status=$?
answer fix "$status"
echo "demo: fix exit status $status (1: the files in fixtures/damaged could not be repaired, as expected)."

echo
echo "== preflight check fixed/ (every output must pass)"
"$bin" check fixed --json >/dev/null
echo "demo: all $(find fixed -type f ! -path '*/.preflight/*' | wc -l) files in fixed/ are compliant; the run's report is fixed-report.json"
