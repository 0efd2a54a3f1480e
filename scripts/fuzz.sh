#!/usr/bin/env bash
# Fuzzes the header readers, `probe` (image decoders' headers, libheif and
# FFmpeg's demuxers) and full decodes (the in-memory image repair; every frame
# of a video) with cargo-fuzz / libFuzzer, seeded with the fixtures.
#
#   bash scripts/fuzz.sh                      # by hand: 60 s per target, random seed
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh    # a long run
#   FUZZ_TARGETS="decode" bash scripts/fuzz.sh
#   FUZZ_CI=1 bash scripts/fuzz.sh            # what CI runs: a fixed number of
#                                             # runs from a fixed seed
#
# A crash, a leak, a timeout (10 s for one input) or more than 2 GB of memory
# stops the run with the input saved under fuzz/artifacts/TARGET/ and a non-zero
# exit. Turn that input into a fixture in fixtures/damaged/ and a regression
# test; `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…`
# replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
targets=${FUZZ_TARGETS:-headers probe decode}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz@0.13.2
fi
# libFuzzer's instrumentation needs nightly compiler flags: the machine's own
# compiler with them unlocked (a fresh machine has only the stable toolchain,
# and one toolchain means one instrumented build, reused by every run).
fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$@"; }

# The number of runs per target in CI, from seed 1: the inputs libFuzzer makes
# depend only on the seed, the corpus and the binary, so a red run replays
# with the same command.
ci_runs() {
  case $1 in
    headers) echo 300000 ;;
    probe) echo 15000 ;;
    decode) echo 1500 ;;
  esac
}

# Leaks inside system libraries we do not own, each one explained in the file.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

start=$SECONDS
fuzz build -O
echo "fuzz: instrumented build in $((SECONDS - start)) s" >&2
for target in $targets; do
  corpus=fuzz/corpus/$target
  mkdir -p "$corpus"
  # Seeds: the small fixtures, images, videos and damaged files alike.
  find fixtures -type f -size -200k ! -name '*.sh' -exec cp -n {} "$corpus/" \;
  if [ -n "${FUZZ_CI:-}" ]; then
    budget=(-runs="$(ci_runs "$target")" -seed=1)
    echo "fuzz: $target, $(ci_runs "$target") runs from seed 1" >&2
  else
    budget=(-max_total_time="${FUZZ_SECONDS:-60}")
    echo "fuzz: $target for ${FUZZ_SECONDS:-60} s" >&2
  fi
  log=fuzz/artifacts/$target.log
  mkdir -p fuzz/artifacts
  start=$SECONDS
  status=0
  fuzz run -O "$target" "$corpus" -- "${budget[@]}" \
    -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  # libFuzzer's summary, and whatever it found.
  grep -E '^#[0-9]+ +DONE|^stat::(number_of_executed_units|peak_rss_mb)|^==[0-9]+==|^SUMMARY|(crash|leak|timeout|oom)-[0-9a-f]{40}' "$log" || true
  echo "fuzz: $target finished in $((SECONDS - start)) s, exit $status (log: $log)" >&2
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    exit "$status"
  fi
done
