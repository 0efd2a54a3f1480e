//! Facts + spec → report. Pure: no I/O.

use std::fmt;

use serde::Serialize;

use crate::facts::{Damage, ImageFacts, MediaFacts, Scenes, VideoFacts};
use crate::rule::Rule;
use crate::spec::{Ratio, Spec};

/// A value a rule compares: a count, a decimal or a word.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A count: bytes, pixels.
    Int(u64),
    /// A decimal: seconds, an aspect ratio.
    Float(f64),
    /// A word: a format, a list of allowed ones.
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{}", trim_float(*x)),
            Value::Text(s) => f.write_str(s),
        }
    }
}

fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A provider limit the file breaks: the provider would reject it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The rule broken; serialised as its stable id, such as `video.duration.max`.
    pub rule: Rule,
    /// The provider's limit.
    pub limit: Value,
    /// What the file has.
    pub actual: Value,
    /// One sentence for people.
    pub message: String,
}

/// Something no provider documents as a limit but that often goes wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// The advisory, such as `video.codec.h264`.
    pub rule: Rule,
    /// One sentence for people.
    pub message: String,
}

/// What a check found: limits broken, and advisories.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Provider limits the file breaks, in rule order.
    pub violations: Vec<Violation>,
    /// Advisories.
    pub warnings: Vec<Warning>,
}

impl Report {
    /// No limit is broken (warnings aside).
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether the limit `rule` is broken.
    pub fn has(&self, rule: Rule) -> bool {
        self.violations.iter().any(|v| v.rule == rule)
    }

    /// Whether the advisory `rule` was raised.
    pub fn warns(&self, rule: Rule) -> bool {
        self.warnings.iter().any(|w| w.rule == rule)
    }

    fn violate(&mut self, rule: Rule, limit: Value, actual: Value, message: String) {
        self.violations.push(Violation {
            rule,
            limit,
            actual,
            message,
        });
    }

    fn warn(&mut self, rule: Rule, message: impl Into<String>) {
        self.warnings.push(Warning {
            rule,
            message: message.into(),
        });
    }
}

/// Compares the facts of an image or a video with `spec`.
pub fn check(facts: &MediaFacts, spec: &Spec) -> Report {
    match facts {
        MediaFacts::Image(image) => check_image(image, spec),
        MediaFacts::Video(video) => check_video(video, spec),
    }
}

/// `w:h` is at least `min` (exact integer comparison).
pub fn aspect_at_least(w: u32, h: u32, min: Ratio) -> bool {
    w as u64 * min.den as u64 >= h as u64 * min.num as u64
}

/// `w:h` is at most `max` (exact integer comparison).
pub fn aspect_at_most(w: u32, h: u32, max: Ratio) -> bool {
    w as u64 * max.den as u64 <= h as u64 * max.num as u64
}

fn aspect_value(w: u32, h: u32) -> Value {
    Value::Float(w as f64 / h.max(1) as f64)
}

fn ratio_text(r: Ratio) -> String {
    trim_float(r.value())
}

/// The byte and side limits images and videos share.
struct Limits {
    kind: &'static str,
    max_bytes: Option<u64>,
    min_side: u32,
    max_side: Option<u32>,
}

/// The byte and side rules of one kind of media.
fn rule_ids(kind: &str) -> [Rule; 5] {
    if kind == "image" {
        [
            Rule::ImageBytesMax,
            Rule::ImageWidthMin,
            Rule::ImageHeightMin,
            Rule::ImageWidthMax,
            Rule::ImageHeightMax,
        ]
    } else {
        [
            Rule::VideoBytesMax,
            Rule::VideoWidthMin,
            Rule::VideoHeightMin,
            Rule::VideoWidthMax,
            Rule::VideoHeightMax,
        ]
    }
}

