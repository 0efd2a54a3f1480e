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

use serde::Serialize;

use super::picture::{colour_path, square_pixels, ColourPath};
use super::{DecodeLimits, ExtendMode, FixOptions, PadFill, SegmentMode, Step};
use crate::check::check_video;
use crate::facts::VideoFacts;
use crate::spec::{Spec, SECOND_US};

/// x264 preset used for every re-encode (and by the benchmark's ffmpeg command).
/// `veryfast` is 3–4× quicker than `medium` at a few percent more bytes for the
/// same quality; the provider decodes and re-encodes the clip anyway.
pub const X264_PRESET: &str = "veryfast";
/// Quality target when no byte limit is in sight: visually clean for motion.
pub const X264_CRF: u8 = 20;
/// AAC bitrate for re-encoded sound.
pub const AUDIO_BITRATE: u64 = 128_000;
/// AAC sample rate for re-encoded sound.
pub const AUDIO_RATE: u32 = 48_000;
/// Share of the byte limit the first encode aims at (container overhead, rate
/// control error).
pub const BUDGET_SHARE: f64 = 0.9;
/// A re-encode whose quality target would need more than this many bits per pixel
/// per frame is steered by the byte budget instead of the quality target.
const BUDGET_BITS_PER_PIXEL: f64 = 0.25;

