#!/usr/bin/env bash
# preflight against the ffmpeg CLI, ImageMagick and libvips, on one mixed
# corpus, in one run: time, peak memory and output bytes, with every output of
# every tool checked for compliance. Prints a Markdown table (stdout); progress
# goes to stderr.
#
#     bash benches/compare.sh              # COPIES=1: about 5 minutes on 2 cores
#     COPIES=2 bash benches/compare.sh     # the README table: about 10 minutes
#     COPIES=4 bash benches/compare.sh     # longer, steadier
#     CORPUS=/tmp/corpus bash benches/compare.sh   # keep the generated inputs there
#                                                  # and reuse them on the next run
#
# From a fresh clone: installs missing Debian packages (scripts/setup.sh),
# builds preflight (cargo build --release --locked), generates the corpus in a
# temporary folder with ffmpeg and ImageMagick (never committed), then runs.
#
# The corpus (each case is a folder of COPIES copies of one generated file;
# avatars 25 x COPIES) and what preflight decides for it, which the other
# tools are told to do too (preflight fix --dry-run prints the same plans):
#
#   images (JPEG out: baseline, 4:2:0, quality 92, no metadata; ffmpeg's MJPEG
#   encoder has no libjpeg quality scale: -q:v 2, which identify reads as q94)
#   exif6_12mp     4000x3000 JPEG, EXIF orientation 6   turn upright (3000x4000)
#   pano_8000      8000x2000 JPEG                       pad to 8000x3200 (2.5:1), solid bars
#   avatar         240x180 JPEG                         scale up to 400x300 (Catmull-Rom/bicubic)
#   heic_12mp      4032x3024 HEIC                       convert to JPEG
#   png_24mp       6000x4000 PNG, 60 MB                 JPEG within 10 MB (q92 is over: search)
#
#   videos (ffmpeg CLI only; H.264 High yuv420p, x264 veryfast CRF 20, AAC
#   128k 48 kHz, +faststart, the filters preflight's encoder uses)
#   hevc10_rot90   HEVC 10-bit 1920x1080, rotation flag, 5 s   H.264 upright 1080x1920
#   long_45s       H.264 720x1280, 45 s                  stream copy to 30 s (the ffmpeg CLI: to the last
#                                                        keyframe <= 29.967 s, as preflight cut before)
#   mkv_1080p      H.264 1920x1080 in Matroska, 10 s     remux to MP4, stream copy
#   dci4k60        H.264 4096x2160 60 fps, 3.5 s         scale to 3850x2030, 30 fps
#   small_320x240  H.264 320x240, 5 s                    scale up to 454x340
#
#   two more video rows, run alone (not part of "everything"):
#   phone_hevc_35s HEVC 10-bit 1920x1080, rotation flag, 35 s, for kling
#                  orientation image (10 s): --segment auto scans until the
#                  window is decided, then H.264 upright 1080x1920, 9.967 s;
#                  the ffmpeg CLI decodes only the 9.967 s it keeps (-t)
#   ts_1080p       H.264 1920x1080 in MPEG-TS starting at 2.88 s, 10 s:
#                  remux to MP4 starting at 0, stream copy
#
#     ONLY="phone_hevc_35s ts_1080p" bash benches/compare.sh   # just these rows
#
# Every tool gets the same inputs and both cores: preflight is one
# `preflight fix` process per folder (it works on files in parallel); the
# others run one process per file through `xargs -P $(nproc)`, largest files
# first. When a JPEG at the top quality is over 10 MB, each tool searches like
# preflight does: ImageMagick -define jpeg:extent, libvips a binary search over
# Q 50..91 from a decoded .v copy, ffmpeg -q:v 3, 4, ... 8 until one fits.
# ffmpeg 5.1 reads no HEIC (no HEIF demuxer): its HEIC files fail and are
# reported. For long_45s preflight also decodes the clip once at 64x36 to find
# hard cuts (--segment auto, the default); the ffmpeg CLI has no such step and
# only reads the packet index (ffprobe) to find the keyframe.
#
# Runs: each case alone, then every image folder at once ("all images": all
# four tools), then the whole corpus at once ("everything": preflight and
# ffmpeg, the tools that handle both kinds).
#
# Measures: wall time and the peak RSS of the largest single process from GNU
# time (/usr/bin/time -f "%e %M"); and the peak of the summed RSS of all the
# run's processes, sampled every 0.2 s (with xargs -P 2, two tools run at
# once: the memory the machine needs is the sum). Ratios are other / preflight:
# above 1 means preflight is faster, smaller, lighter.
#
# Compliance: every output of every tool is checked twice, by
# `preflight check --json` on the tool's output folder and independently with
# identify / ffprobe (Kling, kling-v3, orientation video: images JPEG/PNG
# <= 10 MB, sides 300..65536, aspect 1:2.5..2.5:1, no EXIF rotation; videos
# MP4, H.264, sides 340..3850 as displayed, no rotation flag, 3..30 s,
# <= 100 MB). A missing output counts as non-compliant. Outputs whose size
# differs from preflight's are listed as notes (same operation check).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

