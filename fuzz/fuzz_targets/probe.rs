//! `probe` on arbitrary bytes: image decoders' headers and FFmpeg's demuxers.
//! The bytes go through a file because that is what `probe` reads (and what
//! FFmpeg opens).
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch::path("probe");
    if std::fs::write(&path, data).is_ok() {
        if let Ok(facts) = preflight::probe(&path) {
            for spec in preflight::Spec::all() {
                let _ = preflight::check(&facts, &spec);
            }
        }
    }
});
