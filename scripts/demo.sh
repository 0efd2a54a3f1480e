#!/usr/bin/env bash
# The main job on the bundled fixtures: installs what is missing, builds
# preflight, and checks every fixture against Kling's limits. Some fixtures are
# non-compliant or broken on purpose, so the report lists violations and
# unreadable files; the script itself succeeds when preflight ran as designed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked --quiet
bin=target/release/preflight

echo "== preflight check fixtures/ (provider kling, model kling-v3, orientation video)"
status=0
"$bin" check fixtures/images fixtures/videos fixtures/damaged || status=$?
# 0 = all compliant, 1 = some not compliant, 2 = some unreadable: all are
# answers; anything else means preflight itself failed.
if [ "$status" -gt 2 ]; then
  echo "demo: preflight check failed with status $status" >&2
  exit "$status"
fi
echo
echo "demo: check finished with exit status $status (fixtures/damaged holds broken files on purpose)."
