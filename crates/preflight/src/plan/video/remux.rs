//! The remux: streams that already fit are copied into a new MP4; a clip that
//! is too long is copied from its first keyframe up to the last frame that
//! ends within the maximum.

use super::wrong::Wrong;
use super::{secs, step, Context, VideoOp, Window};
use crate::facts::VideoFacts;
use crate::plan::Step;
use crate::rule::Rule;

/// Where a remux may cut a clip that must end by `hi_us`: at a keyframe no
/// earlier than two thirds of `hi_us` (and past the minimum `min_us` by a
/// frame). A copy is lossless and fast, but one that keeps much less than a
/// re-encode would costs users motion they pay for: a 45 s clip with
/// keyframes every 16 s would come out 15.8 s long where 30 s are allowed.
/// With no keyframe in the range the clip is re-encoded instead.
pub(crate) fn keyframe_cut_range(min_us: u64, frame_us: u64, hi_us: u64) -> (u64, u64) {
    ((min_us + frame_us).max(hi_us / 3 * 2), hi_us)
}

/// The remux's steps; returns the window kept and the keyframe cut range.
pub(super) fn steps(cx: &Context, steps: &mut Vec<Step<VideoOp>>) -> (Window, Option<(u64, u64)>) {
    let (facts, spec, wrong, timing) = (cx.facts, cx.spec, cx.wrong, cx.timing);
    steps.push(remux_step(facts, wrong));
    if wrong.extra_streams {
        steps.push(step(
            VideoOp::FirstVideoStream,
            Rule::VideoStreamsSingle,
            format!("keep the first of {} video streams", facts.video_streams),
        ));
    }
    if !wrong.too_long {
        return (Window::Whole, None);
    }
    // A copy keeps the source's frames and exact timestamps: no rounding to
    // leave room for, the cut may end at the maximum.
    let range = keyframe_cut_range(
        spec.video.min_duration_us,
        timing.frame_us,
        spec.video.max_duration_us,
    );
    let (window, trim) = cut(cx, range);
    steps.push(trim);
    (window, Some(range))
}

/// The copy itself, tied to the first thing it fixes.
fn remux_step(facts: &VideoFacts, wrong: &Wrong) -> Step<VideoOp> {
    let reason = if wrong.container_bad {
        format!(
            "{} → MP4, streams copied without re-encoding",
            facts.container.name()
        )
    } else if wrong.moov_bad {
        "rewrite the MP4 with the moov atom first, streams copied".to_string()
    } else {
        "new MP4, streams copied without re-encoding".to_string()
    };
    let rule = if wrong.container_bad {
        Rule::VideoContainer
    } else if wrong.moov_bad {
        Rule::VideoMoovFirst
    } else if wrong.too_long {
        Rule::VideoDurationMax
    } else if wrong.extra_streams {
        Rule::VideoStreamsSingle
    } else if wrong.encode_audio {
        Rule::VideoContainer
    } else {
        Rule::OptionKeepSound
    };
    step(VideoOp::Remux, rule, reason)
}

/// The window of a too-long clip and its trim step: the longest cut-free
/// stretch, or a cut at a keyframe.
fn cut(cx: &Context, (lo, hi): (u64, u64)) -> (Window, Step<VideoOp>) {
    let (facts, rules) = (cx.facts, &cx.spec.video);
    let latest = facts.duration_us.saturating_sub(rules.min_duration_us);
    let start_us = cx.options.start_us.unwrap_or(0).min(latest);
    if cx.wrong.auto_segment {
        let trim = step(
            VideoOp::TrimAuto { max_us: hi },
            Rule::VideoDurationMax,
            format!(
                "{} s is over the {} s maximum: keep the longest cut-free stretch of at most {} s; copied (frame-exact end) when it starts the file, re-encoded otherwise",
                secs(facts.duration_us),
                secs(rules.max_duration_us),
                secs(hi)
            ),
        );
        return (Window::Auto { max_us: hi }, trim);
    }
    let trim = step(
        VideoOp::TrimAtKeyframe { min_us: lo, max_us: hi },
        Rule::VideoDurationMax,
        format!(
            "{} s is over the {} s maximum: copy from the first keyframe up to the last frame that ends by {} s, at least {} s (re-encoded otherwise)",
            secs(facts.duration_us),
            secs(rules.max_duration_us),
            secs(hi),
            secs(lo),
        ),
    );
    let window = Window::Fixed {
        start_us,
        duration_us: hi,
    };
    (window, trim)
}
