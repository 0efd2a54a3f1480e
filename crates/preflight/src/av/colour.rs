//! The colour part of the re-encode's filter graph, and the tags every
//! re-encoded stream carries. Pure string building; FFmpeg's own filters do
//! the work (`zscale` and `tonemap` for HDR, `colorspace` for BT.601).

use ffmpeg_next as ff;

use crate::plan::picture::ColourPath;

/// Filters from the decoded picture to 8-bit yuv420p BT.709, limited range.
pub(super) fn colour_filters(c: &ColourPath) -> String {
    if let Some(hdr) = c.tone_map {
        // Linear light, BT.709 primaries, Hable's curve, then BT.709 transfer
        // and matrix in limited range: the recipe of FFmpeg's `tonemap`
        // documentation. The source's tags are given, not guessed: HDR is
        // BT.2020 by definition.
        return format!(
            "zscale=tin={}:pin=bt2020:min=bt2020nc:rin=tv:t=linear:npl=100,format=gbrpf32le,\
             zscale=p=bt709,tonemap=tonemap=hable:desat=0,\
             zscale=t=bt709:m=bt709:r=tv,format=yuv420p",
            hdr.ffmpeg_name()
        );
    }
    let mut chain = Vec::new();
    if c.from_bt601.is_some() || c.from_full_range {
        // The source's side is given from the probe's tags: the decoded
        // frames may lack them when only the container carries them.
        let from = c.from_bt601.unwrap_or("bt709");
        let range = if c.from_full_range { "pc" } else { "tv" };
        chain.push(format!(
            "colorspace=all=bt709:range=tv:ispace={from}:iprimaries={from}:itrc=bt709:irange={range}:format=yuv420p"
        ));
    }
    chain.push("format=yuv420p".into());
    chain.join(",")
}

/// Tags the encoder's output BT.709, limited range (x264 writes them into the
/// stream's VUI; the MP4 muxer copies them).
pub(super) fn tag_bt709(encoder: &mut ff::encoder::video::Video) {
    // SAFETY: plain fields of the encoder's context, set before it is opened.
    unsafe {
        let ctx = encoder.as_mut_ptr();
        (*ctx).color_primaries = ff::ffi::AVColorPrimaries::AVCOL_PRI_BT709;
        (*ctx).color_trc = ff::ffi::AVColorTransferCharacteristic::AVCOL_TRC_BT709;
        (*ctx).colorspace = ff::ffi::AVColorSpace::AVCOL_SPC_BT709;
        (*ctx).color_range = ff::ffi::AVColorRange::AVCOL_RANGE_MPEG;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::HdrTransfer;

    #[test]
    fn hdr_is_tone_mapped_from_its_own_transfer() {
        let hlg = colour_filters(&ColourPath {
            tone_map: Some(HdrTransfer::Hlg),
            ..ColourPath::default()
        });
        assert!(hlg.starts_with("zscale=tin=arib-std-b67:"), "{hlg}");
        assert!(hlg.contains("tonemap=tonemap=hable") && hlg.ends_with("format=yuv420p"));
        assert_eq!(colour_filters(&ColourPath::default()), "format=yuv420p");
    }
}
