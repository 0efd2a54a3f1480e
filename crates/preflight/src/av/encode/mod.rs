//! The re-encode: one pass of demux → decode → filter graph → x264 / AAC → MP4,
//! streaming frame by frame on the calling thread. The filter graph applies the
//! plan's geometry (rotation, scale, crop, padding), the constant frame rate and
//! 8-bit yuv420p; the kept window is cut on decoded timestamps.
//!
//! Memory stays flat with the video's length. The one exception is lengthening a
//! clip shorter than the minimum by `loop` or `pingpong`: its frames (at most the
//! minimum length, about 3 s) are kept to be played again.
//!
//! - `filters`: the filter-graph descriptions, pure text;
//! - `video`, `audio`: each side's graph and encoder;
//! - `packets`: the encoders' one way to the muxer;
//! - here, the pass itself: open, read packets in order, flush.

mod audio;
mod filters;
mod packets;
mod video;

use std::path::Path;

use ffmpeg_next as ff;

use super::common::{
    audio_stream, from_us, is_damage, open_input, read_packet, start_time_us, to_us, video_decoder,
    video_error, video_stream,
};
use super::damage::{InFlight, PictureDamage};
use super::scenes::StartWatch;
use crate::error::FixError;
use crate::facts::Damage;
use crate::plan::video::{AudioPlan, RateControl, Target};
pub(super) use audio::{open_aac, AudioEncoder, AudioInput};
use video::{border_colour, open_x264, source, video_graph, VideoEncoder, VideoOut};

/// What one encode pass does: the plan's target, the window actually kept and
/// the rate control of this attempt.
pub(super) struct Pass<'a> {
    pub target: &'a Target,
    pub start_us: u64,
    /// Source time kept from `start_us` (`None`: to the end).
    pub duration_us: Option<u64>,
    pub rate: RateControl,
    /// Keep the first frames in memory in case the clip must be lengthened by
    /// `loop` or `pingpong`.
    pub may_extend: bool,
    /// `--segment auto`, window not chosen yet: the pass keeps the start of the
    /// file and gives up if the frames show a cut before this length, or a
    /// black or frozen start.
    pub guess_auto_us: Option<u64>,
}

/// How a pass ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PassEnd {
    /// The output is written; what the decoders found on the way.
    Written(Findings),
    /// The guessed window does not hold (`Pass::guess_auto_us`): nothing
    /// usable was written.
    WindowMoved,
}

/// Damage a pass repaired around, in source time from the file's start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(in crate::av) struct Findings {
    /// Sound the decoder rejected or flagged: silence in the output.
    pub sound: Damage,
    /// Frames the video decoder concealed: delivered as it returned them.
    pub concealed: Damage,
}

/// Re-encodes `input` into the MP4 `output` as `pass` says.
pub(super) fn encode(input: &Path, pass: &Pass, output: &Path) -> Result<PassEnd, FixError> {
    let mut ictx = open_input(input)?;
    let mut run = Transcode::open(&mut ictx, pass, output)?;
    run.read_all(&mut ictx)?;
    if run.window_moved {
        return Ok(PassEnd::WindowMoved);
    }
    Ok(PassEnd::Written(run.finish()?))
}

/// Where the kept window lies, in the video stream's time.
#[derive(Clone, Copy)]
struct Clock {
    /// The container's start time.
    origin_us: i64,
    start_us: i64,
    end_us: Option<i64>,
    /// The video stream's time base.
    tb: ff::Rational,
}

impl Clock {
    /// Notes a video packet at `at_us` that the decoder refused, when it lies
    /// in the kept window: there it fails the pass (or, while the window is
    /// only a guess, moves it). Outside, on the way to the window or past its
    /// end, it is none of the output's business.
    fn rejects(self, picture: &mut PictureDamage, at_us: i64) -> bool {
        if at_us < self.start_us || self.end_us.is_some_and(|end| at_us >= end) {
            return false;
        }
        picture.reject(at_us);
        true
    }
}

