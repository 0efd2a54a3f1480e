//! The sound side of a pass: decoded, cut to the window and resampled by a
//! filter graph, then encoded as AAC no further than the video has come, and
//! at the end to exactly the video's length (silence where the sound stops,
//! and in place of every frame the decoder rejected or flagged).

use std::collections::VecDeque;

use ffmpeg_next as ff;

use super::super::common::{from_us, video_error};
use super::super::sound::SoundDecoder;
use super::filter_graph;
use super::filters::{audio_buffer_args, audio_filters};
use super::packets::{add_encoder, PacketOut};
use crate::error::FixError;
use crate::facts::Damage;
use crate::plan::video::AUDIO_RATE;

/// The sound side of a pass: decoder, filter graph, and the filtered frames
/// waiting for the video.
pub(in crate::av) struct AudioInput {
    decoder: SoundDecoder,
    graph: Option<ff::filter::Graph>,
    pub channels: u16,
    /// Filtered frames waiting for the video to catch up.
    queue: VecDeque<ff::frame::Audio>,
    /// Where the output starts, in source time: the container's start plus
    /// the kept window's.
    shift_us: i64,
}

impl AudioInput {
    /// The sound of stream `index`, kept from `start_us` after the
    /// container's start `origin_us`.
    pub fn new(
        ictx: &ff::format::context::Input,
        index: usize,
        origin_us: i64,
        start_us: i64,
    ) -> Result<AudioInput, FixError> {
        let decoder = SoundDecoder::open(ictx, index, origin_us, start_us)?;
        let channels = decoder.channels().clamp(1, 2);
        Ok(AudioInput {
            decoder,
            graph: None,
            channels,
            queue: VecDeque::new(),
            shift_us: origin_us + start_us,
        })
    }

    /// What the decoder found: rejected packets and flagged frames (each
    /// replaced with silence), from the window's start, in source time.
    pub fn damage(&self) -> &Damage {
        &self.decoder.damage
    }

    /// Decodes one packet into the graph. Returns true once the window's end
    /// has been reached.
    pub fn feed(&mut self, packet: &ff::Packet, end_us: Option<i64>) -> Result<bool, FixError> {
        let at = self.decoder.time_of(packet);
        if at.is_some_and(|at| end_us.is_some_and(|end| at >= end)) {
            return Ok(true);
        }
        self.decoder.send(packet);
        self.receive()?;
        Ok(false)
    }

    pub fn finish(&mut self) -> Result<(), FixError> {
        self.decoder.send_eof();
        self.receive()?;
        if let Some(graph) = self.graph.as_mut() {
            let _ = graph
                .get("in")
                .ok_or_else(|| video_error("audio graph has no input"))?
                .source()
                .flush();
        }
        Ok(())
    }

    /// Moves every decoded frame into the graph, timed from the output's
    /// start. Packets the decoder rejected leave a gap in time, which the
    /// graph's resampler fills with silence.
    fn receive(&mut self) -> Result<(), FixError> {
        let tb = self.decoder.tb;
        let shift = from_us(self.shift_us, tb);
        while let Some(frame) = self.decoder.next_frame()? {
            if self.graph.is_none() {
                self.graph = Some(build_graph(frame, tb, self.channels)?);
            }
            let ts = frame.timestamp().unwrap_or(shift);
            frame.set_pts(Some(ts - shift));
            if let Some(graph) = self.graph.as_mut() {
                graph
                    .get("in")
                    .ok_or_else(|| video_error("audio graph has no input"))?
                    .source()
                    .add(frame)
                    .map_err(|e| video_error(format!("audio filter refused a frame: {e}")))?;
            }
        }
        Ok(())
    }

    /// Moves the frames the graph has ready to the queue. Not called after the
    /// input has ended: `apad` would then produce silence without end, and
    /// `next_tail` pulls exactly what is needed instead.
    pub fn pull(&mut self) -> Result<(), FixError> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        let mut out = graph
            .get("out")
            .ok_or_else(|| video_error("audio graph has no output"))?;
        let mut sink = out.sink();
        loop {
            let mut f = ff::frame::Audio::empty();
            if sink.frame(&mut f).is_err() {
                return Ok(());
            }
            self.queue.push_back(f);
        }
    }

    fn next_tail(&mut self) -> Option<ff::frame::Audio> {
        if let Some(f) = self.queue.pop_front() {
            return Some(f);
        }
        let graph = self.graph.as_mut()?;
        let mut out = graph.get("out")?;
        let mut f = ff::frame::Audio::empty();
        out.sink().frame(&mut f).ok()?;
        Some(f)
    }
}

