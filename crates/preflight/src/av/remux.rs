//! Stream copy into a new MP4 (`moov` first), optionally cut to a length.
//! Packets are copied, never decoded: the cost is reading and writing the file.
//!
//! Every output starts at 0: the video's first keyframe is the origin and the
//! sound is shifted with it (their offset to each other is kept), so a capture
//! whose timeline starts at 1.48 s does not gain 1.48 s of nothing.
//!
//! A cut starts at the first keyframe and keeps the video packets, in decode
//! order, up to the first one that would end past the limit. Every kept frame
//! then has its references: a frame only refers to frames decoded before it,
//! and those are all kept. The first packet past the limit is an I or P frame
//! (a B-frame past the limit follows, in decode order, the later frame it
//! refers to), so at most the B-frames just before the limit are lost with it.

use std::path::Path;

use ffmpeg_next as ff;

use super::common::{
    audio_stream, from_us, open_input, read_packet, to_us, video_error, video_stream,
};
use super::encode::{open_aac, samples_for, AudioEncoder, AudioInput};
use super::sound::SoundDecoder;
use crate::error::FixError;
use crate::facts::Damage;

/// What the copy does with the sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RemuxAudio {
    None,
    /// Packets copied.
    Copy,
    /// Decoded and encoded as AAC (PCM and other sound MP4 cannot carry),
    /// cut or padded with silence to the video's length.
    Aac {
        bitrate: u64,
        sample_rate: u32,
    },
}

pub(super) enum RemuxError {
    /// The cut would keep less than its minimum: the caller re-encodes.
    NoKeyframe,
    Failed(FixError),
}

impl From<FixError> for RemuxError {
    fn from(e: FixError) -> Self {
        RemuxError::Failed(e)
    }
}

/// Where the copy starts and stops, from a first pass over the video packets.
#[derive(Debug, Clone, Copy)]
struct CopySpan {
    /// Presentation time of the first keyframe (video time base): time 0 of
    /// the output.
    origin: i64,
    /// Video packets kept, counted in decode order from the first keyframe
    /// (`None`: all).
    video_packets: Option<u64>,
    /// End of the last kept video frame, from the origin (`None`: not cut).
    video_end_us: Option<i64>,
}

/// Copies the first video stream (and the best audio stream, copied or encoded
/// as `audio` says) of `input` into `output`, starting at 0. With `cut = Some((min_us, max_us))`
/// the video ends at the latest frame that keeps it within `max_us` and the
/// sound is cut to the video's length; a cut that keeps less than `min_us` is
/// refused (`NoKeyframe`).
///
/// Returns the damage found in the sound, from the output's start: replaced
/// with silence when the sound is encoded; when it is copied, the copied
/// packets are decoded on the side (sound decodes far faster than it is
/// read) and the damage is only reported, for the caller to encode the sound
/// instead.
pub(super) fn remux(
    input: &Path,
    audio: RemuxAudio,
    cut: Option<(u64, u64)>,
    output: &Path,
) -> Result<Damage, RemuxError> {
    let span = {
        let mut ictx = open_input(input)?;
        let v_index = video_stream(&ictx)?;
        find_span(&mut ictx, v_index, cut)?
    };
    let mut ictx = open_input(input)?;
    let v_index = video_stream(&ictx)?;
    let a_index = match audio {
        RemuxAudio::None => None,
        RemuxAudio::Copy | RemuxAudio::Aac { .. } => audio_stream(&ictx),
    };
    let copy_audio = a_index.filter(|_| audio == RemuxAudio::Copy);
    let v_tb = ictx
        .stream(v_index)
        .map(|s| s.time_base())
        .ok_or_else(|| video_error("no video stream"))?;
    let origin_us = to_us(span.origin, v_tb);

    let mut octx = ff::format::output_as(&output, "mp4")
        .map_err(|e| video_error(format!("cannot create the output: {e}")))?;
    let copied = add_copied_streams(&ictx, &mut octx, [Some(v_index), copy_audio])?;
    let mut side = SoundSide::open(&ictx, a_index, audio, origin_us, &mut octx)?;
    let out_tbs = write_header(&mut octx, copied.count)?;
    if let Some(s) = side.encode.as_mut() {
        // The muxer may change the time base it was given.
        s.encoder.read_time_base(&octx);
    }

    let mut video = VideoGate::new(span);
    let mut audio_done = a_index.is_none();
    let mut packet = ff::Packet::empty();
    let mut last_us = 0i64;
    while read_packet(&mut ictx, &mut packet, last_us)? {
        let index = packet.stream();
        if let Some(s) = side.encode.as_mut().filter(|_| Some(index) == a_index) {
            if !audio_done {
                audio_done = s.feed(&packet, span.video_end_us, video.end_us, &mut octx)?;
            }
            if video.done && audio_done {
                break;
            }
            continue;
        }
        let Some(Some(out_index)) = copied.mapping.get(index).copied() else {
            continue;
        };
        let tb = copied.time_bases[index];
        if let Some(t) = packet.pts().or(packet.dts()) {
            last_us = to_us(t, tb);
        }
        let keep = if index == v_index {
            video.admit(&packet) && {
                let end = packet.pts().unwrap_or(0) + packet.duration().max(0);
                video.end_us = video.end_us.max(to_us(end, tb) - origin_us);
                true
            }
        } else {
            !audio_done && {
                let (keep, done) = audio_admits(&packet, tb, origin_us, span.video_end_us);
                audio_done = done;
                keep
            }
        };
        if video.done && audio_done {
            break;
        }
        if !keep {
            continue;
        }
        if let Some(check) = side.check.as_mut().filter(|_| index != v_index) {
            check.send(&packet);
            check.drain()?;
        }
        write_shifted(
            &mut packet,
            origin_us,
            tb,
            out_index,
            out_tbs[out_index],
            &mut octx,
        )?;
    }
    if video.kept == 0 {
        return Err(video_error("the video stream has no frames").into());
    }
    let damage = side.finish(span.video_end_us.unwrap_or(video.end_us), &mut octx)?;
    octx.write_trailer()
        .map_err(|e| video_error(format!("cannot finish the MP4: {e}")))?;
    Ok(damage)
}

