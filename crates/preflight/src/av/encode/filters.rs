//! The filter-graph descriptions, as text, built from the plan alone: no FFmpeg
//! types here, so each chain is unit-tested as a string.

use crate::plan::video::{ColourPath, Geometry, PadTo};
use crate::plan::PadFill;

/// The filter chain for the plan's geometry, frame rate, colour and pixel
/// format: fps → turn → scale → crop → colour, yuv420p → pad → square pixels.
/// `fill_rgb` is the bars' colour (and what a mirror or blur cannot cover).
pub(super) fn video_filters(
    g: &Geometry,
    colour: &ColourPath,
    fps: u32,
    fill_rgb: [u8; 3],
) -> String {
    let mut chain = vec![format!("fps=fps={fps}:start_time=0")];
    match g.rotate {
        90 => chain.push("transpose=clock".into()),
        180 => chain.push("hflip,vflip".into()),
        270 => chain.push("transpose=cclock".into()),
        _ => {}
    }
    if let Some((w, h)) = g.scale {
        chain.push(format!("scale={w}:{h}:flags=bicubic"));
    }
    if let Some((w, h)) = g.crop {
        chain.push(format!("crop={w}:{h}:0:0"));
    }
    chain.push(colour_filters(colour));
    let mut spec = chain.join(",");
    if let Some(pad) = g.pad {
        let (pw, ph) = g.scale.or(g.crop).unwrap_or(g.source);
        spec.push_str(&pad_filter(pad, pw, ph, fill_rgb));
    }
    spec.push_str(",setsar=1");
    spec
}

