//! Where a target writes its input for code that reads files (`probe`, FFmpeg):
//! /dev/shm keeps it in memory; one file per process.

use std::path::PathBuf;

pub fn path(target: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("preflight-fuzz-{target}-{}", std::process::id()))
}
