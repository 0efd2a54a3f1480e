//! Hard cuts and leading black or frozen frames, from a decode of the video
//! reduced to a 64×36 grey thumbnail per frame (the decode itself is full size;
//! everything after it is a few kilobytes). Memory does not grow with length.

use std::path::Path;

use ff::software::scaling::{Context as Scaler, Flags};
use ffmpeg_next as ff;

use super::common::{
    audio_stream, is_damage, open_video, read_packet, start_time_us, to_us, video_decoder,
    video_error, FrameBudget,
};
use super::damage::{InFlight, PictureDamage};
use super::sample::FramePicker;
use super::sound::SoundDecoder;
use crate::error::FixError;
use crate::facts::Scenes;
use crate::limits::DecodeLimits;

const THUMB_W: u32 = 64;
const THUMB_H: u32 = 36;
/// Mean absolute luma difference (0–255) between consecutive thumbnails above
/// which a frame starts a new shot, if it is also far above the recent motion.
const CUT_DIFF: f64 = 28.0;
/// How many times the recent average difference a cut must exceed.
const CUT_RATIO: f64 = 4.0;
/// Mean luma under which a frame counts as black.
const BLACK_LUMA: f64 = 18.0;
/// Mean difference under which a frame repeats the previous one.
const FROZEN_DIFF: f64 = 0.6;

/// Decodes the video stream of `path`, up to the scan limits, and finds its
/// cuts, and the sound alongside for damage (`check --deep`). `threads`:
/// decoder threads (0: FFmpeg decides).
pub fn detect_scenes(
    path: &Path,
    threads: usize,
    limits: &DecodeLimits,
) -> Result<Scenes, FixError> {
    scan(path, threads, limits, None, None)
}

/// As `detect_scenes`, and in the same decode the frames at `times_us` as
/// small upright RGB pictures (`check --deep --content`: one decode for both).
pub(crate) fn detect_scenes_and_sample(
    path: &Path,
    limits: &DecodeLimits,
    times_us: &[u64],
    rotation: u16,
    max_side: u32,
) -> Result<(Scenes, Vec<super::sample::SampledFrame>), FixError> {
    let (ictx, _, tb) = open_video(path)?;
    let origin_us = start_time_us(&ictx);
    drop(ictx);
    let mut picker = FramePicker::new(times_us, origin_us, tb, rotation, max_side);
    let scenes = scan(path, 0, limits, None, Some(&mut picker))?;
    Ok((scenes, picker.frames))
}

/// As `detect_scenes`, for choosing a window of at most `max_us`: the scan
/// stops once a cut-free stretch of `max_us` has been seen (after any leading
/// black or frozen frames), since no later stretch can beat it (among equals
/// the earliest wins). `duration_us` is then where the scan stopped. The
/// sound is not decoded: the window does not depend on it.
pub(crate) fn scan_for_window(
    path: &Path,
    threads: usize,
    limits: &DecodeLimits,
    max_us: u64,
) -> Result<Scenes, FixError> {
    scan(path, threads, limits, Some(max_us), None)
}

fn scan(
    path: &Path,
    threads: usize,
    limits: &DecodeLimits,
    window_max_us: Option<u64>,
    mut picker: Option<&mut FramePicker>,
) -> Result<Scenes, FixError> {
    let (mut ictx, v_index, tb) = open_video(path)?;
    let origin_us = start_time_us(&ictx);
    let mut decoder = video_decoder(&ictx, v_index, threads, limits)?;
    skip_deblocking(&mut decoder);
    // The sound for `check --deep` only; one FFmpeg cannot decode is not
    // checked.
    let a_index = audio_stream(&ictx).filter(|_| window_max_us.is_none());
    let mut sound = a_index.and_then(|i| SoundDecoder::open(&ictx, i, origin_us, 0).ok());
    let mut state = Scan::new(origin_us, tb, limits);
    state.window_max_us = window_max_us;
    state.in_flight = Some(InFlight::new(&decoder));
    let mut packet = ff::Packet::empty();
    let mut frame = ff::frame::Video::empty();
    let mut last_us = 0;
    while read_packet(&mut ictx, &mut packet, last_us)? {
        if packet.stream() != v_index {
            if let Some(s) = sound.as_mut().filter(|_| Some(packet.stream()) == a_index) {
                s.send(&packet);
                s.drain()?;
            }
            continue;
        }
        if let Some(t) = packet.pts().or(packet.dts()) {
            last_us = to_us(t, tb) - origin_us;
        }
        state.picture.packet(last_us, packet.is_key());
        state.sent(last_us);
        if let Err(e) = decoder.send_packet(&packet) {
            if is_damage(&e) {
                state.rejected(last_us);
                continue;
            }
        }
        state.drain(&mut decoder, &mut frame, last_us, &mut picker)?;
        if state.done() {
            break;
        }
    }
    if !state.done() {
        // Flush: the decoder holds reordered frames until end of stream.
        let _ = decoder.send_eof();
        state.drain(&mut decoder, &mut frame, last_us, &mut picker)?;
        if let Some(s) = sound.as_mut() {
            s.send_eof();
            s.drain()?;
        }
    }
    if state.frames == 0 {
        return Err(video_error("the video stream has no decodable frames"));
    }
    let sound_damage = sound.map(|s| s.damage).unwrap_or_default();
    Ok(Scenes {
        sound_damage,
        ..state.finish()
    })
}

