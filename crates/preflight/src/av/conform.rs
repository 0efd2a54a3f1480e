//! Carries out a video plan: remux when the plan allows it (falling back to a
//! re-encode when no keyframe gives a length within the limits, or a cut's
//! last frames do not decode), otherwise one
//! re-encode pass; under a byte limit, passes that overshoot are repeated at a
//! lower bitrate, so an over-limit file is never returned.

use std::fs;
use std::path::Path;

use super::copy_check::check_tail_decodes;
use super::encode::{encode, Findings, Pass, PassEnd};
use super::remux::{remux, RemuxAudio, RemuxError};
use super::scenes::scan_for_window;
use crate::check::{concealed_warning, sound_damage_warning, SoundFate, Warning};
use crate::error::FixError;
use crate::facts::{Damage, Scenes, VideoFacts};
use crate::plan::video::{
    budget_bitrate, choose_window, keyframe_cut_range, AudioPlan, Mode, RateControl, Target,
    VideoPlan, Window, AUDIO_BITRATE, AUDIO_RATE,
};
use crate::plan::Action;
use crate::spec::{Spec, SECOND_US};

/// Encode attempts under a byte limit before giving up.
const BUDGET_ATTEMPTS: usize = 5;

/// What a video repair did, and the advisories it raised about the input:
/// sound replaced with silence or left out (`audio.damaged`), frames the
/// decoder concealed (`video.damaged`).
#[derive(Debug, Clone, PartialEq)]
pub struct Conformed {
    /// Remuxed or re-encoded.
    pub action: Action,
    /// Damage repaired around, as advisories.
    pub findings: Vec<Warning>,
}

pub fn conform(
    input: &Path,
    facts: &VideoFacts,
    plan: &VideoPlan,
    spec: &Spec,
    output: &Path,
) -> Result<Conformed, FixError> {
    super::init();
    let Some(target) = plan.target.as_ref() else {
        return Err(FixError::Video("nothing to do: the plan is a copy".into()));
    };
    let max_bytes = target.max_bytes.or(spec.video.max_bytes);
    if target.mode == Mode::Remux {
        return conform_by_copy(input, facts, target, max_bytes, output);
    }
    reencode(input, facts, target, max_bytes, output)
}

/// A remux plan: the streams copied (cut at a keyframe when too long), or,
/// when no copy can do (no keyframe in range, a cut whose last frames do not
/// decode, a copy over the byte limit), the same window re-encoded.
fn conform_by_copy(
    input: &Path,
    facts: &VideoFacts,
    target: &Target,
    max_bytes: Option<u64>,
    output: &Path,
) -> Result<Conformed, FixError> {
    let (cut, resolved) = copy_cut(input, facts, target)?;
    if resolved.is_none() || cut.is_some() {
        match remux_repairing_sound(input, remux_audio(target.audio), cut, output) {
            Ok(findings) => {
                let size = fs::metadata(output)?.len();
                // A cut copy is delivered only once its last GOP, the
                // frames the cut can harm, is seen to decode.
                let decodes = cut.is_none() || check_tail_decodes(output, &target.limits).is_ok();
                if decodes && max_bytes.is_none_or(|m| size <= m) {
                    return Ok(Conformed {
                        action: Action::Remuxed,
                        findings,
                    });
                }
            }
            Err(RemuxError::NoKeyframe) => {}
            Err(RemuxError::Failed(e)) => return Err(e),
        }
        let _ = fs::remove_file(output);
    }
    let fallback = reencode_instead(target, resolved);
    reencode(input, facts, &fallback, max_bytes, output)
}

/// What the copy does with the sound the plan keeps.
fn remux_audio(plan: AudioPlan) -> RemuxAudio {
    match plan {
        AudioPlan::None | AudioPlan::Drop => RemuxAudio::None,
        AudioPlan::Copy => RemuxAudio::Copy,
        AudioPlan::Aac {
            bitrate,
            sample_rate,
        } => RemuxAudio::Aac {
            bitrate,
            sample_rate,
        },
    }
}

/// Where a copy may cut: the `(min_us, max_us)` its length must fall in.
type Cut = Option<(u64, u64)>;