/// The sound's filter graph, set up from the first decoded frame.
fn build_graph(
    f: &ff::frame::Audio,
    tb: ff::Rational,
    channels: u16,
) -> Result<ff::filter::Graph, FixError> {
    let args = audio_buffer_args(
        (tb.numerator(), tb.denominator()),
        f.rate(),
        f.format().name(),
        f.channel_layout().bits(),
        f.channels(),
    );
    let chain = audio_filters(channels, AUDIO_RATE);
    let mut graph = filter_graph(
        ["abuffer", "abuffersink"],
        &args,
        &chain,
        "audio filter graph",
    )?;
    if let Some(mut out) = graph.get("out") {
        out.sink().set_frame_size(1024);
    }
    Ok(graph)
}

/// The AAC encoder and its output stream (the second).
pub(in crate::av) struct AudioEncoder {
    encoder: ff::encoder::Audio,
    pub(super) packets: PacketOut,
    pub rate: u32,
    emitted: u64,
    layout: ff::ChannelLayout,
}

/// Adds the AAC stream to `octx` and opens the encoder.
pub(in crate::av) fn open_aac(
    octx: &mut ff::format::context::Output,
    channels: u16,
    bitrate: u64,
    rate: u32,
) -> Result<AudioEncoder, FixError> {
    let codec = ff::encoder::find(ff::codec::Id::AAC)
        .ok_or_else(|| video_error("FFmpeg was built without an AAC encoder"))?;
    let layout = if channels == 1 {
        ff::ChannelLayout::MONO
    } else {
        ff::ChannelLayout::STEREO
    };
    let tb = ff::Rational(1, rate as i32);
    let encoder = add_encoder(octx, codec, tb, "audio", |context| {
        let mut enc = context
            .audio()
            .map_err(|e| video_error(format!("cannot set up AAC: {e}")))?;
        enc.set_rate(rate as i32);
        enc.set_channel_layout(layout);
        enc.set_channels(layout.channels());
        enc.set_format(ff::format::Sample::F32(ff::format::sample::Type::Planar));
        enc.set_bit_rate(bitrate as usize);
        enc.open_as(codec)
            .map_err(|e| video_error(format!("cannot open the AAC encoder: {e}")))
    })?;
    Ok(AudioEncoder {
        encoder,
        packets: PacketOut::new(1, tb, None, "AAC encoder"),
        rate,
        emitted: 0,
        layout,
    })
}

impl AudioEncoder {
    /// The muxer may change the time base it was given: read it after the
    /// header is written.
    pub fn read_time_base(&mut self, octx: &ff::format::context::Output) {
        self.packets.read_time_base(octx);
    }

    fn send(
        &mut self,
        frame: &mut ff::frame::Audio,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), FixError> {
        frame.set_pts(Some(self.emitted as i64));
        self.emitted += frame.samples() as u64;
        self.encoder
            .send_frame(frame)
            .map_err(|e| video_error(format!("AAC encoder refused a frame: {e}")))?;
        self.packets.drain(&mut self.encoder, octx)
    }

    /// Encodes the queued frames that end within the video's current length, so
    /// that the sound can be cut at the video's final length without having
    /// been encoded past it.
    pub fn release(
        &mut self,
        input: &mut AudioInput,
        video_samples: u64,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), FixError> {
        while let Some(front) = input.queue.front() {
            if self.emitted + front.samples() as u64 > video_samples {
                break;
            }
            if let Some(mut frame) = input.queue.pop_front() {
                self.send(&mut frame, octx)?;
            }
        }
        Ok(())
    }

    /// Encodes exactly `total` samples: queued sound, then silence from `apad`.
    pub fn finish(
        &mut self,
        total: u64,
        input: &mut AudioInput,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), FixError> {
        while self.emitted < total {
            let mut frame = match input.next_tail() {
                Some(f) if f.samples() > 0 => f,
                _ => self.silence((total - self.emitted).min(1024) as usize),
            };
            let left = total - self.emitted;
            if frame.samples() as u64 > left {
                frame.set_samples(left as usize);
            }
            self.send(&mut frame, octx)?;
        }
        self.packets
            .flush(&mut self.encoder, octx, "the AAC encoder")
    }

    fn silence(&self, samples: usize) -> ff::frame::Audio {
        let mut f = ff::frame::Audio::new(
            ff::format::Sample::F32(ff::format::sample::Type::Planar),
            samples,
            self.layout,
        );
        f.set_rate(self.rate);
        for plane in 0..f.planes() {
            f.data_mut(plane).fill(0);
        }
        f
    }
}