/// The input streams copied into the output, and where each one went.
struct CopiedStreams {
    /// Output index of each input stream (`None`: not copied).
    mapping: Vec<Option<usize>>,
    /// Each input stream's time base.
    time_bases: Vec<ff::Rational>,
    /// How many streams were added.
    count: usize,
}

/// Adds a copy of each of `streams` (in that order) to `octx`.
fn add_copied_streams(
    ictx: &ff::format::context::Input,
    octx: &mut ff::format::context::Output,
    streams: [Option<usize>; 2],
) -> Result<CopiedStreams, RemuxError> {
    let n = ictx.nb_streams() as usize;
    let mut copied = CopiedStreams {
        mapping: vec![None; n],
        time_bases: vec![ff::Rational(0, 1); n],
        count: 0,
    };
    for index in streams.into_iter().flatten() {
        let ist = ictx
            .stream(index)
            .ok_or_else(|| video_error("stream vanished"))?;
        let mut ost = octx
            .add_stream(ff::encoder::find(ff::codec::Id::None))
            .map_err(|e| video_error(format!("cannot add a stream: {e}")))?;
        ost.set_parameters(ist.parameters());
        ost.set_time_base(ist.time_base());
        // SAFETY: the output stream's parameters are owned by `octx`. A codec tag
        // from another container (Matroska) is not valid in MP4: let the muxer
        // choose.
        unsafe {
            (*ost.parameters().as_mut_ptr()).codec_tag = 0;
        }
        copied.mapping[index] = Some(copied.count);
        copied.time_bases[index] = ist.time_base();
        copied.count += 1;
    }
    Ok(copied)
}

/// Writes the MP4 header (`moov` first) and returns the time bases the muxer
/// chose for the first `copied` output streams.
fn write_header(
    octx: &mut ff::format::context::Output,
    copied: usize,
) -> Result<Vec<ff::Rational>, RemuxError> {
    let mut opts = ff::Dictionary::new();
    opts.set("movflags", "+faststart");
    octx.write_header_with(opts)
        .map_err(|e| video_error(format!("cannot write the MP4 header: {e}")))?;
    Ok((0..copied)
        .map(|i| {
            octx.stream(i)
                .map_or(ff::Rational(1, 90_000), |s| s.time_base())
        })
        .collect())
}