/// Watches the frames of an encode that keeps the start of the file for
/// `--segment auto` before the window is known, so that a clip whose first
/// `max_us` are cut-free is decoded once, not scanned and then encoded. The
/// guess fails, and the encode starts over from a scan, on a hard cut before
/// `max_us` or a start that is black or frozen.
pub(super) struct StartWatch {
    scan: Scan,
    max_us: u64,
    first_us: Option<u64>,
}

impl StartWatch {
    pub fn new(origin_us: i64, tb: ff::Rational, limits: &DecodeLimits, max_us: u64) -> Self {
        StartWatch {
            scan: Scan::new(origin_us, tb, limits),
            max_us,
            first_us: None,
        }
    }

    /// Takes the next decoded frame; false once the window cannot start the
    /// file.
    pub fn still_holds(&mut self, frame: &ff::frame::Video) -> Result<bool, FixError> {
        self.scan.frame(frame)?;
        let first = *self.first_us.get_or_insert(self.scan.last_us);
        // Motion from the first frame on: the content starts with it.
        let moving = match self.scan.content_start {
            Some(c) => c <= first,
            None => self.scan.frames < 2,
        };
        let cut = self.scan.cuts.iter().any(|&c| c < first + self.max_us);
        Ok(moving && !cut)
    }
}

/// Skips the in-loop deblocking (and HEVC's SAO) filters and allows the H.264
/// decoder's non-bit-exact shortcuts: they change edges by a few levels, which
/// a 64×36 area-averaged thumbnail cannot see, and a hard cut changes it by
/// tens. Frames are still all decoded: skipping non-reference frames would
/// move a cut that falls on one to the next decoded frame.
fn skip_deblocking(decoder: &mut ff::decoder::Video) {
    // SAFETY: fields of the open decoder's own context, read by the decoder
    // on every frame; setting them between packets is what the ffmpeg CLI's
    // `-skip_loop_filter` does before opening.
    unsafe {
        let ctx = decoder.as_mut_ptr();
        (*ctx).skip_loop_filter = ff::ffi::AVDiscard::AVDISCARD_ALL;
        (*ctx).flags2 |= ff::ffi::AV_CODEC_FLAG2_FAST;
    }
}

struct Scan {
    budget: FrameBudget,
    /// Rejected packets and concealed frames.
    picture: PictureDamage,
    /// The packets in the decoder (not when riding along an encode).
    in_flight: Option<InFlight>,
    stopped_early: bool,
    /// `--segment auto`: the window's maximum, to stop once it is decided.
    window_max_us: Option<u64>,
    decided: bool,
    origin_us: i64,
    tb: ff::Rational,
    scaler: Option<(Scaler, ff::format::Pixel, u32, u32)>,
    thumb: ff::frame::Video,
    previous: Vec<u8>,
    current: Vec<u8>,
    recent: f64,
    frames: u64,
    cuts: Vec<u64>,
    content_start: Option<u64>,
    first_content: Vec<u8>,
    last_us: u64,
    frame_us: u64,
}

impl Scan {
    fn new(origin_us: i64, tb: ff::Rational, limits: &DecodeLimits) -> Scan {
        Scan {
            budget: FrameBudget::new(limits),
            picture: PictureDamage::default(),
            in_flight: None,
            stopped_early: false,
            window_max_us: None,
            decided: false,
            origin_us,
            tb,
            scaler: None,
            thumb: ff::frame::Video::empty(),
            previous: Vec::new(),
            current: Vec::new(),
            recent: 0.0,
            frames: 0,
            cuts: Vec::new(),
            content_start: None,
            first_content: Vec::new(),
            last_us: 0,
            frame_us: 0,
        }
    }

    /// A video packet at `at_us` goes to the decoder.
    fn sent(&mut self, at_us: i64) {
        if let Some(q) = self.in_flight.as_mut() {
            q.sent(at_us);
        }
    }

    /// The decoder refused a packet (the one it is about, placed by the
    /// packets in flight; `at_us` is the latest one sent).
    fn rejected(&mut self, at_us: i64) {
        let at = self.in_flight.as_mut().and_then(InFlight::result);
        self.picture.reject(at.unwrap_or(at_us));
    }

