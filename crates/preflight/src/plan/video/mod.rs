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
//! The steps, each in its own module: `wrong` reads the check report;
//! `window` decides the frame rate, the length in frames and the kept window;
//! `remux` and `reencode` list the operations of each level; `geometry` the
//! picture's path; `output` the rate control and the sound, shared by both.

mod geometry;
mod output;
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
    Aac { bitrate: u64, sample_rate: u32 },
}

/// How the re-encode spends bits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateControl {
    /// Constant quality; the byte limit, if any, is far away.
    Quality { crf: u8 },
    /// Constant quality capped by a bitrate derived from the byte budget
    /// (x264 `maxrate` and a one-second `bufsize`).
    Budget {
        crf: u8,
        video_bitrate: u64,
        max_bytes: u64,
    },
}

/// Bars around the picture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PadTo {
    pub width: u32,
    pub height: u32,
    /// Top-left corner of the picture inside the padded frame (even).
    pub x: u32,
    pub y: u32,
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
    pub pad: Option<PadTo>,
    /// Final size of the encoded frame.
    pub width: u32,
    pub height: u32,
}

/// Which part of the source is kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// All of it.
    Whole,
    /// From `start_us`, at most `duration_us` of source time.
    Fixed { start_us: u64, duration_us: u64 },
    /// The longest cut-free stretch of at most `max_us`, found at run time by
    /// decoding a low-resolution copy (hard cuts, leading black or frozen frames).
    Auto { max_us: u64 },
}

/// Everything a re-encode or remux needs, decided here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub mode: Mode,
    pub window: Window,
    /// Remux trim: the cut lands on a keyframe whose time leaves a length in
    /// `[min_us, max_us]`; when no keyframe does, the executor re-encodes.
    pub keyframe_cut: Option<(u64, u64)>,
    pub geometry: Geometry,
    /// Output frame rate (constant), whole frames per second.
    pub fps: u32,
    /// Output length in frames: at least `min_frames`, at most `max_frames`.
    pub min_frames: u64,
    pub max_frames: u64,
    /// How a source with fewer than `min_frames` frames is lengthened.
    pub extend: ExtendMode,
    pub audio: AudioPlan,
    pub rate: RateControl,
    /// The provider's byte limit: the output is never larger.
    pub max_bytes: Option<u64>,
    /// Threads for the decoder and x264 (0: FFmpeg decides).
    pub threads: usize,
    /// What decoding may cost (the caller's, not the plan's decision).
    #[serde(skip)]
    pub limits: DecodeLimits,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum VideoOp {
    /// Copy the streams' packets into a new MP4 with the `moov` atom first.
    Remux,
    /// Keep `duration_us` from `start_us` (source time).
    Trim {
        start_us: u64,
        duration_us: u64,
    },
    /// Cut at a keyframe (remux): the kept length ends within `min_us..=max_us`.
    TrimAtKeyframe {
        min_us: u64,
        max_us: u64,
    },
    /// Keep the longest cut-free window of at most `max_us`.
    TrimAuto {
        max_us: u64,
    },
    /// Lengthen to `to_us`.
    Extend {
        mode: ExtendMode,
        to_us: u64,
    },
    /// Turn the pixels clockwise.
    Rotate {
        degrees: u16,
    },
    /// Uniform scale.
    Scale {
        width: u32,
        height: u32,
    },
    /// Drop one row or column to reach even sides.
    Crop {
        width: u32,
        height: u32,
    },
    Pad {
        width: u32,
        height: u32,
        x: u32,
        y: u32,
        fill: PadFill,
    },
    /// Constant frame rate.
    FrameRate {
        fps: u32,
    },
    /// Decode and encode as H.264 8-bit yuv420p in MP4.
    Transcode {
        codec: &'static str,
        pixel_format: &'static str,
        preset: &'static str,
    },
    /// Bitrate from the byte budget; retried lower if an encode overshoots.
    Budget {
        max_bytes: u64,
        video_bitrate: u64,
    },
    DropAudio,
    /// Sound encoded again as AAC.
    EncodeAudio {
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
    pub fn is_copy(&self) -> bool {
        self.target.is_none()
    }

    pub fn output_extension(&self) -> Option<&'static str> {
        self.target.as_ref().map(|_| "mp4")
    }

    pub fn steps(&self) -> &[Step<VideoOp>] {
        &self.steps
    }

    pub fn mode(&self) -> Mode {
        self.target.as_ref().map_or(Mode::Copy, |t| t.mode)
    }
}

fn step(op: VideoOp, rule: Rule, reason: impl Into<String>) -> Step<VideoOp> {
    Step {
        op,
        rule,
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
    let geometry = plan_geometry(
        facts.width,
        facts.height,
        facts.rotation % 360,
        spec.video.min_side,
        spec.video.max_side,
        options.pad,
    );
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