/// One pass's state, from the opened input to the written trailer.
struct Transcode<'a> {
    t: &'a Target,
    clock: Clock,
    v_index: usize,
    a_index: Option<usize>,
    decoder: ff::decoder::Video,
    decoded: ff::frame::Video,
    video: VideoOut,
    venc: VideoEncoder,
    audio_in: Option<AudioInput>,
    aenc: Option<AudioEncoder>,
    octx: ff::format::context::Output,
    /// Damage in the kept window's picture.
    picture: PictureDamage,
    /// The packets in the video decoder, to place a rejected one.
    in_flight: InFlight,
    /// Time of the latest video packet, for damage reports.
    last_us: i64,
    audio_fed_to_end: bool,
    /// The cut scan riding along when the window is a guess.
    watch: Option<StartWatch>,
    window_moved: bool,
}

impl<'a> Transcode<'a> {
    /// Seeks to the window, opens the decoders, the encoders and the output,
    /// and writes the MP4 header.
    fn open(
        ictx: &mut ff::format::context::Input,
        pass: &Pass<'a>,
        output: &Path,
    ) -> Result<Transcode<'a>, FixError> {
        let t = pass.target;
        let v_index = video_stream(ictx)?;
        let tb = ictx
            .stream(v_index)
            .map(|s| s.time_base())
            .ok_or_else(|| video_error("no video stream"))?;
        let a_index = match t.audio {
            AudioPlan::Aac { .. } => audio_stream(ictx),
            _ => None,
        };
        let start_us = pass.start_us as i64;
        let clock = Clock {
            origin_us: start_time_us(ictx),
            start_us,
            end_us: pass.duration_us.map(|d| start_us + d as i64),
            tb,
        };
        seek(ictx, clock)?;
        let decoder = video_decoder(ictx, v_index, t.threads, &t.limits)?;
        let in_flight = InFlight::new(&decoder);
        let audio_in = match a_index {
            Some(i) => Some(AudioInput::new(ictx, i, clock.origin_us, start_us)?),
            None => None,
        };
        let (octx, venc, aenc) = open_output(output, t, pass.rate, audio_in.as_ref())?;
        let hold = pass.may_extend && !video_reaches_minimum(ictx, v_index, start_us, t);
        let watch = pass
            .guess_auto_us
            .map(|max_us| StartWatch::new(clock.origin_us, tb, &t.limits, max_us));
        Ok(Transcode {
            t,
            clock,
            v_index,
            a_index,
            decoder,
            decoded: ff::frame::Video::empty(),
            video: VideoOut::new(hold, t),
            venc,
            audio_in,
            aenc,
            octx,
            picture: PictureDamage::default(),
            in_flight,
            last_us: 0,
            audio_fed_to_end: a_index.is_none(),
            watch,
            window_moved: false,
        })
    }

    /// Reads packets in file order until both sides have what they need.
    fn read_all(&mut self, ictx: &mut ff::format::context::Input) -> Result<(), FixError> {
        let mut packet = ff::Packet::empty();
        while read_packet(ictx, &mut packet, self.last_us)? {
            let index = packet.stream();
            let stop = if index == self.v_index {
                self.video_packet(&packet)?
            } else if Some(index) == self.a_index {
                self.audio_packet(&packet)?
            } else {
                false
            };
            if stop || self.window_moved {
                break;
            }
        }
        Ok(())
    }

    /// Decodes one video packet and encodes what comes out. True when the
    /// whole pass is done.
    fn video_packet(&mut self, packet: &ff::Packet) -> Result<bool, FixError> {
        if self.video.done {
            return Ok(self.audio_fed_to_end);
        }
        if let Some(ts) = packet.pts().or(packet.dts()) {
            self.last_us = to_us(ts, self.clock.tb) - self.clock.origin_us;
        }
        self.in_flight.sent(self.last_us);
        if let Err(e) = self.decoder.send_packet(packet) {
            if is_damage(&e) {
                let at = self.in_flight.result().unwrap_or(self.last_us);
                if self.clock.rejects(&mut self.picture, at) && self.watch.is_some() {
                    self.window_moved = true;
                }
                return Ok(false);
            }
        }
        self.decode_video()?;
        if self.video.done {
            self.video
                .finish_graph(&mut self.venc, &mut self.octx, self.t)?;
        }
        Ok(false)
    }

    /// Decodes one audio packet and encodes the sound the video has reached.
    /// True when the whole pass is done.
    fn audio_packet(&mut self, packet: &ff::Packet) -> Result<bool, FixError> {
        let Some(a) = self.audio_in.as_mut() else {
            return Ok(false);
        };
        if self.audio_fed_to_end {
            return Ok(false);
        }
        if a.feed(packet, self.clock.end_us)? {
            self.audio_fed_to_end = true;
        }
        if let Some(enc) = self.aenc.as_mut() {
            a.pull()?;
            let video_samples = samples_for(self.video.frames, self.t.fps, enc.rate);
            enc.release(a, video_samples, &mut self.octx)?;
        }
        Ok(self.audio_fed_to_end && self.video.done)
    }

    /// Takes every frame the decoder has ready: frames before the window are
    /// dropped, the window's end closes the picture side, the rest go through
    /// the filter graph to the encoder.
    fn decode_video(&mut self) -> Result<(), FixError> {
        let Clock {
            origin_us,
            start_us,
            end_us,
            tb,
        } = self.clock;
        let (t, video, decoded) = (self.t, &mut self.video, &mut self.decoded);
        loop {
            match self.decoder.receive_frame(decoded) {
                Ok(()) => {
                    self.in_flight.result();
                }
                Err(e) if is_damage(&e) => {
                    // Noted, and the loop ends: a decoder that keeps failing must
                    // not spin. The file fails once the decode is over.
                    let at = self.in_flight.result().unwrap_or(self.last_us);
                    if self.clock.rejects(&mut self.picture, at) && self.watch.is_some() {
                        self.window_moved = true;
                    }
                    return Ok(());
                }
                Err(_) => return Ok(()),
            }
            if video.done {
                continue;
            }
            video.budget.take(decoded)?;
            let Some(ts) = decoded.timestamp() else {
                continue;
            };
            let t_us = to_us(ts, tb) - origin_us;
            if t_us < start_us {
                // Frames before the window (decoded from the keyframe the seek
                // landed on) may lack references in open-GOP streams: not damage.
                continue;
            }
            if end_us.is_some_and(|end| t_us >= end) {
                video.done = true;
                continue;
            }
            self.picture.frame(decoded, t_us);
            if let Some(watch) = self.watch.as_mut() {
                if !watch.still_holds(decoded)? {
                    self.window_moved = true;
                    return Ok(());
                }
            }
            if video.graph.is_none() {
                let fill = border_colour(decoded, &t.geometry)?;
                video.graph = Some(video_graph(decoded, tb, t, fill)?);
            }
            let pts = ts - from_us(origin_us + start_us, tb);
            // Without a packet duration, a frame lasts as long as the one before.
            let duration = match decoded.packet().duration {
                d if d > 0 => d,
                _ => video.fed_end.map_or(1, |(last_pts, last_dur)| {
                    (pts - last_pts).max(last_dur).max(1)
                }),
            };
            video.fed_end = Some((pts, duration));
            decoded.set_pts(Some(pts));
            if let Some(graph) = video.graph.as_mut() {
                source(graph)?
                    .source()
                    .add(decoded)
                    .map_err(|e| video_error(format!("filter graph refused a frame: {e}")))?;
            }
            video.pull(&mut self.venc, &mut self.octx, t)?;
        }
    }

    /// Flushes decoder, filter graph and encoders in order, lengthens a short
    /// clip, and writes the trailer.
    fn finish(mut self) -> Result<Findings, FixError> {
        let t = self.t;
        if !self.video.done {
            let _ = self.decoder.send_eof();
            self.decode_video()?;
            self.video.finish_graph(&mut self.venc, &mut self.octx, t)?;
        }
        self.picture.check()?;
        if self.video.frames == 0 {
            return Err(video_error(
                "the video stream has no decodable frames in the kept window",
            ));
        }
        self.video.extend(&mut self.venc, &mut self.octx, t)?;
        self.venc.flush(&mut self.octx)?;
        if let (Some(a), Some(enc)) = (self.audio_in.as_mut(), self.aenc.as_mut()) {
            a.finish()?;
            let total = samples_for(self.video.frames, t.fps, enc.rate);
            enc.finish(total, a, &mut self.octx)?;
        }
        self.octx
            .write_trailer()
            .map_err(|e| video_error(format!("cannot finish the MP4: {e}")))?;
        Ok(Findings {
            sound: self
                .audio_in
                .as_ref()
                .map(|a| a.damage().clone())
                .unwrap_or_default(),
            concealed: self.picture.concealed,
        })
    }
}

