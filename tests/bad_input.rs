//! Bad input: every broken file gets a clear per-file error, the run goes on,
//! nothing panics, and memory stays small.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// Runs `preflight check --json` on the given paths under a 1 GiB address-space
/// limit, so an allocation sized from a lying header would fail the run.
fn check_limited(paths: &[&Path]) -> std::process::Output {
    let mut cmd = Command::new(bin());
    cmd.args(["check", "--json"]).args(paths);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("run preflight")
}

fn error_for(path: &Path) -> String {
    let out = check_limited(&[path]);
    assert_eq!(out.status.code(), Some(2), "{}: {out:?}", path.display());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "panic on {}",
        path.display()
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], serde_json::Value::Null);
    assert_eq!(lines[0]["ok"], false);
    lines[0]["error"]
        .as_str()
        .expect("an error message")
        .to_string()
}

#[test]
fn each_damaged_file_has_a_clear_error() {
    let cases = [
        ("damaged/empty.mp4", "empty"),
        ("damaged/truncated.mp4", "truncated"),
        ("damaged/truncated_no_moov.mp4", "truncated"),
        ("damaged/random_bytes.mp4", "not an image or video"),
        ("damaged/text_named.jpg", "not an image or video"),
        ("damaged/claims_100000x100000.png", "100000x100000"),
        ("damaged/audio_only.m4a", "no video stream: audio only"),
        (
            "damaged/box_size_overflow.mp4",
            "declares 18446744073709551615 bytes",
        ),
    ];
    for (file, expected) in cases {
        let message = error_for(&fixture(file));
        assert!(
            message.contains(expected),
            "{file}: {message:?} lacks {expected:?}"
        );
    }
}

/// A picture cut short (an interrupted download or copy) passes every header
/// read, and one that needs no repair would be sent as it is: each is
/// refused with why, as ImageMagick (`identify -regard-warnings`, reading the
/// pixels) also finds it damaged, and `fix` goes on with the next file.
#[test]
fn a_picture_cut_short_is_refused_and_the_next_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cut = Vec::new();
    for name in [
        "portrait_720x1280_ok.jpg",
        "progressive_720x1280.jpg",
        "square_1024_ok.png",
        "webp_720x1280.webp",
    ] {
        let whole = std::fs::read(fixture(&format!("images/{name}"))).unwrap();
        let path = dir.path().join(format!("half_{name}"));
        std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        let magick = Command::new("/usr/bin/identify")
            .arg("-regard-warnings")
            .arg(&path)
            .output()
            .expect("identify");
        assert!(
            !magick.status.success(),
            "ImageMagick reads {name} cut in half"
        );
        let message = error_for(&path);
        assert!(message.contains("cut short"), "{name}: {message}");
        cut.push(path);
    }
    let error = fix_with_a_good_jpeg(&cut[0], &dir.path().join("out"));
    assert!(error.contains("cut short"), "{error}");
    // HEIF and AVIF: libheif finds the end itself, and says so on one line.
    for name in ["heic_720x1280.heic", "avif_720x1280.avif"] {
        let whole = std::fs::read(fixture(&format!("images/{name}"))).unwrap();
        let path = dir.path().join(format!("half_{name}"));
        std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        let message = error_for(&path);
        assert!(message.contains("end of file"), "{name}: {message}");
        assert_eq!(message, message.trim_end(), "{name}: one line");
    }
}

/// `fix --json` on `bad` then a good JPEG, into `out_dir`: `bad` fails alone
/// (exit 1, no panic, only the JPEG written); its error.
fn fix_with_a_good_jpeg(bad: &Path, out_dir: &Path) -> String {
    let good = fixture("images/portrait_720x1280_ok.jpg");
    let out = preflight([
        "fix".as_ref(),
        "--json".as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
        bad.as_os_str(),
        good.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "a file failed: {stderr}");
    let failed = json_lines(&out)
        .into_iter()
        .find(|l| l["path"].as_str().is_some_and(|p| Path::new(p) == bad))
        .unwrap_or_else(|| panic!("a line for {}", bad.display()));
    assert_eq!(
        files_below(out_dir),
        [out_dir.join("portrait_720x1280_ok.jpg")],
        "only the good JPEG is written"
    );
    failed["error"].as_str().expect("an error").to_string()
}

/// Found by the fuzzer: an AVIF whose AV1 data is empty probes fine but
/// cannot be decoded (libheif's dav1d plugin fails, and leaks inside dav1d:
/// fixtures/fuzz/README.md). `fix` says the file is damaged; the next is fixed.
#[test]
fn an_avif_with_empty_av1_data_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let avif = fixture("fuzz/avif_empty_av1_chunk.avif");
    let error = fix_with_a_good_jpeg(&avif, dir.path());
    assert!(error.contains("damaged"), "{error}");
}

#[test]
fn the_run_goes_on_after_a_bad_file() {
    let good = fixture("videos/ok_720x1280_5s.mp4");
    let bad = fixture("damaged/random_bytes.mp4");
    let image = fixture("images/portrait_720x1280_ok.jpg");
    let out = check_limited(&[&bad, &good, &fixture("damaged/empty.mp4"), &image]);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["ok"], true);
    assert_eq!(lines[3]["ok"], true);
    assert!(lines[0]["error"].is_string() && lines[2]["error"].is_string());
}

#[test]
fn a_symlink_loop_is_reported_and_the_rest_checked() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("clips");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(fixture("videos/ok_720x1280_5s.mp4"), sub.join("ok.mp4")).unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("back_to_top")).unwrap();
    let out = check_limited(&[dir.path()]);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let looped = lines.iter().find(|l| l["error"].is_string()).unwrap();
    assert!(looped["error"].as_str().unwrap().contains("symlink loop"));
    assert!(looped["path"].as_str().unwrap().ends_with("back_to_top"));
    assert!(lines.iter().any(|l| l["ok"] == true));
}

#[test]
fn a_file_without_read_permission_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let secret = dir.path().join("secret.mp4");
    std::fs::copy(fixture("videos/ok_720x1280_5s.mp4"), &secret).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = dir.path().join("open.jpg");
    std::fs::copy(fixture("images/portrait_720x1280_ok.jpg"), &readable).unwrap();
    // A copy of the binary that any user may run, in case the build folder is not.
    let exe = dir.path().join("preflight");
    std::fs::copy(bin(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();

    // root reads everything: drop to `nobody` so the permission bits count.
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = cmd
        .args(["check", "--json"])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .expect("run preflight");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let lines = json_lines(&out);
    let denied = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("secret.mp4"))
        .expect("a line for the unreadable file");
    assert!(
        denied["error"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{denied}"
    );
    let open = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("open.jpg"))
        .unwrap();
    assert_eq!(open["ok"], true);
}

#[test]
fn a_folder_with_every_kind_of_damage_is_walked_to_the_end() {
    let out = check_limited(&[&fixture("damaged")]);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), fixtures_in("damaged").len());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
