//! The `preflight` CLI's tests, compiled into one binary: linking FFmpeg and
//! libheif once instead of once per file. Each module is one area; `util` holds
//! the helpers they share.

// Helpers: the binary, fixtures, and the independent tools outputs are checked with.
mod util;
// A real S3-compatible server on loopback (s3s over s3s-fs) for the submit tests.
mod s3_server;

// Damaged, unreadable and looping inputs: a clear per-file error, the run goes on.
mod bad_input;
// `check` agrees with ffprobe and ImageMagick on the facts.
mod check_agrees;
// Exit codes, JSON fields, usage errors and help.
mod cli;
// `check --content`, `--show`, `fix --frame-person` on real photographs.
mod content_cli;
// Damaged sound is repaired with silence, a damaged picture refused (issue 19).
mod damaged_streams;
// Failing writes and a full disk leave no half files.
mod containment;
// A killed `fix` run picks up where it stopped.
mod fix_resume;
// `fix` and `base64` on the image fixtures.
mod image_fix;
// No memory leaks in the FFmpeg paths (valgrind).
mod leaks;
// `submit`, `status` and `tasks` against fake providers and an S3 server on loopback:
// raw files repaired, uploaded and submitted; batches; resuming.
mod submit_cli;
// `submit` to fal, replicate, kie, piapi and wavespeed with no bucket: uploads
// through the provider, the marketplaces' quirks.
mod submit_market;
// `fix` and `check --deep` on the video fixtures.
mod video_fix;
// `fix` on videos shaped like cameras', recorders' and phones' (made here).
mod video_real;
