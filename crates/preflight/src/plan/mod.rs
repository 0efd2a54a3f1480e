//! `plan(facts, spec, options)`: the smallest list of operations that makes a
//! file compliant, each tied to the rule it fixes. Pure: no I/O. An empty plan
//! means the file is copied byte for byte.

pub mod image;
pub mod video;

use std::fmt;

use serde::Serialize;

use crate::facts::MediaFacts;
pub use crate::limits::DecodeLimits;
use crate::rule::Rule;
use crate::spec::Spec;

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Already compliant: copied byte for byte.
    Copied,
    /// Streams kept, container rewritten (and possibly cut at a keyframe).
    Remuxed,
    /// Decoded and encoded again.
    Reencoded,
}

impl Action {
    /// The word used in `fix` output and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Action::Copied => "copied",
            Action::Remuxed => "remuxed",
            Action::Reencoded => "reencoded",
        }
    }
}

/// One operation, and why it is there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step<Op> {
    /// The operation.
    pub op: Op,
    /// The rule this step makes hold: a violation such as `image.width.min`,
    /// an advisory such as `video.codec.h264`, or a user option.
    pub rule: Rule,
    /// Broken rules that hold after this step as a side effect (padding to
    /// the aspect window also lifts a short side to the minimum; the rounding
    /// of a scale can bring an aspect just outside the window into it). With
    /// `rule`, every violation of the report is answered by some step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Rule>,
    /// Why, in one sentence for people.
    pub reason: String,
}

/// The repair of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Plan {
    /// An image's.
    Image(image::ImagePlan),
    /// A video's.
    Video(video::VideoPlan),
}

impl Plan {
    /// Nothing to change: the output is a byte-for-byte copy.
    pub fn is_copy(&self) -> bool {
        match self {
            Plan::Image(p) => p.is_copy(),
            Plan::Video(p) => p.is_copy(),
        }
    }

    /// File extension of the output, without the dot; `None` keeps the input's.
    pub fn output_extension(&self) -> Option<&'static str> {
        match self {
            Plan::Image(p) => p.output_extension(),
            Plan::Video(p) => p.output_extension(),
        }
    }

    /// One line per step: `rule: reason`.
    pub fn describe(&self) -> Vec<String> {
        fn lines<Op>(steps: &[Step<Op>]) -> Vec<String> {
            steps
                .iter()
                .map(|s| format!("{}: {}", s.rule, s.reason))
                .collect()
        }
        match self {
            Plan::Image(p) => lines(p.steps()),
            Plan::Video(p) => lines(p.steps()),
        }
    }
}

/// The least work that makes the file compliant under `spec`.
pub fn plan(facts: &MediaFacts, spec: &Spec, options: &FixOptions) -> Plan {
    match facts {
        MediaFacts::Image(f) => Plan::Image(image::plan_image(f, spec, options)),
        MediaFacts::Video(f) => Plan::Video(video::plan_video(f, spec, options)),
    }
}

/// What fills the bars added to reach an allowed aspect ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PadFill {
    /// A solid colour taken from the picture's own border (the default): the
    /// bars blend in and add no shapes of their own.
    Border,
    /// A given solid colour.
    Color([u8; 3]),
    /// A blurred, enlarged copy of the picture. It puts a second, larger ghost of
    /// the character in the frame, which the model may follow instead.
    Blur,
    /// A mirror of the picture's edges; same ghost risk as `Blur`.
    Mirror,
}

impl fmt::Display for PadFill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PadFill::Border => f.write_str("border"),
            PadFill::Color([r, g, b]) => write!(f, "#{r:02x}{g:02x}{b:02x}"),
            PadFill::Blur => f.write_str("blur"),
            PadFill::Mirror => f.write_str("mirror"),
        }
    }
}

impl std::str::FromStr for PadFill {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "border" | "auto" => Ok(PadFill::Border),
            "black" => Ok(PadFill::Color([0, 0, 0])),
            "white" => Ok(PadFill::Color([255, 255, 255])),
            "blur" => Ok(PadFill::Blur),
            "mirror" => Ok(PadFill::Mirror),
            hex if hex.starts_with('#') && hex.len() == 7 => {
                let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16);
                match (byte(1), byte(3), byte(5)) {
                    (Ok(r), Ok(g), Ok(b)) => Ok(PadFill::Color([r, g, b])),
                    _ => Err(format!("`{s}` is not a #rrggbb colour")),
                }
            }
            _ => Err(format!(
                "unknown pad fill `{s}` (border, black, white, #rrggbb, blur, mirror)"
            )),
        }
    }
}

/// Where the kept window of a too-long video comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentMode {
    /// From `start` (or 0) onward.
    Start,
    /// The longest continuous shot that fits, skipping leading black or frozen
    /// frames and avoiding hard cuts.
    Auto,
}

/// How a video shorter than the minimum is lengthened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtendMode {
    /// Forward, then backward: no jump at the seam.
    Pingpong,
    /// Start again from the beginning (jumps at the seam).
    Loop,
    /// Hold the last frame.
    Freeze,
}

/// The user's choices for a repair. Every field has a default that serves most
/// users; see `preflight fix --help`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FixOptions {
    /// What fills bars added to reach an allowed aspect ratio.
    pub pad: PadFill,
    /// Keep the video's audio (AAC) or drop it.
    pub keep_sound: bool,
    /// Where a trimmed video starts, in microseconds.
    pub start_us: Option<u64>,
    /// Which window of a too-long video is kept.
    pub segment: SegmentMode,
    /// How a too-short video is lengthened.
    pub extend: ExtendMode,
    /// Highest frame rate kept; faster sources are reduced to it.
    pub max_fps: u32,
    /// Threads one video encode may use (0: let the encoder decide).
    pub video_threads: usize,
    /// Bounds on what decoding one video may cost.
    pub limits: DecodeLimits,
}

impl Default for FixOptions {
    fn default() -> Self {
        FixOptions {
            pad: PadFill::Border,
            keep_sound: true,
            start_us: None,
            // A window with a hard cut in it is truncated by the service: the
            // longest cut-free stretch is what users pay for.
            segment: SegmentMode::Auto,
            extend: ExtendMode::Pingpong,
            max_fps: 30,
            video_threads: 0,
            limits: DecodeLimits::default(),
        }
    }
}

/// Cases per property: the test's own count, or `PROPTEST_CASES` when set, or
/// the count times `PREFLIGHT_PROPTEST_FACTOR` (what `scripts/proptest-hunt.sh`
/// raises for its long random runs; CI runs the test's own count).
#[cfg(test)]
pub(crate) fn proptest_cases(default: u32) -> u32 {
    let var = |name: &str| std::env::var(name).ok()?.parse::<u32>().ok();
    var("PROPTEST_CASES").unwrap_or_else(|| default * var("PREFLIGHT_PROPTEST_FACTOR").unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_fill_parses() {
        assert_eq!(
            "#ff8000".parse::<PadFill>(),
            Ok(PadFill::Color([255, 128, 0]))
        );
        assert_eq!("border".parse::<PadFill>(), Ok(PadFill::Border));
        assert!("#zz0000".parse::<PadFill>().is_err());
        assert_eq!(PadFill::Color([1, 2, 3]).to_string(), "#010203");
    }
}
