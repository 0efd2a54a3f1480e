//! What is wrong with the video, read from the check report and the facts, and
//! which level of work (copy, remux, re-encode) that calls for.

use super::{Geometry, Mode};
use crate::check::Report;
use crate::facts::VideoFacts;
use crate::plan::{FixOptions, SegmentMode};
use crate::rule::Rule;
use crate::spec::Spec;

/// Audio codecs an MP4 can carry that every provider's pipeline reads.
const MP4_AUDIO: &[&str] = &["aac", "mp3"];

/// Every reason for work, one flag each.
pub(super) struct Wrong {
    pub container_bad: bool,
    pub moov_bad: bool,
    pub extra_streams: bool,
    pub too_long: bool,
    pub too_short: bool,
    pub too_big: bool,
    /// Sound present and `--keep-sound no`.
    pub drop_audio: bool,
    pub codec_bad: bool,
    pub pixfmt_bad: bool,
    pub vfr: bool,
    pub rotated: bool,
    /// The planned geometry scales, crops or pads (or a side is odd).
    pub geometry_change: bool,
    /// The sound (if any) can be copied into MP4.
    pub audio_copyable: bool,
    /// The sound is kept but MP4 cannot carry it: encoded alone, the video
    /// still copied when nothing else needs a re-encode.
    pub encode_audio: bool,
    /// The pixels are not square: scaled to square ones.
    pub anamorphic: bool,
    /// PQ or HLG: tone-mapped.
    pub hdr: Option<crate::facts::HdrTransfer>,
    /// Too long, and the window is chosen by a cut scan.
    pub auto_segment: bool,
    /// A re-encode is needed: the streams themselves, the length or the sound
    /// cannot be kept by copying packets.
    needs_reencode: bool,
}

impl Wrong {
    pub fn read(
        facts: &VideoFacts,
        spec: &Spec,
        options: &FixOptions,
        report: &Report,
        geometry: &Geometry,
    ) -> Wrong {
        let rules = &spec.video;
        let too_long = facts.duration_us > rules.max_duration_us;
        let mut w = Wrong {
            container_bad: report.has(Rule::VideoContainer),
            moov_bad: report.warns(Rule::VideoMoovFirst),
            extra_streams: facts.video_streams > 1,
            too_long,
            too_short: facts.duration_us < rules.min_duration_us,
            too_big: report.has(Rule::VideoBytesMax),
            drop_audio: !options.keep_sound && facts.audio_codec.is_some(),
            codec_bad: facts.codec != "h264",
            pixfmt_bad: report.warns(Rule::VideoPixelFormatYuv420p),
            vfr: facts.variable_frame_rate,
            rotated: !facts.rotation.is_multiple_of(360),
            geometry_change: geometry.scale.is_some()
                || geometry.crop.is_some()
                || geometry.pad.is_some()
                || report.warns(Rule::VideoSizeEven),
            audio_copyable: facts
                .audio_codec
                .as_deref()
                .is_none_or(|c| MP4_AUDIO.contains(&c)),
            encode_audio: false,
            anamorphic: facts.anamorphic(),
            hdr: facts.colour.hdr(),
            auto_segment: too_long
                && options.start_us.is_none()
                && options.segment == SegmentMode::Auto,
            needs_reencode: false,
        };
        let stream_ok = !w.codec_bad
            && !w.pixfmt_bad
            && !w.vfr
            && !w.rotated
            && !w.geometry_change
            && w.hdr.is_none();
        w.needs_reencode = !stream_ok
            || w.too_short
            || w.too_big
            || (too_long && options.start_us.is_some_and(|s| s > 0));
        w.encode_audio = options.keep_sound && !w.audio_copyable;
        w
    }

    /// The cheapest level of work that fixes everything.
    pub fn mode(&self) -> Mode {
        let needs_remux = self.container_bad
            || self.moov_bad
            || self.extra_streams
            || self.too_long
            || self.drop_audio
            || self.encode_audio;
        if self.needs_reencode {
            Mode::Reencode
        } else if needs_remux {
            Mode::Remux
        } else {
            Mode::Copy
        }
    }
}