/// A filter graph from the source `in` (filter `source`, set up with `args`)
/// through `chain` to the sink `out`. `what` names it in errors.
fn filter_graph(
    [source, sink]: [&str; 2],
    args: &str,
    chain: &str,
    what: &str,
) -> Result<ff::filter::Graph, FixError> {
    let err = |e: ff::Error| video_error(format!("cannot build the {what}: {e}"));
    let find =
        |name: &str| ff::filter::find(name).ok_or_else(|| video_error(format!("no {name} filter")));
    let mut graph = ff::filter::Graph::new();
    graph.add(&find(source)?, "in", args).map_err(err)?;
    graph.add(&find(sink)?, "out", "").map_err(err)?;
    graph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(chain))
        .map_err(err)?;
    graph.validate().map_err(err)?;
    Ok(graph)
}

/// Lands on the keyframe at or before the window; earlier frames are decoded
/// and dropped.
fn seek(ictx: &mut ff::format::context::Input, clock: Clock) -> Result<(), FixError> {
    if clock.start_us <= 0 {
        return Ok(());
    }
    let ts = clock.origin_us + clock.start_us;
    ictx.seek(ts, ..ts).map_err(|e| {
        video_error(format!(
            "cannot seek to {:.2} s: {e}",
            clock.start_us as f64 / 1e6
        ))
    })
}

