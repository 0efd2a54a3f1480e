//! Image plans: the smallest list of operations that makes a picture acceptable,
//! each tied to the rule it fixes. Pure: the final geometry and format are
//! decided here from the facts alone; `imaging` only carries them out.
//!
//! Order of the operations: orient → colour/depth → flatten → resize → pad →
//! encode (convert) → fit the byte budget.

use serde::Serialize;

use super::{FixOptions, PadFill, Step};
use crate::check::{check_image, Report};
use crate::facts::{ColorModel, ImageFacts, ImageFormat};
use crate::limits::MAX_IMAGE_PIXELS;
use crate::rule::Rule;
use crate::spec::{ImageRules, Spec};

/// The largest side a baseline JPEG can record (16-bit fields).
pub const JPEG_MAX_SIDE: u32 = 65_535;

/// Formats the repair writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Baseline JPEG.
    Jpeg,
    /// PNG (kept for pictures with transparency).
    Png,
}

impl OutputFormat {
    /// The same format as the prober names it.
    pub fn image_format(self) -> ImageFormat {
        match self {
            OutputFormat::Jpeg => ImageFormat::Jpeg,
            OutputFormat::Png => ImageFormat::Png,
        }
    }

    /// File extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
        }
    }
}

/// One operation on the pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ImageOp {
    /// Turn the pixels as the EXIF orientation (1–8) says, and drop the tag.
    Orient {
        /// The EXIF orientation tag, 1–8.
        exif: u8,
    },
    /// CMYK / YCCK samples converted to RGB.
    ToRgb,
    /// 16-bit (or deeper) samples reduced to 8 bits.
    ToEightBit,
    /// Transparency laid over a solid colour (the output format has no alpha).
    Flatten {
        /// The colour underneath, RGB.
        onto: [u8; 3],
    },
    /// Uniform scale of the whole picture to `width` × `height`.
    Resize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Centred on a `width` × `height` canvas; the picture's top-left corner
    /// lands at (`left`, `top`).
    Pad {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Column of the picture's left edge.
        left: u32,
        /// Row of the picture's top edge.
        top: u32,
        /// What fills the bars.
        fill: PadFill,
    },
    /// Written in another format.
    Convert {
        /// The format written.
        to: OutputFormat,
    },
    /// Encoded at the best quality that fits `max_bytes`, scaled down step by
    /// step (keeping the minimum side and the aspect window) when even the
    /// lowest quality does not.
    FitBudget {
        /// The byte limit.
        max_bytes: u64,
    },
}

/// Where the (scaled) picture sits on the output canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// The picture after scaling.
    pub content_width: u32,
    /// See `content_width`.
    pub content_height: u32,
    /// The output canvas (equal to the content when no bars are added).
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// Where the picture's top-left corner lands on the canvas.
    pub left: u32,
    /// See `left`.
    pub top: u32,
}

impl Layout {
    /// Bars are added.
    pub fn is_padded(&self) -> bool {
        self.width != self.content_width || self.height != self.content_height
    }
}

/// An image repair: the listed steps and the numbers `imaging` follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImagePlan {
    /// The operations, in order.
    pub steps: Vec<Step<ImageOp>>,
    /// The format written when the plan is not a copy.
    pub output: OutputFormat,
    /// Whether the output format differs from the input's.
    pub converts: bool,
    /// The displayed size of the input (EXIF orientation applied).
    pub source_width: u32,
    /// See `source_width`.
    pub source_height: u32,
    /// The planned geometry (before any budget downscale).
    pub layout: Layout,
    /// What fills the bars.
    pub fill: PadFill,
    /// Transparency is kept (PNG output of a picture with alpha).
    pub keep_alpha: bool,
    /// The provider's byte limit, if any.
    pub max_bytes: Option<u64>,
}

impl ImagePlan {
    /// Nothing to change: the output is a byte-for-byte copy.
    pub fn is_copy(&self) -> bool {
        self.steps.is_empty()
    }

    /// `Some("jpg")` / `Some("png")` when the format changes; `None` keeps the
    /// input's extension.
    pub fn output_extension(&self) -> Option<&'static str> {
        (!self.is_copy() && self.converts).then(|| self.output.extension())
    }

    /// The operations, in order.
    pub fn steps(&self) -> &[Step<ImageOp>] {
        &self.steps
    }
}

