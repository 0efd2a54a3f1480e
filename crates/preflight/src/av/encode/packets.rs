//! The muxer side of an encoder, one for x264 and one for AAC: the output
//! stream is added and the encoder opened for it; packets are drained from the
//! encoder until it wants more input, given their stream and time base, and
//! written interleaved.

use ffmpeg_next as ff;

use super::super::common::{is_damage, video_error};
use crate::error::FixError;

/// Adds a `kind` ("video", "audio") stream for `codec` to `octx` and opens
/// its encoder with time base `tb`: `open` sets up the fresh codec context
/// (its own settings) and opens it.
pub(super) fn add_encoder<E: AsRef<ff::codec::Context>>(
    octx: &mut ff::format::context::Output,
    codec: ff::Codec,
    tb: ff::Rational,
    kind: &str,
    open: impl FnOnce(ff::encoder::Encoder) -> Result<E, FixError>,
) -> Result<E, FixError> {
    let global = octx
        .format()
        .flags()
        .contains(ff::format::flag::Flags::GLOBAL_HEADER);
    let mut ost = octx
        .add_stream(codec)
        .map_err(|e| video_error(format!("cannot add the {kind} stream: {e}")))?;
    let mut context = ff::codec::context::Context::new_with_codec(codec).encoder();
    context.set_time_base(tb);
    if global {
        // Added to the codec's own default flags, not in their place:
        // libx264's defaults ask for closed GOPs, and without them x264 makes
        // open-GOP I-frames that the MP4 marks as keyframes, where a seek or
        // a cut lands on B-frames it cannot decode.
        // SAFETY: a plain field of the context this function owns.
        let defaults = unsafe { (*context.as_ptr()).flags };
        let defaults = ff::codec::Flags::from_bits_truncate(defaults as _);
        context.set_flags(defaults | ff::codec::Flags::GLOBAL_HEADER);
    }
    let encoder = open(context)?;
    ost.set_parameters(&encoder);
    ost.set_time_base(tb);
    Ok(encoder)
}

/// Where an encoder's packets go.
pub(super) struct PacketOut {
    /// The output stream's index.
    stream: usize,
    /// The encoder's time base.
    tb: ff::Rational,
    /// The muxer's, known after `write_header`.
    out_tb: ff::Rational,
    /// Set on every packet when given (in `tb`): one frame per packet at a
    /// constant rate, or the muxer gives the last frame no duration.
    duration: Option<i64>,
    /// The encoder as the errors name it.
    name: &'static str,
    packet: ff::Packet,
}

impl PacketOut {
    pub fn new(
        stream: usize,
        tb: ff::Rational,
        duration: Option<i64>,
        name: &'static str,
    ) -> PacketOut {
        PacketOut {
            stream,
            tb,
            out_tb: tb,
            duration,
            name,
            packet: ff::Packet::empty(),
        }
    }

    /// The muxer may change the time base it was given: read it after the
    /// header is written.
    pub fn read_time_base(&mut self, octx: &ff::format::context::Output) {
        self.out_tb = octx.stream(self.stream).map_or(self.tb, |s| s.time_base());
    }

    /// Writes every packet the encoder has ready.
    pub fn drain(
        &mut self,
        encoder: &mut ff::encoder::Encoder,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), FixError> {
        loop {
            match encoder.receive_packet(&mut self.packet) {
                Ok(()) => {
                    if let Some(duration) = self.duration {
                        self.packet.set_duration(duration);
                    }
                    self.packet.set_stream(self.stream);
                    self.packet.rescale_ts(self.tb, self.out_tb);
                    self.packet
                        .write_interleaved(octx)
                        .map_err(|e| video_error(format!("cannot write a packet: {e}")))?;
                }
                Err(e) if is_damage(&e) => {
                    return Err(video_error(format!("{} failed: {e}", self.name)));
                }
                Err(_) => return Ok(()),
            }
        }
    }

    /// Ends the encoder's input and writes what it still holds. `what` names
    /// the encoder in the error.
    pub fn flush(
        &mut self,
        encoder: &mut ff::encoder::Encoder,
        octx: &mut ff::format::context::Output,
        what: &str,
    ) -> Result<(), FixError> {
        encoder
            .send_eof()
            .map_err(|e| video_error(format!("cannot flush {what}: {e}")))?;
        self.drain(encoder, octx)
    }
}
