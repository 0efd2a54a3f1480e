#!/usr/bin/env bash
# Fuzzes the header readers and `probe` (image decoders' headers and FFmpeg's
# demuxers) with cargo-fuzz / libFuzzer, seeded with the fixtures.
#   bash scripts/fuzz.sh                     # 30 s per target (what CI runs)
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh   # a longer run by hand
# A crash stops the run with the input saved under fuzz/artifacts/TARGET/;
# turn it into a fixture in fixtures/damaged/ and a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
seconds=${FUZZ_SECONDS:-30}

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
# libFuzzer's instrumentation needs nightly flags: the nightly toolchain when
# the machine has one, else the stable compiler with nightly features unlocked.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz() { cargo +nightly fuzz "$@"; }
else
  fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$@"; }
fi

for target in headers probe; do
  corpus=fuzz/corpus/$target
  mkdir -p "$corpus"
  # Seeds: the small fixtures, images, videos and damaged files alike.
  find fixtures -type f -size -200k ! -name '*.sh' -exec cp -n {} "$corpus/" \;
  echo "fuzz: $target for ${seconds}s"
  fuzz run "$target" "$corpus" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1
done