/// Why the geometry could not be planned (only for rules that contradict
/// themselves; none of the providers' do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeometryConflict;

/// The largest side the output may have under `rules`.
fn max_side(rules: &ImageRules) -> u64 {
    rules.max_side.unwrap_or(u32::MAX).min(JPEG_MAX_SIDE) as u64
}

/// Content size when its long side is `long`: the short side follows exactly
/// the source's proportion, rounded to the nearest pixel (at least 1).
fn content_for(w: u32, h: u32, long: u64) -> (u64, u64) {
    let (w, h) = (w as u64, h as u64);
    let (l0, s0) = (w.max(h), w.min(h));
    let short = ((2 * long * s0 + l0) / (2 * l0)).max(1);
    if w >= h {
        (long, short)
    } else {
        (short, long)
    }
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// The smallest canvas that holds `cw` × `ch` inside the aspect window.
fn canvas_for(cw: u64, ch: u64, rules: &ImageRules) -> (u64, u64) {
    let (max, min) = (rules.max_aspect, rules.min_aspect);
    let (mut cw2, mut ch2) = (cw, ch);
    // Too wide: taller canvas.  cw * max.den <= H * max.num
    if cw2 * max.den as u64 > ch2 * max.num as u64 {
        ch2 = ceil_div(cw2 * max.den as u64, max.num as u64);
    }
    // Too tall: wider canvas.  W * min.den >= ch * min.num
    if cw2 * (min.den as u64) < ch2 * (min.num as u64) {
        cw2 = ceil_div(ch2 * min.num as u64, min.den as u64);
    }
    (cw2, ch2)
}

fn layout_for(w: u32, h: u32, long: u64, rules: &ImageRules) -> (u64, u64, u64, u64) {
    let (cw, ch) = content_for(w, h, long);
    let (width, height) = canvas_for(cw, ch, rules);
    (cw, ch, width, height)
}

fn meets_min(w: u32, h: u32, long: u64, rules: &ImageRules) -> bool {
    let (_, _, cw, ch) = layout_for(w, h, long, rules);
    cw.min(ch) >= rules.min_side as u64
}

fn meets_max(w: u32, h: u32, long: u64, rules: &ImageRules) -> bool {
    let (_, _, cw, ch) = layout_for(w, h, long, rules);
    cw.max(ch) <= max_side(rules) && cw * ch <= MAX_IMAGE_PIXELS
}

/// Smallest `long` in `lo..=hi` where `ok` holds (`ok` monotone, true at `hi`).
fn first_true(mut lo: u64, mut hi: u64, ok: impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Largest `long` in `lo..=hi` where `ok` holds (`ok` monotone, true at `lo`).
fn last_true(mut lo: u64, mut hi: u64, ok: impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The geometry for a `w` × `h` picture: scaled as little as possible (up only
/// to reach the minimum side, down only to respect the maximum side and the
/// decode limit), then padded, centred, into the aspect window. `cap_long`
/// limits the scaled picture's long side further (the byte budget's steps);
/// the minimum side wins over it.
pub fn fit(
    w: u32,
    h: u32,
    rules: &ImageRules,
    cap_long: Option<u64>,
) -> Result<Layout, GeometryConflict> {
    if w == 0 || h == 0 {
        return Err(GeometryConflict);
    }
    let long0 = w.max(h) as u64;
    let min_ok = |l: u64| meets_min(w, h, l, rules);
    let max_ok = |l: u64| meets_max(w, h, l, rules);
    // The smallest long side that meets the minimum: padding to the aspect
    // window lifts the short side to at least 2/5 of the long one.
    let upper = long0 + 4 * rules.min_side as u64 + 16;
    if !min_ok(upper) {
        return Err(GeometryConflict);
    }
    let low = first_true(1, upper, min_ok);
    let mut long = long0.max(low);
    if !max_ok(long) {
        if !max_ok(1) {
            return Err(GeometryConflict);
        }
        long = last_true(1, long, max_ok);
    }
    if let Some(cap) = cap_long {
        long = long.min(cap.max(1));
    }
    if long < low {
        long = low;
    }
    if !min_ok(long) || !max_ok(long) {
        return Err(GeometryConflict);
    }
    let (cw, ch, width, height) = layout_for(w, h, long, rules);
    Ok(Layout {
        content_width: cw as u32,
        content_height: ch as u32,
        width: width as u32,
        height: height as u32,
        left: ((width - cw) / 2) as u32,
        top: ((height - ch) / 2) as u32,
    })
}

/// The colour transparency is laid on when the output cannot keep it.
fn flatten_colour(fill: PadFill) -> [u8; 3] {
    match fill {
        PadFill::Color(c) => c,
        _ => [255, 255, 255],
    }
}

fn first_violated(report: &Report, rules: &[Rule]) -> Option<Rule> {
    rules.iter().copied().find(|&r| report.has(r))
}

/// The smallest list of operations that makes the picture acceptable under
/// `spec`.
pub fn plan_image(facts: &ImageFacts, spec: &Spec, options: &FixOptions) -> ImagePlan {
    let rules = &spec.image;
    let report = check_image(facts, spec);
    let (w, h) = (facts.width.max(1), facts.height.max(1));
    let output = output_format(facts, rules, report.has(Rule::ImageBytesMax));
    let converts = output.image_format() != facts.format;
    let keep_alpha = facts.has_alpha && output == OutputFormat::Png;

    let mut steps = sample_steps(facts);
    let geometry_wrong = [
        Rule::ImageWidthMin,
        Rule::ImageHeightMin,
        Rule::ImageWidthMax,
        Rule::ImageHeightMax,
        Rule::ImageAspectMin,
        Rule::ImageAspectMax,
    ]
    .iter()
    .any(|&r| report.has(r));
    let needs_work = !steps.is_empty() || !report.ok() || geometry_wrong;
    let unchanged = Layout {
        content_width: w,
        content_height: h,
        width: w,
        height: h,
        left: 0,
        top: 0,
    };
    // The geometry: unchanged unless a rule (or the decode limit of a
    // re-encoded picture) asks otherwise.
    let layout = if needs_work {
        fit(w, h, rules, None).unwrap_or(unchanged)
    } else {
        unchanged
    };
    if needs_work {
        let cx = Context {
            facts,
            rules,
            report: &report,
            source: (w, h),
            layout,
            output,
            fill: options.pad,
        };
        steps.extend(
            [
                flatten_step(&cx),
                resize_step(&cx),
                pad_step(&cx),
                convert_step(&cx, converts, keep_alpha),
                budget_step(&cx),
            ]
            .into_iter()
            .flatten(),
        );
    }
    ImagePlan {
        steps,
        output,
        converts,
        source_width: w,
        source_height: h,
        layout,
        fill: options.pad,
        keep_alpha,
        max_bytes: rules.max_bytes,
    }
}

/// Keep JPEG as JPEG and PNG as PNG; anything else becomes JPEG, or PNG when
/// it has transparency to keep. A PNG without alpha that is over the budget
/// becomes JPEG: PNG cannot trade quality for bytes.
fn output_format(facts: &ImageFacts, rules: &ImageRules, over_budget: bool) -> OutputFormat {
    let allowed = |f: ImageFormat| rules.formats.contains(&f);
    match facts.format {
        ImageFormat::Jpeg if allowed(ImageFormat::Jpeg) => OutputFormat::Jpeg,
        ImageFormat::Png
            if allowed(ImageFormat::Png)
                && (facts.has_alpha || !over_budget || !allowed(ImageFormat::Jpeg)) =>
        {
            OutputFormat::Png
        }
        _ if facts.has_alpha && allowed(ImageFormat::Png) => OutputFormat::Png,
        _ if allowed(ImageFormat::Jpeg) => OutputFormat::Jpeg,
        _ => OutputFormat::Png,
    }
}

fn step(op: ImageOp, rule: Rule, reason: String) -> Step<ImageOp> {
    Step {
        op,
        rule,
        also: Vec::new(),
        reason,
    }
}

const SIDE_RULES: [Rule; 4] = [
    Rule::ImageWidthMin,
    Rule::ImageHeightMin,
    Rule::ImageWidthMax,
    Rule::ImageHeightMax,
];

/// Whether a `w` × `h` picture meets the side rule `rule`.
fn side_holds(rule: Rule, w: u32, h: u32, rules: &ImageRules) -> bool {
    let max = rules.max_side.unwrap_or(u32::MAX);
    match rule {
        Rule::ImageWidthMin => w >= rules.min_side,
        Rule::ImageHeightMin => h >= rules.min_side,
        Rule::ImageWidthMax => w <= max,
        Rule::ImageHeightMax => h <= max,
        _ => false,
    }
}

/// The broken side rules among `candidates` that a `w` × `h` picture meets.
fn sides_fixed(cx: &Context, candidates: &[Rule], except: Rule, w: u32, h: u32) -> Vec<Rule> {
    candidates
        .iter()
        .copied()
        .filter(|&r| r != except && cx.report.has(r) && side_holds(r, w, h, cx.rules))
        .collect()
}

/// The steps on the samples, made even for a compliant picture (advisories):
/// orientation, colour model, bit depth.
fn sample_steps(facts: &ImageFacts) -> Vec<Step<ImageOp>> {
    let mut steps = Vec::new();
    if facts.orientation > 1 {
        steps.push(step(
            ImageOp::Orient {
                exif: facts.orientation,
            },
            Rule::ImageOrientationNone,
            format!(
                "EXIF orientation {}: turn the pixels so the picture stands as displayed \
                 ({}x{}) and drop the tag",
                facts.orientation, facts.width, facts.height
            ),
        ));
    }
    if matches!(facts.color_model, ColorModel::Cmyk | ColorModel::Ycck) {
        steps.push(step(
            ImageOp::ToRgb,
            Rule::ImageColorRgb,
            "CMYK samples converted to RGB, the form every decoder shows right".into(),
        ));
    }
    if facts.bit_depth > 8 {
        steps.push(step(
            ImageOp::ToEightBit,
            Rule::ImageDepth8bit,
            format!("{}-bit samples reduced to 8 bits", facts.bit_depth),
        ));
    }
    steps
}

/// What the geometry and format steps are decided from.
struct Context<'a> {
    facts: &'a ImageFacts,
    rules: &'a ImageRules,
    report: &'a Report,
    /// The displayed size of the input.
    source: (u32, u32),
    layout: Layout,
    output: OutputFormat,
    fill: PadFill,
}

/// Transparency laid over a solid colour when the output is JPEG.
fn flatten_step(cx: &Context) -> Option<Step<ImageOp>> {
    if !(cx.facts.has_alpha && cx.output == OutputFormat::Jpeg) {
        return None;
    }
    let onto = flatten_colour(cx.fill);
    Some(step(
        ImageOp::Flatten { onto },
        Rule::ImageFormat,
        format!(
            "JPEG has no transparency: laid over #{:02x}{:02x}{:02x}",
            onto[0], onto[1], onto[2]
        ),
    ))
}

/// A uniform scale up to the minimum side or down within the maximum.
fn resize_step(cx: &Context) -> Option<Step<ImageOp>> {
    let ((w, h), layout, report) = (cx.source, cx.layout, cx.report);
    let (cw, ch) = (layout.content_width, layout.content_height);
    if (cw, ch) == (w, h) {
        return None;
    }
    let up = cw as u64 * ch as u64 > w as u64 * h as u64;
    let side_max = first_violated(report, &[Rule::ImageWidthMax, Rule::ImageHeightMax]);
    let rule = if up {
        first_violated(report, &[Rule::ImageWidthMin, Rule::ImageHeightMin])
            .unwrap_or(Rule::ImageWidthMin)
    } else {
        // No side of the input is over: the padded canvas would be (or the
        // decode limit binds), so the longer side's maximum is served.
        side_max.unwrap_or(if layout.width >= layout.height {
            Rule::ImageWidthMax
        } else {
            Rule::ImageHeightMax
        })
    };
    let why = if up {
        format!("so the short side reaches {} px", cx.rules.min_side)
    } else if side_max.is_none() {
        format!("to stay within the decode limit of {MAX_IMAGE_PIXELS} pixels")
    } else {
        format!(
            "so no side is over {} px",
            cx.rules.max_side.unwrap_or(JPEG_MAX_SIDE)
        )
    };
    // The scale serves every side rule at once; without bars, the rounding of
    // the short side is what brings an aspect just outside the window in.
    let mut also = sides_fixed(cx, &SIDE_RULES, rule, cw, ch);
    let mut rounding = String::new();
    if !layout.is_padded() {
        for (r, window) in [
            (Rule::ImageAspectMin, "1:2.5"),
            (Rule::ImageAspectMax, "2.5:1"),
        ] {
            if report.has(r) {
                also.push(r);
                rounding = format!("; the rounding also brings the aspect within {window}");
            }
        }
    }
    let mut resize = step(
        ImageOp::Resize {
            width: cw,
            height: ch,
        },
        rule,
        format!(
            "scale {w}x{h} {} to {cw}x{ch} (x{:.3}, same in both directions) {why}{rounding}",
            if up { "up" } else { "down" },
            cw.max(ch) as f64 / w.max(h) as f64
        ),
    );
    resize.also = also;
    Some(resize)
}

/// Bars, centred, that bring the canvas into the aspect window.
fn pad_step(cx: &Context) -> Option<Step<ImageOp>> {
    let layout = cx.layout;
    if !layout.is_padded() {
        return None;
    }
    let (cw, ch) = (layout.content_width, layout.content_height);
    let wider = layout.width > cw;
    let rule = if wider {
        Rule::ImageAspectMin
    } else {
        Rule::ImageAspectMax
    };
    // A short side the picture itself (scaled or not) leaves under the
    // minimum is lifted by the bars.
    let mins = [Rule::ImageWidthMin, Rule::ImageHeightMin];
    let also: Vec<Rule> = sides_fixed(cx, &mins, rule, layout.width, layout.height)
        .into_iter()
        .filter(|&r| !side_holds(r, cw, ch, cx.rules))
        .collect();
    let also_min = also
        .first()
        .map(|&r| {
            let side = if r == Rule::ImageWidthMin {
                "width"
            } else {
                "height"
            };
            format!(
                "; this also brings the {side} to at least {} px",
                cx.rules.min_side
            )
        })
        .unwrap_or_default();
    let mut pad = step(
        ImageOp::Pad {
            width: layout.width,
            height: layout.height,
            left: layout.left,
            top: layout.top,
            fill: cx.fill,
        },
        rule,
        format!(
            "pad {cw}x{ch} to {}x{} ({} bars, centred, fill {}) to reach the aspect ratio {}{also_min}",
            layout.width,
            layout.height,
            if wider { "left and right" } else { "top and bottom" },
            cx.fill,
            if wider { "1:2.5" } else { "2.5:1" },
        ),
    );
    pad.also = also;
    Some(pad)
}

/// Written in another format: one the provider takes, or JPEG to fit a budget.
fn convert_step(cx: &Context, converts: bool, keep_alpha: bool) -> Option<Step<ImageOp>> {
    if !converts {
        return None;
    }
    let report = cx.report;
    Some(step(
        ImageOp::Convert { to: cx.output },
        if report.has(Rule::ImageFormat) {
            Rule::ImageFormat
        } else if report.has(Rule::ImageBytesMax) {
            Rule::ImageBytesMax
        } else {
            Rule::ImageFormat
        },
        format!(
            "{} written as {}{}",
            cx.facts.format.name(),
            cx.output.extension(),
            if keep_alpha {
                " (keeps the transparency)"
            } else {
                ""
            }
        ),
    ))
}

/// The byte budget, when the file is over it.
fn budget_step(cx: &Context) -> Option<Step<ImageOp>> {
    let max = cx.rules.max_bytes?;
    cx.report.has(Rule::ImageBytesMax).then(|| {
        step(
            ImageOp::FitBudget { max_bytes: max },
            Rule::ImageBytesMax,
            format!(
                "{} bytes is over {max}: best {} quality that fits, then smaller steps if needed",
                cx.facts.bytes,
                cx.output.extension()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{aspect_at_least, aspect_at_most};
    use crate::spec::{Model, Orientation, Provider};
    use proptest::prelude::*;

    fn kling() -> Spec {
        Spec::lookup(Provider::Kling, Model::KlingV3, Orientation::Video).unwrap()
    }

    fn facts(format: ImageFormat, w: u32, h: u32) -> ImageFacts {
        ImageFacts {
            format,
            stored_width: w,
            stored_height: h,
            width: w,
            height: h,
            bytes: 100_000,
            bit_depth: 8,
            has_alpha: false,
            color_model: ColorModel::Rgb,
            orientation: 1,
        }
    }

    fn ops(plan: &ImagePlan) -> Vec<&ImageOp> {
        plan.steps.iter().map(|s| &s.op).collect()
    }

    #[test]
    fn compliant_jpeg_is_a_copy() {
        let p = plan_image(
            &facts(ImageFormat::Jpeg, 720, 1280),
            &kling(),
            &FixOptions::default(),
        );
        assert!(p.is_copy());
        assert_eq!(p.output_extension(), None);
    }

    #[test]
    fn tiny_is_upscaled_to_the_minimum() {
        let p = plan_image(
            &facts(ImageFormat::Png, 200, 150),
            &kling(),
            &FixOptions::default(),
        );
        assert_eq!(
            ops(&p),
            vec![&ImageOp::Resize {
                width: 400,
                height: 300
            }]
        );
        assert_eq!(p.steps[0].rule, "image.width.min");
        assert_eq!(p.output_extension(), None);
    }

    #[test]
    fn panorama_is_padded_top_and_bottom() {
        let p = plan_image(
            &facts(ImageFormat::Jpeg, 3000, 800),
            &kling(),
            &FixOptions::default(),
        );
        assert_eq!(
            ops(&p),
            vec![&ImageOp::Pad {
                width: 3000,
                height: 1200,
                left: 0,
                top: 200,
                fill: PadFill::Border
            }]
        );
        assert_eq!(p.steps[0].rule, "image.aspect.max");
    }

    #[test]
    fn narrow_strip_is_padded_not_upscaled() {
        // 200x1000: the bars that fix the aspect also lift the width past 300.
        let p = plan_image(
            &facts(ImageFormat::Png, 200, 1000),
            &kling(),
            &FixOptions::default(),
        );
        assert_eq!(
            ops(&p),
            vec![&ImageOp::Pad {
                width: 400,
                height: 1000,
                left: 100,
                top: 0,
                fill: PadFill::Border
            }]
        );
        assert!(p.steps[0].reason.contains("width to at least 300"));
    }

    #[test]
    fn heic_becomes_jpeg_and_webp_with_alpha_png() {
        let p = plan_image(
            &facts(ImageFormat::Heif, 720, 1280),
            &kling(),
            &FixOptions::default(),
        );
        assert_eq!(
            ops(&p),
            vec![&ImageOp::Convert {
                to: OutputFormat::Jpeg
            }]
        );
        assert_eq!(p.output_extension(), Some("jpg"));
        let mut f = facts(ImageFormat::Webp, 720, 1280);
        f.has_alpha = true;
        let p = plan_image(&f, &kling(), &FixOptions::default());
        assert_eq!(p.output_extension(), Some("png"));
        assert!(p.keep_alpha);
    }

    #[test]
    fn exif_orientation_is_applied_even_when_compliant() {
        let mut f = facts(ImageFormat::Jpeg, 720, 1280);
        f.stored_width = 1280;
        f.stored_height = 720;
        f.orientation = 6;
        let p = plan_image(&f, &kling(), &FixOptions::default());
        assert_eq!(ops(&p), vec![&ImageOp::Orient { exif: 6 }]);
        assert_eq!(p.steps[0].rule, "image.orientation.none");
        assert_eq!(p.output_extension(), None);
    }

    #[test]
    fn png_over_budget_without_alpha_becomes_jpeg() {
        let mut f = facts(ImageFormat::Png, 4000, 3000);
        f.bytes = 30_000_000;
        let p = plan_image(&f, &kling(), &FixOptions::default());
        assert_eq!(p.output, OutputFormat::Jpeg);
        assert_eq!(
            ops(&p).last(),
            Some(&&ImageOp::FitBudget {
                max_bytes: 10_000_000
            })
        );
        f.has_alpha = true;
        let p = plan_image(&f, &kling(), &FixOptions::default());
        assert_eq!(p.output, OutputFormat::Png);
    }

    #[test]
    fn gif_with_alpha_to_jpeg_only_spec_is_flattened() {
        let mut spec = kling();
        spec.image.formats = &[ImageFormat::Jpeg];
        let mut f = facts(ImageFormat::Gif, 720, 1280);
        f.has_alpha = true;
        let p = plan_image(&f, &spec, &FixOptions::default());
        assert!(ops(&p).contains(&&ImageOp::Flatten {
            onto: [255, 255, 255]
        }));
        assert_eq!(p.output, OutputFormat::Jpeg);
    }

    fn format_strategy() -> impl Strategy<Value = ImageFormat> {
        prop_oneof![
            Just(ImageFormat::Jpeg),
            Just(ImageFormat::Png),
            Just(ImageFormat::Webp),
            Just(ImageFormat::Gif),
            Just(ImageFormat::Bmp),
            Just(ImageFormat::Tiff),
            Just(ImageFormat::Heif),
            Just(ImageFormat::Avif),
        ]
    }

    prop_compose! {
        fn any_facts()(
            format in format_strategy(),
            w in 1u32..=70_000,
            h in 1u32..=70_000,
            bytes in 1u64..=40_000_000,
            alpha in any::<bool>(),
            depth in prop_oneof![Just(8u8), Just(16u8)],
            orientation in 1u8..=8,
            cmyk in any::<bool>(),
        ) -> ImageFacts {
            let (sw, sh) = if orientation >= 5 { (h, w) } else { (w, h) };
            ImageFacts {
                format,
                stored_width: sw,
                stored_height: sh,
                width: w,
                height: h,
                bytes,
                bit_depth: depth,
                has_alpha: alpha && format != ImageFormat::Jpeg,
                color_model: if cmyk && format == ImageFormat::Jpeg { ColorModel::Cmyk } else { ColorModel::Rgb },
                orientation,
            }
        }
    }

    /// What every plan must give, for one input and every spec: an allowed
    /// format, a size and aspect every rule accepts, a uniform scale (to the
    /// pixel), the picture centred inside the canvas, nothing scaled that was
    /// fine, and every broken rule answered by a step (its `rule` or `also`).
    fn plan_satisfies_every_spec(f: &ImageFacts) -> Result<(), TestCaseError> {
        for spec in Spec::all() {
            let plan = plan_image(f, &spec, &FixOptions::default());
            let report = check_image(f, &spec);
            if plan.is_copy() {
                prop_assert!(report.ok() && report.warnings.is_empty());
                continue;
            }
            let l = plan.layout;
            let out = ImageFacts {
                format: plan.output.image_format(),
                stored_width: l.width,
                stored_height: l.height,
                width: l.width,
                height: l.height,
                bytes: spec.image.max_bytes.unwrap_or(u64::MAX),
                bit_depth: 8,
                has_alpha: plan.keep_alpha,
                color_model: ColorModel::Rgb,
                orientation: 1,
            };
            let after = check_image(&out, &spec);
            prop_assert!(
                after.ok(),
                "{:?} -> {:?}: {:?}",
                (f.width, f.height),
                l,
                after.violations
            );
            prop_assert!(after.warnings.is_empty());
            prop_assert!(l.width as u64 * l.height as u64 <= MAX_IMAGE_PIXELS);
            // Uniform scale: |cw/w - ch/h| at most one pixel of the scaled picture.
            let (w, h) = (f.width as u64, f.height as u64);
            let (cw, ch) = (l.content_width as u64, l.content_height as u64);
            prop_assert!(
                (cw * h).abs_diff(ch * w) <= w.max(h),
                "{:?} -> {:?}",
                (w, h),
                l
            );
            // Centred, inside the canvas.
            prop_assert!(l.left + l.content_width <= l.width);
            prop_assert!(l.top + l.content_height <= l.height);
            prop_assert!((l.width - l.content_width - 2 * l.left) <= 1);
            prop_assert!((l.height - l.content_height - 2 * l.top) <= 1);
            // Only fix what is broken: no scaling of a picture whose sides are fine.
            let sides_ok = SIDE_RULES.iter().all(|&r| !report.has(r));
            let (pw, ph) = canvas_for(w, h, &spec.image);
            if sides_ok && pw * ph <= MAX_IMAGE_PIXELS && pw.max(ph) <= max_side(&spec.image) {
                prop_assert_eq!((cw, ch), (w, h));
            }
            let aspect_ok = !report.has(Rule::ImageAspectMin) && !report.has(Rule::ImageAspectMax);
            if aspect_ok && sides_ok {
                prop_assert!(!l.is_padded() || (cw, ch) != (w, h));
            }
            // Every broken rule is answered by some step, as its rule or as a
            // side effect the step names.
            for v in &report.violations {
                let covered = plan
                    .steps
                    .iter()
                    .any(|s| s.rule == v.rule || s.also.contains(&v.rule));
                prop_assert!(covered, "{} not covered: {:?}", v.rule, plan.steps);
            }
        }
        Ok(())
    }

    /// Found by the property under random seeds: 1:2.50005 (and 2.50002:1),
    /// just past the window, and over the pixel limit. The scale's rounding
    /// alone brings the aspect in (no bar is needed), and the scale step says so.
    #[test]
    fn jpeg_just_past_the_window_and_over_the_pixel_limit() {
        for (w, h, rule) in [
            (21040, 52601, Rule::ImageAspectMin),
            (60408, 24163, Rule::ImageAspectMax),
        ] {
            let f = facts(ImageFormat::Jpeg, w, h);
            plan_satisfies_every_spec(&f).unwrap();
            let p = plan_image(&f, &kling(), &FixOptions::default());
            assert!(!p.layout.is_padded(), "{:?}", p.layout);
            let resize = p
                .steps
                .iter()
                .find(|s| matches!(s.op, ImageOp::Resize { .. }))
                .unwrap();
            assert!(resize.also.contains(&rule), "{resize:?}");
            assert!(resize.reason.contains("aspect"), "{}", resize.reason);
        }
    }

    /// A strip over the maximum side and under the minimum: the scale fixes
    /// the long side, the bars the short one, and each step names its rules.
    #[test]
    fn strip_over_the_maximum_and_under_the_minimum_names_both_fixes() {
        let f = facts(ImageFormat::Png, 200, 70_000);
        plan_satisfies_every_spec(&f).unwrap();
        let p = plan_image(&f, &kling(), &FixOptions::default());
        let rules: Vec<(Rule, Vec<Rule>)> =
            p.steps.iter().map(|s| (s.rule, s.also.clone())).collect();
        assert!(rules.contains(&(Rule::ImageHeightMax, vec![])), "{rules:?}");
        assert!(
            rules.contains(&(Rule::ImageAspectMin, vec![Rule::ImageWidthMin])),
            "{rules:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::plan::proptest_cases(2000)))]

        /// Whatever comes in, the planned output satisfies every spec (see
        /// `plan_satisfies_every_spec`).
        #[test]
        fn planned_geometry_satisfies_every_spec(f in any_facts()) {
            plan_satisfies_every_spec(&f)?;
        }

        /// A compliant picture (no violation, no advisory) plans no work.
        #[test]
        fn compliant_plans_nothing(
            format in prop_oneof![Just(ImageFormat::Jpeg), Just(ImageFormat::Png)],
            short in 300u32..=20_000,
            tenths in 10u32..=25,
            tall in any::<bool>(),
            bytes in 1u64..=10_000_000,
            alpha in any::<bool>(),
        ) {
            let long = (short as u64 * tenths as u64 / 10) as u32;
            let (w, h) = if tall { (short, long) } else { (long, short) };
            let mut f = facts(format, w, h);
            f.bytes = bytes;
            f.has_alpha = alpha && format == ImageFormat::Png;
            for spec in Spec::all() {
                // Sides within Kling's 300-65536 px; Replicate takes 340-3850 only.
                let rules = &spec.image;
                if w.min(h) < rules.min_side || rules.max_side.is_some_and(|m| w.max(h) > m) {
                    continue;
                }
                prop_assert!(check_image(&f, &spec).ok());
                let plan = plan_image(&f, &spec, &FixOptions::default());
                prop_assert!(plan.is_copy(), "{:?}", plan.steps);
            }
        }

        /// The byte budget's smaller steps keep every rule too, and shrink.
        #[test]
        fn budget_steps_keep_the_rules(w in 1u32..=20_000, h in 1u32..=20_000, f in 0.05f64..1.0) {
            let spec = kling();
            let full = fit(w, h, &spec.image, None).unwrap();
            let cap = ((full.content_width.max(full.content_height) as f64) * f) as u64;
            let l = fit(w, h, &spec.image, Some(cap)).unwrap();
            prop_assert!(l.content_width <= full.content_width && l.content_height <= full.content_height);
            prop_assert!(l.width.min(l.height) >= spec.image.min_side);
            prop_assert!(aspect_at_most(l.width, l.height, spec.image.max_aspect));
            prop_assert!(aspect_at_least(l.width, l.height, spec.image.min_aspect));
        }
    }
}