COPIES=${COPIES:-1}
[[ $COPIES =~ ^[1-9][0-9]?$ ]] || { echo "compare: COPIES must be 1..99" >&2; exit 2; }
CORES=$(nproc)
IM=/usr/bin/convert # not the first `convert` on PATH: always ImageMagick's own
IDENTIFY=/usr/bin/identify
TIME=/usr/bin/time
LIMIT_IMAGE=10000000
LIMIT_VIDEO=100000000
BAR="128,128,128" # pad colour of the other tools (preflight takes one from the picture's edge)
IMAGE_CASES=(exif6_12mp pano_8000 avatar heic_12mp png_24mp)
VIDEO_CASES=(hevc10_rot90 long_45s mkv_1080p dci4k60 small_320x240)
EXTRA_CASES=(phone_hevc_35s ts_1080p)
# ONLY="case ...": just those rows (no "all images", no "everything").
if [ -n "${ONLY:-}" ]; then
  keep() { local c k out=(); for c in "$@"; do for k in $ONLY; do [ "$c" = "$k" ] && out+=("$c"); done; done; echo "${out[@]}"; }
  read -r -a IMAGE_CASES <<<"$(keep "${IMAGE_CASES[@]}")"
  read -r -a VIDEO_CASES <<<"$(keep "${VIDEO_CASES[@]}")"
  read -r -a EXTRA_CASES <<<"$(keep "${EXTRA_CASES[@]}")"
fi
START=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say() { echo "compare: $*" >&2; }
die() { say "$*"; exit 1; }

# --- tools -------------------------------------------------------------------
say "installing what is missing (scripts/setup.sh) ..."
bash scripts/setup.sh >&2 || die "scripts/setup.sh failed: install ffmpeg, imagemagick, libvips-tools and time, then run again"
for tool in ffmpeg ffprobe vips "$IM" "$IDENTIFY" "$TIME" cargo setsid ps awk; do
  command -v "$tool" >/dev/null || die "$tool is missing (bash scripts/setup.sh installs it on Debian)"