fn check_bytes_and_sides(
    report: &mut Report,
    limits: Limits,
    provider: crate::spec::Provider,
    bytes: u64,
    (w, h): (u32, u32),
) {
    let [bytes_max, width_min, height_min, width_max, height_max] = rule_ids(limits.kind);
    if let Some(max) = limits.max_bytes {
        if bytes > max {
            report.violate(
                bytes_max,
                Value::Int(max),
                Value::Int(bytes),
                format!("{bytes} bytes is over {provider}'s limit of {max} bytes"),
            );
        }
    }
    for (rule, side, value) in [(width_min, "width", w), (height_min, "height", h)] {
        if value < limits.min_side {
            report.violate(
                rule,
                Value::Int(limits.min_side as u64),
                Value::Int(value as u64),
                format!(
                    "{side} {value} px is under {provider}'s minimum of {} px",
                    limits.min_side
                ),
            );
        }
    }
    if let Some(max) = limits.max_side {
        for (rule, side, value) in [(width_max, "width", w), (height_max, "height", h)] {
            if value > max {
                report.violate(
                    rule,
                    Value::Int(max as u64),
                    Value::Int(value as u64),
                    format!("{side} {value} px is over {provider}'s maximum of {max} px"),
                );
            }
        }
    }
}

/// Compares an image's facts with `spec`'s image rules.
pub fn check_image(image: &ImageFacts, spec: &Spec) -> Report {
    let rules = &spec.image;
    let provider = spec.provider;
    let mut report = Report::default();
    let (w, h) = (image.width, image.height);

    if !rules.formats.contains(&image.format) {
        let allowed: Vec<&str> = rules.formats.iter().map(|f| f.name()).collect();
        report.violate(
            Rule::ImageFormat,
            Value::Text(allowed.join("|")),
            Value::Text(image.format.name().into()),
            format!(
                "{provider} takes {} images, this is {}",
                allowed.join(" or "),
                image.format.name()
            ),
        );
    }
    check_bytes_and_sides(
        &mut report,
        Limits {
            kind: "image",
            max_bytes: rules.max_bytes,
            min_side: rules.min_side,
            max_side: rules.max_side,
        },
        provider,
        image.bytes,
        (w, h),
    );
    if h > 0 && !aspect_at_most(w, h, rules.max_aspect) {
        report.violate(
            Rule::ImageAspectMax,
            Value::Float(rules.max_aspect.value()),
            aspect_value(w, h),
            format!(
                "{w}x{h} is wider than {provider}'s widest aspect ratio {}:1",
                ratio_text(rules.max_aspect)
            ),
        );
    }
    if h > 0 && !aspect_at_least(w, h, rules.min_aspect) {
        report.violate(
            Rule::ImageAspectMin,
            Value::Float(rules.min_aspect.value()),
            aspect_value(w, h),
            format!(
                "{w}x{h} is taller than {provider}'s tallest aspect ratio 1:{}",
                ratio_text(Ratio::new(rules.min_aspect.den, rules.min_aspect.num))
            ),
        );
    }

    if image.orientation > 1 {
        report.warn(
            Rule::ImageOrientationNone,
            format!(
                "EXIF orientation {} rotates the picture on display; not every decoder honours it",
                image.orientation
            ),
        );
    }
    if matches!(
        image.color_model,
        crate::facts::ColorModel::Cmyk | crate::facts::ColorModel::Ycck
    ) {
        report.warn(
            Rule::ImageColorRgb,
            "CMYK JPEG: many decoders show wrong colours; RGB is the safe form",
        );
    }
    if image.bit_depth > 8 {
        report.warn(
            Rule::ImageDepth8bit,
            format!("{}-bit samples; 8-bit is the safe form", image.bit_depth),
        );
    }
    report
}

