//! `preflight fix` on videos, verified with the ffprobe and ffmpeg CLIs (an
//! independent reading of every output): container, codec, pixel format,
//! displayed size, duration, bytes, sound, orientation of the pixels.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{bin, ffprobe, files_below, fixture, json_lines, preflight, root};
use preflight::plan::video::Mode;
use preflight::{MediaFacts, Model, Orientation, Provider, Spec};
use serde_json::Value;

fn video(name: &str) -> PathBuf {
    fixture("videos").join(name)
}

/// Runs `preflight fix --json` and returns one JSON object per input.
fn fix(args: &[&str], inputs: &[PathBuf], out: &Path) -> Vec<Value> {
    let mut command: Vec<&OsStr> = vec!["fix".as_ref(), "--json".as_ref(), "--out".as_ref()];
    command.push(out.as_os_str());
    command.extend(args.iter().map(OsStr::new));
    command.extend(inputs.iter().map(|p| p.as_os_str()));
    json_lines(&preflight(command))
}

fn line<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("no line for {name}: {lines:?}"))
}

fn num(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_f64())
        .unwrap_or(f64::NAN)
}

struct Limits {
    min_side: u64,
    max_side: Option<u64>,
    min_s: f64,
    max_s: f64,
    max_bytes: u64,
}

fn limits(spec: &Spec) -> Limits {
    Limits {
        min_side: u64::from(spec.video.min_side),
        max_side: spec.video.max_side.map(u64::from),
        min_s: spec.video.min_duration_us as f64 / 1e6,
        max_s: spec.video.max_duration_us as f64 / 1e6,
        max_bytes: spec.video.max_bytes.unwrap_or(u64::MAX),
    }
}

fn kling(orientation: Orientation) -> Spec {
    Spec::lookup(Provider::Kling, Model::KlingV3, orientation).unwrap()
}

/// Everything ffprobe can confirm about a repaired video.
fn verify(path: &Path, l: &Limits, sound: bool) {
    let p = ffprobe(path);
    let name = path.display();
    let format = &p["format"];
    assert!(
        format["format_name"].as_str().unwrap().contains("mp4"),
        "{name}: container {}",
        format["format_name"]
    );
    let bytes = std::fs::metadata(path).unwrap().len();
    assert!(bytes <= l.max_bytes, "{name}: {bytes} bytes");
    let duration = num(&format["duration"]);
    assert!(
        duration >= l.min_s && duration <= l.max_s,
        "{name}: duration {duration}"
    );
    let streams = p["streams"].as_array().unwrap();
    let v: Vec<&Value> = streams
        .iter()
        .filter(|s| s["codec_type"] == "video")
        .collect();
    assert_eq!(v.len(), 1, "{name}: one video stream");
    let v = v[0];
    assert_eq!(v["codec_name"], "h264", "{name}");
    assert_eq!(v["pix_fmt"], "yuv420p", "{name}");
    let rotated = v["side_data_list"]
        .as_array()
        .is_some_and(|l| l.iter().any(|d| num(&d["rotation"]).abs() > 0.5));
    // Displayed size: after any rotation flag.
    let (mut w, mut h) = (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap());
    if rotated {
        std::mem::swap(&mut w, &mut h);
    }
    for side in [w, h] {
        assert!(side >= l.min_side, "{name}: {w}x{h}");
        assert!(l.max_side.is_none_or(|m| side <= m), "{name}: {w}x{h}");
    }
    let a: Vec<&Value> = streams
        .iter()
        .filter(|s| s["codec_type"] == "audio")
        .collect();
    assert_eq!(
        !a.is_empty(),
        sound,
        "{name}: sound present = {}",
        !a.is_empty()
    );
    if let (Some(a), Some(fps)) = (a.first(), rate(&v["r_frame_rate"])) {
        let (ad, vd) = (num(&a["duration"]), num(&v["duration"]));
        // One video frame plus one AAC frame at 44.1 kHz.
        let tolerance = 1.0 / fps + 1024.0 / 44_100.0 + 0.002;
        assert!(
            (ad - vd).abs() <= tolerance,
            "{name}: audio {ad} s, video {vd} s"
        );
    }
}