/// Writes a copied packet shifted to the origin. The muxer keeps B-frame
/// decode times below 0 with an edit list, so presentation still starts at 0.
fn write_shifted(
    packet: &mut ff::Packet,
    origin_us: i64,
    tb: ff::Rational,
    out_index: usize,
    out_tb: ff::Rational,
    octx: &mut ff::format::context::Output,
) -> Result<(), RemuxError> {
    let shift = from_us(origin_us, tb);
    packet.set_pts(packet.pts().map(|p| p - shift));
    packet.set_dts(packet.dts().map(|d| d - shift));
    packet.rescale_ts(tb, out_tb);
    packet.set_position(-1);
    packet.set_stream(out_index);
    packet
        .write_interleaved(octx)
        .map_err(|e| video_error(format!("cannot write a packet: {e}")))?;
    Ok(())
}

/// Which video packets of the copy pass are written.
struct VideoGate {
    span: CopySpan,
    started: bool,
    kept: u64,
    done: bool,
    /// End of the latest kept frame, from the origin.
    end_us: i64,
}

impl VideoGate {
    fn new(span: CopySpan) -> Self {
        VideoGate {
            span,
            started: false,
            kept: 0,
            done: false,
            end_us: 0,
        }
    }

    /// Whether `packet` is copied: from the first keyframe, frames shown before
    /// it (leading pictures of an open GOP, which lack their references) left
    /// out, up to the span's packet count.
    fn admit(&mut self, packet: &ff::Packet) -> bool {
        if self.done {
            return false;
        }
        if !self.started {
            if !packet.is_key() {
                return false;
            }
            self.started = true;
        }
        if packet.pts().is_some_and(|p| p < self.span.origin) {
            return false;
        }
        if self.span.video_packets.is_some_and(|n| self.kept >= n) {
            self.done = true;
            return false;
        }
        self.kept += 1;
        true
    }
}

/// Whether an audio packet is copied, and whether the sound is done: sound
/// that ends before the video's origin is left out, and with a cut, sound that would end
/// after the video's last frame.
fn audio_admits(
    packet: &ff::Packet,
    tb: ff::Rational,
    origin_us: i64,
    video_end_us: Option<i64>,
) -> (bool, bool) {
    let Some(pts) = packet.pts() else {
        return (false, false);
    };
    let end = to_us(pts + packet.duration().max(0), tb) - origin_us;
    // A packet that straddles the origin is kept (its start below 0, as the
    // AAC priming frame of an MP4 is): the muxer's edit list hides the part
    // before 0.
    if end <= 0 {
        return (false, false);
    }
    match video_end_us {
        Some(video_end) if end > video_end => (false, true),
        _ => (true, false),
    }
}

/// First pass: the first keyframe's time and, for a cut, how many video
/// packets (decode order) keep the video within `hi_us`. Reads packets only,
/// and only as far as the answer needs.
fn find_span(
    ictx: &mut ff::format::context::Input,
    v_index: usize,
    cut: Option<(u64, u64)>,
) -> Result<CopySpan, RemuxError> {
    let stream = ictx
        .stream(v_index)
        .ok_or_else(|| video_error("no video stream"))?;
    let tb = stream.time_base();
    // A frame's length when the packet does not say (some MPEG-TS streams).
    let rate = stream.avg_frame_rate();
    let frame_ticks = if rate.numerator() > 0 && rate.denominator() > 0 {
        from_us(
            1_000_000 * i64::from(rate.denominator()) / i64::from(rate.numerator()),
            tb,
        )
        .max(1)
    } else {
        1
    };
    let mut gate = VideoGate::new(CopySpan {
        origin: i64::MIN,
        video_packets: None,
        video_end_us: None,
    });
    let mut origin = None;
    let mut end = 0i64;
    let mut packet = ff::Packet::empty();
    let mut last_us = 0;
    while read_packet(ictx, &mut packet, last_us)? {
        if packet.stream() != v_index {
            continue;
        }
        // AVI gives H.264 with B-frames decode times only.
        let Some(pts) = packet.pts().or(packet.dts()) else {
            continue;
        };
        last_us = to_us(pts, tb);
        if origin.is_none() {
            if !packet.is_key() {
                continue;
            }
            origin = Some(pts);
            gate.span.origin = pts;
            if cut.is_none() {
                break;
            }
        }
        if !gate.admit(&packet) {
            continue;
        }
        let start = origin.unwrap_or(pts);
        let duration = match packet.duration() {
            d if d > 0 => d,
            _ => frame_ticks,
        };
        let frame_end = pts + duration - start;
        if let Some((_, hi_us)) = cut {
            if to_us(frame_end, tb) > hi_us as i64 {
                // This frame, and everything decoded after it, stays out.
                gate.kept -= 1;
                break;
            }
        }
        end = end.max(frame_end);
    }
    let Some(origin) = origin else {
        return Err(video_error("the video stream has no keyframe").into());
    };
    let Some((lo_us, _)) = cut else {
        return Ok(CopySpan {
            origin,
            video_packets: None,
            video_end_us: None,
        });
    };
    let end_us = to_us(end, tb);
    if end_us < lo_us as i64 {
        return Err(RemuxError::NoKeyframe);
    }
    Ok(CopySpan {
        origin,
        video_packets: Some(gate.kept),
        video_end_us: Some(end_us),
    })
}

