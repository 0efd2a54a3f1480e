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
