//! `probe` on arbitrary bytes: image decoders' headers and FFmpeg's demuxers.
//! The bytes go through a file because that is what `probe` reads (and what
//! FFmpeg opens); /dev/shm keeps it in memory.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;

fn scratch() -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("preflight-fuzz-{}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(&path, data).is_ok() {
        if let Ok(facts) = preflight::probe(&path) {
            for spec in preflight::Spec::all() {
                let _ = preflight::check(&facts, &spec);
            }
        }
    }
});