/// The MP4 with x264 (and AAC when there is sound to encode), its header
/// written with the `moov` atom to go first.
fn open_output(
    output: &Path,
    t: &Target,
    rate: RateControl,
    audio_in: Option<&AudioInput>,
) -> Result<
    (
        ff::format::context::Output,
        VideoEncoder,
        Option<AudioEncoder>,
    ),
    FixError,
> {
    let mut octx = ff::format::output_as(&output, "mp4")
        .map_err(|e| video_error(format!("cannot create the output: {e}")))?;
    let mut venc = open_x264(&mut octx, t, rate)?;
    let mut aenc = match (audio_in, t.audio) {
        (
            Some(a),
            AudioPlan::Aac {
                bitrate,
                sample_rate,
            },
        ) => Some(open_aac(&mut octx, a.channels, bitrate, sample_rate)?),
        _ => None,
    };
    let mut opts = ff::Dictionary::new();
    opts.set("movflags", "+faststart");
    octx.write_header_with(opts)
        .map_err(|e| video_error(format!("cannot write the MP4 header: {e}")))?;
    venc.packets.read_time_base(&octx);
    if let Some(a) = aenc.as_mut() {
        a.packets.read_time_base(&octx);
    }
    Ok((octx, venc, aenc))
}

/// Whether the video stream's own duration, where the file states one, leaves
/// at least the minimum length from `start_us`, give or take two frames. The
/// container's duration can include a longer audio track, so the planner
/// allows for lengthening; this tells the encoder whether it must hold frames
/// for it. Holding them costs the minimum length in pictures (~400 MB for 3 s
/// of 3850x964), so a clip a frame or two short is lengthened by repeating its
/// last frame instead (80 ms at 24 fps, not visible as a pause).
fn video_reaches_minimum(
    ictx: &ff::format::context::Input,
    v_index: usize,
    start_us: i64,
    t: &Target,
) -> bool {
    let Some(stream) = ictx.stream(v_index) else {
        return false;
    };
    if stream.duration() <= 0 {
        return false;
    }
    let fps = i64::from(t.fps.max(1));
    let video_us = to_us(stream.duration(), stream.time_base()) - start_us;
    let min_us = t.min_frames as i64 * 1_000_000 / fps;
    video_us + 2 * 1_000_000 / fps >= min_us
}

pub(super) fn samples_for(frames: u64, fps: u32, rate: u32) -> u64 {
    frames * u64::from(rate) / u64::from(fps.max(1))
}