fn rate(v: &Value) -> Option<f64> {
    let s = v.as_str()?;
    let (n, d) = s.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d > 0.0).then_some(n / d)
}

fn has_sound(path: &Path) -> bool {
    ffprobe(path)["streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["codec_type"] == "audio")
}

#[test]
fn every_fixture_is_repaired_for_kling_and_a_second_run_copies() {
    let out = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = files_below(&root().join("fixtures/videos"));
    let lines = fix(&["-j", "2"], &inputs, out.path());
    assert_eq!(lines.len(), inputs.len());
    let l = limits(&kling(Orientation::Video));
    for line in &lines {
        assert_ne!(line["action"], "failed", "{line}");
        let input = PathBuf::from(line["path"].as_str().unwrap());
        let output = PathBuf::from(line["output"].as_str().unwrap());
        verify(&output, &l, has_sound(&input));
    }
    for (name, action) in [
        ("ok_720x1280_5s.mp4", "copied"),
        ("noaudio_640x360.mp4", "copied"),
        ("mkv_640x360.mkv", "remuxed"),
        ("moov_at_end_640x360.mp4", "remuxed"),
        // Keyframes at 0, 15.8 and 31.9 s: copied from 0 up to the last
        // frame that ends by 30 s (the cut needs no keyframe at its end).
        ("long_45s_360x640.mp4", "remuxed"),
        ("hevc_10bit_720x1280.mp4", "reencoded"),
        ("vp9_640x360.webm", "reencoded"),
        ("prores_480x360.mov", "reencoded"),
        ("rotate_90_stored_640x360.mp4", "reencoded"),
        ("vfr_640x360.mp4", "reencoded"),
        ("odd_641x361.mp4", "reencoded"),
        ("short_2s_720x1280.mp4", "reencoded"),
        ("tiny_320x240.mp4", "reencoded"),
        ("wide_4096x1024.mp4", "reencoded"),
    ] {
        assert_eq!(line(&lines, name)["action"], action, "{name}");
    }
    // Geometry: rotation turns the displayed size; sizes land in range.
    let size = |name: &str| {
        let p = ffprobe(&out.path().join(name));
        let v = &p["streams"][0];
        (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap())
    };
    assert_eq!(size("rotate_90_stored_640x360.mp4"), (360, 640));
    assert_eq!(size("rotate_180_stored_640x360.mp4"), (640, 360));
    assert_eq!(size("tiny_320x240.mp4"), (454, 340));
    assert_eq!(size("odd_641x361.mp4"), (640, 360));
    assert_eq!(size("wide_4096x1024.mp4"), (3850, 964));
    let long = num(&ffprobe(&out.path().join("long_45s_360x640.mp4"))["format"]["duration"]);
    assert!(long > 29.5 && long <= 30.0, "long_45s kept {long} s");

    // Idempotent: the repaired files are compliant and copied byte for byte.
    let again = tempfile::tempdir().unwrap();
    let lines2 = fix(&[], &[out.path().to_path_buf()], again.path());
    assert_eq!(lines2.len(), inputs.len());
    for line in &lines2 {
        assert_eq!(line["action"], "copied", "{line}");
        let a = std::fs::read(line["path"].as_str().unwrap()).unwrap();
        let b = std::fs::read(line["output"].as_str().unwrap()).unwrap();
        assert!(a == b, "{line}: not the same bytes");
    }
}

#[test]
fn image_orientation_trims_to_ten_seconds() {
    let out = tempfile::tempdir().unwrap();
    let inputs = [
        video("long_45s_360x640.mp4"),
        video("medium_12s_480x854.mp4"),
    ];
    let lines = fix(&["--orientation", "image"], &inputs, out.path());
    let l = limits(&kling(Orientation::Image));
    for line in &lines {
        let output = PathBuf::from(line["output"].as_str().expect("an output"));
        verify(&output, &l, true);
        // Trimmed to the maximum less a frame, not to some keyframe far before.
        let d = num(&ffprobe(&output)["format"]["duration"]);
        assert!(d > 9.8, "{}: {d}", output.display());
    }
    // --start picks the window.
    let out2 = tempfile::tempdir().unwrap();
    let lines = fix(
        &["--orientation", "image", "--start", "40"],
        &[video("long_45s_360x640.mp4")],
        out2.path(),
    );
    let output = PathBuf::from(lines[0]["output"].as_str().unwrap());
    verify(&output, &l, true);
    // 45 s source: a 9.9 s window can start at 35.1 s at the latest.
    let d = num(&ffprobe(&output)["format"]["duration"]);
    assert!(d > 9.8 && d <= 10.0, "{d}");
}

#[test]
fn sound_is_dropped_on_request() {
    let out = tempfile::tempdir().unwrap();
    let inputs = [
        video("ok_720x1280_5s.mp4"),
        video("hevc_10bit_720x1280.mp4"),
    ];
    let lines = fix(&["--keep-sound", "no"], &inputs, out.path());
    let l = limits(&kling(Orientation::Video));
    assert_eq!(line(&lines, "ok_720x1280_5s.mp4")["action"], "remuxed");
    assert_eq!(
        line(&lines, "hevc_10bit_720x1280.mp4")["action"],
        "reencoded"
    );
    for line in &lines {
        verify(Path::new(line["output"].as_str().unwrap()), &l, false);
    }
}

/// A 64×64 grey thumbnail of the frame at `t` seconds, as the ffmpeg CLI shows
/// it (rotation flags applied, as players do).
fn thumb(path: &Path, t: f64) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &t.to_string(), "-i"])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=64:64,format=gray",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert_eq!(out.stdout.len(), 64 * 64, "{}", path.display());
    out.stdout
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len() as f64
}