done
im_version=$("$IM" -version 2>/dev/null || true)
[[ $im_version == *ImageMagick* ]] || die "$IM is not ImageMagick"
im_formats=$("$IM" -list format 2>/dev/null || true)
grep -Eq '^ *HEIC\*? +HEIC +rw' <<<"$im_formats" || die "$IM cannot write HEIC (Debian: libheif1, ImageMagick's heic coder)"
say "building preflight (cargo build --release --locked) ..."
cargo build --release --locked >&2 || die "cargo build --release --locked failed"
target=${CARGO_TARGET_DIR:-target}
[[ $target == /* ]] || target=$ROOT/$target
PF=$target/release/preflight
[ -x "$PF" ] || die "$PF was not built"

# --- corpus ------------------------------------------------------------------
if [ -n "${CORPUS:-}" ]; then
  mkdir -p "$CORPUS"
  masters=$(cd "$CORPUS" && pwd)
  work=$(mktemp -d)
else
  work=$(mktemp -d)
  masters=$work/masters
  mkdir -p "$masters"
fi
trap 'rm -rf "$work"' EXIT
corpus=$work/corpus
mkdir -p "$corpus"
results=$work/results.tsv
notes=$work/notes.txt
: >"$results"
: >"$notes"

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

# Photo-like picture: a smooth fractal with sensor-like noise (NOISE=0: none).
photo() { # W H OUT [convert options]
  local w=$1 h=$2 out=$3
  shift 3
  "$IM" -size $((w / 8))x$((h / 8)) plasma:fractal -blur 0x1 -resize "${w}x${h}!" \
    -attenuate "${NOISE:-0.4}" +noise Gaussian "$@" "$out"
}

# A phone's clip: HEVC 10-bit 1920x1080 30 fps with a 90° rotation flag.
rotated_hevc() { # SECONDS TMP_BASE OUT_BASE
  ff -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$1" -f lavfi -i "sine=frequency=440:duration=$1" \
    -c:v libx265 -preset ultrafast -crf 26 -pix_fmt yuv420p10le -tag:v hvc1 -x265-params log-level=error \
    -c:a aac -b:a 96k "$2.mp4"
  ff -i "$2.mp4" -c copy -metadata:s:v:0 rotate=90 -movflags +faststart "$3.mp4"
  rm -f "$2.mp4"
}

make_master() { # CASE: writes $masters/CASE.EXT once
  local c=$1 m=$masters/$1 tmp
  ls "$m".* >/dev/null 2>&1 && return 0
  say "generating $c ..."
  tmp=$masters/.tmp-$c
  case $c in
    exif6_12mp)
      photo 4000 3000 "$tmp.jpg" -quality 90
      # An APP1 Exif segment with one IFD entry: Orientation (0x0112) = 6.
      {
        printf '\377\330\377\341\000\042Exif\000\000MM\000\052\000\000\000\010\000\001'
        printf '\001\022\000\003\000\000\000\001\000\006\000\000\000\000\000\000'
        tail -c +3 "$tmp.jpg"
      } >"$m.jpg"
      rm -f "$tmp.jpg"
      ;;
    pano_8000) photo 8000 2000 "$m.jpg" -quality 90 ;;
    avatar) photo 240 180 "$m.jpg" -quality 90 ;;
    heic_12mp)
      # No noise: libheif's x265 takes minutes on a noisy 12 MP picture.
      NOISE=0 photo 4032 3024 "$tmp.png"
      "$IM" "$tmp.png" -quality 70 "$m.heic"
      rm -f "$tmp.png"
      ;;
    png_24mp) NOISE=1.0 photo 6000 4000 "$m.png" -depth 8 ;;
    hevc10_rot90) rotated_hevc 5 "$tmp" "$m" ;;
    long_45s)
      ff -f lavfi -i "testsrc2=size=720x1280:rate=30:duration=45" -f lavfi -i "sine=frequency=440:duration=45" \
        -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 96k -movflags +faststart "$m.mp4"
      ;;
    mkv_1080p)
      ff -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=10" -f lavfi -i "sine=frequency=440:duration=10" \
        -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 96k "$m.mkv"
      ;;
    dci4k60)
      ff -f lavfi -i "testsrc2=size=4096x2160:rate=60:duration=3.5" -f lavfi -i "sine=frequency=440:duration=3.5" \
        -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 96k -movflags +faststart "$m.mp4"
      ;;
    small_320x240)
      ff -f lavfi -i "testsrc2=size=320x240:rate=30:duration=5" -f lavfi -i "sine=frequency=440:duration=5" \
        -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 96k -movflags +faststart "$m.mp4"
      ;;
    phone_hevc_35s) rotated_hevc 35 "$tmp" "$m" ;;
    ts_1080p)
      ff -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=10" -f lavfi -i "sine=frequency=440:duration=10" \
        -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 96k -output_ts_offset 1.48 \
        -f mpegts "$m.ts"
      ;;
  esac
}

gen_start=$(date +%s)
for c in "${IMAGE_CASES[@]}"; do make_master "$c"; done
for c in "${VIDEO_CASES[@]}" "${EXTRA_CASES[@]}"; do make_master "$c"; done
for kind in images videos extra; do
  case $kind in
    images) cases=("${IMAGE_CASES[@]}") ;;
    videos) cases=("${VIDEO_CASES[@]}") ;;
    extra) cases=("${EXTRA_CASES[@]}") ;;
  esac
  for c in "${cases[@]}"; do
    n=$COPIES
    [ "$c" = avatar ] && n=$((COPIES * 25))
    dest=$corpus/$kind/$c
    # The extra rows stay out of the corpus that "everything" runs on.
    [ $kind = extra ] && dest=$work/extra/$c
    mkdir -p "$dest"
    src=$(ls "$masters/$c".*)
    for i in $(seq 1 "$n"); do cp "$src" "$dest/$c-$i.${src##*.}"; done
  done
done
sync
GEN_SECONDS=$(($(date +%s) - gen_start))
say "corpus: $(find "$corpus" -type f | wc -l) files, $(du -sm "$corpus" | cut -f1) MB (generated in ${GEN_SECONDS} s)"

# --- the other tools' pipelines, one file at a time ----------------------------
# Each writes OUT_BASE.jpg or OUT_BASE.mp4; a nonzero status is a failure.
size_of() { stat -c %s "$1"; }

im_ops() { # CASE: the ImageMagick operations preflight decided for it
  case $1 in
    exif6_12mp) echo -auto-orient ;;
    pano_8000) echo "-background rgb($BAR) -gravity center -extent 8000x3200" ;;
    avatar) echo "-filter Catrom -resize 400x300" ;;
    heic_12mp | png_24mp) ;;
    *) echo "ImageMagick: no pipeline for $1" >&2; return 1 ;;
  esac
}
op_im() { # CASE IN OUT_BASE
  local out=$3.jpg ops
  ops=$(im_ops "$1") || return 1
  # shellcheck disable=SC2086 # ops are words without spaces
  "$IM" "$2" $ops -strip -sampling-factor 2x2 -quality 92 "$out" || return 1
  if [ "$(size_of "$out")" -gt "$LIMIT_IMAGE" ]; then
    # shellcheck disable=SC2086
    "$IM" "$2" $ops -strip -sampling-factor 2x2 -quality 92 -define "jpeg:extent=$LIMIT_IMAGE" "$out" || return 1
  fi
}

vips_ops() { # CASE IN DEST
  case $1 in
    exif6_12mp) vips autorot "$2" "$3" ;;
    pano_8000) vips gravity "$2" "$3" centre 8000 3200 --extend background --background "${BAR//,/ }" ;;
    avatar) vips resize "$2" "$3" 1.6666667 --kernel cubic ;;
    heic_12mp | png_24mp) vips copy "$2" "$3" ;;
    *) echo "libvips: no pipeline for $1" >&2; return 1 ;;
  esac
}
op_vips() { # CASE IN OUT_BASE
  local out=$3.jpg v=$3.v lo=50 hi=91 mid
  local opts=strip,subsample_mode=on # baseline, 4:2:0, no metadata
  vips_ops "$1" "$2" "${out}[Q=92,$opts]" || return 1
  [ "$(size_of "$out")" -le "$LIMIT_IMAGE" ] && return 0
  # Over the budget: preflight's search (the floor, then a binary search over
  # 50..91 keeping the highest quality that fits), from one decoded copy.
  vips_ops "$1" "$2" "$v" || return 1
  vips copy "$v" "${out}[Q=$lo,$opts]" || return 1
  if [ "$(size_of "$out")" -gt "$LIMIT_IMAGE" ]; then
    rm -f "$v"
    echo "libvips: over $LIMIT_IMAGE bytes even at Q=50" >&2
    return 1
  fi
  mv "$out" "$3.best.jpg"
  while [ "$lo" -lt "$hi" ]; do
    mid=$((lo + (hi - lo + 1) / 2))
    vips copy "$v" "${out}[Q=$mid,$opts]" || return 1
    if [ "$(size_of "$out")" -le "$LIMIT_IMAGE" ]; then
      lo=$mid
      mv "$out" "$3.best.jpg"
    else
      hi=$((mid - 1))
    fi
  done
  mv "$3.best.jpg" "$out"
  rm -f "$v"
}

op_ffmpeg() { # CASE IN OUT_BASE
  local c=$1 in=$2 vf="" t q
  local x264=(-c:v libx264 -preset veryfast -crf 20 -profile:v high -pix_fmt yuv420p)
  local aac=(-c:a aac -b:a 128k -ar 48000)
  local fps="fps=fps=30:start_time=0"
  case $c in
    exif6_12mp | heic_12mp | png_24mp) ;; # autorotate applies the EXIF orientation
    pano_8000) vf="pad=8000:3200:(ow-iw)/2:(oh-ih)/2:color=0x808080" ;;
    avatar) vf="scale=400:300:flags=bicubic" ;;
    hevc10_rot90) # autorotate inserts the transpose
      ff -i "$in" -vf "$fps,format=yuv420p,setsar=1" "${x264[@]}" "${aac[@]}" -movflags +faststart "$3.mp4"
      return ;;
    long_45s) # the last keyframe at most 30 s - 1 frame in, as preflight cuts
      t=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,flags -of csv=p=0 "$in" |
        awk -F, '$2 ~ /K/ && $1 <= 29.967 && $1 > 3.034 { t = $1 } END { print t }')
      [ -n "$t" ] || { echo "ffmpeg: no keyframe between 3 and 30 s" >&2; return 1; }
      ff -i "$in" -t "$t" -c copy -movflags +faststart "$3.mp4"
      return ;;
    mkv_1080p)
      ff -i "$in" -c copy -movflags +faststart "$3.mp4"
      return ;;
    dci4k60)
      ff -i "$in" -vf "$fps,scale=3850:2030:flags=bicubic,format=yuv420p,setsar=1" "${x264[@]}" "${aac[@]}" \
        -movflags +faststart "$3.mp4"
      return ;;
    small_320x240)
      ff -i "$in" -vf "$fps,scale=454:340:flags=bicubic,format=yuv420p,setsar=1" "${x264[@]}" "${aac[@]}" \
        -movflags +faststart "$3.mp4"
      return ;;
    phone_hevc_35s) # the 299 frames preflight keeps; autorotate inserts the transpose
      ff -t 9.967 -i "$in" -vf "$fps,format=yuv420p,setsar=1" "${x264[@]}" "${aac[@]}" -movflags +faststart "$3.mp4"
      return ;;
    ts_1080p)
      ff -i "$in" -c copy -movflags +faststart "$3.mp4"
      return ;;
    *) echo "ffmpeg: no pipeline for $c" >&2; return 1 ;;
  esac
  local vfa=()
  [ -n "$vf" ] && vfa=(-vf "$vf")
  ff -i "$in" "${vfa[@]}" -frames:v 1 -update 1 -pix_fmt yuvj420p -q:v 2 "$3.jpg" || return 1
  [ "$(size_of "$3.jpg")" -le "$LIMIT_IMAGE" ] && return 0
  # Over the budget: the next -q:v steps (coarser is smaller), the first that fits.
  for q in 3 4 5 6 7 8; do
    ff -i "$in" "${vfa[@]}" -frames:v 1 -update 1 -pix_fmt yuvj420p -q:v "$q" "$3.jpg" || return 1
    [ "$(size_of "$3.jpg")" -le "$LIMIT_IMAGE" ] && return 0
  done
  echo "ffmpeg: over $LIMIT_IMAGE bytes even at -q:v 8" >&2
  return 1
}

# One file: TOOL OUT_DIR IN. Failures are logged to OUT_DIR.fail.
run_one() {
  local tool=$1 out=$2 in=$3 name err
  name=${in##*/}
  err=$out.err/$name
  if ! "op_$tool" "${name%-*}" "$in" "$out/${name%.*}" 2>"$err"; then
    printf '%s\t%s\n' "$name" "$(sed -e "s|$in: ||g" -e 's/\[[^]]* @ 0x[0-9a-f]*\] //g' "$err" |
      paste -sd';' | sed 's/;/; /g' | cut -c1-160)" >>"$out.fail"
  fi
}
# Every file under IN_DIR, largest first, NPROC at a time: TOOL OUT_DIR IN_DIR.
each() {
  find "$3" -type f -printf '%s %p\0' | sort -z -rn | cut -z -d' ' -f2- |
    xargs -0 -r -P "$CORES" -n 1 bash -c 'run_one "$@"' _ "$1" "$2"
}
export -f size_of im_ops op_im vips_ops op_vips op_ffmpeg run_one each ff
export IM BAR CORES LIMIT_IMAGE

