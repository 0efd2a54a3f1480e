//! What the output spends bits on, shared by the remux and the re-encode: the
//! rate control (a quality target, capped by the byte budget when it is in
//! sight) and the sound (none, dropped, copied or encoded as AAC).

use super::{secs, step, AudioPlan, Context, Mode, RateControl, VideoOp};
use crate::plan::Step;
use crate::rule::Rule;

/// x264 preset used for every re-encode (and by the benchmark's ffmpeg command).
/// `veryfast` is 3–4× quicker than `medium` at a few percent more bytes for the
/// same quality; the provider decodes and re-encodes the clip anyway.
pub(crate) const X264_PRESET: &str = "veryfast";
/// Quality target when no byte limit is in sight: visually clean for motion.
pub(crate) const X264_CRF: u8 = 20;
/// AAC bitrate for re-encoded sound.
pub(crate) const AUDIO_BITRATE: u64 = 128_000;
/// AAC sample rate for re-encoded sound.
pub(crate) const AUDIO_RATE: u32 = 48_000;
/// Share of the byte limit the first encode aims at (container overhead, rate
/// control error).
pub(crate) const BUDGET_SHARE: f64 = 0.9;
/// A re-encode whose quality target would need more than this many bits per pixel
/// per frame is steered by the byte budget instead of the quality target.
const BUDGET_BITS_PER_PIXEL: f64 = 0.25;

/// The byte budget's video bitrate for `duration_us` of output.
pub(crate) fn budget_bitrate(max_bytes: u64, duration_us: u64, audio_bitrate: u64) -> u64 {
    let seconds = (duration_us.max(1) as f64 / 1e6).max(0.001);
    let total = max_bytes as f64 * BUDGET_SHARE * 8.0 / seconds;
    let video = total - audio_bitrate as f64;
    // A floor that still gives recognisable motion; the size check after the
    // encode remains the guarantee.
    video.max(50_000.0) as u64
}

/// The rate control. A remux keeps its packets, but falls back to a re-encode
/// when no keyframe gives a length within the limits: it always carries the
/// budget (with room for sound), and lists no step for it. A re-encode is
/// steered by the budget only when the quality target would come near it.
pub(super) fn rate_control(
    cx: &Context,
    mode: Mode,
    steps: &mut Vec<Step<VideoOp>>,
) -> RateControl {
    let (facts, timing, geometry) = (cx.facts, cx.timing, cx.geometry);
    let Some(max_bytes) = cx.spec.video.max_bytes else {
        return RateControl::Quality { crf: X264_CRF };
    };
    let remux = mode == Mode::Remux;
    let audio_bitrate = if remux || (cx.options.keep_sound && facts.audio_codec.is_some()) {
        AUDIO_BITRATE
    } else {
        0
    };
    let video_bitrate = budget_bitrate(max_bytes, timing.out_duration_us, audio_bitrate);
    let pixels_per_second =
        f64::from(geometry.width) * f64::from(geometry.height) * f64::from(timing.fps);
    let in_sight =
        cx.wrong.too_big || (video_bitrate as f64) < pixels_per_second * BUDGET_BITS_PER_PIXEL;
    if !remux && !in_sight {
        return RateControl::Quality { crf: X264_CRF };
    }
    if !remux {
        steps.push(step(
            VideoOp::Budget {
                max_bytes,
                video_bitrate,
            },
            Rule::VideoBytesMax,
            format!(
                "at most {} kbit/s of video so that {} s stay under {max_bytes} bytes (lower again if a pass overshoots)",
                video_bitrate / 1000,
                secs(timing.out_duration_us)
            ),
        ));
    }
    RateControl::Budget {
        crf: X264_CRF,
        video_bitrate,
        max_bytes,
    }
}

/// The sound: dropped on `--keep-sound no`, else copied by a remux (encoded
/// alone when MP4 cannot carry it) and encoded as AAC by a re-encode (listed
/// as a step when it was not AAC already).
pub(super) fn audio_choice(cx: &Context, mode: Mode, steps: &mut Vec<Step<VideoOp>>) -> AudioPlan {
    let Some(codec) = cx.facts.audio_codec.as_deref() else {
        return AudioPlan::None;
    };
    if !cx.options.keep_sound {
        steps.push(step(
            VideoOp::DropAudio,
            Rule::OptionKeepSound,
            "sound left out (--keep-sound no)",
        ));
        return AudioPlan::Drop;
    }
    if mode == Mode::Remux && !cx.wrong.encode_audio {
        return AudioPlan::Copy;
    }
    if codec != "aac" {
        let copied = if mode == Mode::Remux {
            " (the video is copied)"
        } else {
            ""
        };
        steps.push(step(
            VideoOp::EncodeAudio {
                bitrate: AUDIO_BITRATE,
            },
            Rule::VideoContainer,
            format!("sound {codec} → AAC{copied}"),
        ));
    }
    AudioPlan::Aac {
        bitrate: AUDIO_BITRATE,
        sample_rate: AUDIO_RATE,
    }
}