fn turned_half(img: &[u8]) -> Vec<u8> {
    img.iter().rev().copied().collect()
}

#[test]
fn rotation_is_applied_to_the_pixels() {
    let out = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = [90, 180, 270]
        .iter()
        .map(|r| video(&format!("rotate_{r}_stored_640x360.mp4")))
        .collect();
    let lines = fix(&["-j", "2"], &inputs, out.path());
    // Lines come in the order files finish, not the order they were named.
    for input in &inputs {
        let name = input.file_name().unwrap().to_str().unwrap();
        let line = line(&lines, name);
        let output = PathBuf::from(line["output"].as_str().unwrap());
        let p = ffprobe(&output);
        assert!(
            p["streams"][0]["side_data_list"].is_null(),
            "{}: rotation side data left",
            output.display()
        );
        let expected = thumb(input, 1.5);
        let got = thumb(&output, 1.5);
        let right = mean_abs_diff(&expected, &got);
        let wrong = mean_abs_diff(&turned_half(&expected), &got);
        assert!(
            right < 8.0 && wrong > 2.0 * right,
            "{}: diff {right} upright, {wrong} turned",
            output.display()
        );
    }
}

#[test]
fn short_clips_are_lengthened_every_way() {
    let l = limits(&kling(Orientation::Video));
    for mode in ["pingpong", "loop", "freeze"] {
        let out = tempfile::tempdir().unwrap();
        let lines = fix(
            &["--extend", mode],
            &[video("short_2s_720x1280.mp4")],
            out.path(),
        );
        let output = PathBuf::from(lines[0]["output"].as_str().expect(mode));
        verify(&output, &l, true);
        let d = num(&ffprobe(&output)["format"]["duration"]);
        assert!((3.0..3.2).contains(&d), "{mode}: {d}");
        // Pingpong has no jump at the seam: the frame after 2 s is close to
        // the one before it; a loop jumps back to the first frame.
        if mode != "freeze" {
            let seam = mean_abs_diff(&thumb(&output, 1.95), &thumb(&output, 2.05));
            let start = thumb(&output, 0.0);
            let after = thumb(&output, 2.05);
            let like_start = mean_abs_diff(&start, &after);
            if mode == "loop" {
                assert!(like_start < 4.0, "loop restarts: {like_start}");
            } else {
                assert!(seam < like_start, "pingpong seam {seam} vs {like_start}");
            }
        }
    }
}

