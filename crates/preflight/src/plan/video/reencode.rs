//! The re-encode: one decode → filter → encode pass, with the kept window, the
//! lengthening, the picture's geometry and a constant frame rate.

use super::{geometry, secs, step, Context, VideoOp, Window};
use crate::plan::{ExtendMode, Step};
use crate::rule::Rule;
use crate::spec::SECOND_US;

/// The re-encode's steps up to the frame rate (rate control and sound follow).
pub(super) fn steps(cx: &Context, steps: &mut Vec<Step<VideoOp>>) {
    let (rule, why) = transcode_reason(cx);
    steps.push(step(
        VideoOp::Transcode {
            codec: "h264",
            pixel_format: "yuv420p",
            preset: super::X264_PRESET,
        },
        rule,
        format!("{why}: re-encode as H.264 8-bit yuv420p in MP4 (moov first)"),
    ));
    if let Some(trim) = trim_step(cx) {
        steps.push(trim);
    }
    if cx.wrong.too_short {
        steps.push(extend_step(cx));
    }
    geometry::steps(cx.geometry, cx.wrong, &cx.spec.video, steps);
    if let Some(from) = cx.wrong.hdr {
        steps.push(step(
            VideoOp::ToneMap { from },
            Rule::VideoHdr,
            format!(
                "{} HDR tone-mapped to SDR BT.709 (zscale, tonemap=hable)",
                from.name()
            ),
        ));
    }
    if let Some(rate) = frame_rate_step(cx) {
        steps.push(rate);
    }
}

/// The first reason to re-encode, and the rule it serves.
fn transcode_reason(cx: &Context) -> (Rule, String) {
    let (facts, wrong) = (cx.facts, cx.wrong);
    if wrong.codec_bad {
        (Rule::VideoCodecH264, format!("codec {}", facts.codec))
    } else if wrong.pixfmt_bad {
        (
            Rule::VideoPixelFormatYuv420p,
            format!(
                "pixel format {}",
                facts.pixel_format.as_deref().unwrap_or("unknown")
            ),
        )
    } else if wrong.vfr {
        (Rule::VideoFrameRateConstant, "variable frame rate".into())
    } else if wrong.rotated {
        (
            Rule::VideoRotationNone,
            format!("rotation flag {}°", facts.rotation),
        )
    } else if wrong.anamorphic {
        let (n, d) = facts.sample_aspect;
        (
            Rule::VideoPixelAspectSquare,
            format!("pixel aspect {n}:{d}"),
        )
    } else if let Some(hdr) = wrong.hdr {
        (Rule::VideoHdr, format!("{} HDR", hdr.name()))
    } else if wrong.geometry_change {
        let rule = [
            Rule::VideoWidthMax,
            Rule::VideoHeightMax,
            Rule::VideoWidthMin,
            Rule::VideoHeightMin,
        ]
        .into_iter()
        .find(|&r| cx.report.has(r))
        .unwrap_or(Rule::VideoSizeEven);
        (
            rule,
            format!("{}x{} does not fit", facts.width, facts.height),
        )
    } else if wrong.too_big {
        (Rule::VideoBytesMax, format!("{} bytes", facts.bytes))
    } else if wrong.too_short {
        (Rule::VideoDurationMin, "the clip is lengthened".into())
    } else if wrong.too_long {
        (
            Rule::VideoDurationMax,
            "the kept window does not start at a keyframe".into(),
        )
    } else {
        (
            Rule::VideoContainer,
            "the sound cannot be copied into MP4".into(),
        )
    }
}

/// The trim of a too-long clip: a fixed window or the longest cut-free one.
fn trim_step(cx: &Context) -> Option<Step<VideoOp>> {
    let (duration, max) = (cx.facts.duration_us, cx.spec.video.max_duration_us);
    match cx.timing.window {
        Window::Fixed {
            start_us,
            duration_us,
        } => Some(step(
            VideoOp::Trim {
                start_us,
                duration_us,
            },
            Rule::VideoDurationMax,
            format!(
                "{} s is over the {} s maximum: keep {} s from {} s",
                secs(duration),
                secs(max),
                secs(duration_us),
                secs(start_us)
            ),
        )),
        Window::Auto { max_us } => Some(step(
            VideoOp::TrimAuto { max_us },
            Rule::VideoDurationMax,
            format!(
                "{} s is over the {} s maximum: keep the longest cut-free stretch of at most {} s (skipping leading black or frozen frames)",
                secs(duration),
                secs(max),
                secs(max_us)
            ),
        )),
        Window::Whole => None,
    }
}

/// The lengthening of a clip under the minimum.
fn extend_step(cx: &Context) -> Step<VideoOp> {
    let timing = cx.timing;
    let extend = cx.options.extend;
    let to_us = timing.min_frames * SECOND_US / u64::from(timing.fps);
    step(
        VideoOp::Extend {
            mode: extend,
            to_us,
        },
        Rule::VideoDurationMin,
        format!(
            "{} s is under the {} s minimum: lengthen to {} s ({})",
            secs(cx.facts.duration_us),
            secs(cx.spec.video.min_duration_us),
            secs(to_us),
            match extend {
                ExtendMode::Pingpong => "forward then backward",
                ExtendMode::Loop => "played again from the start",
                ExtendMode::Freeze => "last frame held",
            }
        ),
    )
}

/// A constant frame rate, when the source's is variable or over `--max-fps`.
fn frame_rate_step(cx: &Context) -> Option<Step<VideoOp>> {
    let (facts, fps, vfr) = (cx.facts, cx.timing.fps, cx.wrong.vfr);
    let rate_change = (facts.frame_rate - f64::from(fps)).abs() > 0.01;
    (vfr || rate_change).then(|| {
        step(
            VideoOp::FrameRate { fps },
            if vfr {
                Rule::VideoFrameRateConstant
            } else {
                Rule::OptionMaxFps
            },
            format!(
                "constant {fps} fps (source {:.3} fps{})",
                facts.frame_rate,
                if vfr { ", variable" } else { "" }
            ),
        )
    })
}
