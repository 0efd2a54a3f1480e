//! No memory leaks in the FFmpeg paths: probing, remuxing and scanning read
//! every packet, and each packet's buffer must be released. Run under
//! valgrind's memcheck, which fails the child on any definite leak.

use std::process::Command;

use crate::util::*;

fn assert_no_definite_leak(args: &[&std::ffi::OsStr]) {
    let out = Command::new("valgrind")
        .args([
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--error-exitcode=99",
            "--quiet",
        ])
        .arg(bin())
        .args(args)
        .output()
        .expect("valgrind (scripts/setup.sh installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(99), "leaks:\n{stderr}");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}\n{stderr}",
        out.status
    );
}

#[test]
fn probing_and_remuxing_release_every_packet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mkv = fixture("videos/mkv_640x360.mkv");
    let mp4 = fixture("videos/ok_720x1280_5s.mp4");
    assert_no_definite_leak(&["check".as_ref(), mkv.as_os_str(), mp4.as_os_str()]);
    // A remux reads every packet of the file.
    assert_no_definite_leak(&[
        "fix".as_ref(),
        "--jobs".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        mkv.as_os_str(),
    ]);
}