#[test]
fn novita_byte_limit_is_never_exceeded() {
    let dir = tempfile::tempdir().unwrap();
    let noise = dir.path().join("noise.mp4");
    // Noise does not compress: a quality encode is far over 10 MB.
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "nullsrc=s=640x360:r=24:d=3.2",
        ])
        .args(["-vf", "geq=lum='random(1)*255':cb=128:cr=128"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "8",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&noise)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::metadata(&noise).unwrap().len() > 10_000_000);
    let out = dir.path().join("out");
    let lines = fix(&["--provider", "novita"], &[noise], &out);
    assert_eq!(lines[0]["action"], "reencoded", "{}", lines[0]);
    let spec = Spec::lookup(Provider::Novita, Model::KlingV3, Orientation::Video).unwrap();
    verify(
        Path::new(lines[0]["output"].as_str().unwrap()),
        &limits(&spec),
        false,
    );
}

#[test]
fn a_long_clip_with_frequent_keyframes_is_cut_by_copy_near_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long_36s_keyint_2s.mp4");
    // Compliant but for its length; a keyframe every 2 s (60 frames at 30 fps).
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi"])
        .args(["-i", "testsrc2=size=360x640:rate=30:duration=36"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "60"])
        .args(["-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        .arg(&long)
        .status()
        .unwrap();
    assert!(status.success());
    let out = dir.path().join("out");
    let lines = fix(&[], &[long], &out);
    assert_eq!(lines[0]["action"], "remuxed", "{}", lines[0]);
    let output = PathBuf::from(lines[0]["output"].as_str().unwrap());
    verify(&output, &limits(&kling(Orientation::Video)), false);
    // From the keyframe at 0 up to the last frame that ends by 30 s: the end
    // of a copy needs no keyframe.
    let d = num(&ffprobe(&output)["format"]["duration"]);
    assert!((29.9..=30.0).contains(&d), "{d}");
}

/// Library API with a spec narrower than any provider's, to reach cases the
/// fixtures are too small for.
#[test]
fn a_tight_byte_budget_is_met_by_lowering_the_bitrate() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = kling(Orientation::Video);
    spec.video.max_bytes = Some(120_000);
    let out = dir.path().join("r.mp4");
    let fixed = preflight::repair(
        &video("rotate_90_stored_640x360.mp4"),
        &out,
        &spec,
        &preflight::FixOptions::default(),
    )
    .unwrap();
    assert_eq!(fixed.action, preflight::Action::Reencoded);
    verify(&out, &limits(&spec), true);
}

#[test]
fn a_panorama_too_wide_for_the_limits_is_scaled_then_padded() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = kling(Orientation::Video);
    spec.video.max_side = Some(2000);
    spec.video.min_side = 600;
    for fill in ["border", "#ff0000", "blur", "mirror"] {
        let mut options = preflight::FixOptions::default();
        options.pad = fill.parse().unwrap();
        let out = dir
            .path()
            .join(format!("p-{}.mp4", fill.trim_start_matches('#')));
        preflight::repair(&video("wide_4096x1024.mp4"), &out, &spec, &options).unwrap();
        verify(&out, &limits(&spec), true);
        let p = ffprobe(&out);
        assert_eq!(p["streams"][0]["width"], 2000, "{fill}");
        assert_eq!(p["streams"][0]["height"], 600, "{fill}");
        // The bars (50 rows above and below the picture) are filled as asked:
        // a red fill is red, a mirror repeats the picture's edge.
        let top = band(&out, 0);
        if fill == "#ff0000" {
            assert!(
                top[0] > 200 && top[1] < 60 && top[2] < 60,
                "{fill}: {top:?}"
            );
        }
    }
}

