//! How much work and memory one file may cost, whatever its headers claim.
//!
//! Files come from strangers: a picture size, a frame count or a timestamp can
//! be made up, and one file must not stall or exhaust a run. Two kinds of
//! bound live here:
//!
//! - [`MAX_IMAGE_PIXELS`], fixed: every image decoder checks the size a header
//!   claims against it before a pixel buffer is allocated, and the probe refuses
//!   such pictures outright ([`ProbeError::TooLarge`]).
//! - [`DecodeLimits`], chosen per run (part of
//!   [`FixOptions`](crate::plan::FixOptions)): bounds on decoding one video.
//!   Each field says what happens when the bound is reached: some end the pass
//!   and say so (the scan), others fail the file with a message that names the
//!   way out.
//!
//! A limit is only ever reached by a file that asks for more than it; the
//! defaults take every file a phone or camera makes.

use serde::Serialize;

use crate::error::ProbeError;

/// The largest image, in pixels, that this crate will decode (2^28, about
/// 16k × 16k: more than any phone camera makes). A header that claims more is
/// refused before anything is allocated for it.
pub const MAX_IMAGE_PIXELS: u64 = 1 << 28;

/// [`ProbeError::TooLarge`] when a `width` × `height` picture is over
/// [`MAX_IMAGE_PIXELS`].
pub(crate) fn image_too_large(width: u32, height: u32) -> Option<ProbeError> {
    let pixels = width as u64 * height as u64;
    (pixels > MAX_IMAGE_PIXELS).then_some(ProbeError::TooLarge {
        width: width as u64,
        height: height as u64,
        limit: MAX_IMAGE_PIXELS,
    })
}

/// Bounds on the work and memory one video may cost.
///
/// Construct with [`DecodeLimits::default`] and change the fields you need;
/// new bounds may be added in later versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DecodeLimits {
    /// Largest picture decoded, width × height. A larger video fails before
    /// its first frame is decoded. The default, 40 MP, takes DCI 8K
    /// (8192×4320 = 35.4 MP); one such frame is ~53 MB in 4:2:0.
    pub max_video_pixels: u64,
    /// Most frames one decode pass reads: a cut scan, or one encode attempt
    /// (frames from the keyframe before the window included). Timestamps that
    /// never advance would otherwise keep a pass decoding to the end of any
    /// file. The default is 2 hours at 30 fps.
    pub max_decoded_frames: u64,
    /// How much of a video the cut scan (`--segment auto`, `check --deep`)
    /// reads from its start. Past it the scan stops and says so; the window is
    /// then chosen in what was scanned. The default is 10 minutes.
    pub max_scan_us: u64,
    /// Memory for the frames held to lengthen a clip shorter than the minimum
    /// (`--extend loop|pingpong`). Past it the repair fails and names
    /// `--extend freeze`, which holds one frame. The default is 1 GiB.
    pub max_held_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_video_pixels: 40_000_000,
            max_decoded_frames: 2 * 3600 * 30,
            max_scan_us: 10 * 60 * 1_000_000,
            max_held_bytes: 1 << 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixel_limit_is_inclusive() {
        assert!(image_too_large(1 << 14, 1 << 14).is_none());
        assert!(image_too_large((1 << 14) + 1, 1 << 14).is_some());
        assert!(image_too_large(u32::MAX, u32::MAX).is_some());
    }
}