/// The copy's cut, and for `--segment auto` the window the scan chose
/// (`Some`): a copy only when that window starts the file, its cut then
/// falling on a keyframe inside it.
fn copy_cut(
    input: &Path,
    facts: &VideoFacts,
    target: &Target,
) -> Result<(Cut, Option<Window>), FixError> {
    let Window::Auto { max_us } = target.window else {
        return Ok((target.keyframe_cut, None));
    };
    let (start, len) = auto_window(input, facts, target, max_us)?;
    let resolved = Window::Fixed {
        start_us: start,
        duration_us: len,
    };
    if start != 0 {
        return Ok((None, Some(resolved)));
    }
    let fps = u64::from(target.fps.max(1));
    let min_us = target.min_frames * SECOND_US / fps;
    let cut = target
        .keyframe_cut
        .map(|(_, hi)| keyframe_cut_range(min_us, SECOND_US / fps, hi.min(len)));
    Ok((cut, Some(resolved)))
}

/// A remux plan carried out by a re-encode: the sound encoded when it was to
/// be copied, the window the copy would have kept (at most the maximum).
fn reencode_instead(target: &Target, resolved: Option<Window>) -> Target {
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
    fallback
}

/// A remux whose sound turns out damaged is made again: copied sound is
/// encoded instead (silence where it was damaged), and sound that is mostly
/// unreadable is left out. Returns the advisories.
fn remux_repairing_sound(
    input: &Path,
    audio: RemuxAudio,
    cut: Cut,
    output: &Path,
) -> Result<Vec<Warning>, RemuxError> {
    let damage = remux(input, audio, cut, output)?;
    if damage.is_empty() || audio == RemuxAudio::None {
        return Ok(Vec::new());
    }
    if damage.mostly() {
        let _ = fs::remove_file(output);
        remux(input, RemuxAudio::None, cut, output)?;
        return Ok(vec![sound_damage_warning(&damage, SoundFate::Dropped)]);
    }
    if audio == RemuxAudio::Copy {
        let _ = fs::remove_file(output);
        let encoded = RemuxAudio::Aac {
            bitrate: AUDIO_BITRATE,
            sample_rate: AUDIO_RATE,
        };
        let again = remux(input, encoded, cut, output)?;
        let damage = if again.is_empty() { damage } else { again };
        return Ok(vec![sound_damage_warning(&damage, SoundFate::Silenced)]);
    }
    Ok(vec![sound_damage_warning(&damage, SoundFate::Silenced)])
}

fn reencode(
    input: &Path,
    facts: &VideoFacts,
    target: &Target,
    max_bytes: Option<u64>,
    output: &Path,
) -> Result<Conformed, FixError> {
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
        let findings = match encode(input, &pass, output)? {
            PassEnd::Written(findings) => findings,
            PassEnd::WindowMoved => {
                let _ = fs::remove_file(output);
                let max_us = guess_auto_us.take().unwrap_or_default();
                let (start, len) = auto_window(input, facts, target, max_us)?;
                (start_us, duration_us) = (start, Some(len));
                continue;
            }
        };
        attempts += 1;
        guess_auto_us = None;
        let size = fs::metadata(output)?.len();
        match max_bytes {
            Some(max) if size > max => {
                rate = lower(rate, size, max, out_us, target);
                fs::remove_file(output)?;
            }
            _ => {
                return Ok(Conformed {
                    action: Action::Reencoded,
                    findings: advisories(&findings, output)?,
                })
            }
        }
    }
    Err(FixError::Video(format!(
        "could not encode under {} bytes in {BUDGET_ATTEMPTS} attempts",
        max_bytes.unwrap_or(0)
    )))
}

/// The advisories of a re-encode's findings; sound that is mostly
/// unreadable is taken out of the written `output` first.
fn advisories(findings: &Findings, output: &Path) -> Result<Vec<Warning>, FixError> {
    let mut warnings = Vec::new();
    if !findings.concealed.is_empty() {
        warnings.push(concealed_warning(&findings.concealed));
    }
    let sound = &findings.sound;
    if sound.mostly() {
        strip_sound(output)?;
        warnings.push(sound_damage_warning(sound, SoundFate::Dropped));
    } else if !sound.is_empty() {
        warnings.push(sound_damage_warning(sound, SoundFate::Silenced));
    }
    Ok(warnings)
}