/// Audio codecs an MP4 can carry that every provider's pipeline reads.
const MP4_AUDIO: &[&str] = &["aac", "mp3"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Copy,
    Remux,
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

/// Where a remux may cut a clip that must end by `hi_us`: at a keyframe no
/// earlier than two thirds of `hi_us` (and past the minimum `min_us` by a
/// frame). A copy is lossless and fast, but one that keeps much less than a
/// re-encode would costs users motion they pay for: a 45 s clip with
/// keyframes every 16 s would come out 15.8 s long where 30 s are allowed.
/// With no keyframe in the range the clip is re-encoded instead.
pub fn keyframe_cut_range(min_us: u64, frame_us: u64, hi_us: u64) -> (u64, u64) {
    ((min_us + frame_us).max(hi_us / 3 * 2), hi_us)
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
    /// Tone mapping and colour conversion to SDR BT.709, limited range.
    pub colour: ColourPath,
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
    /// HDR (PQ or HLG) to SDR BT.709.
    ToneMap {
        from: crate::facts::HdrTransfer,
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoPlan {
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

fn step(op: VideoOp, rule: &'static str, reason: impl Into<String>) -> Step<VideoOp> {
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

/// Output frame rate: the source's average rate rounded, capped by `max_fps`.
pub fn output_fps(source_fps: f64, max_fps: u32) -> u32 {
    let cap = max_fps.max(1);
    if !(source_fps.is_finite() && source_fps > 0.0) {
        return cap.min(30);
    }
    (source_fps.round() as u32).clamp(1, cap)
}

/// Frames at `fps` that make a length strictly inside `[min_us, max_us]` with
/// one frame of margin at each end (container durations round up to audio
/// frames and time-base ticks; the check compares microseconds exactly).
pub fn frame_bounds(min_us: u64, max_us: u64, fps: u32) -> (u64, u64) {
    let fps = u64::from(fps.max(1));
    // ceil(min * fps) + 1 frames: at least one frame longer than the minimum.
    let lo = (min_us * fps).div_ceil(SECOND_US) + 1;
    // floor(max * fps) - 1 frames: at least one frame shorter than the maximum.
    let hi = ((max_us * fps) / SECOND_US).saturating_sub(1);
    (lo.max(1), hi.max(lo.max(1)))
}

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

/// The byte budget's video bitrate for `duration_us` of output.
pub fn budget_bitrate(max_bytes: u64, duration_us: u64, audio_bitrate: u64) -> u64 {
    let seconds = (duration_us.max(1) as f64 / 1e6).max(0.001);
    let total = max_bytes as f64 * BUDGET_SHARE * 8.0 / seconds;
    let video = total - audio_bitrate as f64;
    // A floor that still gives recognisable motion; the size check after the
    // encode remains the guarantee.
    video.max(50_000.0) as u64
}

pub fn plan_video(facts: &VideoFacts, spec: &Spec, options: &FixOptions) -> VideoPlan {
    let rules = &spec.video;
    let report = check_video(facts, spec);
    let violated = |rule: &str| report.has(rule);
    let warned = |rule: &str| report.warnings.iter().any(|w| w.rule == rule);

    // ---------------------------------------------------------------- what is wrong
    let container_bad = violated("video.container");
    let moov_bad = warned("video.moov.first");
    let extra_streams = facts.video_streams > 1;
    let too_long = facts.duration_us > rules.max_duration_us;
    let too_short = facts.duration_us < rules.min_duration_us;
    let too_big = violated("video.bytes.max");
    let drop_audio = !options.keep_sound && facts.audio_codec.is_some();

    let codec_bad = facts.codec != "h264";
    let pixfmt_bad = warned("video.pixel_format.yuv420p");
    let vfr = facts.variable_frame_rate;
    let rotated = !facts.rotation.is_multiple_of(360);
    let anamorphic = facts.anamorphic();
    let geometry = square_pixels(
        plan_geometry(
            facts.width,
            facts.height,
            facts.rotation % 360,
            rules.min_side,
            rules.max_side,
            options.pad,
        ),
        anamorphic,
    );
    let colour = colour_path(facts);
    let geometry_change = geometry.scale.is_some()
        || geometry.crop.is_some()
        || geometry.pad.is_some()
        || warned("video.size.even");
    let audio_copyable = facts
        .audio_codec
        .as_deref()
        .is_none_or(|c| MP4_AUDIO.contains(&c));
    let auto_segment =
        too_long && options.start_us.is_none() && options.segment == SegmentMode::Auto;

    let stream_ok = !codec_bad
        && !pixfmt_bad
        && !vfr
        && !rotated
        && !geometry_change
        && colour.tone_map.is_none();
    let needs_reencode =
        !stream_ok || too_short || too_big || (too_long && options.start_us.is_some_and(|s| s > 0));
    // Sound MP4 cannot carry is encoded alone; the video is still copied.
    let encode_audio = options.keep_sound && !audio_copyable;
    let needs_remux =
        container_bad || moov_bad || extra_streams || too_long || drop_audio || encode_audio;
    if !needs_reencode && !needs_remux {
        return VideoPlan {
            steps: Vec::new(),
            target: None,
        };
    }

    let fps = output_fps(facts.frame_rate, options.max_fps);
    let (min_frames, max_frames) = frame_bounds(rules.min_duration_us, rules.max_duration_us, fps);
    let frame_us = SECOND_US / u64::from(fps);
    // The kept window, in source time.
    let keep_us = (max_frames * SECOND_US) / u64::from(fps);
    let window = if !too_long {
        Window::Whole
    } else if auto_segment {
        Window::Auto { max_us: keep_us }
    } else {
        let latest = facts.duration_us.saturating_sub(keep_us);
        Window::Fixed {
            start_us: options.start_us.unwrap_or(0).min(latest),
            duration_us: keep_us,
        }
    };
    let out_duration_us = match window {
        Window::Whole => facts
            .duration_us
            .clamp(min_frames * frame_us, max_frames * frame_us),
        Window::Fixed { duration_us, .. } => duration_us,
        Window::Auto { max_us } => max_us,
    };

    let mut steps = Vec::new();
    let audio_present = facts.audio_codec.is_some();

    if !needs_reencode {
        // ------------------------------------------------------------ remux
        let reason = if container_bad {
            format!(
                "{} → MP4, streams copied without re-encoding",
                facts.container.name()
            )
        } else if moov_bad {
            "rewrite the MP4 with the moov atom first, streams copied".to_string()
        } else {
            "new MP4, streams copied without re-encoding".to_string()
        };
        let rule = if container_bad {
            "video.container"
        } else if moov_bad {
            "video.moov.first"
        } else if too_long {
            "video.duration.max"
        } else if extra_streams {
            "video.streams.single"
        } else if encode_audio {
            "video.container"
        } else {
            "option.keep_sound"
        };
        steps.push(step(VideoOp::Remux, rule, reason));
        if extra_streams {
            steps.push(step(
                VideoOp::FirstVideoStream,
                "video.streams.single",
                format!("keep the first of {} video streams", facts.video_streams),
            ));
        }
        let mut keyframe_cut = None;
        let mut window = Window::Whole;
        if too_long {
            let start_us = options.start_us.unwrap_or(0);
            let latest = facts.duration_us.saturating_sub(rules.min_duration_us);
            let start_us = start_us.min(latest);
            // A copy keeps the source's frames and exact timestamps: no
            // rounding to leave room for, the cut may end at the maximum.
            let (lo, hi) =
                keyframe_cut_range(rules.min_duration_us, frame_us, rules.max_duration_us);
            keyframe_cut = Some((lo, hi));
            if auto_segment {
                window = Window::Auto { max_us: hi };
                steps.push(step(
                    VideoOp::TrimAuto { max_us: hi },
                    "video.duration.max",
                    format!(
                        "{} s is over the {} s maximum: keep the longest cut-free stretch of at most {} s; copied (frame-exact end) when it starts the file, re-encoded otherwise",
                        secs(facts.duration_us),
                        secs(rules.max_duration_us),
                        secs(hi)
                    ),
                ));
            } else {
                window = Window::Fixed {
                    start_us,
                    duration_us: hi,
                };
                steps.push(step(
                    VideoOp::TrimAtKeyframe { min_us: lo, max_us: hi },
                    "video.duration.max",
                    format!(
                        "{} s is over the {} s maximum: copy from the first keyframe up to the last frame that ends by {} s, at least {} s (re-encoded otherwise)",
                        secs(facts.duration_us),
                        secs(rules.max_duration_us),
                        secs(hi),
                        secs(lo),
                    ),
                ));
            }
        }
        let audio = if !audio_present {
            AudioPlan::None
        } else if drop_audio {
            steps.push(step(
                VideoOp::DropAudio,
                "option.keep_sound",
                "sound left out (--keep-sound no)",
            ));
            AudioPlan::Drop
        } else if encode_audio {
            steps.push(step(
                VideoOp::EncodeAudio {
                    bitrate: AUDIO_BITRATE,
                },
                "video.container",
                format!(
                    "sound {} → AAC (the video is copied)",
                    facts.audio_codec.as_deref().unwrap_or("unknown")
                ),
            ));
            AudioPlan::Aac {
                bitrate: AUDIO_BITRATE,
                sample_rate: AUDIO_RATE,
            }
        } else {
            AudioPlan::Copy
        };
        let rate = match rules.max_bytes {
            Some(max_bytes) => RateControl::Budget {
                crf: X264_CRF,
                video_bitrate: budget_bitrate(max_bytes, out_duration_us, AUDIO_BITRATE),
                max_bytes,
            },
            None => RateControl::Quality { crf: X264_CRF },
        };
        return VideoPlan {
            steps,
            target: Some(Target {
                mode: Mode::Remux,
                window,
                keyframe_cut,
                geometry,
                colour: ColourPath::default(),
                fps,
                min_frames,
                max_frames,
                extend: options.extend,
                audio,
                rate,
                max_bytes: rules.max_bytes,
                threads: options.video_threads,
                limits: options.limits,
            }),
        };
    }

    // ---------------------------------------------------------------- re-encode
    let (rule, why) = if codec_bad {
        ("video.codec.h264", format!("codec {}", facts.codec))
    } else if pixfmt_bad {
        (
            "video.pixel_format.yuv420p",
            format!(
                "pixel format {}",
                facts.pixel_format.as_deref().unwrap_or("unknown")
            ),
        )
    } else if vfr {
        ("video.frame_rate.constant", "variable frame rate".into())
    } else if rotated {
        (
            "video.rotation.none",
            format!("rotation flag {}°", facts.rotation),
        )
    } else if anamorphic {
        (
            "video.pixel_aspect.square",
            format!(
                "pixel aspect {}:{}",
                facts.sample_aspect.0, facts.sample_aspect.1
            ),
        )
    } else if let Some(hdr) = colour.tone_map {
        ("video.hdr", format!("{} HDR", hdr.name()))
    } else if geometry_change {
        let rule = [
            "video.width.max",
            "video.height.max",
            "video.width.min",
            "video.height.min",
        ]
        .into_iter()
        .find(|r| violated(r))
        .unwrap_or("video.size.even");
        (
            rule,
            format!("{}x{} does not fit", facts.width, facts.height),
        )
    } else if too_big {
        ("video.bytes.max", format!("{} bytes", facts.bytes))
    } else if too_short {
        ("video.duration.min", "the clip is lengthened".into())
    } else if too_long {
        (
            "video.duration.max",
            "the kept window does not start at a keyframe".into(),
        )
    } else {
        (
            "video.container",
            "the sound cannot be copied into MP4".into(),
        )
    };
    steps.push(step(
        VideoOp::Transcode {
            codec: "h264",
            pixel_format: "yuv420p",
            preset: X264_PRESET,
        },
        rule,
        format!("{why}: re-encode as H.264 8-bit yuv420p in MP4 (moov first)"),
    ));
    match window {
        Window::Fixed {
            start_us,
            duration_us,
        } => steps.push(step(
            VideoOp::Trim {
                start_us,
                duration_us,
            },
            "video.duration.max",
            format!(
                "{} s is over the {} s maximum: keep {} s from {} s",
                secs(facts.duration_us),
                secs(rules.max_duration_us),
                secs(duration_us),
                secs(start_us)
            ),
        )),
        Window::Auto { max_us } => steps.push(step(
            VideoOp::TrimAuto { max_us },
            "video.duration.max",
            format!(
                "{} s is over the {} s maximum: keep the longest cut-free stretch of at most {} s (skipping leading black or frozen frames)",
                secs(facts.duration_us),
                secs(rules.max_duration_us),
                secs(max_us)
            ),
        )),
        Window::Whole => {}
    }
    if too_short {
        let to_us = min_frames * SECOND_US / u64::from(fps);
        steps.push(step(
            VideoOp::Extend {
                mode: options.extend,
                to_us,
            },
            "video.duration.min",
            format!(
                "{} s is under the {} s minimum: lengthen to {} s ({})",
                secs(facts.duration_us),
                secs(rules.min_duration_us),
                secs(to_us),
                match options.extend {
                    ExtendMode::Pingpong => "forward then backward",
                    ExtendMode::Loop => "played again from the start",
                    ExtendMode::Freeze => "last frame held",
                }
            ),
        ));
    }
    if rotated {
        steps.push(step(
            VideoOp::Rotate {
                degrees: geometry.rotate,
            },
            "video.rotation.none",
            format!(
                "turn the pixels {}° clockwise and drop the rotation flag",
                geometry.rotate
            ),
        ));
    }
    if let Some((width, height)) = geometry.scale {
        let (w, h) = geometry.source;
        let rule = if rules.max_side.is_some_and(|m| w > m || h > m) {
            if w >= h {
                "video.width.max"
            } else {
                "video.height.max"
            }
        } else if w < rules.min_side || h < rules.min_side {
            if w <= h {
                "video.width.min"
            } else {
                "video.height.min"
            }
        } else if anamorphic {
            "video.pixel_aspect.square"
        } else {
            "video.size.even"
        };
        steps.push(step(
            VideoOp::Scale { width, height },
            rule,
            format!("scale {w}x{h} to {width}x{height} (aspect ratio kept)"),
        ));
    }
    if let Some((width, height)) = geometry.crop {
        steps.push(step(
            VideoOp::Crop { width, height },
            "video.size.even",
            format!(
                "{}x{} → {width}x{height}: H.264 yuv420p needs even sides",
                geometry.source.0, geometry.source.1
            ),
        ));
    }
    if let Some(pad) = geometry.pad {
        let rule = if pad.width
            > geometry
                .scale
                .or(geometry.crop)
                .map_or(geometry.source.0, |s| s.0)
        {
            "video.width.min"
        } else {
            "video.height.min"
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
    if let Some(from) = colour.tone_map {
        steps.push(step(
            VideoOp::ToneMap { from },
            "video.hdr",
            format!(
                "{} HDR tone-mapped to SDR BT.709 (zscale, tonemap=hable)",
                from.name()
            ),
        ));
    }
    let rate_change = (facts.frame_rate - f64::from(fps)).abs() > 0.01;
    if vfr || rate_change {
        steps.push(step(
            VideoOp::FrameRate { fps },
            if vfr {
                "video.frame_rate.constant"
            } else {
                "option.max_fps"
            },
            format!(
                "constant {fps} fps (source {:.3} fps{})",
                facts.frame_rate,
                if vfr { ", variable" } else { "" }
            ),
        ));
    }
    let audio_bitrate = if options.keep_sound && audio_present {
        AUDIO_BITRATE
    } else {
        0
    };
    let rate = match rules.max_bytes {
        Some(max_bytes) => {
            let video_bitrate = budget_bitrate(max_bytes, out_duration_us, audio_bitrate);
            let pixels_per_second =
                f64::from(geometry.width) * f64::from(geometry.height) * f64::from(fps);
            let in_sight =
                too_big || (video_bitrate as f64) < pixels_per_second * BUDGET_BITS_PER_PIXEL;
            if in_sight {
                steps.push(step(
                    VideoOp::Budget {
                        max_bytes,
                        video_bitrate,
                    },
                    "video.bytes.max",
                    format!(
                        "at most {} kbit/s of video so that {} s stay under {max_bytes} bytes (lower again if a pass overshoots)",
                        video_bitrate / 1000,
                        secs(out_duration_us)
                    ),
                ));
                RateControl::Budget {
                    crf: X264_CRF,
                    video_bitrate,
                    max_bytes,
                }
            } else {
                RateControl::Quality { crf: X264_CRF }
            }
        }
        None => RateControl::Quality { crf: X264_CRF },
    };
    let audio = if !audio_present {
        AudioPlan::None
    } else if !options.keep_sound {
        steps.push(step(
            VideoOp::DropAudio,
            "option.keep_sound",
            "sound left out (--keep-sound no)",
        ));
        AudioPlan::Drop
    } else {
        if facts.audio_codec.as_deref() != Some("aac") {
            steps.push(step(
                VideoOp::EncodeAudio {
                    bitrate: AUDIO_BITRATE,
                },
                "video.container",
                format!(
                    "sound {} → AAC",
                    facts.audio_codec.as_deref().unwrap_or("unknown")
                ),
            ));
        }
        AudioPlan::Aac {
            bitrate: AUDIO_BITRATE,
            sample_rate: AUDIO_RATE,
        }
    };
    VideoPlan {
        steps,
        target: Some(Target {
            mode: Mode::Reencode,
            window,
            keyframe_cut: None,
            geometry,
            colour,
            fps,
            min_frames,
            max_frames,
            extend: options.extend,
            audio,
            rate,
            max_bytes: rules.max_bytes,
            threads: options.video_threads,
            limits: options.limits,
        }),
    }
}

/// The kept window for `--segment auto`, from what a low-resolution decode found:
/// `cuts` are the times of hard cuts, `content_start_us` the end of leading black
/// or frozen frames. Returns `(start_us, duration_us)`: the longest cut-free
/// stretch, at most `max_us` long (the earliest among equals). When no stretch
/// reaches `min_us`, the longest stretch is still chosen (the executor lengthens
/// it); when none is positive, the window starts at 0.
pub fn choose_window(
    duration_us: u64,
    cuts: &[u64],
    content_start_us: u64,
    max_us: u64,
) -> (u64, u64) {
    let content_start = content_start_us.min(duration_us);
    let mut bounds: Vec<u64> = cuts
        .iter()
        .copied()
        .filter(|&c| c > content_start && c < duration_us)
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut best = (0u64, 0u64);
    let mut from = content_start;
    for end in bounds.into_iter().chain(std::iter::once(duration_us)) {
        let len = end.saturating_sub(from).min(max_us);
        if len > best.1 {
            best = (from, len);
        }
        from = end;
    }
    if best.1 == 0 && content_start > 0 {
        // Nothing after the leading black or frozen part: ignore it.
        choose_window(duration_us, cuts, 0, max_us)
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_video;
    use crate::facts::Container;
    use crate::spec::{Model, Orientation, Provider};
    use proptest::prelude::*;

    fn facts(w: u32, h: u32) -> VideoFacts {
        VideoFacts {
            container: Container::Mp4,
            codec: "h264".into(),
            profile: Some("High".into()),
            pixel_format: Some("yuv420p".into()),
            bit_depth: Some(8),
            coded_width: w,
            coded_height: h,
            width: w,
            height: h,
            sample_aspect: (1, 1),
            colour: Default::default(),
            start_us: 0,
            rotation: 0,
            duration_us: 5 * SECOND_US,
            frame_rate: 24.0,
            variable_frame_rate: false,
            bytes: 500_000,
            audio_codec: Some("aac".into()),
            video_streams: 1,
            moov_first: Some(true),
        }
    }

    fn kling(orientation: Orientation) -> Spec {
        Spec::lookup(Provider::Kling, Model::KlingV3, orientation).unwrap()
    }

    #[test]
    fn compliant_video_is_copied() {
        let plan = plan_video(
            &facts(720, 1280),
            &kling(Orientation::Video),
            &FixOptions::default(),
        );
        assert!(plan.is_copy());
        assert_eq!(plan.output_extension(), None);
    }

    #[test]
    fn matroska_h264_is_remuxed() {
        let mut f = facts(640, 360);
        f.container = Container::Matroska;
        f.moov_first = None;
        let plan = plan_video(&f, &kling(Orientation::Video), &FixOptions::default());
        assert_eq!(plan.mode(), Mode::Remux);
        assert_eq!(plan.steps()[0].rule, "video.container");
        assert_eq!(plan.output_extension(), Some("mp4"));
    }

    #[test]
    fn moov_at_end_is_remuxed() {
        let mut f = facts(640, 360);
        f.moov_first = Some(false);
        let plan = plan_video(&f, &kling(Orientation::Video), &FixOptions::default());
        assert_eq!(plan.mode(), Mode::Remux);
        assert_eq!(plan.steps()[0].rule, "video.moov.first");
    }

    #[test]
    fn long_h264_is_remux_trimmed_with_segment_start() {
        let mut f = facts(360, 640);
        f.duration_us = 45 * SECOND_US;
        let options = FixOptions {
            segment: SegmentMode::Start,
            ..FixOptions::default()
        };
        let plan = plan_video(&f, &kling(Orientation::Video), &options);
        let t = plan.target.as_ref().unwrap();
        assert_eq!(t.mode, Mode::Remux);
        let (lo, hi) = t.keyframe_cut.unwrap();
        assert!(lo > 3 * SECOND_US && hi <= 30 * SECOND_US);
        // A copy must keep at least two thirds of what a re-encode keeps.
        assert!(lo >= hi / 3 * 2 && lo < hi, "{lo}..{hi}");
        // With auto segmentation the window is chosen by decoding.
        let auto = FixOptions {
            segment: SegmentMode::Auto,
            ..FixOptions::default()
        };
        let plan = plan_video(&f, &kling(Orientation::Video), &auto);
        assert_eq!(plan.mode(), Mode::Remux);
        assert!(matches!(plan.target.unwrap().window, Window::Auto { .. }));
    }

    #[test]
    fn rotated_hevc_is_reencoded_upright() {
        let mut f = facts(360, 640);
        f.codec = "hevc".into();
        f.coded_width = 640;
        f.coded_height = 360;
        f.rotation = 90;
        let plan = plan_video(&f, &kling(Orientation::Video), &FixOptions::default());
        let t = plan.target.unwrap();
        assert_eq!(t.mode, Mode::Reencode);
        assert_eq!(t.geometry.rotate, 90);
        assert_eq!((t.geometry.width, t.geometry.height), (360, 640));
        assert!(plan.steps.iter().any(|s| s.rule == "video.rotation.none"));
    }

    #[test]
    fn wide_panorama_is_scaled_then_padded() {
        // 8000x500: the long side must come down to 3850, leaving 240 < 340.
        let g = plan_geometry(8000, 500, 0, 340, Some(3850), PadFill::Border);
        assert_eq!(g.width, 3850);
        assert_eq!(g.height, 340);
        assert_eq!(g.scale, Some((3850, 242)));
        let pad = g.pad.unwrap();
        assert_eq!((pad.x, pad.y), (0, 48));
    }

    #[test]
    fn odd_sizes_lose_one_row() {
        let g = plan_geometry(641, 361, 0, 340, Some(3850), PadFill::Border);
        assert_eq!(g.crop, Some((640, 360)));
        assert_eq!(g.scale, None);
    }

    #[test]
    fn tiny_is_scaled_up() {
        let g = plan_geometry(320, 240, 0, 340, Some(3850), PadFill::Border);
        assert_eq!((g.width, g.height), (454, 340));
        assert!(g.pad.is_none());
    }

    #[test]
    fn segment_choice_avoids_cuts() {
        // Shots 0-3, 3-5, 5-9 s: the longest is the last, 4 s.
        let w = choose_window(
            9 * SECOND_US,
            &[3 * SECOND_US, 5 * SECOND_US],
            0,
            10 * SECOND_US,
        );
        assert_eq!(w, (5 * SECOND_US, 4 * SECOND_US));
        // Capped by the maximum.
        let w = choose_window(9 * SECOND_US, &[3 * SECOND_US], 0, 4 * SECOND_US);
        assert_eq!(w, (3 * SECOND_US, 4 * SECOND_US));
        // Leading black skipped.
        let w = choose_window(20 * SECOND_US, &[], 2 * SECOND_US, 10 * SECOND_US);
        assert_eq!(w, (2 * SECOND_US, 10 * SECOND_US));
    }

    #[test]
    fn budget_leaves_room_for_audio() {
        let b = budget_bitrate(10_000_000, 10 * SECOND_US, AUDIO_BITRATE);
        assert_eq!(b, 7_200_000 - AUDIO_BITRATE);
    }

    fn codecs() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just("h264"), Just("hevc"), Just("vp9"), Just("prores")]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        /// For any input and every spec, the planned output satisfies the spec:
        /// even sides within the limits, a length within the limits, a uniform
        /// scale; and a plan that copies is only made for compliant files.
        #[test]
        fn planned_output_satisfies_every_spec(
            w in 1u32..9000, h in 1u32..9000,
            rot in prop_oneof![Just(0u16), Just(90), Just(180), Just(270)],
            duration_us in 1u64..120_000_000,
            fps in 1.0f64..240.0,
            bytes in 1u64..500_000_000,
            codec in codecs(),
            vfr in any::<bool>(),
            keep_sound in any::<bool>(),
            auto in any::<bool>(),
            start in proptest::option::of(0u64..100_000_000),
            max_fps in 1u32..120,
        ) {
            let (cw, ch) = if rot % 180 == 90 { (h, w) } else { (w, h) };
            let f = VideoFacts {
                codec: codec.into(),
                coded_width: cw,
                coded_height: ch,
                width: w,
                height: h,
                rotation: rot,
                duration_us,
                frame_rate: fps,
                variable_frame_rate: vfr,
                bytes,
                ..facts(w, h)
            };
            let options = FixOptions {
                keep_sound,
                start_us: start,
                segment: if auto { SegmentMode::Auto } else { SegmentMode::Start },
                max_fps,
                ..FixOptions::default()
            };
            for spec in Spec::all() {
                let plan = plan_video(&f, &spec, &options);
                let rules = &spec.video;
                let Some(t) = plan.target.as_ref() else {
                    prop_assert!(check_video(&f, &spec).ok());
                    continue;
                };
                prop_assert!(!plan.steps.is_empty());
                let g = &t.geometry;
                if t.mode == Mode::Remux {
                    // Streams untouched: the source already fits.
                    prop_assert!(codec == "h264" && !vfr && rot == 0);
                    prop_assert_eq!((g.width, g.height), (w, h));
                    prop_assert!(w % 2 == 0 && h % 2 == 0);
                    let (lo, hi) = t.keyframe_cut.unwrap_or((rules.min_duration_us, rules.max_duration_us));
                    prop_assert!(lo >= rules.min_duration_us && hi <= rules.max_duration_us);
                }
                prop_assert!(g.width % 2 == 0 && g.height % 2 == 0, "{:?}", g);
                prop_assert!(g.width >= rules.min_side && g.height >= rules.min_side, "{:?}", g);
                if let Some(m) = rules.max_side {
                    prop_assert!(g.width <= m && g.height <= m, "{:?}", g);
                }
                // Uniform scale: both sides scaled by the same factor, up to the
                // rounding of each side to an even number of pixels.
                if let Some((sw, sh)) = g.scale {
                    let (fx, fy) = (f64::from(sw) / f64::from(w), f64::from(sh) / f64::from(h));
                    let tol = 2.0 / f64::from(w) + 2.0 / f64::from(h) + 1e-9;
                    prop_assert!((fx - fy).abs() <= tol, "{:?}", g);
                    if let Some(p) = g.pad {
                        prop_assert!(p.x + sw <= p.width && p.y + sh <= p.height);
                        prop_assert!(p.x % 2 == 0 && p.y % 2 == 0);
                    }
                }
                if let Some((cw2, ch2)) = g.crop {
                    prop_assert!(w - cw2 <= 1 && h - ch2 <= 1);
                }
                // Length: every frame count the executor may produce is in range.
                let fps_out = u64::from(t.fps);
                prop_assert!(t.fps >= 1 && t.fps <= max_fps.max(1));
                for n in [t.min_frames, t.max_frames] {
                    let len = n * SECOND_US / fps_out;
                    let len_up = (n * SECOND_US).div_ceil(fps_out);
                    prop_assert!(len > rules.min_duration_us && len_up < rules.max_duration_us,
                        "{} frames at {} fps", n, fps_out);
                }
                match t.window {
                    Window::Fixed { start_us, duration_us } => {
                        prop_assert!(duration_us <= rules.max_duration_us);
                        prop_assert!(start_us <= f.duration_us);
                        if t.mode == Mode::Reencode {
                            prop_assert!(start_us + duration_us <= f.duration_us);
                        }
                    }
                    Window::Auto { max_us } => prop_assert!(max_us < rules.max_duration_us),
                    Window::Whole => prop_assert!(f.duration_us <= rules.max_duration_us),
                }
                if !keep_sound {
                    prop_assert!(matches!(t.audio, AudioPlan::Drop | AudioPlan::None));
                }
            }
        }

        #[test]
        fn chosen_window_is_cut_free_and_fits(
            duration in 1u64..100_000_000,
            cuts in proptest::collection::vec(0u64..100_000_000, 0..8),
            lead in 0u64..5_000_000,
            max in 1u64..40_000_000,
        ) {
            let (start, len) = choose_window(duration, &cuts, lead, max);
            prop_assert!(len <= max);
            prop_assert!(start + len <= duration);
            for &c in &cuts {
                prop_assert!(!(c > start && c < start + len), "cut {} inside {}+{}", c, start, len);
            }
        }
    }
}