# --- measuring -----------------------------------------------------------------
# measure COMMAND...: runs it in its own session under GNU time, samples the
# summed RSS of the session every 0.2 s; sets WALL, RSS_MAX (KB, largest
# process), RSS_ALL (KB, summed peak, at least RSS_MAX), RC.
measure() {
  local tf=$work/time.txt peak=0 s pid
  setsid -w "$TIME" -f "%e %M" -o "$tf" "$@" >"$work/run.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    s=$({ ps -o rss= -s "$pid" 2>/dev/null || true; } | awk '{ t += $1 } END { print t + 0 }')
    [ "$s" -gt "$peak" ] && peak=$s
    sleep 0.2
  done
  RC=0
  wait "$pid" || RC=$?
  read -r WALL RSS_MAX < <(tail -n 1 "$tf")
  RSS_ALL=$((peak > RSS_MAX ? peak : RSS_MAX))
}

# --- compliance ------------------------------------------------------------------
# Independent check of one output: prints nothing when compliant, else why.
indep() { # FILE
  local f=$1 bytes why=() line w h o fmt
  bytes=$(size_of "$f")
  case $f in
    *.jpg | *.png)
      line=$("$IDENTIFY" -format '%m %w %h %[orientation]\n' "$f" 2>/dev/null | head -1) || line=""
      [ -n "$line" ] || { echo "identify cannot read it"; return; }
      read -r fmt w h o <<<"$line"
      case $fmt in JPEG | PNG) ;; *) why+=("format $fmt") ;; esac
      case $o in Undefined | TopLeft) ;; *) why+=("EXIF orientation $o") ;; esac
      [ "$bytes" -le "$LIMIT_IMAGE" ] || why+=("$bytes bytes > $LIMIT_IMAGE")
      for s in "$w" "$h"; do
        { [ "$s" -ge 300 ] && [ "$s" -le 65536 ]; } || why+=("side $s outside 300..65536")
      done
      awk -v w="$w" -v h="$h" 'BEGIN { exit !(w <= 2.5 * h && h <= 2.5 * w) }' || why+=("aspect ${w}x${h} outside 1:2.5..2.5:1")
      ;;
    *.mp4)
      local info codec pix rot dur start
      info=$(ffprobe -v error -select_streams v:0 -show_entries \
        stream=codec_name,width,height,pix_fmt:stream_side_data=rotation:format=format_name,duration,start_time \
        -of default=nw=1 "$f" 2>/dev/null) || { echo "ffprobe cannot read it"; return; }
      get() { awk -F= -v k="$1" '$1 == k { print $2; exit }' <<<"$info"; }
      codec=$(get codec_name) w=$(get width) h=$(get height) pix=$(get pix_fmt)
      rot=$(get rotation) fmt=$(get format_name) dur=$(get duration) start=$(get start_time)
      awk -v s="${start:-0}" 'BEGIN { exit !(s < 0.001 && s > -0.001) }' || why+=("starts at $start s")
      [[ $fmt == *mp4* ]] || why+=("container $fmt")
      [ "$codec" = h264 ] || why+=("codec $codec")
      [ "$pix" = yuv420p ] || why+=("pixel format $pix")
      [ -z "$rot" ] || [ "$rot" = 0 ] || why+=("rotation flag $rot")
      [ "$bytes" -le "$LIMIT_VIDEO" ] || why+=("$bytes bytes > $LIMIT_VIDEO")
      for s in "${w:-0}" "${h:-0}"; do
        { [ "$s" -ge 340 ] && [ "$s" -le 3850 ]; } || why+=("side $s outside 340..3850")
      done
      awk -v d="${dur:-0}" 'BEGIN { exit !(d >= 3 && d <= 30) }' || why+=("duration $dur s outside 3..30")
      ;;
    *) why+=("unexpected output") ;;
  esac
  [ ${#why[@]} -eq 0 ] || printf '%s; ' "${why[@]}" | sed 's/; $/\n/'
}

# Geometry of an output (displayed WxH), for the same-operation check.
geometry() {
  case $1 in
    *.mp4) ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$1" ;;
    *) "$IDENTIFY" -format '%wx%h' "$1" 2>/dev/null ;;
  esac
}

