#!/usr/bin/env bash
# The folder fixer on a mixed folder: throughput with 1 and 2 jobs, and the
# share of the machine's cores that were busy ((user + sys) / (wall × cores)).
#
#     bash benches/folder.sh         # COPIES=3 copies of the fixtures by default
#
# The folder holds every image, video and damaged fixture COPIES times, so the
# run mixes long encodes, quick image repairs, copies and failures.
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES=${COPIES:-3}
dir=target/bench/folder
rm -rf "$dir"
mkdir -p "$dir/in"
for i in $(seq 1 "$COPIES"); do
  for kind in images videos damaged; do
    mkdir -p "$dir/in/$i/$kind"
    cp fixtures/$kind/* "$dir/in/$i/$kind/"
  done
  rm -f "$dir/in/$i"/*/*.sh
done
cargo build --release --quiet
bin=target/release/preflight
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
cores=$(nproc)
files=$(find "$dir/in" -type f | wc -l)
mb=$(du -sm "$dir/in" | cut -f1)

echo "| jobs | files | wall s | files/s | MB/s in | CPU s (user+sys) | cores busy | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|"
for jobs in 1 2; do
  rm -rf "$dir/out"
  /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" \
    "$bin" fix --jobs "$jobs" --json --out "$dir/out" "$dir/in" > "$dir/log.jsonl" || true
  read -r wall user sys rss < <(tail -n 1 "$dir/time.txt")
  awk -v j="$jobs" -v f="$files" -v w="$wall" -v u="$user" -v s="$sys" -v c="$cores" -v r="$rss" -v mb="$mb" \
    'BEGIN { printf "| %d | %d | %.1f | %.2f | %.2f | %.1f | %.0f%% | %.0f |\n", j, f, w, f / w, mb / w, u + s, 100 * (u + s) / (w * c), r / 1024 }'
done
failed=$(grep -c '"action":"failed"' "$dir/log.jsonl" || true)
echo
echo "$cores cores; $failed failures expected (the damaged fixtures, ${COPIES} copies each)."
