#!/usr/bin/env bash
# Image repair speed: `preflight fix` against ImageMagick's `convert` and the
# libvips CLI doing the same operations on the same inputs, in one run.
#
#     bash benches/compare_images.sh            # builds preflight --release first
#     COPIES=2 bash benches/compare_images.sh   # fewer copies per case (quicker)
#
# Inputs are generated here (photo-like: smooth fractal plus sensor-like noise),
# never committed. Each case is a folder of COPIES identical files; every tool
# gets the whole folder and both cores: preflight in one process (it works on
# files in parallel), convert and vips one process per file through
# `xargs -P $(nproc)` (each may also thread internally). Wall time and the peak
# RSS of the largest process come from GNU time.
#
# Operations (the same for every tool: baseline JPEG, 4:2:0, quality 92, no
# metadata; every output is counted and one of each is shown with identify):
#   exif6_12mp   4000x3000 JPEG, EXIF orientation 6: turn upright, JPEG q92
#   pano_8000    8000x2000 JPEG: pad to 8000x3200 (2.5:1), solid bars, JPEG q92
#   avatar       240x180 JPEG: upscale to 400x300 (bicubic), JPEG q92
#   heic_12mp    4032x3024 HEIC: decode, JPEG q92
#   png_24mp     6000x4000 PNG, 40+ MB: JPEG within 10 MB (convert: jpeg:extent
#                search, like preflight's; vips has no byte target: one q92 encode)
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES=${COPIES:-4}
CORES=$(nproc)
IM=/usr/bin/convert
TIME=/usr/bin/time
for tool in "$IM" vips "$TIME" /usr/bin/identify python3; do
  command -v "$tool" >/dev/null || { echo "compare_images: $tool is missing (bash scripts/setup.sh)" >&2; exit 1; }
done
cargo build --release --quiet
PF=$PWD/target/release/preflight

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src"

echo "generating inputs in $work ..." >&2
photo() { # W H OUT [extra convert args]
  local w=$1 h=$2 out=$3; shift 3
  $IM -size $((w / 8))x$((h / 8)) plasma:fractal -blur 0x1 -resize "${w}x${h}!" \
    -attenuate 0.4 +noise Gaussian "$@" "$out"
}
photo 4000 3000 "$src/exif6_12mp.jpg" -quality 90
python3 - "$src/exif6_12mp.jpg" <<'PY'
import struct, sys
path = sys.argv[1]
tiff = b"MM\0\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
tiff += struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
app1 = b"Exif\0\0" + tiff
data = open(path, "rb").read()
open(path, "wb").write(data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:])
PY
photo 8000 2000 "$src/pano_8000.jpg" -quality 90
photo 240 180 "$src/avatar.jpg" -quality 90
photo 4032 3024 "$work/heic_src.png"
$IM "$work/heic_src.png" -quality 70 "$src/heic_12mp.heic"
photo 6000 4000 "$src/png_24mp.png"

# The bars preflight paints for the panorama are a colour from the picture's
# edge; the other tools get a fixed colour (the same amount of work).
BAR="128,128,128"

# case -> tool -> command for one file ($1 in, $2 out dir)
run_case() { # CASE TOOL IN OUTDIR
  local c=$1 tool=$2 in=$3 out=$4 base
  base=$(basename "${in%.*}")
  case "$tool:$c" in
    im:exif6_12mp) $IM "$in" -auto-orient -strip -sampling-factor 2x2 -quality 92 "$out/$base.jpg" ;;
    vips:exif6_12mp) vips autorot "$in" "$out/$base.jpg[Q=92,strip,subsample_mode=on]" ;;
    im:pano_8000) $IM "$in" -background "rgb($BAR)" -gravity center -extent 8000x3200 -strip -sampling-factor 2x2 -quality 92 "$out/$base.jpg" ;;
    vips:pano_8000) vips gravity "$in" "$out/$base.jpg[Q=92,strip,subsample_mode=on]" centre 8000 3200 --extend background --background "${BAR//,/ }" ;;
    im:avatar) $IM "$in" -filter Catrom -resize 400x300 -strip -sampling-factor 2x2 -quality 92 "$out/$base.jpg" ;;
    vips:avatar) vips resize "$in" "$out/$base.jpg[Q=92,strip,subsample_mode=on]" 1.6666667 --kernel cubic ;;
    im:heic_12mp) $IM "$in" -strip -sampling-factor 2x2 -quality 92 "$out/$base.jpg" ;;
    vips:heic_12mp) vips copy "$in" "$out/$base.jpg[Q=92,strip,subsample_mode=on]" ;;
    im:png_24mp) $IM "$in" -strip -sampling-factor 2x2 -define jpeg:extent=10000000 "$out/$base.jpg" ;;
    vips:png_24mp) vips copy "$in" "$out/$base.jpg[Q=92,strip,subsample_mode=on]" ;;
  esac
}
export -f run_case
export IM BAR

