//! `check --content`, `--show` and `fix --frame-person` on real photographs,
//! as a user runs them; and what happens without the pose models.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{ffmpeg, identify_size, json_lines, photo, preflight};

fn rule_ids(line: &serde_json::Value) -> Vec<String> {
    line["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["rule"].as_str().unwrap().to_string())
        .filter(|r| r.starts_with("content."))
        .collect()
}

/// messi5.jpg's player pasted at 20 % of the height onto a 2000 × 1500 canvas.
fn small_person(dir: &Path) -> PathBuf {
    let path = dir.join("small.jpg");
    let out = Command::new("convert")
        .args(["-size", "2000x1500", "xc:#3a7d3a", "("])
        .arg(photo("messi5.jpg"))
        .args([
            "-crop",
            "420x300+50+40",
            "+repage",
            "-resize",
            "x300",
            ")",
            "-geometry",
            "+1200+700",
            "-composite",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    path
}

#[test]
fn check_content_reports_facts_and_advisories_without_changing_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let small = small_person(dir.path());
    let out = preflight([
        "check".as_ref(),
        "--content".as_ref(),
        "--json".as_ref(),
        photo("messi5.jpg").as_os_str(),
        photo("coffee.png").as_os_str(),
        small.as_os_str(),
    ]);
    // Content findings are advisories: every file meets Kling's limits.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    let by_name = |n: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(n))
            .unwrap()
    };
    let messi = by_name("messi5.jpg");
    assert_eq!(rule_ids(messi), Vec::<String>::new());
    assert_eq!(messi["content"]["people"], 1);
    assert_eq!(messi["content"]["body"], "full");
    assert_eq!(messi["content"]["head_visible"], true);
    assert!(messi["ok"].as_bool().unwrap());
    let coffee = by_name("coffee.png");
    assert_eq!(rule_ids(coffee), ["content.person.missing"]);
    assert_eq!(coffee["content"]["people"], 0);
    assert_eq!(coffee["content"]["body"], "none");
    let small = by_name("small.jpg");
    assert_eq!(rule_ids(small), ["content.person.small"]);
    assert!(small["content"]["person_area"].as_f64().unwrap() < 0.05);

    // Without --content: no analysis, no `content` field.
    let plain = preflight([
        "check".as_ref(),
        "--json".as_ref(),
        photo("coffee.png").as_os_str(),
    ]);
    assert_eq!(plain.status.code(), Some(0));
    assert!(json_lines(&plain)[0].get("content").is_none());
}

#[test]
fn show_draws_one_png_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let show = dir.path().join("show");
    let out = preflight([
        "check".as_ref(),
        "--show".as_ref(),
        show.as_os_str(),
        photo("astronaut.png").as_os_str(),
        photo("chelsea.png").as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut written: Vec<PathBuf> = std::fs::read_dir(&show)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    written.sort();
    assert_eq!(written.len(), 2, "{written:?}");
    for png in &written {
        assert!(png.to_string_lossy().ends_with(".png"));
        let (w, h) = identify_size(png);
        assert!(w >= 400 && h >= 250, "{}: {w}x{h}", png.display());
    }
    // The table names the advisory too.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("content.person.missing"), "{text}");
}

#[test]
fn fix_frame_person_crops_a_small_person_into_view() {
    let dir = tempfile::tempdir().unwrap();
    let small = small_person(dir.path());
    let out_dir = dir.path().join("fixed");
    let out = preflight([
        "fix".as_ref(),
        "--frame-person".as_ref(),
        "--provider".as_ref(),
        "aihubmax".as_ref(),
        "--json".as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
        small.as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = &json_lines(&out)[0];
    let output = PathBuf::from(line["output"].as_str().unwrap());
    let changes: Vec<&str> = line["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert_eq!(changes.first(), Some(&"content.person.small"), "{line}");
    let (w, h) = identify_size(&output);
    assert!(w < 2000 && h < 1500 && w.min(h) >= 300, "{w}x{h}");
    // Checked again: the person is no longer small, the input untouched.
    let again = preflight([
        "check".as_ref(),
        "--content".as_ref(),
        "--json".as_ref(),
        output.as_os_str(),
    ]);
    let again = &json_lines(&again)[0];
    assert!(
        again["content"]["person_area"].as_f64().unwrap() > 0.05,
        "{again}"
    );
    assert!(!rule_ids(again).contains(&"content.person.small".to_string()));
    assert_eq!(identify_size(&small), (2000, 1500));
}

#[test]
fn without_the_models_content_options_exit_2_and_say_how_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let photo = photo("astronaut.png");
    for args in [
        vec!["check", "--content"],
        vec!["check", "--show", dir.path().to_str().unwrap()],
        vec![
            "fix",
            "--frame-person",
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ],
    ] {
        let out = Command::new(crate::util::bin())
            .args(&args)
            .arg(&photo)
            .env("PREFLIGHT_MODELS", &empty)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bash scripts/setup.sh") && err.contains("pose models"),
            "{args:?}: {err}"
        );
    }
    // Everything else works as before.
    let out = Command::new(crate::util::bin())
        .args(["check", "--json"])
        .arg(&photo)
        .env("PREFLIGHT_MODELS", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// Four short videos of a coffee cup (nobody: every sample goes through the
/// zoomed pass), checked as a folder on a pool of two threads. Each pool
/// thread analyses a video and waits for that video's workers, so the
/// workers must not hand their tiles to the pool: they did, and the run
/// hung for good (every pool thread waiting on workers waiting on the pool).
/// It ends in about 2 s; a hang is stopped after 5 minutes, not left to
/// hold CI to its limit.
#[test]
fn a_folder_of_videos_needing_the_zoomed_pass_is_checked_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let coffee = photo("coffee.png");
    for i in 1..=4 {
        let out = dir.path().join(format!("cup{i}.mp4"));
        let (coffee, out) = (coffee.to_str().unwrap(), out.to_str().unwrap());
        let still = ["-loop", "1", "-i", coffee, "-t", "2", "-r", "10"];
        ffmpeg(
            &[
                &still[..],
                &["-vf", "scale=640:428,setsar=1", "-pix_fmt", "yuv420p", out],
            ]
            .concat(),
        );
    }
    let mut child = Command::new(crate::util::bin())
        .args(["check", "--content", "--json"])
        .arg(dir.path())
        .env("RAYON_NUM_THREADS", "2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let limit = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > limit {
            child.kill().unwrap();
            panic!("check --content on a folder of videos hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4, "{}", String::from_utf8_lossy(&out.stderr));
    for line in &lines {
        assert_eq!(rule_ids(line), ["content.person.missing"], "{line}");
        assert_eq!(line["content"]["frames_sampled"], 6, "{line}");
    }
}
