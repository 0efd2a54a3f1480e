//! The picture's path from the decoder to the encoder: a quarter turn, a
//! uniform scale into the side limits, one row or column dropped for even
//! sides, bars where the short side stays under the minimum.

use super::{step, Geometry, PadTo, VideoOp};
use crate::plan::{PadFill, Step};
use crate::rule::Rule;
use crate::spec::VideoRules;

fn even_floor(x: u32) -> u32 {
    x & !1
}

fn even_ceil(x: u32) -> u32 {
    x.saturating_add(1) & !1
}

/// Even and within `[min, max]` (the bounds themselves rounded inward to even).
fn even_within(x: u32, min: u32, max: Option<u32>) -> u32 {
    let lo = even_ceil(min.max(2));
    let hi = max.map_or(u32::MAX - 1, even_floor).max(lo);
    even_floor(x).clamp(lo, hi)
}

/// The pure geometry decision: displayed `w`×`h` into the sides `[min, max]`,
/// keeping the aspect ratio (uniform scale), even sides, and padding the short
/// side only when fitting the long side under `max` leaves it below `min`.
pub fn plan_geometry(
    w: u32,
    h: u32,
    rotate: u16,
    min_side: u32,
    max_side: Option<u32>,
    fill: PadFill,
) -> Geometry {
    let (w, h) = (w.max(1), h.max(1));
    let min = min_side.max(2);
    let long = w.max(h) as f64;
    let short = w.min(h) as f64;
    let max_f = max_side.map(f64::from);
    let mut factor = 1.0f64;
    if let Some(m) = max_f {
        if long > m {
            factor = m / long;
        }
    }
    if short * factor < min as f64 {
        // Grow until the short side reaches the minimum, unless that pushes the
        // long side over the maximum: then the long side sets the scale and the
        // short side is padded.
        let grow = min as f64 / short;
        factor = match max_f {
            Some(m) if long * grow > m => m / long,
            _ => grow,
        };
    }
    let needs_scale = (factor - 1.0).abs() > 1e-9;
    let odd = w % 2 == 1 || h % 2 == 1;

    let (mut scale, mut crop) = (None, None);
    let (pw, ph);
    if needs_scale {
        // Each side rounded to even, never above the maximum; a side may fall
        // below the minimum only where the pad below restores it.
        let cap = max_side.map(even_floor);
        let side = |x: u32| -> u32 {
            let v = (x as f64 * factor).round() as u32;
            let v = even_ceil(v.max(2));
            match cap {
                Some(c) if v > c => c.max(2),
                _ => v,
            }
        };
        let (sw, sh) = (side(w), side(h));
        scale = Some((sw, sh));
        pw = sw;
        ph = sh;
    } else if odd {
        let (cw, ch) = (even_floor(w).max(2), even_floor(h).max(2));
        crop = Some((cw, ch));
        pw = cw;
        ph = ch;
    } else {
        pw = w;
        ph = h;
    }
    // Pad only where a side is still under the minimum.
    let fw = if pw < min {
        even_within(min, min, max_side)
    } else {
        pw
    };
    let fh = if ph < min {
        even_within(min, min, max_side)
    } else {
        ph
    };
    let (fw, fh) = (fw.max(pw), fh.max(ph));
    let pad = (fw != pw || fh != ph).then(|| PadTo {
        width: fw,
        height: fh,
        x: even_floor((fw - pw) / 2),
        y: even_floor((fh - ph) / 2),
        fill,
    });
    Geometry {
        rotate,
        source: (w, h),
        scale,
        crop,
        pad,
        width: fw,
        height: fh,
    }
}

/// The rule a scale serves: the side over the maximum, or under the minimum.
fn scale_rule(g: &Geometry, rules: &VideoRules) -> Rule {
    let (w, h) = g.source;
    if rules.max_side.is_some_and(|m| w > m || h > m) {
        if w >= h {
            Rule::VideoWidthMax
        } else {
            Rule::VideoHeightMax
        }
    } else if w < rules.min_side || h < rules.min_side {
        if w <= h {
            Rule::VideoWidthMin
        } else {
            Rule::VideoHeightMin
        }
    } else {
        Rule::VideoSizeEven
    }
}

/// The re-encode's picture steps: rotate, scale, crop, pad (in that order).
pub(super) fn steps(
    g: &Geometry,
    wrong: &super::wrong::Wrong,
    rules: &VideoRules,
    steps: &mut Vec<Step<VideoOp>>,
) {
    if wrong.rotated {
        steps.push(step(
            VideoOp::Rotate { degrees: g.rotate },
            Rule::VideoRotationNone,
            format!(
                "turn the pixels {}° clockwise and drop the rotation flag",
                g.rotate
            ),
        ));
    }
    if let Some((width, height)) = g.scale {
        let (w, h) = g.source;
        steps.push(step(
            VideoOp::Scale { width, height },
            match scale_rule(g, rules) {
                Rule::VideoSizeEven if wrong.anamorphic => Rule::VideoPixelAspectSquare,
                rule => rule,
            },
            format!("scale {w}x{h} to {width}x{height} (aspect ratio kept)"),
        ));
    }
    if let Some((width, height)) = g.crop {
        steps.push(step(
            VideoOp::Crop { width, height },
            Rule::VideoSizeEven,
            format!(
                "{}x{} → {width}x{height}: H.264 yuv420p needs even sides",
                g.source.0, g.source.1
            ),
        ));
    }
    if let Some(pad) = g.pad {
        let rule = if pad.width > g.scale.or(g.crop).map_or(g.source.0, |s| s.0) {
            Rule::VideoWidthMin
        } else {
            Rule::VideoHeightMin
        };
        steps.push(step(
            VideoOp::Pad {
                width: pad.width,
                height: pad.height,
                x: pad.x,
                y: pad.y,
                fill: pad.fill,
            },
            rule,
            format!(
                "pad to {}x{} ({} fill): the long side is at the maximum, the short side under the minimum",
                pad.width, pad.height, pad.fill
            ),
        ));
    }
}