/// Compares a video's facts with `spec`'s video rules.
pub fn check_video(video: &VideoFacts, spec: &Spec) -> Report {
    let rules = &spec.video;
    let provider = spec.provider;
    let mut report = Report::default();
    let (w, h) = (video.width, video.height);

    if !rules.containers.contains(&video.container.name()) {
        report.violate(
            Rule::VideoContainer,
            Value::Text(rules.containers.join("|")),
            Value::Text(video.container.name().into()),
            format!(
                "{provider} takes {} videos, this is {}",
                rules.containers.join(" or "),
                video.container.name()
            ),
        );
    }
    check_bytes_and_sides(
        &mut report,
        Limits {
            kind: "video",
            max_bytes: rules.max_bytes,
            min_side: rules.min_side,
            max_side: rules.max_side,
        },
        provider,
        video.bytes,
        (w, h),
    );
    let seconds = |us: u64| us as f64 / 1e6;
    if video.duration_us < rules.min_duration_us {
        report.violate(
            Rule::VideoDurationMin,
            Value::Float(seconds(rules.min_duration_us)),
            Value::Float(video.duration_s()),
            format!(
                "{} s is shorter than {provider}'s minimum of {} s",
                trim_float(video.duration_s()),
                trim_float(seconds(rules.min_duration_us))
            ),
        );
    }
    if video.duration_us > rules.max_duration_us {
        report.violate(
            Rule::VideoDurationMax,
            Value::Float(seconds(rules.max_duration_us)),
            Value::Float(video.duration_s()),
            format!(
                "{} s is longer than {provider}'s maximum of {} s for orientation `{}`",
                trim_float(video.duration_s()),
                trim_float(seconds(rules.max_duration_us)),
                spec.orientation
            ),
        );
    }

    // Advisories: undocumented, but what the providers' pipelines reliably accept.
    if video.codec != "h264" {
        report.warn(
            Rule::VideoCodecH264,
            format!(
                "codec {}; H.264 is the form every provider accepts",
                video.codec
            ),
        );
    }
    match (video.pixel_format.as_deref(), video.bit_depth) {
        (Some("yuv420p"), _) | (Some("yuvj420p"), _) => {}
        (pix, depth) => report.warn(
            Rule::VideoPixelFormatYuv420p,
            format!(
                "pixel format {} ({}-bit); 8-bit yuv420p is the safe form",
                pix.unwrap_or("unknown"),
                depth.map_or("?".to_string(), |d| d.to_string())
            ),
        ),
    }
    if video.variable_frame_rate {
        report.warn(
            Rule::VideoFrameRateConstant,
            "variable frame rate; constant frame rate avoids drift and dropped motion",
        );
    }
    if video.rotation != 0 {
        report.warn(
            Rule::VideoRotationNone,
            format!(
                "rotation flag of {}°; not every pipeline honours it, rotate the pixels instead",
                video.rotation
            ),
        );
    }
    if video.coded_width % 2 == 1 || video.coded_height % 2 == 1 {
        report.warn(
            Rule::VideoSizeEven,
            format!(
                "odd size {}x{}; H.264 yuv420p needs even sides",
                video.coded_width, video.coded_height
            ),
        );
    }
    if video.anamorphic() {
        let (n, d) = video.sample_aspect;
        report.warn(
            Rule::VideoPixelAspectSquare,
            format!(
                "pixel aspect {n}:{d}: the stored {}x{} is shown as {w}x{h}; a pipeline that ignores it sees a squeezed or stretched body",
                video.coded_width, video.coded_height
            ),
        );
    }
    if let Some(hdr) = video.colour.hdr() {
        report.warn(
            Rule::VideoHdr,
            format!(
                "HDR video ({} transfer, {} primaries); read as SDR its colours are wrong, tone-mapped BT.709 is the safe form",
                hdr.name(),
                video.colour.primaries.as_deref().unwrap_or("unknown")
            ),
        );
    }
    if video.moov_first == Some(false) {
        report.warn(
            Rule::VideoMoovFirst,
            "moov atom after the media data; URL fetchers must download the whole file before reading it",
        );
    }
    if video.video_streams > 1 {
        report.warn(
            Rule::VideoStreamsSingle,
            format!(
                "{} video streams; only the first is used",
                video.video_streams
            ),
        );
    }
    report
}

