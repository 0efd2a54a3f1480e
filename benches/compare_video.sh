#!/usr/bin/env bash
# preflight fix against the equivalent ffmpeg CLI commands, on the same inputs,
# in one run: wall time and peak memory (/usr/bin/time), as a Markdown table.
#
#     bash benches/compare_video.sh            # RUNS=3 by default
#
# Cases (inputs generated once under target/bench/video/):
# - transcode: HEVC 10-bit 1080x1920 stored landscape with a 90° rotation flag,
#   30 fps, 8 s, AAC sound → H.264 yuv420p upright. ffmpeg gets the same filters
#   (its autorotate is the same transpose), libx264 preset and CRF, AAC 128k
#   48 kHz and +faststart.
# - remux: H.264 in Matroska, 1080p, 20 s → MP4 (moov first), streams copied.
# - copy: a compliant MP4 → copied. The ffmpeg CLI has no "leave it if it is
#   fine": the careful command is a stream copy with +faststart.
# For remux and copy the table also compares with the one-size-fits-all ffmpeg
# transcode people run when they do not know what is wrong with a file.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
dir=target/bench/video
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

cargo build --release --quiet
bin=target/release/preflight
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

if [ ! -f "$dir/hevc10_rot90.mp4" ]; then
  ff -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=8" -f lavfi -i "sine=frequency=440:duration=8" \
    -c:v libx265 -preset ultrafast -crf 26 -pix_fmt yuv420p10le -tag:v hvc1 -x265-params log-level=error \
    -c:a aac -b:a 96k "$dir/hevc_land.mp4"
  ff -i "$dir/hevc_land.mp4" -c copy -metadata:s:v:0 rotate=90 -movflags +faststart "$dir/hevc10_rot90.mp4"
  rm -f "$dir/hevc_land.mp4"
fi
if [ ! -f "$dir/h264_1080p_20s.mkv" ]; then
  ff -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=20" -f lavfi -i "sine=frequency=440:duration=20" \
    -c:v libx264 -preset ultrafast -crf 18 -pix_fmt yuv420p -c:a aac -b:a 96k "$dir/h264_1080p_20s.mkv"
fi
if [ ! -f "$dir/ok_1080x1920_20s.mp4" ]; then
  ff -f lavfi -i "testsrc2=size=1080x1920:rate=30:duration=20" -f lavfi -i "sine=frequency=440:duration=20" \
    -c:v libx264 -preset ultrafast -crf 18 -pix_fmt yuv420p -c:a aac -b:a 96k -movflags +faststart "$dir/ok_1080x1920_20s.mp4"
fi

# The same encode settings as preflight's plan (plan/video.rs: X264_PRESET,
# X264_CRF, AUDIO_BITRATE, AUDIO_RATE) and the same filter chain (av/encode.rs).
x264=(-c:v libx264 -preset veryfast -crf 20 -profile:v high -pix_fmt yuv420p)
aac=(-c:a aac -b:a 128k -ar 48000)

# measure COMMAND...: the run with the least CPU time (user + sys) of $RUNS:
# "wall cpu peak_rss_kb". CPU time is the fairer reading on a shared machine,
# where wall time depends on what else runs; both are reported.
measure() {
  local best=""
  for _ in $(seq "$RUNS"); do
    rm -rf "$dir/out" && mkdir -p "$dir/out"
    /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" "$@" >/dev/null 2>&1
    read -r t u s m < "$dir/time.txt"
    c=$(awk "BEGIN{print $u + $s}")
    if [ -z "$best" ] || awk "BEGIN{exit !($c < $(echo "$best" | cut -d' ' -f2))}"; then
      best="$t $c $m"
    fi
  done
  echo "$best"
}

row() { # CASE TOOL_A A_RESULT TOOL_B B_RESULT
  read -r ta ca ma <<<"$3"
  read -r tb cb mb <<<"$5"
  awk -v c="$1" -v a="$2" -v b="$4" -v ta="$ta" -v ca="$ca" -v ma="$ma" -v tb="$tb" -v cb="$cb" -v mb="$mb" 'BEGIN{
    printf "| %s | %s | %.2f s / %.2f s | %.0f MB | %s | %.2f s / %.2f s | %.0f MB | %.2f× / %.2f× | %.2f× |\n",
      c, a, ta, ca, ma/1024, b, tb, cb, mb/1024, (ta>0? tb/ta : 0), (ca>0? cb/ca : 0), (ma>0? mb/ma : 0) }'
}

echo "| case | preflight | wall / CPU | peak RSS | ffmpeg CLI | wall / CPU | peak RSS | speed-up, wall / CPU (ffmpeg ÷ preflight) | memory (ffmpeg ÷ preflight) |"
echo "|---|---|---|---|---|---|---|---|---|"

in=$dir/hevc10_rot90.mp4
p=$(measure "$bin" fix --out "$dir/out" "$in")
f=$(measure ffmpeg -nostdin -y -i "$in" -vf "fps=fps=30:start_time=0,format=yuv420p,setsar=1" "${x264[@]}" "${aac[@]}" -movflags +faststart "$dir/out/o.mp4")
row "transcode: HEVC 10-bit 1080x1920 rotated, 8 s" "fix (reencoded)" "$p" "same filters, x264 veryfast crf 20" "$f"

in=$dir/h264_1080p_20s.mkv
p=$(measure "$bin" fix --out "$dir/out" "$in")
f=$(measure ffmpeg -nostdin -y -i "$in" -c copy -movflags +faststart "$dir/out/o.mp4")
row "remux: H.264 MKV 1080p, 20 s" "fix (remuxed)" "$p" "-c copy +faststart" "$f"
f=$(measure ffmpeg -nostdin -y -i "$in" -vf "fps=fps=30:start_time=0,format=yuv420p,setsar=1" "${x264[@]}" "${aac[@]}" -movflags +faststart "$dir/out/o.mp4")
row "remux: H.264 MKV 1080p, 20 s" "fix (remuxed)" "$p" "transcode (x264 veryfast crf 20)" "$f"

in=$dir/ok_1080x1920_20s.mp4
p=$(measure "$bin" fix --out "$dir/out" "$in")
f=$(measure ffmpeg -nostdin -y -i "$in" -c copy -movflags +faststart "$dir/out/o.mp4")
row "copy: compliant MP4 1080x1920, 20 s" "fix (copied)" "$p" "-c copy +faststart" "$f"
f=$(measure ffmpeg -nostdin -y -i "$in" -vf "fps=fps=30:start_time=0,format=yuv420p,setsar=1" "${x264[@]}" "${aac[@]}" -movflags +faststart "$dir/out/o.mp4")
row "copy: compliant MP4 1080x1920, 20 s" "fix (copied)" "$p" "transcode (x264 veryfast crf 20)" "$f"
