//! Failures of the machine, not of the file: a full disk, an input that changes.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// Every file left in `dir`, hidden ones included, except the manifest folder.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(read) = std::fs::read_dir(dir) {
        for e in read.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name != ".preflight" {
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

fn assert_full_disk_handled(out: &std::process::Output, out_dir: &Path, expect: &str) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(out);
    let video = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(".mp4"))
        .unwrap();
    assert_eq!(video["action"], "failed");
    let message = video["error"].as_str().unwrap();
    assert!(
        message.contains("cannot write output") && message.contains(expect),
        "{message}"
    );
    let image = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(".jpg"))
        .unwrap();
    assert_eq!(image["action"], "copied", "small files still fit: {image}");
    // No half file, hidden or not: only the image that fitted.
    assert_eq!(files_in(out_dir), ["portrait_720x1280_ok.jpg"]);
}

#[test]
fn a_write_that_fails_leaves_no_half_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let mut cmd = Command::new(bin());
    cmd.args(["fix", "--json", "--jobs", "1", "--out"])
        .arg(&out_dir)
        .arg(fixture("videos/ok_720x1280_5s.mp4"))
        .arg(fixture("images/portrait_720x1280_ok.jpg"));
    // SAFETY: setrlimit and signal are async-signal-safe and touch only the child.
    unsafe {
        cmd.pre_exec(|| {
            // Files may not grow past 200 kB: the 526 kB video cannot be written.
            let limit = libc::rlimit {
                rlim_cur: 200_000,
                rlim_max: 200_000,
            };
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert_full_disk_handled(&out, &out_dir, "File too large");
}

#[test]
fn a_full_tmpfs_gives_a_clear_error() {
    if unsafe { libc::geteuid() } != 0 {
        // Mounting needs root; the rlimit test above covers the same path.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("small");
    std::fs::create_dir(&mount_point).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mount_point)
        .status()
        .unwrap();
    assert!(mounted.success(), "root could not mount a tmpfs");
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mount_point);
    let out = preflight([
        "fix".as_ref(),
        "--json".as_ref(),
        "--jobs".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        mount_point.as_os_str(),
        fixture("videos/ok_720x1280_5s.mp4").as_os_str(),
        fixture("images/portrait_720x1280_ok.jpg").as_os_str(),
    ]);
    assert_full_disk_handled(&out, &mount_point, "No space left on device");
}
