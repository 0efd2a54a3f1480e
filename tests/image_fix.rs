//! `preflight fix` and `preflight base64` on the image fixtures, every output
//! checked with an independent tool: ImageMagick's `identify` for format and
//! size, its `convert` for the pixels (where the red and blue marker blocks of
//! the fixtures' scene ended up, and the colours of the CMYK repair).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{files_below, fixture, identify, json_lines, preflight};

const IDENTIFY: &str = "/usr/bin/identify";
const CONVERT: &str = "/usr/bin/convert";
const MAX_BYTES: u64 = 10_000_000;

fn fix_json(args: &[&str]) -> Vec<Value> {
    json_lines(&preflight([&["fix", "--json"], args].concat()))
}

/// `(format, width, height)` of the first frame, as ImageMagick reads it.
fn format_and_size(path: &Path) -> (String, u32, u32) {
    let first_frame = PathBuf::from(format!("{}[0]", path.display()));
    let text = identify(&first_frame, "%m %w %h");
    let mut parts = text.split_whitespace();
    let format = parts.next().unwrap().to_string();
    let w = parts.next().unwrap().parse().unwrap();
    let h = parts.next().unwrap().parse().unwrap();
    (format, w, h)
}

/// 8-bit sRGB pixels of the first frame, decoded by ImageMagick.
fn pixels(path: &Path) -> (u32, u32, Vec<u8>) {
    let (_, w, h) = format_and_size(path);
    let out = Command::new(CONVERT)
        .arg(format!("{}[0]", path.display()))
        .args([
            "-colorspace",
            "sRGB",
            "-background",
            "white",
            "-alpha",
            "remove",
            "-depth",
            "8",
            "rgb:-",
        ])
        .output()
        .expect("run convert");
    assert!(out.status.success(), "convert {}", path.display());
    assert_eq!(out.stdout.len(), (w * h * 3) as usize);
    (w, h, out.stdout)
}

/// Bounding box `(x0, y0, x1, y1)` (inclusive) of the pixels that `is` picks,
/// ignoring strays (dithering): a pixel counts when its neighbours to the right
/// and below are picked too.
fn bbox(img: &(u32, u32, Vec<u8>), is: impl Fn(&[u8]) -> bool) -> Option<(u32, u32, u32, u32)> {
    let (w, h, data) = img;
    let (w, h) = (*w as usize, *h as usize);
    let at = |x: usize, y: usize| is(&data[(y * w + x) * 3..(y * w + x) * 3 + 3]);
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for i in 0..w * h {
        let (x, y) = (i % w, i / w);
        if x + 1 < w && y + 1 < h && at(x, y) && at(x + 1, y) && at(x, y + 1) {
            let (x, y) = (x as u32, y as u32);
            b = Some(match b {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    b
}

fn red(px: &[u8]) -> bool {
    px[0] > 180 && px[1] < 90 && px[2] < 90
}

fn blue(px: &[u8]) -> bool {
    px[2] > 180 && px[0] < 90 && px[1] < 90
}

fn within_window(w: u32, h: u32) -> bool {
    // 1:2.5 <= w:h <= 2.5:1, exactly.
    (w as u64) * 5 >= (h as u64) * 2 && (w as u64) * 2 <= (h as u64) * 5
}

struct Expect {
    action: &'static str,
    ext: &'static str,
    size: (u32, u32),
}

fn expectations() -> HashMap<&'static str, Expect> {
    let e = |action, ext, w, h| Expect {
        action,
        ext,
        size: (w, h),
    };
    HashMap::from([
        ("alpha_rgba_600x800.png", e("copied", "png", 600, 800)),
        ("avif_720x1280.avif", e("reencoded", "jpg", 720, 1280)),
        ("bmp_360x640.bmp", e("reencoded", "jpg", 360, 640)),
        ("cmyk_720x1280.jpg", e("reencoded", "jpg", 720, 1280)),
        ("depth16_1024.png", e("reencoded", "png", 1024, 1024)),
        (
            "exif3_upside_down_720x1280.jpg",
            e("reencoded", "jpg", 720, 1280),
        ),
        (
            "exif6_stored_1280x720_displays_720x1280.jpg",
            e("reencoded", "jpg", 720, 1280),
        ),
        (
            "exif8_stored_1280x720_displays_720x1280.jpg",
            e("reencoded", "jpg", 720, 1280),
        ),
        ("gif_720x1280.gif", e("reencoded", "jpg", 720, 1280)),
        ("heic_720x1280.heic", e("reencoded", "jpg", 720, 1280)),
        ("palette_1024.png", e("copied", "png", 1024, 1024)),
        ("panorama_3000x800.jpg", e("reencoded", "jpg", 3000, 1200)),
        ("portrait_720x1280_ok.jpg", e("copied", "jpg", 720, 1280)),
        ("progressive_720x1280.jpg", e("copied", "jpg", 720, 1280)),
        ("square_1024_ok.png", e("copied", "png", 1024, 1024)),
        ("tall_400x1200.png", e("reencoded", "png", 480, 1200)),
        ("tiff_720x1280.tif", e("reencoded", "jpg", 720, 1280)),
        ("tiny_200x150.png", e("reencoded", "png", 400, 300)),
        ("webp_720x1280.webp", e("reencoded", "jpg", 720, 1280)),
    ])
}

/// Runs `fix` over the whole image fixture folder once; the tests below share it.
fn fixed() -> &'static (tempfile::TempDir, Vec<Value>) {
    static FIXED: std::sync::OnceLock<(tempfile::TempDir, Vec<Value>)> = std::sync::OnceLock::new();
    FIXED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let lines = fix_json(&[
            "--out",
            out.to_str().unwrap(),
            fixture("images").to_str().unwrap(),
        ]);
        (dir, lines)
    })
}