/// The advisories a scene scan (`check --deep`) gives: hard cuts, a black or
/// frozen start, and a scan that stopped before the end.
pub fn scene_warnings(scenes: &Scenes) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if scenes.stopped_early {
        warnings.push(Warning {
            rule: Rule::VideoScanPartial,
            message: format!(
                "only the first {:.0} s were scanned for cuts (the scan's limit); later cuts are not reported",
                scenes.duration_us as f64 / 1e6
            ),
        });
    }
    if !scenes.cuts_us.is_empty() {
        let times: Vec<String> = scenes
            .cuts_us
            .iter()
            .map(|us| format!("{:.2} s", *us as f64 / 1e6))
            .collect();
        warnings.push(Warning {
            rule: Rule::VideoCutsNone,
            message: format!(
                "hard cut{} at {}; the service truncates the motion at a cut (fix --segment auto keeps the longest shot)",
                if times.len() == 1 { "" } else { "s" },
                times.join(", ")
            ),
        });
    }
    if scenes.content_start_us > 0 {
        warnings.push(Warning {
            rule: Rule::VideoStartMoving,
            message: format!(
                "black or frozen for the first {:.2} s",
                scenes.content_start_us as f64 / 1e6
            ),
        });
    }
    if !scenes.concealed.is_empty() {
        warnings.push(concealed_warning(&scenes.concealed));
    }
    if !scenes.sound_damage.is_empty() {
        warnings.push(sound_damage_warning(&scenes.sound_damage, SoundFate::Found));
    }
    warnings
}

/// What became of damaged sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoundFate {
    /// Found by `check --deep`: nothing was changed.
    Found,
    /// Each damaged frame replaced with silence of the same length.
    Silenced,
    /// Most of the sound could not be decoded: left out of the output.
    Dropped,
}

/// The advisory `audio.damaged`: where the sound is damaged, how many frames,
/// and what was (or `fix` would be) done about it.
pub fn sound_damage_warning(damage: &Damage, fate: SoundFate) -> Warning {
    let frames = plural(damage.count, "frame");
    let message = match fate {
        SoundFate::Silenced => format!(
            "the sound is damaged {} ({frames}, replaced with silence)",
            places(damage)
        ),
        SoundFate::Dropped => format!(
            "the sound is damaged {} ({} of {} frames cannot be decoded): left out",
            extent(damage),
            damage.count,
            damage.decoded
        ),
        SoundFate::Found if damage.mostly() => format!(
            "the sound is damaged {} ({} of {} frames cannot be decoded; fix leaves the sound out)",
            extent(damage),
            damage.count,
            damage.decoded
        ),
        SoundFate::Found => format!(
            "the sound is damaged {} ({frames}; fix replaces {} with silence)",
            places(damage),
            if damage.count == 1 { "it" } else { "them" }
        ),
    };
    Warning {
        rule: Rule::AudioDamaged,
        message,
    }
}

/// The advisory `video.damaged`: frames the decoder returned flagged as
/// damaged, its own concealment in place of what was lost.
pub fn concealed_warning(damage: &Damage) -> Warning {
    Warning {
        rule: Rule::VideoDamaged,
        message: format!(
            "the picture is damaged {} ({} concealed by the decoder: {} may show smears)",
            places(damage),
            plural(damage.count, "frame"),
            if damage.count == 1 { "it" } else { "they" }
        ),
    }
}

/// Why a damaged picture is refused: where, and how many packets.
pub fn picture_damage_message(damage: &Damage) -> String {
    format!(
        "the picture is damaged {} ({}): they cannot be decoded, and smeared frames would be uploaded and billed",
        places(damage),
        plural(damage.count, "packet")
    )
}

/// `at 2.80 s`, `at 0.00 s and 4.99 s`, or `in 12 places from 0.00 s to
/// 9.02 s` (where each place starts, or from the first start to the last end).
fn places(damage: &Damage) -> String {
    let at = |us: u64| format!("{:.2} s", us as f64 / 1e6);
    let spans = &damage.spans;
    let starts: Vec<String> = spans.iter().map(|s| at(s.0)).collect();
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return "somewhere".to_string();
    };
    let span = format!("from {} to {}", at(first.0), at(last.1));
    match starts.as_slice() {
        [one] => format!("at {one}"),
        [init @ .., last] if starts.len() <= 3 => format!("at {} and {last}", init.join(", ")),
        _ if spans.len() >= Damage::MAX_SPANS => span,
        _ => format!("in {} places {span}", spans.len()),
    }
}