/// Mean RGB of the top 40 rows of the frame at 1 s.
fn band(path: &Path, y: u32) -> [u8; 3] {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", "1", "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-vf"])
        .arg(format!(
            "crop=iw:40:0:{y},scale=1:1:flags=area,format=rgb24"
        ))
        .args(["-f", "rawvideo", "-"])
        .output()
        .expect("run ffmpeg");
    assert_eq!(out.stdout.len(), 3, "{}", path.display());
    [out.stdout[0], out.stdout[1], out.stdout[2]]
}

#[test]
fn segment_auto_keeps_the_longest_shot() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = kling(Orientation::Video);
    spec.video.max_duration_us = 6_000_000;
    let input = video("cuts_3_shots_9s.mp4");
    let facts = preflight::probe(&input).unwrap();
    let plan = preflight::plan(&facts, &spec, &preflight::FixOptions::default());
    let preflight::Plan::Video(vp) = &plan else {
        panic!("video plan")
    };
    assert_eq!(vp.mode(), Mode::Remux);
    let out = dir.path().join("c.mp4");
    let fixed = preflight::execute(&input, &facts, &plan, &spec, &out).unwrap();
    // The longest shot (5–9 s) does not start the file: re-encoded.
    assert_eq!(fixed.action, preflight::Action::Reencoded);
    let MediaFacts::Video(after) = &fixed.after else {
        panic!("video")
    };
    assert!(
        (3_900_000..=4_100_000).contains(&after.duration_us),
        "{}",
        after.duration_us
    );
    // No cut left in it, and it is the third shot, not the first.
    let scenes = preflight::scenes(&out, &Default::default()).unwrap();
    assert!(scenes.cuts_us.is_empty(), "{:?}", scenes.cuts_us);
    let shot3 = thumb(&input, 7.0);
    let shot1 = thumb(&input, 1.0);
    let got = thumb(&out, 2.0);
    assert!(mean_abs_diff(&got, &shot3) < mean_abs_diff(&got, &shot1));
}

#[test]
fn check_deep_reports_cuts() {
    let out = Command::new(bin())
        .args(["check", "--deep", "--json"])
        .arg(video("cuts_3_shots_9s.mp4"))
        .arg(video("ok_720x1280_5s.mp4"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cuts = &line(&lines, "cuts_3_shots_9s.mp4")["warnings"];
    let msg = cuts
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["rule"] == "video.cuts.none")
        .expect("cut warning")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("3.00 s") && msg.contains("5.00 s"), "{msg}");
    let ok = &line(&lines, "ok_720x1280_5s.mp4")["warnings"];
    assert!(ok
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["rule"] != "video.cuts.none"));
}

#[test]
fn damaged_videos_fail_cleanly_and_leave_nothing() {
    let out = tempfile::tempdir().unwrap();
    let damaged = root().join("fixtures/damaged");
    let inputs: Vec<PathBuf> = [
        "truncated.mp4",
        "truncated_no_moov.mp4",
        "audio_only.m4a",
        "random_bytes.mp4",
        "empty.mp4",
    ]
    .iter()
    .map(|n| damaged.join(n))
    .collect();
    let lines = fix(&[], &inputs, out.path());
    for line in &lines {
        assert_eq!(line["action"], "failed", "{line}");
        assert!(!line["error"].as_str().unwrap().is_empty());
    }
    assert!(
        files_below(out.path()).is_empty(),
        "{:?}",
        files_below(out.path())
    );

    // Broken packets mid-stream are found when the video is decoded: a
    // re-encode (here forced by a larger minimum side) fails, naming the
    // picture and where its damage starts (its sound is damaged too: that
    // alone would be silenced), and leaves no file behind.
    let mut spec = kling(Orientation::Video);
    spec.video.min_side = 800;
    let input = damaged.join("broken_packets.mp4");
    let facts = preflight::probe(&input).unwrap();
    let plan = preflight::plan(&facts, &spec, &preflight::FixOptions::default());
    let dest = out.path().join("broken.mp4");
    let err = preflight::execute(&input, &facts, &plan, &spec, &dest).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("video: the picture is damaged at "),
        "{err}"
    );
    assert!(
        files_below(out.path()).is_empty(),
        "{:?}",
        files_below(out.path())
    );
}