fn line_for(name: &str) -> &'static Value {
    fixed()
        .1
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no line for {name}"))
}

fn output_of(name: &str) -> PathBuf {
    PathBuf::from(line_for(name)["output"].as_str().unwrap())
}

#[test]
fn every_fixture_is_repaired_into_the_limits() {
    let (dir, lines) = fixed();
    let expect = expectations();
    assert_eq!(lines.len(), expect.len(), "{lines:#?}");
    for line in lines {
        let path = line["path"].as_str().unwrap();
        let name = Path::new(path).file_name().unwrap().to_str().unwrap();
        let e = &expect[name];
        assert_eq!(line["action"], e.action, "{name}: {line}");
        assert!(line["error"].is_null(), "{name}: {line}");
        let output = PathBuf::from(line["output"].as_str().unwrap());
        assert!(output.starts_with(dir.path().join("out")), "{output:?}");
        assert_eq!(
            output.extension().unwrap(),
            e.ext,
            "{name}: extension changes only with the format"
        );
        let (format, w, h) = format_and_size(&output);
        let want_format = if e.ext == "jpg" { "JPEG" } else { "PNG" };
        assert_eq!(format, want_format, "{name}");
        assert_eq!((w, h), e.size, "{name}");
        assert!(w >= 300 && h >= 300, "{name}: {w}x{h}");
        assert!(within_window(w, h), "{name}: {w}x{h}");
        let bytes = std::fs::metadata(&output).unwrap().len();
        assert!(bytes <= MAX_BYTES, "{name}: {bytes} bytes");
        if e.action == "copied" {
            assert_eq!(
                std::fs::read(&output).unwrap(),
                std::fs::read(path).unwrap(),
                "{name}: copies are byte for byte"
            );
            assert!(line["changes"].as_array().unwrap().is_empty());
        } else {
            let changes = line["changes"].as_array().unwrap();
            assert!(!changes.is_empty(), "{name}: a re-encode says why");
            for c in changes {
                assert!(c["rule"].as_str().unwrap().starts_with("image."), "{c}");
                assert!(!c["what"].as_str().unwrap().is_empty());
            }
        }
    }
    // No temporary files left behind.
    for entry in files_below(&dir.path().join("out")) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "left behind: {name}");
    }
}