    fn drain(
        &mut self,
        decoder: &mut ff::decoder::Video,
        frame: &mut ff::frame::Video,
        at_us: i64,
        picker: &mut Option<&mut FramePicker>,
    ) -> Result<(), FixError> {
        loop {
            match decoder.receive_frame(frame) {
                Ok(()) => {
                    if let Some(q) = self.in_flight.as_mut() {
                        q.result();
                    }
                    if self.done() {
                        // Frames the decoder still held past the limit.
                        continue;
                    }
                    let shown_us = frame
                        .timestamp()
                        .map_or(at_us, |ts| to_us(ts, self.tb) - self.origin_us);
                    self.picture.frame(frame, shown_us);
                    self.frame(frame)?;
                    if let Some(p) = picker.as_deref_mut() {
                        p.offer(frame)?;
                    }
                }
                Err(e) if is_damage(&e) => {
                    // Noted; a decoder that keeps failing must not spin.
                    self.rejected(at_us);
                    return Ok(());
                }
                Err(_) => return Ok(()),
            }
        }
    }

    fn frame(&mut self, frame: &ff::frame::Video) -> Result<(), FixError> {
        let (fmt, w, h) = (frame.format(), frame.width(), frame.height());
        if w == 0 || h == 0 {
            return Ok(());
        }
        self.budget.take(frame)?;
        let stale =
            !matches!(&self.scaler, Some((_, f, sw, sh)) if *f == fmt && *sw == w && *sh == h);
        if stale {
            let scaler = Scaler::get(
                fmt,
                w,
                h,
                ff::format::Pixel::GRAY8,
                THUMB_W,
                THUMB_H,
                Flags::AREA,
            )
            .map_err(|e| video_error(format!("cannot scale the picture: {e}")))?;
            self.scaler = Some((scaler, fmt, w, h));
        }
        if let Some((scaler, ..)) = self.scaler.as_mut() {
            scaler
                .run(frame, &mut self.thumb)
                .map_err(|e| video_error(format!("cannot scale the picture: {e}")))?;
        }
        let stride = self.thumb.stride(0);
        let data = self.thumb.data(0);
        self.current.clear();
        for row in 0..THUMB_H as usize {
            let start = row * stride;
            if let Some(line) = data.get(start..start + THUMB_W as usize) {
                self.current.extend_from_slice(line);
            }
        }
        let t_us = frame
            .timestamp()
            .map(|ts| (to_us(ts, self.tb) - self.origin_us).max(0) as u64)
            .unwrap_or(self.last_us + self.frame_us);
        if self.frames > 0 && t_us > self.last_us {
            let step = t_us - self.last_us;
            self.frame_us = if self.frame_us == 0 {
                step
            } else {
                self.frame_us.min(step)
            };
        }
        let mean = mean(&self.current);
        if self.content_start.is_none() {
            let frozen = self.frames > 0 && diff(&self.current, &self.first_content) < FROZEN_DIFF;
            if mean < BLACK_LUMA {
                // Still black.
            } else if self.first_content.is_empty() {
                self.first_content = self.current.clone();
            } else if !frozen {
                // Motion begins: the content starts with the last frame that
                // matched the first non-black one.
                self.content_start = Some(self.last_us);
            }
        }
        if self.frames > 0 && self.previous.len() == self.current.len() {
            let d = diff(&self.current, &self.previous);
            if d > CUT_DIFF && d > CUT_RATIO * self.recent.max(1.0) {
                self.cuts.push(t_us);
            } else {
                self.recent = 0.8 * self.recent + 0.2 * d;
            }
        }
        std::mem::swap(&mut self.previous, &mut self.current);
        self.last_us = t_us;
        self.frames += 1;
        // At a limit the scan ends here, with what it has: a long film is
        // scanned for its first minutes, not decoded whole.
        if self.budget.exhausted() || t_us >= self.budget.limits().max_scan_us {
            self.stopped_early = true;
        }
        self.decided = self.window_decided(t_us);
        Ok(())
    }

    /// Whether the stretch since the last cut or damaged picture (or since
    /// the motion began) is already as long as the window may be.
    fn window_decided(&self, t_us: u64) -> bool {
        let (Some(max_us), Some(content)) = (self.window_max_us, self.content_start) else {
            return false;
        };
        if self.picture.open() {
            return false;
        }
        let from = self
            .cuts
            .last()
            .copied()
            .into_iter()
            .chain(self.picture.rejected.last_us())
            .fold(content, u64::max);
        t_us + self.frame_us >= from + max_us
    }

    fn done(&self) -> bool {
        self.stopped_early || self.decided
    }

    fn finish(self) -> Scenes {
        let content_start_us = self.content_start.unwrap_or(0);
        Scenes {
            cuts_us: self.cuts,
            content_start_us,
            duration_us: self.last_us + self.frame_us,
            frames: self.frames,
            stopped_early: self.stopped_early,
            picture_damage: self.picture.rejected,
            concealed: self.picture.concealed,
            sound_damage: Default::default(),
        }
    }
}

fn mean(pixels: &[u8]) -> f64 {
    if pixels.is_empty() {
        return 0.0;
    }
    pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / pixels.len() as f64
}

/// The mean absolute difference of two equally long byte buffers, in levels
/// (`f64::MAX` when their lengths differ).
pub(crate) fn diff(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return f64::MAX;
    }
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x.abs_diff(y)))
        .sum::<f64>()
        / a.len() as f64
}
