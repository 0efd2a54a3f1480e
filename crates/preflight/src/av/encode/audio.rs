//! The sound side of a pass: decoded, cut to the window and resampled by a
//! filter graph, then encoded as AAC no further than the video has come, and
//! at the end to exactly the video's length (silence where the sound stops).

use std::collections::VecDeque;

use ffmpeg_next as ff;

use super::super::common::{from_us, is_damage, to_us, video_error, DamageCount};
use super::filter_graph;
use super::filters::{audio_buffer_args, audio_filters};
use super::packets::{add_encoder, PacketOut};
use crate::error::FixError;
use crate::plan::video::AUDIO_RATE;

/// The sound side of a pass: decoder, filter graph, and the filtered frames
/// waiting for the video.
pub(in crate::av) struct AudioInput {
    decoder: ff::decoder::Audio,
    tb: ff::Rational,
    graph: Option<ff::filter::Graph>,
    pub channels: u16,
    frame: ff::frame::Audio,
    /// Filtered frames waiting for the video to catch up.
    queue: VecDeque<ff::frame::Audio>,
    origin_us: i64,
    start_us: i64,
    last_us: i64,
}

impl AudioInput {
    pub fn new(ictx: &ff::format::context::Input, index: usize) -> Result<AudioInput, FixError> {
        let st = ictx
            .stream(index)
            .ok_or_else(|| video_error("no audio stream"))?;
        let tb = st.time_base();
        let ctx = ff::codec::context::Context::from_parameters(st.parameters())
            .map_err(|e| video_error(format!("cannot read the audio parameters: {e}")))?;
        let decoder = ctx
            .decoder()
            .audio()
            .map_err(|e| video_error(format!("no decoder for this audio codec: {e}")))?;
        let channels = decoder.channels().clamp(1, 2);
        Ok(AudioInput {
            decoder,
            tb,
            graph: None,
            channels,
            frame: ff::frame::Audio::empty(),
            queue: VecDeque::new(),
            origin_us: 0,
            start_us: 0,
            last_us: 0,
        })
    }

    /// Decodes one packet into the graph. Returns true once the window's end
    /// has been reached.
    pub fn feed(
        &mut self,
        packet: &ff::Packet,
        origin_us: i64,
        start_us: i64,
        end_us: Option<i64>,
        damage: &mut DamageCount,
    ) -> Result<bool, FixError> {
        self.origin_us = origin_us;
        self.start_us = start_us;
        if let Some(ts) = packet.pts() {
            self.last_us = to_us(ts, self.tb) - origin_us;
            if end_us.is_some_and(|end| self.last_us >= end) {
                return Ok(true);
            }
        }
        if let Err(e) = self.decoder.send_packet(packet) {
            if is_damage(&e) {
                damage.note(self.last_us);
                return Ok(false);
            }
        }
        self.receive(damage)?;
        Ok(false)
    }

    pub fn finish(&mut self, damage: &mut DamageCount) -> Result<(), FixError> {
        let _ = self.decoder.send_eof();
        self.receive(damage)?;
        if let Some(graph) = self.graph.as_mut() {
            let _ = graph
                .get("in")
                .ok_or_else(|| video_error("audio graph has no input"))?
                .source()
                .flush();
        }
        Ok(())
    }

    fn receive(&mut self, damage: &mut DamageCount) -> Result<(), FixError> {
        loop {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => {}
                Err(e) if is_damage(&e) => {
                    damage.note(self.last_us);
                    return Ok(());
                }
                Err(_) => return Ok(()),
            }
            if self.frame.samples() == 0 {
                continue;
            }
            if self.graph.is_none() {
                self.graph = Some(self.build_graph()?);
            }
            let shift = from_us(self.origin_us + self.start_us, self.tb);
            let ts = self.frame.timestamp().unwrap_or(shift);
            self.frame.set_pts(Some(ts - shift));
            if let Some(graph) = self.graph.as_mut() {
                graph
                    .get("in")
                    .ok_or_else(|| video_error("audio graph has no input"))?
                    .source()
                    .add(&self.frame)
                    .map_err(|e| video_error(format!("audio filter refused a frame: {e}")))?;
            }
        }
    }

    fn build_graph(&self) -> Result<ff::filter::Graph, FixError> {
        let f = &self.frame;
        let args = audio_buffer_args(
            (self.tb.numerator(), self.tb.denominator()),
            f.rate(),
            f.format().name(),
            f.channel_layout().bits(),
            f.channels(),
        );
        let chain = audio_filters(self.channels, AUDIO_RATE);
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