fn pad_filter(pad: PadTo, pw: u32, ph: u32, rgb: [u8; 3]) -> String {
    let PadTo {
        width: w,
        height: h,
        x,
        y,
        fill,
    } = pad;
    let colour = format!("0x{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
    match fill {
        PadFill::Border | PadFill::Color(_) => format!(",pad={w}:{h}:{x}:{y}:color={colour}"),
        PadFill::Blur => format!(
            ",split[fg][bg];[bg]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},boxblur=10:2[blur];[blur][fg]overlay={x}:{y},format=yuv420p"
        ),
        PadFill::Mirror => {
            // Bars filled with the picture's edges flipped, one axis after the
            // other; a bar wider than the picture keeps the rest in `colour`.
            let mut s = String::new();
            let (top, bottom) = (y, h.saturating_sub(y + ph));
            if top > 0 || bottom > 0 {
                let (t, b) = (top.min(ph), bottom.min(ph));
                s.push_str(&format!(",pad={pw}:{h}:0:{y}:color={colour}"));
                if t > 0 {
                    s.push_str(&format!(
                        ",split[mt][tsrc];[tsrc]crop={pw}:{t}:0:{y},vflip[tf];[mt][tf]overlay=0:{}",
                        y - t
                    ));
                }
                if b > 0 {
                    s.push_str(&format!(
                        ",split[mb][bsrc];[bsrc]crop={pw}:{b}:0:{},vflip[bf];[mb][bf]overlay=0:{}",
                        y + ph - b,
                        y + ph
                    ));
                }
            }
            let (left, right) = (x, w.saturating_sub(x + pw));
            if left > 0 || right > 0 {
                let (l, r) = (left.min(pw), right.min(pw));
                s.push_str(&format!(",pad={w}:{h}:{x}:0:color={colour}"));
                if l > 0 {
                    s.push_str(&format!(
                        ",split[ml][lsrc];[lsrc]crop={l}:{h}:{x}:0,hflip[lf];[ml][lf]overlay={}:0",
                        x - l
                    ));
                }
                if r > 0 {
                    s.push_str(&format!(
                        ",split[mr][rsrc];[rsrc]crop={r}:{h}:{}:0,hflip[rf];[mr][rf]overlay={}:0",
                        x + pw - r,
                        x + pw
                    ));
                }
            }
            s.push_str(",format=yuv420p");
            s
        }
    }
}

/// The `buffer` source's arguments for decoded frames of `width`×`height` in
/// pixel format number `pix_fmt`, timestamps in `tb`, sample aspect `sar`.
pub(super) fn video_buffer_args(
    (width, height): (u32, u32),
    pix_fmt: i32,
    tb: (i32, i32),
    sar: (i32, i32),
) -> String {
    // An unknown sample aspect (0/x or x/0) counts as square.
    let sar = if sar.0 > 0 && sar.1 > 0 { sar } else { (1, 1) };
    format!(
        "video_size={width}x{height}:pix_fmt={pix_fmt}:time_base={}/{}:pixel_aspect={}/{}",
        tb.0, tb.1, sar.0, sar.1
    )
}

/// The `abuffer` source's arguments: timestamps in `tb`, `rate` Hz samples
/// of format `sample_fmt`, the channel layout's bits (or, when FFmpeg knows
/// none, the channel count).
pub(super) fn audio_buffer_args(
    tb: (i32, i32),
    rate: u32,
    sample_fmt: &str,
    layout_bits: u64,
    channels: u16,
) -> String {
    let layout = if layout_bits != 0 {
        format!("channel_layout=0x{layout_bits:x}")
    } else {
        format!("channels={channels}")
    };
    format!(
        "time_base={}/{}:sample_rate={rate}:sample_fmt={sample_fmt}:{layout}",
        tb.0, tb.1
    )
}

/// The sound's chain: cut at the window's start, resample to `rate` with gaps
/// filled so that time stays continuous from 0, planar float mono or stereo,
/// and silence after the end (the encoder stops at the video's length).
///
/// A gap of 10 ms or more (a frame the decoder rejected: 21 ms of AAC at
/// 48 kHz, 32 ms of AC-3) is filled with silence at once, so the sound after
/// it stays in sync; the resampler's default (100 ms) would instead stretch
/// the sound by a sample a second and leave it early.
pub(super) fn audio_filters(channels: u16, rate: u32) -> String {
    let layout = if channels == 1 { "mono" } else { "stereo" };
    format!(
        "atrim=start=0,aresample={rate}:async=1:min_hard_comp=0.01:first_pts=0,aformat=sample_fmts=fltp:channel_layouts={layout},apad"
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(rotate: u16, source: (u32, u32)) -> Geometry {
        Geometry {
            rotate,
            source,
            scale: None,
            crop: None,
            pad: None,
            width: source.0,
            height: source.1,
        }
    }

    #[test]
    fn plain_chain_sets_rate_format_and_square_pixels() {
        assert_eq!(
            video_filters(
                &geometry(0, (640, 360)),
                &ColourPath::default(),
                24,
                [0, 0, 0]
            ),
            "fps=fps=24:start_time=0,format=yuv420p,setsar=1"
        );
    }

    #[test]
    fn turns_then_scales_then_crops() {
        let mut g = geometry(90, (361, 641));
        g.crop = Some((360, 640));
        assert_eq!(
            video_filters(&g, &ColourPath::default(), 30, [0, 0, 0]),
            "fps=fps=30:start_time=0,transpose=clock,crop=360:640:0:0,format=yuv420p,setsar=1"
        );
        let mut g = geometry(180, (8000, 500));
        g.scale = Some((3850, 242));
        assert_eq!(
            video_filters(&g, &ColourPath::default(), 25, [0, 0, 0]),
            "fps=fps=25:start_time=0,hflip,vflip,scale=3850:242:flags=bicubic,format=yuv420p,setsar=1"
        );
        assert!(
            video_filters(&geometry(270, (2, 2)), &ColourPath::default(), 1, [0; 3])
                .contains(",transpose=cclock,")
        );
    }

    fn padded(fill: PadFill) -> Geometry {
        let mut g = geometry(0, (8000, 500));
        g.scale = Some((3850, 242));
        g.pad = Some(PadTo {
            width: 3850,
            height: 340,
            x: 0,
            y: 48,
            fill,
        });
        g
    }

    #[test]
    fn solid_bars_use_the_given_colour() {
        let chain = video_filters(
            &padded(PadFill::Border),
            &ColourPath::default(),
            30,
            [0x12, 0xab, 0x00],
        );
        assert!(
            chain.ends_with(",format=yuv420p,pad=3850:340:0:48:color=0x12ab00,setsar=1"),
            "{chain}"
        );
    }

    #[test]
    fn mirror_fills_top_and_bottom_from_the_edges() {
        let chain = video_filters(
            &padded(PadFill::Mirror),
            &ColourPath::default(),
            30,
            [0, 0, 0],
        );
        // 48 rows above the 242-row picture, 50 below.
        assert!(
            chain.contains(",pad=3850:340:0:48:color=0x000000"),
            "{chain}"
        );
        assert!(
            chain.contains("[tsrc]crop=3850:48:0:48,vflip[tf];[mt][tf]overlay=0:0"),
            "{chain}"
        );
        assert!(
            chain.contains("[bsrc]crop=3850:50:0:240,vflip[bf];[mb][bf]overlay=0:290"),
            "{chain}"
        );
        assert!(!chain.contains("hflip"), "{chain}");
        assert!(chain.ends_with(",format=yuv420p,setsar=1"), "{chain}");
    }

    #[test]
    fn blur_overlays_the_picture_on_its_blurred_copy() {
        let chain = video_filters(
            &padded(PadFill::Blur),
            &ColourPath::default(),
            30,
            [0, 0, 0],
        );
        assert!(chain.contains(
            ",split[fg][bg];[bg]scale=3850:340:force_original_aspect_ratio=increase,crop=3850:340,boxblur=10:2[blur];[blur][fg]overlay=0:48,format=yuv420p"
        ), "{chain}");
    }

    #[test]
    fn buffer_arguments() {
        assert_eq!(
            video_buffer_args((1920, 1080), 0, (1, 90000), (0, 1)),
            "video_size=1920x1080:pix_fmt=0:time_base=1/90000:pixel_aspect=1/1"
        );
        assert_eq!(
            audio_buffer_args((1, 44100), 44100, "fltp", 3, 2),
            "time_base=1/44100:sample_rate=44100:sample_fmt=fltp:channel_layout=0x3"
        );
        assert!(audio_buffer_args((1, 8000), 8000, "s16", 0, 1).ends_with(":channels=1"));
    }

    #[test]
    fn audio_chain_is_mono_or_stereo() {
        assert_eq!(
            audio_filters(1, 48000),
            "atrim=start=0,aresample=48000:async=1:min_hard_comp=0.01:first_pts=0,aformat=sample_fmts=fltp:channel_layouts=mono,apad"
        );
        assert!(audio_filters(2, 48000).contains("channel_layouts=stereo"));
    }

    #[test]
    fn hdr_is_tone_mapped_from_its_own_transfer() {
        let hlg = colour_filters(&ColourPath {
            tone_map: Some(crate::facts::HdrTransfer::Hlg),
            ..ColourPath::default()
        });
        assert!(hlg.starts_with("zscale=tin=arib-std-b67:"), "{hlg}");
        assert!(hlg.contains("tonemap=tonemap=hable") && hlg.ends_with("format=yuv420p"));
        assert_eq!(colour_filters(&ColourPath::default()), "format=yuv420p");
    }
}
