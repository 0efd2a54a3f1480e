//! The audio decoder every pass shares (re-encode, a remux that copies or
//! encodes the sound, `check --deep`): it counts damage instead of failing. A
//! packet it rejects yields nothing (the gap in time is filled with silence
//! downstream, by the resampler), and a frame it returns flagged as damaged
//! is silenced in place, so the sound keeps its length and its sync.

use ffmpeg_next as ff;

use super::common::{is_damage, to_us, video_error};
use super::damage::{frame_is_damaged, place, silence};
use crate::error::FixError;
use crate::facts::Damage;

pub(super) struct SoundDecoder {
    decoder: ff::decoder::Audio,
    /// The stream's time base.
    pub tb: ff::Rational,
    frame: ff::frame::Audio,
    /// The container's start time: damage is placed from it.
    origin_us: i64,
    /// Damage before this (source time from the origin) is not counted:
    /// sound decoded on the way to the kept window.
    from_us: i64,
    /// Time of the latest packet, from the origin.
    last_us: i64,
    /// Length of the latest packet (for placing damage), microseconds.
    last_len_us: i64,
    /// What was found, in source time from the origin.
    pub damage: Damage,
}

impl SoundDecoder {
    /// A decoder for stream `index` of `ictx`; damage is counted from
    /// `from_us` (source time after `origin_us`, the container's start).
    pub fn open(
        ictx: &ff::format::context::Input,
        index: usize,
        origin_us: i64,
        from_us: i64,
    ) -> Result<SoundDecoder, FixError> {
        let st = ictx
            .stream(index)
            .ok_or_else(|| video_error("no audio stream"))?;
        let ctx = ff::codec::context::Context::from_parameters(st.parameters())
            .map_err(|e| video_error(format!("cannot read the audio parameters: {e}")))?;
        let decoder = ctx
            .decoder()
            .audio()
            .map_err(|e| video_error(format!("no decoder for this audio codec: {e}")))?;
        Ok(SoundDecoder {
            decoder,
            tb: st.time_base(),
            frame: ff::frame::Audio::empty(),
            origin_us,
            from_us,
            last_us: 0,
            last_len_us: 0,
            damage: Damage::default(),
        })
    }

    /// Channels the decoder reports.
    pub fn channels(&self) -> u16 {
        self.decoder.channels()
    }

    /// When `packet` starts, from the origin, if it says.
    pub fn time_of(&self, packet: &ff::Packet) -> Option<i64> {
        packet
            .pts()
            .or(packet.dts())
            .map(|ts| to_us(ts, self.tb) - self.origin_us)
    }

    /// Sends one packet. A packet the decoder rejects is counted as damage.
    pub fn send(&mut self, packet: &ff::Packet) {
        if let Some(at) = self.time_of(packet) {
            self.last_us = at;
        }
        self.last_len_us = to_us(packet.duration().max(0), self.tb);
        let counted = self.last_us >= self.from_us;
        if counted {
            self.damage.decoded += 1;
        }
        if let Err(e) = self.decoder.send_packet(packet) {
            if is_damage(&e) && counted {
                self.note(self.last_us, self.last_len_us);
            }
        }
    }

    /// Ends the input: the frames the decoder holds come out next.
    pub fn send_eof(&mut self) {
        let _ = self.decoder.send_eof();
    }

    /// The next decoded frame (a damaged one silenced), or `None` when the
    /// decoder wants another packet or is done.
    pub fn next_frame(&mut self) -> Result<Option<&mut ff::frame::Audio>, FixError> {
        loop {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => {}
                Err(e) if is_damage(&e) => {
                    // Noted, and nothing more from this packet: a decoder
                    // that keeps failing must not spin.
                    if self.last_us >= self.from_us {
                        self.note(self.last_us, self.last_len_us);
                    }
                    return Ok(None);
                }
                Err(_) => return Ok(None),
            }
            if self.frame.samples() == 0 {
                continue;
            }
            if frame_is_damaged(&self.frame) {
                let at = self
                    .frame
                    .timestamp()
                    .map_or(self.last_us, |ts| to_us(ts, self.tb) - self.origin_us);
                let len = self.frame.samples() as i64 * 1_000_000 / i64::from(self.rate());
                if at >= self.from_us {
                    self.note(at, len);
                }
                silence(&mut self.frame)?;
            }
            return Ok(Some(&mut self.frame));
        }
    }

    /// Decodes whatever is pending and drops the frames: a check of sound
    /// that is copied, not encoded.
    pub fn drain(&mut self) -> Result<(), FixError> {
        while self.next_frame()?.is_some() {}
        Ok(())
    }

    fn rate(&self) -> u32 {
        self.frame.rate().max(1)
    }

    fn note(&mut self, at_us: i64, len_us: i64) {
        self.damage
            .note(place(at_us), place(at_us.saturating_add(len_us.max(0))));
    }
}