#[test]
fn uhd_60fps_is_scaled_and_capped_at_30fps_when_reencoded() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = kling(Orientation::Video);
    spec.video.max_side = Some(1920);
    let out = dir.path().join("u.mp4");
    let fixed = preflight::repair(
        &video("uhd_3840x2160_60fps.mp4"),
        &out,
        &spec,
        &preflight::FixOptions::default(),
    )
    .unwrap();
    assert_eq!(fixed.action, preflight::Action::Reencoded);
    verify(&out, &limits(&spec), true);
    let p = ffprobe(&out);
    let v = &p["streams"][0];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1920), Some(1080))
    );
    assert_eq!(v["r_frame_rate"], "30/1");
    assert_eq!(v["avg_frame_rate"], "30/1");
}

#[test]
fn check_deep_reports_a_black_start_and_segment_auto_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("black_start.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=black:s=480x360:r=24:d=1.5",
        ])
        .args(["-f", "lavfi", "-i", "testsrc2=s=480x360:r=24:d=6"])
        .args(["-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&input)
        .status()
        .unwrap();
    assert!(status.success());
    let scenes = preflight::scenes(&input, &Default::default()).unwrap();
    assert!(
        (1_400_000..=1_600_000).contains(&scenes.content_start_us),
        "{scenes:?}"
    );
    // The switch from black to the picture may count as one cut, no more.
    assert!(scenes.cuts_us.len() <= 1, "{scenes:?}");
    let mut spec = kling(Orientation::Video);
    spec.video.max_duration_us = 5_000_000;
    let out = dir.path().join("o.mp4");
    preflight::repair(&input, &out, &spec, &preflight::FixOptions::default()).unwrap();
    verify(&out, &limits(&spec), false);
    // The first frame of the output is the test pattern, not black.
    let first = thumb(&out, 0.0);
    let mean = first.iter().map(|&p| f64::from(p)).sum::<f64>() / first.len() as f64;
    assert!(mean > 40.0, "starts black: mean luma {mean}");
}

/// Every frame an encoded MP4 marks as a keyframe is an IDR frame (closed
/// GOPs), so a seek or a cut that lands on it decodes. Read with the ffmpeg
/// CLI's `trace_headers`: the NAL unit types of the stream.
#[test]
fn encoded_keyframes_are_idr_frames() {
    let dir = tempfile::tempdir().unwrap();
    // Three shots in MPEG-4 Part 2 (so `fix` must encode): x264 starts a
    // group at each cut.
    let input = dir.path().join("shots.avi");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(
            "testsrc=s=640x360:r=25:d=3[a];testsrc2=s=640x360:r=25:d=3[b];\
             mandelbrot=s=640x360:r=25[m];[m]trim=duration=3[c];[a][b][c]concat=n=3",
        )
        .args(["-c:v", "mpeg4", "-q:v", "3"])
        .arg(&input)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    let out = dir.path().join("out");
    let lines = fix(&["--provider", "kling"], std::slice::from_ref(&input), &out);
    assert_eq!(
        line(&lines, "shots.avi")["action"],
        "reencoded",
        "{lines:?}"
    );
    let encoded = out.join("shots.mp4");
    let packets = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["packet=flags", "-of", "csv=p=0"])
        .arg(&encoded)
        .output()
        .expect("ffprobe");
    let keyframes = String::from_utf8_lossy(&packets.stdout)
        .lines()
        .filter(|l| l.starts_with('K'))
        .count();
    let trace = Command::new("ffmpeg")
        .args(["-hide_banner", "-i"])
        .arg(&encoded)
        .args(["-map", "0:v", "-c", "copy", "-bsf:v", "trace_headers"])
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    let idr = String::from_utf8_lossy(&trace.stderr)
        .lines()
        .filter(|l| l.contains("nal_unit_type") && l.trim_end().ends_with(" 5"))
        .count();
    assert!(
        keyframes >= 3,
        "{keyframes} keyframes: the cuts start no group"
    );
    assert_eq!(idr, keyframes, "{keyframes} keyframes, {idr} IDR slices");
}
