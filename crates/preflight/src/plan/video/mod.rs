//! Video plans: facts + spec + options → the least work that makes a motion video
//! compliant. Pure: no I/O. The plan holds every number the executor needs (the
//! kept window, the final geometry, frame rate, rate control, audio choice), so
//! `av::conform` only follows it.
//!
//! Three levels of work, cheapest first:
//! - **copy**: nothing to change, the file is copied byte for byte;
//! - **remux**: the streams are fine (H.264 8-bit yuv420p, constant rate, upright,
//!   even sizes, within the limits) but the container, the `moov` position, extra
//!   streams, the sound choice or the length is wrong: packets are copied into a
//!   new MP4 (a too-long clip is cut at a keyframe that keeps it within limits);
//! - **re-encode**: everything else, through one decode → filter → encode pass.
//!
//! How long an output may be: a **stream copy** may last exactly the maximum
//! (its timestamps are the source's own and nothing rounds them; the check
//! fails only above the maximum), so a remux's window reaches the maximum
//! itself. A **re-encode** is planned in whole frames strictly inside the
//! limits, at least one frame past the minimum and one frame short of the
//! maximum, because AAC frames and time-base ticks round a container's
//! duration up: [`Target::reencode_max_us`] is its longest window, also for
//! the re-encode a remux falls back to.
//!
//! The steps, each in its own module: `wrong` reads the check report;
//! `window` decides the frame rate, the length in frames and the kept window;
//! `remux` and `reencode` list the operations of each level; `geometry` the
//! picture's path; `output` the rate control and the sound, shared by both.

mod geometry;
mod output;
mod picture;
mod reencode;
mod remux;
#[cfg(test)]
mod tests;
mod window;
mod wrong;

use serde::Serialize;

use super::{DecodeLimits, ExtendMode, FixOptions, PadFill, Step};
use crate::check::{check_video, Report};
use crate::facts::VideoFacts;
use crate::rule::Rule;
use crate::spec::Spec;

pub use geometry::plan_geometry;
pub(crate) use output::{budget_bitrate, AUDIO_BITRATE, AUDIO_RATE, X264_PRESET};
pub use picture::ColourPath;
use picture::{colour_path, square_pixels};
pub(crate) use remux::keyframe_cut_range;
pub(crate) use window::choose_window;
pub use window::{frame_bounds, output_fps};

/// How much work the plan does, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Nothing to change: a byte-for-byte copy.
    Copy,
    /// Packets copied into a new MP4.
    Remux,
    /// One decode → filter → encode pass.
    Reencode,
}

/// What happens to the sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioPlan {
    /// The input has no sound.
    None,
    /// Left out of the output (`--keep-sound no`).
    Drop,
    /// Packets copied (remux only).
    Copy,
    /// Encoded as AAC, trimmed or padded with silence to the video's length.
    Aac {
        /// Bits per second.
        bitrate: u64,
        /// Samples per second.
        sample_rate: u32,
    },
}

/// How the re-encode spends bits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateControl {
    /// Constant quality; the byte limit, if any, is far away.
    Quality {
        /// x264's constant rate factor.
        crf: u8,
    },
    /// Constant quality capped by a bitrate derived from the byte budget
    /// (x264 `maxrate` and a one-second `bufsize`).
    Budget {
        /// The quality target.
        crf: u8,
        /// The cap, bits per second.
        video_bitrate: u64,
        /// The byte limit the cap comes from.
        max_bytes: u64,
    },
}

/// Bars around the picture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PadTo {
    /// Width of the padded frame.
    pub width: u32,
    /// Height of the padded frame.
    pub height: u32,
    /// Top-left corner of the picture inside the padded frame (even).
    pub x: u32,
    /// See `x`.
    pub y: u32,
    /// What fills the bars.
    pub fill: PadFill,
}

/// The picture's path from the decoder to the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Geometry {
    /// Clockwise quarter turn applied to the pixels: 0, 90, 180 or 270.
    pub rotate: u16,
    /// Displayed size before any change (after rotation).
    pub source: (u32, u32),
    /// Size after a uniform scale (`None`: not scaled).
    pub scale: Option<(u32, u32)>,
    /// Size after dropping at most one row or column to reach even sides.
    pub crop: Option<(u32, u32)>,
    /// Bars added last (`None`: none).
    pub pad: Option<PadTo>,
    /// Final size of the encoded frame.
    pub width: u32,
    /// See `width`.
    pub height: u32,
}

