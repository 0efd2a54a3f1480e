//! Damage a decode finds, kept per stream. The picture and the sound are
//! treated differently: a video packet the decoder rejects would be uploaded
//! as smeared frames, so the repair refuses it (saying where); a frame the
//! decoder conceals is delivered with an advisory. A damaged audio frame
//! becomes silence of the same length (see `sound`), so one bad frame does
//! not sink a good picture.

use std::collections::VecDeque;

use ffmpeg_next as ff;

use super::common::video_error;
use crate::check::picture_damage_message;
use crate::error::FixError;
use crate::facts::Damage;

/// A time in microseconds as a place in a [`Damage`] (times before the
/// origin count as 0).
pub(super) fn place(us: i64) -> u64 {
    us.max(0) as u64
}

/// The damage one pass over the video finds.
#[derive(Default)]
pub(super) struct PictureDamage {
    /// Packets the decoder rejected; each span is lengthened up to the next
    /// keyframe, since the frames between refer to what was lost.
    pub rejected: Damage,
    /// Frames returned flagged as damaged (the decoder concealed the loss).
    pub concealed: Damage,
    /// A packet was rejected and no keyframe has come since.
    open: bool,
}

impl PictureDamage {
    /// A packet at `at_us` the decoder refused.
    pub fn reject(&mut self, at_us: i64) {
        self.rejected.note(place(at_us), place(at_us));
        self.open = true;
    }

    /// Any video packet read at `at_us` (before it is decoded): after a
    /// rejected packet, the damage runs on until a keyframe.
    pub fn packet(&mut self, at_us: i64, is_key: bool) {
        if !self.open {
            return;
        }
        if is_key {
            self.open = false;
        }
        self.rejected.cover(place(at_us), place(at_us));
    }

    /// A decoded frame shown at `at_us`; true when the decoder flagged it.
    pub fn frame(&mut self, frame: &ff::frame::Video, at_us: i64) -> bool {
        self.concealed.decoded += 1;
        if !frame_is_damaged(frame) {
            return false;
        }
        self.concealed.note(place(at_us), place(at_us));
        true
    }

    /// Damage that has not yet been followed by a keyframe.
    pub fn open(&self) -> bool {
        self.open
    }

    /// `Err` naming where the picture is damaged, when a packet was rejected.
    pub fn check(&self) -> Result<(), FixError> {
        if self.rejected.is_empty() {
            Ok(())
        } else {
            Err(video_error(picture_damage_message(&self.rejected)))
        }
    }
}

/// The decoder returned the frame but says it is damaged: flagged corrupt,
/// or with decode errors it concealed (an MPEG-4 frame whose texture was
/// overwritten comes out with `decode_error_flags` only).
pub(super) fn frame_is_damaged(frame: &ff::Frame) -> bool {
    frame.is_corrupt() || frame.has_decode_errors()
}

/// Replaces the samples of `frame` with silence, keeping its length, format
/// and time.
pub(super) fn silence(frame: &mut ff::frame::Audio) -> Result<(), FixError> {
    let samples = frame.samples() as i32;
    let channels = i32::from(frame.channels());
    let format: ff::ffi::AVSampleFormat = frame.format().into();
    // SAFETY: the frame was filled by a decoder: `extended_data` holds one
    // plane per channel (planar) or one in all (packed), each of
    // `nb_samples`. It is made writable first (the decoder may keep a
    // reference to its buffer); av_samples_set_silence writes the format's
    // silence (0x80 for unsigned 8-bit), never beyond `nb_samples`.
    unsafe {
        let ptr = frame.as_mut_ptr();
        if ff::ffi::av_frame_make_writable(ptr) < 0 {
            return Err(video_error("cannot silence a damaged audio frame"));
        }
        ff::ffi::av_samples_set_silence((*ptr).extended_data, 0, samples, channels, format);
    }
    Ok(())
}

/// Which packet a video decoder's result is about, to place a rejected
/// packet where it is. With frame threading over `n` threads, the call that
/// takes a packet returns the result (a frame, nothing, or an error) of the
/// packet sent `n - 1` calls before, in order; without, of the packet just
/// sent.
pub(super) struct InFlight {
    /// Times of the packets whose result has not been seen, oldest first.
    times: VecDeque<i64>,
    /// Packets at most in the decoder: its frame threads, or 1.
    depth: usize,
}

impl InFlight {
    pub fn new(decoder: &ff::decoder::Video) -> Self {
        // SAFETY: plain fields of the open decoder's context, which FFmpeg
        // set when it opened it.
        let depth = unsafe {
            let ctx = decoder.as_ptr();
            if (*ctx).active_thread_type & ff::ffi::FF_THREAD_FRAME != 0 {
                (*ctx).thread_count.clamp(1, 256) as usize
            } else {
                1
            }
        };
        InFlight::with_depth(depth)
    }

    fn with_depth(depth: usize) -> Self {
        InFlight {
            times: VecDeque::with_capacity(depth + 1),
            depth,
        }
    }

    /// A packet at `at_us` goes to the decoder. Older packets beyond the
    /// depth had their result already (one that gave no frame, unseen).
    pub fn sent(&mut self, at_us: i64) {
        self.times.push_back(at_us);
        while self.times.len() > self.depth {
            self.times.pop_front();
        }
    }

    /// The decoder returned a result (a frame or an error): the time of the
    /// packet it is about, when known.
    pub fn result(&mut self) -> Option<i64> {
        self.times.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_placed_at_its_packet_under_frame_threading() {
        // Two threads: the call that takes packet n returns the result of
        // packet n - 1; packet 2 gave no frame (unseen), packet 3 an error.
        let mut q = InFlight::with_depth(2);
        q.sent(0);
        q.sent(40);
        assert_eq!(q.result(), Some(0)); // frame of packet 0
        q.sent(80);
        assert_eq!(q.result(), Some(40)); // frame of packet 1
        q.sent(120); // packet 2's result: nothing
        q.sent(160);
        assert_eq!(q.result(), Some(120)); // the error is packet 3's
                                           // At the end, what is left comes out in order.
        assert_eq!(q.result(), Some(160));
        assert_eq!(q.result(), None);
        // One thread: the result is the packet just sent.
        let mut one = InFlight::with_depth(1);
        one.sent(0);
        one.sent(40);
        assert_eq!(one.result(), Some(40));
    }

    #[test]
    fn damage_runs_to_the_next_keyframe() {
        let mut p = PictureDamage::default();
        p.packet(0, true);
        p.reject(2_800_000);
        assert!(p.open());
        p.packet(2_840_000, false);
        p.packet(4_000_000, true);
        assert!(!p.open());
        p.packet(4_040_000, false);
        assert_eq!(p.rejected.spans, [(2_800_000, 4_000_000)]);
        assert_eq!(p.rejected.count, 1);
        assert!(p.check().is_err());
        assert!(PictureDamage::default().check().is_ok());
    }
}