#[test]
fn changes_name_the_rules_they_fix() {
    let rules = |name: &str| -> Vec<String> {
        line_for(name)["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rules("panorama_3000x800.jpg"), ["image.aspect.max"]);
    assert_eq!(rules("tiny_200x150.png"), ["image.width.min"]);
    assert_eq!(rules("tall_400x1200.png"), ["image.aspect.min"]);
    assert_eq!(rules("heic_720x1280.heic"), ["image.format"]);
    assert_eq!(rules("cmyk_720x1280.jpg"), ["image.color.rgb"]);
    assert_eq!(rules("depth16_1024.png"), ["image.depth.8bit"]);
    assert_eq!(
        rules("exif6_stored_1280x720_displays_720x1280.jpg"),
        ["image.orientation.none"]
    );
}

/// The scene has a red block of w/5 × h/5 at the top-left and a blue one at the
/// bottom-right. Upright outputs have them there, at the original proportions.
fn assert_scene_upright(name: &str, content: (u32, u32, u32, u32)) {
    let (left, top, cw, ch) = content;
    let img = pixels(&output_of(name));
    let (x0, y0, x1, y1) = bbox(&img, red).unwrap_or_else(|| panic!("{name}: no red"));
    let tol = 3 + cw / 200;
    assert!(
        x0 <= left + tol && y0 <= top + tol,
        "{name}: red at {x0},{y0}"
    );
    let (rw, rh) = (x1 - x0 + 1, y1 - y0 + 1);
    // The block is a fifth of each side of the picture (+1 px: ImageMagick's
    // rectangle includes both corners).
    assert!(
        rw.abs_diff(cw / 5) <= tol,
        "{name}: red {rw} wide, content {cw}"
    );
    assert!(
        rh.abs_diff(ch / 5) <= tol,
        "{name}: red {rh} high, content {ch}"
    );
    let (bx0, by0, bx1, by1) = bbox(&img, blue).unwrap_or_else(|| panic!("{name}: no blue"));
    assert!(
        bx1 + tol >= left + cw - 1 && by1 + tol >= top + ch - 1,
        "{name}: blue ends at {bx1},{by1}"
    );
    assert!(bx0 > left + cw / 2 && by0 > top + ch / 2, "{name}: blue");
}

#[test]
fn exif_rotations_go_the_right_way() {
    for name in [
        "exif3_upside_down_720x1280.jpg",
        "exif6_stored_1280x720_displays_720x1280.jpg",
        "exif8_stored_1280x720_displays_720x1280.jpg",
    ] {
        assert_scene_upright(name, (0, 0, 720, 1280));
        // The tag is gone: ImageMagick sees no orientation (or TopLeft).
        let out = Command::new(IDENTIFY)
            .args(["-format", "%[orientation]"])
            .arg(output_of(name))
            .output()
            .unwrap();
        let o = String::from_utf8(out.stdout).unwrap();
        assert!(o == "Undefined" || o == "TopLeft", "{name}: {o}");
    }
}

#[test]
fn resized_and_padded_pictures_are_not_stretched() {
    // Panorama 3000x800 → 3000x1200, bars of 200 above and below.
    assert_scene_upright("panorama_3000x800.jpg", (0, 200, 3000, 800));
    // Tiny 200x150 → 400x300, no bars.
    assert_scene_upright("tiny_200x150.png", (0, 0, 400, 300));
    // Tall 400x1200 → 480x1200, bars of 40 left and right.
    assert_scene_upright("tall_400x1200.png", (40, 0, 400, 1200));
    // Every other conversion keeps the scene where it was.
    for name in [
        "heic_720x1280.heic",
        "avif_720x1280.avif",
        "webp_720x1280.webp",
        "gif_720x1280.gif",
        "tiff_720x1280.tif",
        "bmp_360x640.bmp",
    ] {
        let (_, w, h) = format_and_size(&output_of(name));
        assert_scene_upright(name, (0, 0, w, h));
    }
}

#[test]
fn border_bars_are_one_solid_colour_from_the_edge() {
    let img = pixels(&output_of("panorama_3000x800.jpg"));
    let (w, _, data) = &img;
    let px = |x: u32, y: u32| {
        let i = ((y * w + x) * 3) as usize;
        [data[i] as i32, data[i + 1] as i32, data[i + 2] as i32]
    };
    // The top bar continues the picture's top row (its gradient starts at
    // #d8c8a0), not the red block in the corner.
    let bar = px(1500, 100);
    for (got, want) in bar.iter().zip([0xd8, 0xc8, 0xa0]) {
        assert!((got - want).abs() <= 8, "top bar {bar:?}");
    }
    assert!((px(10, 10)[0] - bar[0]).abs() <= 4, "bar is uniform");
    // The bottom bar takes the bottom edge instead (the gradient ends at #406080).
    let bottom = px(1500, 1150);
    for (got, want) in bottom.iter().zip([0x40, 0x60, 0x80]) {
        assert!((got - want).abs() <= 10, "bottom bar {bottom:?}");
    }
}

#[test]
fn cmyk_colours_match_imagemagicks_conversion() {
    let ours = pixels(&output_of("cmyk_720x1280.jpg"));
    let theirs = pixels(&fixture("images").join("cmyk_720x1280.jpg"));
    assert_eq!((ours.0, ours.1), (theirs.0, theirs.1));
    let total: u64 = ours
        .2
        .iter()
        .zip(&theirs.2)
        .map(|(a, b)| a.abs_diff(*b) as u64)
        .sum();
    let mean = total as f64 / ours.2.len() as f64;
    assert!(mean < 4.0, "mean error {mean}");
}

#[test]
fn fixing_the_output_again_copies_everything() {
    let (dir, _) = fixed();
    let again = dir.path().join("again");
    let lines = fix_json(&[
        "--out",
        again.to_str().unwrap(),
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(lines.len(), expectations().len());
    for line in &lines {
        assert_eq!(line["action"], "copied", "{line}");
        let (a, b) = (
            line["path"].as_str().unwrap(),
            line["output"].as_str().unwrap(),
        );
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = preflight([
        "fix",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
        fixture("images")
            .join("panorama_3000x800.jpg")
            .to_str()
            .unwrap(),
        fixture("images")
            .join("heic_720x1280.heic")
            .to_str()
            .unwrap(),
    ]);
    let text = String::from_utf8(result.stdout).unwrap();
    assert!(
        text.contains("image.aspect.max: pad 3000x800 to 3000x1200"),
        "{text}"
    );
    assert!(text.contains("image.format: heif written as jpg"), "{text}");
    assert!(!out.exists(), "dry run wrote {out:?}");
}

#[test]
fn base64_prints_a_compliant_image_raw() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format, size) in [
        ("heic_720x1280.heic", "JPEG", (720, 1280)),
        ("panorama_3000x800.jpg", "JPEG", (3000, 1200)),
        ("portrait_720x1280_ok.jpg", "JPEG", (720, 1280)),
        ("tiny_200x150.png", "PNG", (400, 300)),
    ] {
        let out = preflight([
            "base64",
            "--provider",
            "novita",
            fixture("images").join(name).to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{name}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.starts_with("data:"), "{name}");
        assert!(!text.contains('\n') && !text.contains('\r'), "{name}");
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
        let decoded = dir.path().join(format!("{name}.out"));
        let status = Command::new("base64")
            .arg("-d")
            .stdin(std::process::Stdio::piped())
            .stdout(std::fs::File::create(&decoded).unwrap())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(text.as_bytes())?;
                child.wait()
            })
            .unwrap();
        assert!(status.success());
        let (f, w, h) = format_and_size(&decoded);
        assert_eq!((f.as_str(), (w, h)), (format, size), "{name}");
        assert!(std::fs::metadata(&decoded).unwrap().len() <= MAX_BYTES);
        if name.contains("_ok") {
            assert_eq!(
                std::fs::read(&decoded).unwrap(),
                std::fs::read(fixture("images").join(name)).unwrap(),
                "a compliant file is sent as it is"
            );
        }
    }
    // A video is refused with a message, not a panic.
    let out = preflight(["base64", "fixtures/videos/ok_720x1280_5s.mp4"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("video"));
}

/// A 14 MP noise picture weighs far more than 10 MB at high JPEG quality: the
/// repair lowers the quality (and, if needed, the size, uniformly) until it fits.
#[test]
fn an_over_budget_picture_is_brought_under_10_mb() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("noise.jpg");
    let made = Command::new(CONVERT)
        .args([
            "-size",
            "4500x3000",
            "xc:gray",
            "+noise",
            "Random",
            "-quality",
            "97",
        ])
        .arg(&big)
        .status()
        .unwrap();
    assert!(made.success());
    let bytes_in = std::fs::metadata(&big).unwrap().len();
    assert!(
        bytes_in > MAX_BYTES,
        "the test picture is only {bytes_in} bytes"
    );
    let out = dir.path().join("out");
    let lines = fix_json(&["--out", out.to_str().unwrap(), big.to_str().unwrap()]);
    assert_eq!(lines[0]["action"], "reencoded", "{}", lines[0]);
    let output = PathBuf::from(lines[0]["output"].as_str().unwrap());
    let bytes = std::fs::metadata(&output).unwrap().len();
    assert!(bytes <= MAX_BYTES, "{bytes}");
    assert!(bytes > MAX_BYTES * 6 / 10, "{bytes}: far below the budget");
    let (format, w, h) = format_and_size(&output);
    assert_eq!(format, "JPEG");
    // Same proportions, to the pixel.
    assert!(
        (w as u64 * 3000).abs_diff(h as u64 * 4500) <= 4500,
        "{w}x{h}"
    );
    assert!(w <= 4500 && h >= 300);
}