/// Which part of the source is kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// All of it.
    Whole,
    /// From `start_us`, at most `duration_us` of source time.
    Fixed {
        /// Start, microseconds of source time.
        start_us: u64,
        /// Length, microseconds of source time.
        duration_us: u64,
    },
    /// The longest cut-free stretch of at most `max_us`, found at run time by
    /// decoding a low-resolution copy (hard cuts, leading black or frozen frames).
    Auto {
        /// Longest length kept, microseconds: the maximum itself for a remux
        /// (a copy cut may end there), [`Target::reencode_max_us`] for a
        /// re-encode.
        max_us: u64,
    },
}

/// Everything a re-encode or remux needs, decided here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// Remux or re-encode.
    pub mode: Mode,
    /// The part of the source kept.
    pub window: Window,
    /// Remux trim: the cut lands on a keyframe whose time leaves a length in
    /// `[min_us, max_us]`; when no keyframe does, the executor re-encodes.
    pub keyframe_cut: Option<(u64, u64)>,
    /// The picture's path (a remux keeps the source's).
    pub geometry: Geometry,
    /// Tone mapping and colour conversion to SDR BT.709, limited range
    /// (a re-encode's; a remux keeps the source's colours).
    pub colour: ColourPath,
    /// Output frame rate (constant), whole frames per second.
    pub fps: u32,
    /// Output length in frames: at least `min_frames`, at most `max_frames`.
    pub min_frames: u64,
    /// See `min_frames`.
    pub max_frames: u64,
    /// How a source with fewer than `min_frames` frames is lengthened.
    pub extend: ExtendMode,
    /// What happens to the sound.
    pub audio: AudioPlan,
    /// How the re-encode (or a remux's fallback re-encode) spends bits.
    pub rate: RateControl,
    /// The provider's byte limit: the output is never larger.
    pub max_bytes: Option<u64>,
    /// Threads for the decoder and x264 (0: FFmpeg decides).
    pub threads: usize,
    /// What decoding may cost (the caller's, not the plan's decision).
    #[serde(skip)]
    pub limits: DecodeLimits,
}

impl Target {
    /// The longest window a re-encode keeps, microseconds of source time:
    /// `max_frames` at `fps`, one frame short of the maximum (see the module
    /// docs). A remux that falls back to a re-encode keeps no more than this.
    pub fn reencode_max_us(&self) -> u64 {
        frames_us(self.max_frames, self.fps)
    }
}

/// The length of `frames` frames at `fps`, microseconds (rounded down).
pub(crate) fn frames_us(frames: u64, fps: u32) -> u64 {
    frames * crate::spec::SECOND_US / u64::from(fps.max(1))
}

/// One operation of a video plan, as listed to the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum VideoOp {
    /// Copy the streams' packets into a new MP4 with the `moov` atom first.
    Remux,
    /// Keep `duration_us` from `start_us` (source time).
    Trim {
        /// Start, microseconds of source time.
        start_us: u64,
        /// Length, microseconds of source time.
        duration_us: u64,
    },
    /// Cut at a keyframe (remux): the kept length ends within `min_us..=max_us`.
    TrimAtKeyframe {
        /// Shortest length kept, microseconds.
        min_us: u64,
        /// Longest length kept, microseconds.
        max_us: u64,
    },
    /// Keep the longest cut-free window of at most `max_us`.
    TrimAuto {
        /// Longest length kept, microseconds.
        max_us: u64,
    },
    /// Lengthen to `to_us`.
    Extend {
        /// How.
        mode: ExtendMode,
        /// The new length, microseconds.
        to_us: u64,
    },
    /// Turn the pixels clockwise.
    Rotate {
        /// Clockwise: 90, 180 or 270.
        degrees: u16,
    },
    /// Uniform scale.
    Scale {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Drop one row or column to reach even sides.
    Crop {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Bars to `width`×`height`, the picture at (`x`, `y`).
    Pad {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Column of the picture's left edge.
        x: u32,
        /// Row of the picture's top edge.
        y: u32,
        /// What fills the bars.
        fill: PadFill,
    },
    /// HDR (PQ or HLG) tone-mapped to SDR BT.709.
    ToneMap {
        /// The source's transfer.
        from: crate::facts::HdrTransfer,
    },
    /// Constant frame rate.
    FrameRate {
        /// Frames per second.
        fps: u32,
    },
    /// Decode and encode as H.264 8-bit yuv420p in MP4.
    Transcode {
        /// Codec name, as FFmpeg gives it.
        codec: &'static str,
        /// Pixel format name.
        pixel_format: &'static str,
        /// x264 preset.
        preset: &'static str,
    },
    /// Bitrate from the byte budget; retried lower if an encode overshoots.
    Budget {
        /// The byte limit.
        max_bytes: u64,
        /// Video bits per second.
        video_bitrate: u64,
    },
    /// The sound is left out.
    DropAudio,
    /// Sound encoded again as AAC.
    EncodeAudio {
        /// Bits per second.
        bitrate: u64,
    },
    /// Only the first video stream is kept.
    FirstVideoStream,
}

/// A video repair: the listed steps and the numbers the executor follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoPlan {
    /// The operations, in the order they are listed to the user.
    pub steps: Vec<Step<VideoOp>>,
    /// `None` for a copy.
    pub target: Option<Target>,
}

