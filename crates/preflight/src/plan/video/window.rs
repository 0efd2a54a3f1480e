//! Time: the output frame rate, the length in frames, and which part of the
//! source is kept (a fixed window, or the longest cut-free one found at run
//! time).

use super::wrong::Wrong;
use super::{frames_us, Window};
use crate::facts::VideoFacts;
use crate::plan::FixOptions;
use crate::spec::{Spec, SECOND_US};

/// The output's frame rate and length, and the window a re-encode keeps.
pub(super) struct Timing {
    pub fps: u32,
    pub min_frames: u64,
    pub max_frames: u64,
    /// One frame at `fps`.
    pub frame_us: u64,
    pub window: Window,
    /// The output's planned length (the byte budget is spread over it).
    pub out_duration_us: u64,
}

impl Timing {
    pub fn plan(facts: &VideoFacts, spec: &Spec, options: &FixOptions, wrong: &Wrong) -> Timing {
        let rules = &spec.video;
        let fps = output_fps(facts.frame_rate, options.max_fps);
        let (min_frames, max_frames) =
            frame_bounds(rules.min_duration_us, rules.max_duration_us, fps);
        let frame_us = SECOND_US / u64::from(fps);
        // The kept window, in source time: whole frames, one short of the
        // maximum (a remux's window is widened to the maximum in `remux`).
        let keep_us = frames_us(max_frames, fps);
        let window = if !wrong.too_long {
            Window::Whole
        } else if wrong.auto_segment {
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
        Timing {
            fps,
            min_frames,
            max_frames,
            frame_us,
            window,
            out_duration_us,
        }
    }
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

/// The kept window for `--segment auto`, from what a low-resolution decode found:
/// `cuts` are the times of hard cuts, `content_start_us` the end of leading black
/// or frozen frames. Returns `(start_us, duration_us)`: the longest cut-free
/// stretch, at most `max_us` long (the earliest among equals). When no stretch
/// reaches `min_us`, the longest stretch is still chosen (the executor lengthens
/// it); when none is positive, the window starts at 0.
pub(crate) fn choose_window(
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
