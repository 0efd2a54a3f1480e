//! Small helpers shared by the CLI's tests: the binary, fixtures, and the
//! independent tools (ffprobe, ImageMagick) the outputs are checked with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_preflight"))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// Runs `preflight ARGS` and returns its output.
pub fn preflight<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(bin())
        .args(args)
        .output()
        .expect("run preflight")
}

/// The JSON lines a `--json` command printed.
pub fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// `ffprobe -show_format -show_streams` as JSON.
pub fn ffprobe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// ImageMagick's `identify` (the real one: /usr/local/bin may hold a stand-in).
pub fn identify(path: &Path, format: &str) -> String {
    let out = Command::new("/usr/bin/identify")
        .args(["-format", format])
        .arg(path)
        .output()
        .expect("run identify");
    assert!(
        out.status.success(),
        "identify failed on {}",
        path.display()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Files in a fixtures sub-folder, sorted.
pub fn fixtures_in(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture(dir))
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Every file below `dir`, hidden temporary files included, sorted; the
/// fixer's own manifest folder (`.preflight`) is not an output and is left out.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".preflight") {
                continue;
            }
            if p.is_dir() {
                all.extend(files_below(&p));
            } else {
                all.push(p);
            }
        }
    }
    all.sort();
    all
}

/// A photo `scripts/setup.sh` installs for the content tests
/// (`$PREFLIGHT_PHOTOS`, else `$XDG_DATA_HOME/preflight/photos`).
pub fn photo(name: &str) -> PathBuf {
    let dir = std::env::var_os("PREFLIGHT_PHOTOS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| preflight::pose::data_dir().join("photos"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/setup.sh` (it installs the content tests' photos and the pose models)",
        path.display()
    );
    path
}

/// `identify -format "%w %h"`: the size ImageMagick reads.
pub fn identify_size(path: &Path) -> (u32, u32) {
    let out = Command::new("identify")
        .args(["-format", "%w %h"])
        .arg(path)
        .output()
        .expect("identify");
    let text = String::from_utf8_lossy(&out.stdout);
    let (w, h) = text.trim().split_once(' ').expect("identify's size");
    (w.parse().expect("width"), h.parse().expect("height"))
}

/// Runs the ffmpeg CLI with `args` (quiet, overwriting), failing the test
/// with its message when it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
