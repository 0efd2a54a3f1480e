//! `preflight check --json` against independent tools: ffprobe for videos,
//! ImageMagick's identify for images.

use crate::util::*;

fn check_one(path: &std::path::Path) -> serde_json::Value {
    let out = preflight([
        std::ffi::OsStr::new("check"),
        "--json".as_ref(),
        path.as_os_str(),
    ]);
    let mut lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "one line for {}", path.display());
    lines.remove(0)
}

#[test]
fn videos_agree_with_ffprobe_on_size_duration_and_rotation() {
    let videos = fixtures_in("videos");
    assert!(videos.len() >= 15, "video fixtures are missing");
    for path in videos {
        let ours = check_one(&path);
        assert_eq!(ours["kind"], "video", "{}: {ours}", path.display());
        let theirs = ffprobe(&path);
        let stream = theirs["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["codec_type"] == "video")
            .expect("a video stream");
        let ff_rotation = stream["side_data_list"]
            .as_array()
            .and_then(|l| l.iter().find_map(|d| d["rotation"].as_i64()))
            .unwrap_or(0);
        // ffprobe prints FFmpeg's counter-clockwise angle; we report the
        // clockwise turn a player makes.
        let expected_rotation = (-ff_rotation).rem_euclid(360);
        let (w, h) = (
            stream["width"].as_u64().unwrap(),
            stream["height"].as_u64().unwrap(),
        );
        let (dw, dh) = if expected_rotation % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        };
        let ff_duration: f64 = theirs["format"]["duration"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let name = path.display();
        assert_eq!(
            ours["rotation"].as_i64().unwrap(),
            expected_rotation,
            "{name}"
        );
        assert_eq!(ours["width"].as_u64().unwrap(), dw, "{name}");
        assert_eq!(ours["height"].as_u64().unwrap(), dh, "{name}");
        let d = ours["duration_s"].as_f64().unwrap();
        assert!(
            (d - ff_duration).abs() < 0.001,
            "{name}: {d} vs ffprobe {ff_duration}"
        );
        assert_eq!(ours["codec"], stream["codec_name"], "{name}");
        let bytes: u64 = theirs["format"]["size"].as_str().unwrap().parse().unwrap();
        assert_eq!(ours["bytes"].as_u64().unwrap(), bytes, "{name}");
    }
}

#[test]
fn rotated_fixtures_really_are_rotated() {
    // Guards the test above against fixtures that lost their display matrix.
    for (name, rotation) in [("rotate_90", 270), ("rotate_180", 180), ("rotate_270", 90)] {
        let path = fixture(&format!("videos/{name}_stored_640x360.mp4"));
        let ours = check_one(&path);
        assert_eq!(ours["rotation"], rotation, "{name}");
        let expect_w = if rotation == 180 { 640 } else { 360 };
        assert_eq!(ours["width"], expect_w, "{name}");
        assert!(ours["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["rule"] == "video.rotation.none"));
    }
}

#[test]
fn images_agree_with_identify_after_orientation() {
    let images = fixtures_in("images");
    assert!(images.len() >= 15, "image fixtures are missing");
    for path in images {
        let ours = check_one(&path);
        let name = path.display();
        let heif = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("heic" | "avif")
        );
        if heif
            && ours["error"]
                .as_str()
                .is_some_and(|e| e.contains("not yet supported"))
        {
            // HEIF/AVIF probing lands with the image repair (issue 3).
            continue;
        }
        let theirs = identify(&path, "%w %h %[orientation]");
        let mut parts = theirs.split_whitespace();
        let w: u64 = parts.next().unwrap().parse().unwrap();
        let h: u64 = parts.next().unwrap().parse().unwrap();
        let orientation = parts.next().unwrap_or("Undefined");
        let quarter_turn = matches!(
            orientation,
            "LeftTop" | "RightTop" | "RightBottom" | "LeftBottom"
        );
        let (dw, dh) = if quarter_turn { (h, w) } else { (w, h) };
        assert_eq!(ours["kind"], "image", "{name}: {ours}");
        assert_eq!(ours["width"].as_u64().unwrap(), dw, "{name}");
        assert_eq!(ours["height"].as_u64().unwrap(), dh, "{name}");
        assert_eq!(
            ours["bytes"].as_u64().unwrap(),
            std::fs::metadata(&path).unwrap().len()
        );
    }
}

#[test]
fn exif_orientation_swaps_the_displayed_size() {
    let ours = check_one(&fixture(
        "images/exif6_stored_1280x720_displays_720x1280.jpg",
    ));
    assert_eq!(
        (ours["width"].as_u64(), ours["height"].as_u64()),
        (Some(720), Some(1280))
    );
    assert_eq!(ours["facts"]["orientation"], 6);
    assert_eq!(ours["facts"]["stored_width"], 1280);
}

#[test]
fn content_decides_the_format_not_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let disguised = dir.path().join("actually_a_png.jpg");
    std::fs::copy(fixture("images/square_1024_ok.png"), &disguised).unwrap();
    let ours = check_one(&disguised);
    assert_eq!(ours["format"], "png");
    assert_eq!(ours["ok"], true);
}

#[test]
fn facts_found_by_the_probe() {
    let cmyk = check_one(&fixture("images/cmyk_720x1280.jpg"));
    // libjpeg stores CMYK input as YCCK (Adobe APP14 transform 2).
    assert_eq!(cmyk["facts"]["color_model"], "ycck");
    let deep = check_one(&fixture("images/depth16_1024.png"));
    assert_eq!(deep["facts"]["bit_depth"], 16);
    let palette = check_one(&fixture("images/palette_1024.png"));
    assert_eq!(palette["facts"]["color_model"], "palette");
    let alpha = check_one(&fixture("images/alpha_rgba_600x800.png"));
    assert_eq!(alpha["facts"]["has_alpha"], true);

    let hevc = check_one(&fixture("videos/hevc_10bit_720x1280.mp4"));
    assert_eq!(hevc["facts"]["bit_depth"], 10);
    assert_eq!(hevc["facts"]["pixel_format"], "yuv420p10le");
    assert_eq!(hevc["facts"]["profile"], "Main 10");
    let vfr = check_one(&fixture("videos/vfr_640x360.mp4"));
    assert_eq!(vfr["facts"]["variable_frame_rate"], true);
    let cfr = check_one(&fixture("videos/uhd_3840x2160_60fps.mp4"));
    assert_eq!(cfr["facts"]["variable_frame_rate"], false);
    assert!((cfr["facts"]["frame_rate"].as_f64().unwrap() - 60.0).abs() < 0.01);
    let silent = check_one(&fixture("videos/noaudio_640x360.mp4"));
    assert_eq!(silent["facts"]["audio_codec"], serde_json::Value::Null);
    let mov = check_one(&fixture("videos/prores_480x360.mov"));
    assert_eq!(mov["format"], "mov");
    let late = check_one(&fixture("videos/moov_at_end_640x360.mp4"));
    assert_eq!(late["facts"]["moov_first"], false);
    let ok = check_one(&fixture("videos/ok_720x1280_5s.mp4"));
    assert_eq!(ok["facts"]["moov_first"], true);
    assert_eq!(ok["facts"]["audio_codec"], "aac");
}
