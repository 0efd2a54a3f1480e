//! The folder fixer under interruption: a real SIGKILL part-way, then the same
//! command again. Outputs are checked with ffprobe and ImageMagick, inputs must
//! be unchanged, broken files reported, finished work not redone.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::*;

/// Inputs: videos that need real work, images, broken files, a text file.
fn mixed_folder(root: &Path) -> PathBuf {
    let input = root.join("in");
    for (from, to) in [
        ("videos/hevc_10bit_720x1280.mp4", "phone/hevc.mp4"),
        ("videos/rotate_90_stored_640x360.mp4", "phone/rotated.mp4"),
        ("videos/vp9_640x360.webm", "web/vp9.webm"),
        ("videos/prores_480x360.mov", "edit/prores.mov"),
        ("videos/long_45s_360x640.mp4", "dance/long.mp4"),
        ("videos/tiny_320x240.mp4", "dance/tiny.mp4"),
        ("videos/ok_720x1280_5s.mp4", "dance/ok.mp4"),
        ("images/portrait_720x1280_ok.jpg", "photos/ok.jpg"),
        ("images/panorama_3000x800.jpg", "photos/pano.jpg"),
        ("images/tiny_200x150.png", "photos/tiny.png"),
        ("images/webp_720x1280.webp", "photos/web.webp"),
        ("damaged/random_bytes.mp4", "broken/random.mp4"),
        ("damaged/truncated.mp4", "broken/truncated.mp4"),
        ("damaged/text_named.jpg", "broken/text.jpg"),
    ] {
        let dest = input.join(to);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(fixture(from), dest).unwrap();
    }
    std::fs::write(input.join("notes.txt"), "shot list\n").unwrap();
    input
}

fn hashes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Visible output files (the manifest folder and hidden temp files aside).
fn outputs(dir: &Path) -> Vec<PathBuf> {
    hashes(dir)
        .into_keys()
        .filter(|p| {
            // Only the part below `dir` counts: temp folders are hidden too.
            let below = p.strip_prefix(dir).unwrap_or(p);
            !below
                .components()
                .any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with('.')))
        })
        .collect()
}

fn partials(dir: &Path) -> Vec<PathBuf> {
    hashes(dir)
        .into_keys()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(".partial-"))
        })
        .collect()
}

/// Compliance with Kling's limits for orientation `video`, by independent tools.
fn assert_compliant(path: &Path) {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(ext, "mp4" | "mov") {
        let info = ffprobe(path);
        let video = info["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["codec_type"] == "video")
            .unwrap_or_else(|| panic!("{}: no video stream", path.display()));
        let duration: f64 = info["format"]["duration"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (3.0..=30.0).contains(&duration),
            "{}: {duration} s",
            path.display()
        );
        for side in ["width", "height"] {
            let px = video[side].as_u64().unwrap();
            assert!(
                (340..=3850).contains(&px),
                "{}: {side} {px}",
                path.display()
            );
        }
        let bytes: u64 = info["format"]["size"].as_str().unwrap().parse().unwrap();
        assert!(bytes <= 100_000_000);
        assert!(info["format"]["format_name"]
            .as_str()
            .unwrap()
            .contains("mp4"));
    } else {
        let text = identify(path, "%m %w %h");
        let mut parts = text.split_whitespace();
        let format = parts.next().unwrap();
        let w: u64 = parts.next().unwrap().parse().unwrap();
        let h: u64 = parts.next().unwrap().parse().unwrap();
        assert!(
            matches!(format, "JPEG" | "PNG"),
            "{}: {format}",
            path.display()
        );
        assert!(w >= 300 && h >= 300, "{}: {w}x{h}", path.display());
        assert!(
            w * 2 <= h * 5 && h * 2 <= w * 5,
            "{}: {w}x{h}",
            path.display()
        );
        assert!(std::fs::metadata(path).unwrap().len() <= 10_000_000);
    }
}

#[test]
fn killed_part_way_then_rerun_finishes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let input = mixed_folder(dir.path());
    let out_dir = dir.path().join("out");
    let before = hashes(&input);
    let args = |cmd: &mut Command| {
        cmd.args(["fix", "--json", "--jobs", "2", "--out"])
            .arg(&out_dir)
            .arg(&input);
    };

    // First run: killed (SIGKILL, no chance to clean up) once a first file is done.
    let mut first = Command::new(bin());
    args(&mut first);
    let mut child = first.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut finished_before_kill = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if matches!(
            line["action"].as_str(),
            Some("copied" | "remuxed" | "reencoded")
        ) {
            finished_before_kill.push(line["path"].as_str().unwrap().to_string());
            break;
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the first run was meant to be killed");
    assert!(!finished_before_kill.is_empty());
    // Whatever is visible after a kill is whole and compliant.
    let after_kill = outputs(&out_dir);
    assert!(
        !after_kill.is_empty(),
        "the first run finished a file before the kill"
    );
    for path in after_kill {
        assert_compliant(&path);
    }

    // Second run: the same command.
    let mut second = Command::new(bin());
    args(&mut second);
    let result = second.output().unwrap();
    assert_eq!(result.status.code(), Some(1), "broken files make it exit 1");
    let lines = json_lines(&result);
    let by_name = |suffix: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("no line for {suffix}"))
    };
    for done in &finished_before_kill {
        let line = lines.iter().find(|l| l["path"] == done.as_str()).unwrap();
        assert_eq!(line["action"], "done", "{line}");
    }
    for broken in ["random.mp4", "truncated.mp4", "text.jpg"] {
        let line = by_name(broken);
        assert_eq!(line["action"], "failed", "{line}");
        assert!(line["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    assert_eq!(by_name("notes.txt")["action"], "skipped");
    let repaired = lines
        .iter()
        .filter(|l| !matches!(l["action"].as_str(), Some("failed" | "skipped")))
        .count();
    assert_eq!(repaired, 11, "every media file ends compliant: {lines:?}");

    assert!(partials(&out_dir).is_empty(), "{:?}", partials(&out_dir));
    let produced = outputs(&out_dir);
    assert_eq!(produced.len(), 11, "{produced:?}");
    for path in &produced {
        assert_compliant(path);
    }
    assert_eq!(hashes(&input), before, "inputs must never change");

    // A third run has nothing left to do.
    let mut third = Command::new(bin());
    args(&mut third);
    let lines = json_lines(&third.output().unwrap());
    assert!(lines
        .iter()
        .all(|l| matches!(l["action"].as_str(), Some("done" | "failed" | "skipped"))));
}
