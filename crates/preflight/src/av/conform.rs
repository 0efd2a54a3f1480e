//! Carries out a video plan: remux when the plan allows it (falling back to a
//! re-encode when no keyframe gives a length within the limits, or a cut's
//! last frames do not decode), otherwise one
//! re-encode pass; under a byte limit, passes that overshoot are repeated at a
//! lower bitrate, so an over-limit file is never returned.

use std::fs;
use std::path::Path;

use super::copy_check::check_tail_decodes;
use super::encode::{encode, Pass, PassEnd};
use super::remux::{remux, RemuxAudio, RemuxError};
use super::scenes::scan_for_window;
use crate::error::FixError;
use crate::facts::VideoFacts;
use crate::plan::video::{
    budget_bitrate, choose_window, keyframe_cut_range, AudioPlan, Mode, RateControl, Target,
    VideoPlan, Window, AUDIO_BITRATE, AUDIO_RATE,
};
use crate::plan::Action;
use crate::spec::{Spec, SECOND_US};

/// Encode attempts under a byte limit before giving up.
const BUDGET_ATTEMPTS: usize = 5;

pub fn conform(
    input: &Path,
    facts: &VideoFacts,
    plan: &VideoPlan,
    spec: &Spec,
    output: &Path,
) -> Result<Action, FixError> {
    super::init();
    let Some(target) = plan.target.as_ref() else {
        return Err(FixError::Video("nothing to do: the plan is a copy".into()));
    };
    let max_bytes = target.max_bytes.or(spec.video.max_bytes);
    if target.mode == Mode::Remux {
        let audio = match target.audio {
            AudioPlan::None | AudioPlan::Drop => RemuxAudio::None,
            AudioPlan::Copy => RemuxAudio::Copy,
            AudioPlan::Aac {
                bitrate,
                sample_rate,
            } => RemuxAudio::Aac {
                bitrate,
                sample_rate,
            },
        };
        let mut cut = target.keyframe_cut;
        let mut resolved = None;
        if let Window::Auto { max_us } = target.window {
            // Copy only when the best window starts the file: the cut then falls
            // on a keyframe inside it.
            let (start, len) = auto_window(input, facts, target, max_us)?;
            resolved = Some(Window::Fixed {
                start_us: start,
                duration_us: len,
            });
            cut = if start == 0 {
                let fps = u64::from(target.fps.max(1));
                let min_us = target.min_frames * SECOND_US / fps;
                cut.map(|(_, hi)| keyframe_cut_range(min_us, SECOND_US / fps, hi.min(len)))
            } else {
                None
            };
        }
        let copy_possible = resolved.is_none() || cut.is_some();
        if copy_possible {
            match remux(input, audio, cut, output) {
                Ok(()) => {
                    let size = fs::metadata(output)?.len();
                    // A cut copy is delivered only once its last GOP, the
                    // frames the cut can harm, is seen to decode.
                    let decodes =
                        cut.is_none() || check_tail_decodes(output, &target.limits).is_ok();
                    if decodes && max_bytes.is_none_or(|m| size <= m) {
                        return Ok(Action::Remuxed);
                    }
                }
                Err(RemuxError::NoKeyframe) => {}
                Err(RemuxError::Failed(e)) => return Err(e),
            }
            // No keyframe in range, a cut whose last frames do not decode, or
            // the copy is over the byte limit.
            let _ = fs::remove_file(output);
        }
        let mut fallback = target.clone();
        fallback.mode = Mode::Reencode;
        if let AudioPlan::Copy = fallback.audio {
            fallback.audio = AudioPlan::Aac {
                bitrate: AUDIO_BITRATE,
                sample_rate: AUDIO_RATE,
            };
        }
        let keep_us = fallback.reencode_max_us();
        if let Some(w) = resolved {
            fallback.window = w;
        }
        if let Window::Fixed {
            start_us,
            duration_us,
        } = fallback.window
        {
            fallback.window = Window::Fixed {
                start_us,
                duration_us: duration_us.min(keep_us),
            };
        }
        return reencode(input, facts, &fallback, max_bytes, output);
    }
    reencode(input, facts, target, max_bytes, output)
}