/// The copy's sound: encoded (`encode`), or copied and checked on the side
/// (`check`), or neither.
struct SoundSide {
    encode: Option<SoundEncode>,
    check: Option<SoundDecoder>,
}

impl SoundSide {
    /// The sound of stream `a_index` as `audio` says, timed from the video's
    /// first keyframe at `origin_us`; an AAC stream is added to `octx` when
    /// it is encoded.
    fn open(
        ictx: &ff::format::context::Input,
        a_index: Option<usize>,
        audio: RemuxAudio,
        origin_us: i64,
        octx: &mut ff::format::context::Output,
    ) -> Result<Self, FixError> {
        let Some(index) = a_index else {
            return Ok(SoundSide {
                encode: None,
                check: None,
            });
        };
        let (encode, check) = match audio {
            RemuxAudio::None => (None, None),
            RemuxAudio::Aac {
                bitrate,
                sample_rate,
            } => {
                let rate = (bitrate, sample_rate);
                let s = SoundEncode::open(ictx, index, origin_us, octx, rate)?;
                (Some(s), None)
            }
            // A decoder FFmpeg lacks checks nothing.
            RemuxAudio::Copy => (None, SoundDecoder::open(ictx, index, origin_us, 0).ok()),
        };
        Ok(SoundSide { encode, check })
    }

    /// Ends the sound (encoded up to `video_us`) and returns its damage.
    fn finish(
        &mut self,
        video_us: i64,
        octx: &mut ff::format::context::Output,
    ) -> Result<Damage, FixError> {
        if let Some(s) = self.encode.as_mut() {
            s.finish(video_us, octx)?;
            return Ok(s.input.damage().clone());
        }
        if let Some(check) = self.check.as_mut() {
            check.send_eof();
            check.drain()?;
            return Ok(check.damage.clone());
        }
        Ok(Damage::default())
    }
}

/// Sound that MP4 cannot carry, decoded and encoded as AAC while the video is
/// copied: cut or padded with silence to the video's length, as a re-encode
/// does.
struct SoundEncode {
    input: AudioInput,
    encoder: AudioEncoder,
}

impl SoundEncode {
    /// The sound of stream `index`, timed from the video's first keyframe
    /// at `origin_us`, encoded to AAC at `(bitrate, sample_rate)`.
    fn open(
        ictx: &ff::format::context::Input,
        index: usize,
        origin_us: i64,
        octx: &mut ff::format::context::Output,
        (bitrate, sample_rate): (u64, u32),
    ) -> Result<Self, FixError> {
        // Times in the input are from the container's start, which the
        // origin already includes: the window starts at the origin.
        let input = AudioInput::new(ictx, index, origin_us, 0)?;
        let encoder = open_aac(octx, input.channels, bitrate, sample_rate)?;
        Ok(SoundEncode { input, encoder })
    }

    /// Decodes one packet and encodes what fits in the video copied so far.
    /// Returns true once the sound has reached the cut.
    fn feed(
        &mut self,
        packet: &ff::Packet,
        cut_us: Option<i64>,
        video_us: i64,
        octx: &mut ff::format::context::Output,
    ) -> Result<bool, FixError> {
        let done = self.input.feed(packet, cut_us)?;
        self.input.pull()?;
        let rate = self.encoder.rate;
        let video_samples = samples_for(video_us.max(0) as u64, 1_000_000, rate);
        self.encoder.release(&mut self.input, video_samples, octx)?;
        Ok(done)
    }

    /// Encodes the rest, exactly to the video's end.
    fn finish(
        &mut self,
        video_us: i64,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), FixError> {
        self.input.finish()?;
        let total = samples_for(video_us.max(0) as u64, 1_000_000, self.encoder.rate);
        self.encoder.finish(total, &mut self.input, octx)
    }
}