/// Takes the sound out of an MP4 just written: its video copied into a new
/// file beside it, renamed over it. Cheaper than encoding the picture again.
fn strip_sound(output: &Path) -> Result<(), FixError> {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bare = output.with_file_name(format!(".{name}.nosound"));
    let made = match remux(output, RemuxAudio::None, None, &bare) {
        Ok(_) => fs::rename(&bare, output).map_err(FixError::from),
        Err(RemuxError::Failed(e)) => Err(e),
        Err(RemuxError::NoKeyframe) => Err(FixError::Video(
            "cannot take the damaged sound out: no keyframe".into(),
        )),
    };
    if made.is_err() {
        let _ = fs::remove_file(&bare);
    }
    made
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
    let min_us = target.min_frames * SECOND_US / u64::from(target.fps.max(1));
    Ok(window_clear_of_damage(&scenes, duration, max_us, min_us))
}

/// The longest cut-free window of at most `max_us` (as `choose_window`
/// gives it) that keeps clear of damaged pictures, when one is at least
/// `min_us` long; otherwise the window `choose_window` gives, damage and
/// all, which the encode then refuses, saying where the damage is.
fn window_clear_of_damage(scenes: &Scenes, duration: u64, max_us: u64, min_us: u64) -> (u64, u64) {
    let plain = || choose_window(duration, &scenes.cuts_us, scenes.content_start_us, max_us);
    let damaged: &Damage = &scenes.picture_damage;
    if damaged.is_empty() {
        return plain();
    }
    let mut best = (0u64, 0u64);
    let mut from = 0u64;
    // Each stretch between damaged spans, chosen in as if it were the file.
    for &(start, end) in damaged
        .spans
        .iter()
        .chain(std::iter::once(&(duration, duration)))
    {
        let to = start.min(duration);
        if to > from {
            let cuts: Vec<u64> = scenes
                .cuts_us
                .iter()
                .filter(|&&c| c > from && c < to)
                .map(|&c| c - from)
                .collect();
            let content_start = scenes.content_start_us.saturating_sub(from);
            let (at, len) = choose_window(to - from, &cuts, content_start, max_us);
            if len > best.1 {
                best = (from + at, len);
            }
        }
        from = from.max(end);
    }
    if best.1 >= min_us {
        best
    } else {
        plain()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    fn scenes(cuts: &[u64], content_start_us: u64, damaged: &[(u64, u64)]) -> Scenes {
        let mut picture_damage = Damage::default();
        for &(from, to) in damaged {
            picture_damage.note(from, from);
            picture_damage.cover(from, to);
        }
        Scenes {
            cuts_us: cuts.to_vec(),
            content_start_us,
            picture_damage,
            ..Scenes::default()
        }
    }

    #[test]
    fn the_window_keeps_clear_of_a_damaged_picture_where_one_fits() {
        let (max, min) = (9_960_000, 3_040_000);
        // No damage: what choose_window gives.
        let plain = scenes(&[5 * S], 0, &[]);
        assert_eq!(
            window_clear_of_damage(&plain, 20 * S, max, min),
            choose_window(20 * S, &[5 * S], 0, max)
        );
        // Damage from 2.8 s to the keyframe at 4 s: the window starts there.
        let damaged = scenes(&[], 0, &[(2_800_000, 4 * S)]);
        assert_eq!(
            window_clear_of_damage(&damaged, 14 * S, max, min),
            (4 * S, max)
        );
        // Cuts still count inside the clean stretches.
        let cut = scenes(&[10 * S], 0, &[(2 * S, 3 * S)]);
        assert_eq!(
            window_clear_of_damage(&cut, 20 * S, max, min),
            (10 * S, max)
        );
        // A black start only matters to the first stretch.
        let black = scenes(&[], S, &[(5 * S, 6 * S)]);
        assert_eq!(
            window_clear_of_damage(&black, 20 * S, max, min),
            (6 * S, max)
        );
        let before = scenes(&[], S, &[(15 * S, 16 * S)]);
        assert_eq!(window_clear_of_damage(&before, 17 * S, max, min), (S, max));
        // No clean stretch reaches the minimum: the plain window, damage and
        // all (the encode then fails naming the picture).
        let short = scenes(&[], 0, &[(2_800_000, 4 * S)]);
        assert_eq!(window_clear_of_damage(&short, 6 * S, max, min), (0, 6 * S));
    }
}
