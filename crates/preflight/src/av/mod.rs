//! Everything that touches FFmpeg lives below this module, behind a narrow
//! interface: the rest of the crate sees facts and errors, never FFmpeg types.

mod conform;
mod probe;

use std::sync::Once;

pub use conform::conform;
pub use probe::probe_video;

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