fn reencode(
    input: &Path,
    facts: &VideoFacts,
    target: &Target,
    max_bytes: Option<u64>,
    output: &Path,
) -> Result<Action, FixError> {
    // `--segment auto`: first guess that the window starts the file and scan
    // while encoding (one decode); a cut inside it or a still start sends the
    // pass back to a scan of its own.
    let (mut start_us, mut duration_us, mut guess_auto_us) = match target.window {
        Window::Whole => (0, None, None),
        Window::Fixed {
            start_us,
            duration_us,
        } => (start_us, Some(duration_us), None),
        Window::Auto { max_us } => (0, Some(max_us), Some(max_us)),
    };
    let fps = u64::from(target.fps.max(1));
    let min_us = target.min_frames * SECOND_US / fps;

    let mut rate = target.rate;
    let mut attempts = 0;
    while attempts < BUDGET_ATTEMPTS {
        let available = duration_us.unwrap_or(facts.duration_us);
        // Keep one second of slack: the probe's duration may include a longer
        // audio track.
        let may_extend = available < min_us + SECOND_US;
        let out_us = available.min(target.reencode_max_us()).max(min_us);
        let pass = Pass {
            target,
            start_us,
            duration_us,
            rate,
            may_extend,
            guess_auto_us,
        };
        if encode(input, &pass, output)? == PassEnd::WindowMoved {
            let _ = fs::remove_file(output);
            let max_us = guess_auto_us.take().unwrap_or_default();
            let (start, len) = auto_window(input, facts, target, max_us)?;
            (start_us, duration_us) = (start, Some(len));
            continue;
        }
        attempts += 1;
        guess_auto_us = None;
        let size = fs::metadata(output)?.len();
        match max_bytes {
            Some(max) if size > max => {
                rate = lower(rate, size, max, out_us, target);
                fs::remove_file(output)?;
            }
            _ => return Ok(Action::Reencoded),
        }
    }
    Err(FixError::Video(format!(
        "could not encode under {} bytes in {BUDGET_ATTEMPTS} attempts",
        max_bytes.unwrap_or(0)
    )))
}

/// `--segment auto`: the longest cut-free window, from a low-resolution decode
/// that stops once the window is decided.
fn auto_window(
    input: &Path,
    facts: &VideoFacts,
    target: &Target,
    max_us: u64,
) -> Result<(u64, u64), FixError> {
    let scenes = scan_for_window(input, target.threads, &target.limits, max_us)?;
    let duration = scenes.duration_us.min(facts.duration_us.max(1));
    Ok(choose_window(
        duration,
        &scenes.cuts_us,
        scenes.content_start_us,
        max_us,
    ))
}

/// The next attempt's rate control after a pass wrote `size` bytes over `max`:
/// the budget bitrate, scaled down by how far the pass overshot, and at least
/// 20 % lower than the last attempt.
fn lower(rate: RateControl, size: u64, max: u64, out_us: u64, target: &Target) -> RateControl {
    let audio = match target.audio {
        AudioPlan::Aac { bitrate, .. } => bitrate,
        _ => 0,
    };
    let overshoot = max as f64 / size.max(1) as f64;
    let (crf, previous) = match rate {
        RateControl::Quality { crf } => (crf, budget_bitrate(max, out_us, audio)),
        RateControl::Budget {
            crf, video_bitrate, ..
        } => (crf, video_bitrate),
    };
    let next = (previous as f64 * (0.8f64).min(overshoot * 0.95)).max(20_000.0) as u64;
    RateControl::Budget {
        crf,
        video_bitrate: next,
        max_bytes: max,
    }
}