# Runs "$@" under GNU time; prints "seconds peak_kb".
timed() {
  local log=$work/time.log
  $TIME -v -o "$log" "$@" >/dev/null 2>"$work/stderr.log" || { cat "$work/stderr.log" >&2; return 1; }
  python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1)
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
print(f"{secs:.2f} {rss}")
PY
}

check_outputs() { # DIR EXPECTED_COUNT
  local n
  n=$(find "$1" -type f ! -name '.*' | wc -l)
  [ "$n" -eq "$2" ] || { echo "compare_images: $1 has $n outputs, expected $2" >&2; exit 1; }
  find "$1" -type f ! -name '.*' | head -1 | xargs /usr/bin/identify -format "    %f: %m %wx%h %b\n" >&2
}

printf '| case | files | preflight s | ImageMagick s | vips s | ImageMagick / preflight | vips / preflight | peak RSS MB (pf / IM / vips) |\n'
printf '|---|---|---|---|---|---|---|---|\n'
tot_pf=0 tot_im=0 tot_vips=0
for c in exif6_12mp pano_8000 avatar heic_12mp png_24mp; do
  f=$(ls "$src/$c".*)
  n=$COPIES
  [ "$c" = avatar ] && n=$((COPIES * 25))
  in=$work/in_$c
  mkdir -p "$in"
  for i in $(seq 1 "$n"); do cp "$f" "$in/$i-$(basename "$f")"; done
  for tool in pf im vips; do rm -rf "$work/out_${c}_$tool"; mkdir -p "$work/out_${c}_$tool"; done
  sync
  read -r t_pf m_pf < <(timed "$PF" fix --out "$work/out_${c}_pf" "$in")
  read -r t_im m_im < <(timed bash -c "ls '$in'/* | xargs -P $CORES -I{} bash -c 'run_case $c im {} $work/out_${c}_im'")
  read -r t_vips m_vips < <(timed bash -c "ls '$in'/* | xargs -P $CORES -I{} bash -c 'run_case $c vips {} $work/out_${c}_vips'")
  echo "$c:" >&2
  for tool in pf im vips; do check_outputs "$work/out_${c}_$tool" "$n"; done
  ratio() { python3 -c "print(f'{$1 / $2:.1f}x')"; }
  mb() { python3 -c "print(round($1 / 1024))"; }
  printf '| %s | %d | %.2f | %.2f | %.2f | %s | %s | %s / %s / %s |\n' "$c" "$n" "$t_pf" "$t_im" "$t_vips" \
    "$(ratio "$t_im" "$t_pf")" "$(ratio "$t_vips" "$t_pf")" "$(mb "$m_pf")" "$(mb "$m_im")" "$(mb "$m_vips")"
  tot_pf=$(python3 -c "print($tot_pf + $t_pf)")
  tot_im=$(python3 -c "print($tot_im + $t_im)")
  tot_vips=$(python3 -c "print($tot_vips + $t_vips)")
  rm -rf "$in" "$work"/out_"${c}"_*
done
printf '| **all** | | %.2f | %.2f | %.2f | %s | %s | |\n' "$tot_pf" "$tot_im" "$tot_vips" \
  "$(python3 -c "print(f'{$tot_im / $tot_pf:.1f}x')")" "$(python3 -c "print(f'{$tot_vips / $tot_pf:.1f}x')")"
echo "($CORES cores; $(uname -m); ImageMagick $($IM -version | head -1 | awk '{print $3}'), vips $(vips --version | awk '{print $1}' | sed 's/vips-//'))"