/// `from 0.00 s to 4.24 s`: the first damage's start to the last's end.
fn extent(damage: &Damage) -> String {
    let at = |us: Option<u64>| format!("{:.2} s", us.unwrap_or(0) as f64 / 1e6);
    format!("from {} to {}", at(damage.first_us()), at(damage.last_us()))
}

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_warnings_name_cuts_start_and_partial_scan() {
        assert!(scene_warnings(&Scenes::default()).is_empty());
        let scenes = Scenes {
            cuts_us: vec![1_500_000, 4_000_000],
            content_start_us: 250_000,
            duration_us: 600_000_000,
            frames: 100,
            stopped_early: true,
            ..Scenes::default()
        };
        let w = scene_warnings(&scenes);
        let rules: Vec<Rule> = w.iter().map(|w| w.rule).collect();
        assert_eq!(
            rules,
            [
                Rule::VideoScanPartial,
                Rule::VideoCutsNone,
                Rule::VideoStartMoving
            ]
        );
        assert!(w[0].message.contains("first 600 s"), "{}", w[0].message);
        assert!(
            w[1].message.starts_with("hard cuts at 1.50 s, 4.00 s;"),
            "{}",
            w[1].message
        );
        assert_eq!(w[2].message, "black or frozen for the first 0.25 s");
        let one = Scenes {
            cuts_us: vec![2_000_000],
            ..Scenes::default()
        };
        assert!(scene_warnings(&one)[0]
            .message
            .starts_with("hard cut at 2.00 s;"));
    }

    fn damage(places_us: &[u64], decoded: u64) -> Damage {
        let mut d = Damage {
            decoded,
            ..Damage::default()
        };
        for &at in places_us {
            d.note(at, at + 21_333);
        }
        d
    }

    #[test]
    fn damage_messages_name_the_stream_where_and_how_much() {
        let first = damage(&[0], 230);
        assert_eq!(
            sound_damage_warning(&first, SoundFate::Silenced).message,
            "the sound is damaged at 0.00 s (1 frame, replaced with silence)"
        );
        let two = damage(&[0, 4_992_000], 230);
        let w = sound_damage_warning(&two, SoundFate::Found);
        assert_eq!(w.rule, Rule::AudioDamaged);
        assert_eq!(
            w.message,
            "the sound is damaged at 0.00 s and 4.99 s (2 frames; fix replaces them with silence)"
        );
        let most: Vec<u64> = (0..150).map(|i| i * 1_000_000).collect();
        let most = damage(&most, 200);
        assert!(most.mostly() && !two.mostly());
        assert_eq!(
            sound_damage_warning(&most, SoundFate::Dropped).message,
            "the sound is damaged from 0.00 s to 149.02 s (150 of 200 frames cannot be decoded): left out"
        );
        let mut picture = Damage::default();
        for i in 0..25 {
            picture.note(2_800_000 + i * 40_000, 2_840_000 + i * 40_000);
        }
        assert_eq!(picture.spans, [(2_800_000, 3_800_000)]);
        assert!(picture_damage_message(&picture)
            .starts_with("the picture is damaged at 2.80 s (25 packets): "));
        let w = concealed_warning(&damage(&[3_040_000], 125));
        assert_eq!(w.rule, Rule::VideoDamaged);
        assert!(w
            .message
            .starts_with("the picture is damaged at 3.04 s (1 frame concealed"));
        let scenes = Scenes {
            concealed: damage(&[1_000_000], 100),
            sound_damage: damage(&[0, 600_000, 1_200_000], 100),
            ..Scenes::default()
        };
        let rules: Vec<Rule> = scene_warnings(&scenes).iter().map(|w| w.rule).collect();
        assert_eq!(rules, [Rule::VideoDamaged, Rule::AudioDamaged]);
        assert!(scene_warnings(&scenes)[1]
            .message
            .starts_with("the sound is damaged at 0.00 s, 0.60 s and 1.20 s (3 frames;"));
    }
}
