//! Everything that touches FFmpeg lives below this module, behind a narrow
//! interface: the rest of the crate sees facts, plans and errors, never FFmpeg
//! types.
//!
//! - `probe`: facts from headers and a bounded packet sample;
//! - `conform`: carries out a video plan (remux or re-encode, byte budget);
//! - `copy_check`: decodes the last GOP of a stream-copy cut, so a copy whose
//!   kept frames lack references is encoded instead;
//! - `sample`: frames at chosen times as small upright RGB pictures (the
//!   content analysis);
//! - `scenes`: a low-resolution decode that finds hard cuts and leading black or
//!   frozen frames (`--segment auto`, `check --deep`);
//! - `damage`, `sound`: what a decode does with damaged data (a damaged
//!   picture is refused, damaged sound becomes silence).
//!
//! Each file's whole pipeline (demux → decode → filter → encode → mux) runs on
//! the calling thread; FFmpeg's own codec threads are the only others.

mod common;
mod conform;
mod copy_check;
mod damage;
mod encode;
mod probe;
mod remux;
mod sample;
pub(crate) mod scenes;
mod sound;

use std::sync::Once;

pub use conform::conform;
pub use probe::probe_video;
pub(crate) use sample::{keyframes_around, sample_frames, SampledFrame, DECODE_THREADS};

pub(crate) use scenes::{detect_scenes, detect_scenes_and_sample};

/// The cut scan `--segment auto` runs to choose a window of at most `max_us`.
pub(crate) fn scan_window(
    path: &std::path::Path,
    limits: &crate::limits::DecodeLimits,
    max_us: u64,
) -> Result<crate::facts::Scenes, crate::error::FixError> {
    scenes::scan_for_window(path, 0, limits, max_us)
}

/// FFmpeg's global set-up, once per process. Its own logging is silenced: every
/// failure reaches the user as a per-file error instead.
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Registration cannot fail on FFmpeg >= 4; the result carries nothing.
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Quiet);
    });
}