# verify LABEL TOOL OUT_DIR N: sets OK (compliant outputs) and BYTES; notes why
# any output fails, and outputs whose size differs from preflight's.
verify() {
  local label=$1 tool=$2 dir=$3 n=$4 f json why name count=0 geo ref
  OK=0
  BYTES=0
  "$PF" check --json --provider kling --model kling-v3 "$dir" >"$dir.check" 2>/dev/null || true
  while IFS= read -r -d '' f; do
    count=$((count + 1))
    BYTES=$((BYTES + $(size_of "$f")))
    name=$(basename "$f")
    json=$(grep -F "\"path\":\"$f\"" "$dir.check" || true)
    why=$(indep "$f")
    if ! grep -q '"ok":true' <<<"$json"; then
      why="${why:+$why; }preflight check: $(grep -o '"violations":\[[^]]*\]' <<<"$json" | grep -o '"rule":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' ')$(grep -o '"error":"[^"]*"' <<<"$json")"
    fi
    if [ -n "$why" ]; then
      echo "- $label, $tool: $name not compliant: $why" >>"$notes"
    else
      OK=$((OK + 1))
    fi
    if [ "$tool" = preflight ]; then
      geometry "$f" >"$work/geo.${name%-*}"
    elif [ -f "$work/geo.${name%-*}" ]; then
      geo=$(geometry "$f")
      ref=$(cat "$work/geo.${name%-*}")
      [ "$geo" = "$ref" ] || echo "- $label, $tool: $name is $geo, preflight's is $ref" | tee -a "$work/geo.diff" >>"$notes"
    fi
  done < <(find "$dir" -type f -not -path '*/.*' -print0)
  if [ "$count" -ne "$n" ] && [ ! -s "$dir.fail" ]; then
    echo "- $label, $tool: $((n - count)) of $n inputs have no output" >>"$notes"
  fi
  if [ -s "$dir.fail" ]; then
    # One line per distinct error: how many files, which, and the error.
    sort -t$'\t' -k2 "$dir.fail" | awk -F'\t' -v head="- $label, $tool failed on" '
      $2 != msg { if (n) print head, n, (n > 1 ? "files" : "file"), "(" names "):", msg; n = 0; names = ""; msg = $2 }
      { n++; names = names (names == "" ? "" : ", ") $1 }
      END { if (n) print head, n, (n > 1 ? "files" : "file"), "(" names "):", msg }' >>"$notes"
  fi
  if [ "$tool" = preflight ]; then
    grep '"action":"failed"' "$work/run.log" | sed 's/.*"path":"\([^"]*\)".*"error":\("[^"]*"\).*/\1: \2/' |
      sed "s|^|- $label, preflight failed: |" >>"$notes" || true
  elif [ -s "$work/run.log" ] && [ "$RC" -ne 0 ]; then
    echo "- $label, $tool exited with status $RC: $(tail -n 2 "$work/run.log" | tr '\n' ' ' | cut -c1-200)" >>"$notes"
  fi
  return 0
}

# run LABEL TOOL IN_DIR N: one measured run, its checks, one results line.
run() {
  local label=$1 tool=$2 in=$3 n=$4 out
  out=$work/out/$label/$tool
  rm -rf "$out" "$out".*
  mkdir -p "$out" "$out.err"
  if [ "$tool" = preflight ]; then
    local extra=()
    [ "$label" = phone_hevc_35s ] && extra=(--orientation image)
    measure "$PF" fix --provider kling --model kling-v3 "${extra[@]}" --json --out "$out" "$in"
  else
    measure bash -c 'each "$@"' _ "$tool" "$out" "$in"
  fi
  verify "$label" "$tool" "$out" "$n"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$tool" "$n" "$OK" "$WALL" "$RSS_MAX" "$RSS_ALL" "$BYTES" >>"$results"
  say "$(printf '%-14s %-9s %3d files  %3d compliant  %7.2f s  %5d MB  %8.1f MB out' \
    "$label" "$tool" "$n" "$OK" "$WALL" $((RSS_ALL / 1024)) "$(awk -v b="$BYTES" 'BEGIN { print b / 1e6 }')")"
  rm -rf "$out" "$out".*
}

count() { find "$1" -type f | wc -l; }

for c in "${IMAGE_CASES[@]}"; do
  in=$corpus/images/$c
  for tool in preflight ffmpeg im vips; do run "$c" "$tool" "$in" "$(count "$in")"; done
done
for c in "${VIDEO_CASES[@]}"; do
  in=$corpus/videos/$c
  for tool in preflight ffmpeg; do run "$c" "$tool" "$in" "$(count "$in")"; done
done
for c in "${EXTRA_CASES[@]}"; do
  in=$work/extra/$c
  for tool in preflight ffmpeg; do run "$c" "$tool" "$in" "$(count "$in")"; done
done
if [ -z "${ONLY:-}" ]; then
  for tool in preflight ffmpeg im vips; do run "all images" "$tool" "$corpus/images" "$(count "$corpus/images")"; done
  for tool in preflight ffmpeg; do run "everything" "$tool" "$corpus" "$(count "$corpus")"; done
fi

# --- report --------------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TOTAL=$(($(date +%s) - START))
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ram=$(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
echo "- Machine: $CORES cores ($cpu), $ram RAM, $(uname -sm); load average (1/5/15 min) $LOAD_BEFORE before, $LOAD_AFTER after."
echo "- Tools: $("$PF" --version); $(ffmpeg -version | head -1 | cut -d' ' -f1-3); $("$IM" -version | head -1 | cut -d' ' -f2-4); $(vips --version)."
echo "- Run: $(date -u +%Y-%m-%d), COPIES=$COPIES, $(count "$corpus") input files ($(du -sm "$corpus" | cut -f1) MB), corpus generated in ${GEN_SECONDS} s, whole script ${TOTAL} s."
echo
echo "| case | tool | files | compliant | time s | peak RSS MB (largest process / all) | output MB | time ×pf | RSS ×pf | bytes ×pf |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '
  function name(t) { return t == "im" ? "ImageMagick" : t == "vips" ? "libvips" : t == "ffmpeg" ? "ffmpeg CLI" : "preflight" }
  function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "—" }
  {
    label = $1; tool = $2; n = $3; ok = $4; wall = $5; rmax = $6; rall = $7; bytes = $8
    if (tool == "preflight") { pw[label] = wall; pr[label] = rall; pb[label] = bytes; pok[label] = (ok == n) }
    comp = ok "/" n (ok == n ? "" : " ✗")
    if (tool == "preflight") { rt = rr = rb = "1.00" }
    else if (ok == n && pok[label]) {
      rt = ratio(wall, pw[label]); rr = ratio(rall, pr[label]); rb = ratio(bytes, pb[label])
    } else {
      rt = "(" ratio(wall, pw[label]) ")"; rr = "(" ratio(rall, pr[label]) ")"; rb = "—"
    }
    lab = (label == "all images" || label == "everything") ? "**" label "**" : label
    printf "| %s | %s | %d | %s | %.2f | %.0f / %.0f | %.1f | %s | %s | %s |\n", lab, name(tool), n, comp, wall, rmax / 1024, rall / 1024, bytes / 1e6, rt, rr, rb
  }' "$results"
echo
echo "Ratios are other tool / preflight (above 1: preflight is faster, lighter, smaller). ✗: some outputs"
echo "missing or not compliant; then the time and memory ratios are in brackets (that tool did less work)"
echo "and there is no bytes ratio."
echo
if [ -s "$work/geo.diff" ]; then
  echo "Some outputs differ in size from preflight's (listed below)."
else
  echo "Every output of every tool has the same width and height as preflight's output for that input."
fi
if [ -s "$notes" ]; then
  echo
  echo "Notes:"
  echo
  cat "$notes"
else
  echo "Every output of every tool is compliant."
fi
