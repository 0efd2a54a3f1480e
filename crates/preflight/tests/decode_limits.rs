//! Decode limits on real fixtures: a picture over the pixel limit, a pass over
//! its frame budget, a scan stopped at its time limit and a lengthening over its
//! memory limit each end with a clear error or a partial result that says so,
//! and leave no output behind. The limits are lowered here so small fixtures
//! reach them; the same code guards the defaults.

use std::path::{Path, PathBuf};
use std::process::Command;

use preflight::plan::{ExtendMode, SegmentMode};
use preflight::{Action, DecodeLimits, FixOptions, Model, Orientation, Provider, Spec};

use crate::util::fixture;

fn spec() -> Spec {
    Spec::lookup(Provider::Kling, Model::KlingV3, Orientation::Video).unwrap()
}

fn options(limits: DecodeLimits) -> FixOptions {
    let mut options = FixOptions::default();
    options.limits = limits;
    options.video_threads = 1;
    options
}

/// Repairs `input` into a fresh folder; the folder is returned so a failure can
/// be checked for leftovers.
fn repair(
    input: &Path,
    options: &FixOptions,
) -> (tempfile::TempDir, PathBuf, Result<Action, String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mp4");
    let result = preflight::repair(input, &out, &spec(), options)
        .map(|fixed| fixed.action)
        .map_err(|e| e.to_string());
    (dir, out, result)
}

fn assert_nothing_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Duration of the file's video stream by the ffprobe CLI, in seconds.
fn ffprobe_duration(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=duration", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn a_picture_over_the_pixel_limit_is_refused_and_one_at_it_is_decoded() {
    // 720x1280 HEVC 10-bit: re-encoded, so decoded.
    let input = fixture("videos/hevc_10bit_720x1280.mp4");
    let mut under = DecodeLimits::default();
    under.max_video_pixels = 720 * 1280 - 1;
    let (dir, _, result) = repair(&input, &options(under));
    let err = result.unwrap_err();
    assert!(
        err.contains("720x1280") && err.contains("more than this tool decodes"),
        "{err}"
    );
    assert_nothing_left(dir.path());

    let mut at = DecodeLimits::default();
    at.max_video_pixels = 720 * 1280;
    let (_dir, out, result) = repair(&input, &options(at));
    assert_eq!(result.unwrap(), Action::Reencoded);
    assert!(out.is_file());
}

#[test]
fn a_pass_over_its_frame_budget_stops_with_an_error() {
    // VP9 → re-encode; `start` so no scan runs before the encode.
    let input = fixture("videos/vp9_640x360.webm");
    let mut limits = DecodeLimits::default();
    limits.max_decoded_frames = 20;
    let mut opts = options(limits);
    opts.segment = SegmentMode::Start;
    let (dir, _, result) = repair(&input, &opts);
    let err = result.unwrap_err();
    assert!(err.contains("decoded more than 20 frames"), "{err}");
    assert_nothing_left(dir.path());
}

#[test]
fn the_cut_scan_stops_at_its_time_limit_and_says_so() {
    // Shots change at 3.00 s and 5.00 s.
    let input = fixture("videos/cuts_3_shots_9s.mp4");
    let whole = preflight::scenes(&input, &DecodeLimits::default()).unwrap();
    assert!(!whole.stopped_early);
    assert_eq!(whole.cuts_us.len(), 2, "{whole:?}");

    let mut limits = DecodeLimits::default();
    limits.max_scan_us = 4_000_000;
    let partial = preflight::scenes(&input, &limits).unwrap();
    assert!(partial.stopped_early);
    assert_eq!(partial.cuts_us.len(), 1, "{partial:?}");
    assert!(partial.cuts_us[0] < 4_000_000);
    assert!(
        (4_000_000..4_200_000).contains(&partial.duration_us),
        "{partial:?}"
    );
    assert!(partial.frames < whole.frames);
}

#[test]
fn lengthening_over_the_memory_limit_names_freeze_which_works() {
    // 2 s of 720x1280: ~1.4 MB a frame, ~80 MB to hold for pingpong.
    let input = fixture("videos/short_2s_720x1280.mp4");
    let mut limits = DecodeLimits::default();
    limits.max_held_bytes = 10_000_000;
    let (dir, _, result) = repair(&input, &options(limits));
    let err = result.unwrap_err();
    assert!(err.contains("--extend freeze"), "{err}");
    assert_nothing_left(dir.path());

    let mut freeze = options(limits);
    freeze.extend = ExtendMode::Freeze;
    let (_dir, out, result) = repair(&input, &freeze);
    assert_eq!(result.unwrap(), Action::Reencoded);
    let seconds = ffprobe_duration(&out);
    assert!((3.0..3.2).contains(&seconds), "{seconds} s");
}