impl VideoPlan {
    /// Nothing to change: the output is a byte-for-byte copy.
    pub fn is_copy(&self) -> bool {
        self.target.is_none()
    }

    /// `Some("mp4")` unless the file is copied.
    pub fn output_extension(&self) -> Option<&'static str> {
        self.target.as_ref().map(|_| "mp4")
    }

    /// The operations, in order.
    pub fn steps(&self) -> &[Step<VideoOp>] {
        &self.steps
    }

    /// The level of work.
    pub fn mode(&self) -> Mode {
        self.target.as_ref().map_or(Mode::Copy, |t| t.mode)
    }
}

fn step(op: VideoOp, rule: Rule, reason: impl Into<String>) -> Step<VideoOp> {
    Step {
        op,
        rule,
        also: Vec::new(),
        reason: reason.into(),
    }
}

fn secs(us: u64) -> String {
    let s = format!("{:.3}", us as f64 / 1e6);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What every step is decided from.
struct Context<'a> {
    facts: &'a VideoFacts,
    spec: &'a Spec,
    options: &'a FixOptions,
    report: &'a Report,
    wrong: &'a wrong::Wrong,
    timing: &'a window::Timing,
    geometry: &'a Geometry,
}

/// The least work that makes the video compliant under `spec`.
pub fn plan_video(facts: &VideoFacts, spec: &Spec, options: &FixOptions) -> VideoPlan {
    let report = check_video(facts, spec);
    let geometry = square_pixels(
        plan_geometry(
            facts.width,
            facts.height,
            facts.rotation % 360,
            spec.video.min_side,
            spec.video.max_side,
            options.pad,
        ),
        facts.anamorphic(),
    );
    let colour = colour_path(facts);
    let wrong = wrong::Wrong::read(facts, spec, options, &report, &geometry);
    let mode = wrong.mode();
    if mode == Mode::Copy {
        return VideoPlan {
            steps: Vec::new(),
            target: None,
        };
    }
    let timing = window::Timing::plan(facts, spec, options, &wrong);
    let cx = Context {
        facts,
        spec,
        options,
        report: &report,
        wrong: &wrong,
        timing: &timing,
        geometry: &geometry,
    };
    let mut steps = Vec::new();
    let (window, keyframe_cut) = if mode == Mode::Remux {
        remux::steps(&cx, &mut steps)
    } else {
        reencode::steps(&cx, &mut steps);
        (timing.window, None)
    };
    let rate = output::rate_control(&cx, mode, &mut steps);
    let audio = output::audio_choice(&cx, mode, &mut steps);
    VideoPlan {
        steps,
        target: Some(Target {
            mode,
            window,
            keyframe_cut,
            geometry,
            colour: if mode == Mode::Reencode {
                colour
            } else {
                ColourPath::default()
            },
            fps: timing.fps,
            min_frames: timing.min_frames,
            max_frames: timing.max_frames,
            extend: options.extend,
            audio,
            rate,
            max_bytes: spec.video.max_bytes,
            threads: options.video_threads,
            limits: options.limits,
        }),
    }
}
