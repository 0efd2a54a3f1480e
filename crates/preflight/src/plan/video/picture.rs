//! What a re-encode does to pixels beyond geometry: square pixels for an
//! anamorphic source, and the colour conversion that makes every output
//! SDR BT.709 with limited range. Pure: facts in, decisions out.

use serde::Serialize;

use super::Geometry;
use crate::facts::{HdrTransfer, VideoFacts};

/// How the decoded colours reach the encoder. Every re-encoded output is
/// tagged BT.709 (primaries, transfer, matrix) with limited range, so players
/// and the services read it the same way; this says what it takes to make
/// the pixels match the tags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ColourPath {
    /// PQ or HLG: tone-mapped to SDR BT.709.
    pub tone_map: Option<HdrTransfer>,
    /// The source's BT.601 matrix and primaries (SD video) by FFmpeg's name,
    /// `smpte170m` (525 lines) or `bt470bg` (625): converted to BT.709.
    pub from_bt601: Option<&'static str>,
    /// The source is full range: brought to limited range.
    pub from_full_range: bool,
}

impl ColourPath {
    /// The source's own tags and range already match the output.
    pub fn unchanged(&self) -> bool {
        *self == ColourPath::default()
    }
}

/// The colour conversion for `facts`. Untagged SDR sources are taken as
/// BT.709 (what the ffmpeg CLI and players assume for HD), so their pixels
/// pass unchanged and only gain the tags.
pub fn colour_path(facts: &VideoFacts) -> ColourPath {
    let c = &facts.colour;
    let tone_map = c.hdr();
    ColourPath {
        tone_map,
        from_bt601: match c.matrix.as_deref() {
            _ if tone_map.is_some() => None,
            Some("smpte170m") => Some("smpte170m"),
            Some("bt470bg") => Some("bt470bg"),
            _ => None,
        },
        from_full_range: tone_map.is_none()
            && (c.range.as_deref() == Some("pc")
                || facts
                    .pixel_format
                    .as_deref()
                    .is_some_and(|p| p.starts_with("yuvj"))),
    }
}

/// The geometry for a source whose pixels are not square: the picture is
/// scaled to its displayed size (even sides) rather than cropped, since a
/// crop of the stored picture would cut the wrong columns and keep the
/// stretch. `g` was planned on the displayed size already.
pub fn square_pixels(g: Geometry, anamorphic: bool) -> Geometry {
    if !anamorphic || g.scale.is_some() {
        return g;
    }
    let size = g.crop.unwrap_or(g.source);
    Geometry {
        scale: Some(size),
        crop: None,
        ..g
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::video::plan_geometry;
    use crate::plan::PadFill;

    #[test]
    fn anamorphic_sd_is_scaled_not_cropped() {
        // 720x480 at 32:27 is shown 853x480: scaled to 852x480.
        let g = plan_geometry(853, 480, 0, 340, Some(3850), PadFill::Border);
        assert_eq!(g.crop, Some((852, 480)));
        let g = square_pixels(g, true);
        assert_eq!((g.scale, g.crop), (Some((852, 480)), None));
        assert_eq!((g.width, g.height), (852, 480));
        // Square pixels: untouched.
        let g = plan_geometry(640, 360, 0, 340, Some(3850), PadFill::Border);
        assert_eq!(square_pixels(g, false), g);
    }
}
