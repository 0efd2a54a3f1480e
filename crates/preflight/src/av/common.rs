//! Pieces the remuxer, the encoder and the scene detector share: opening the
//! input, choosing its streams, reading packets with errors reported, decoding
//! with damaged data counted rather than ignored.

use std::path::Path;

use ff::media::Type as Medium;
use ffmpeg_next as ff;

use crate::error::FixError;
use crate::limits::DecodeLimits;

pub(super) fn video_error(what: impl std::fmt::Display) -> FixError {
    FixError::Video(what.to_string())
}

pub(super) fn open_input(path: &Path) -> Result<ff::format::context::Input, FixError> {
    super::init();
    ff::format::input(&path).map_err(|e| video_error(format!("cannot open the video: {e}")))
}

/// A picture attached to the file (an album cover), not motion.
pub(super) fn is_cover_art(stream: &ff::format::stream::Stream) -> bool {
    stream
        .disposition()
        .contains(ff::format::stream::Disposition::ATTACHED_PIC)
}

/// The motion video stream: FFmpeg's best, unless it is cover art, then the
/// first video stream that is not.
pub(super) fn main_video_stream(
    input: &ff::format::context::Input,
) -> Option<ff::format::stream::Stream<'_>> {
    input
        .streams()
        .best(Medium::Video)
        .filter(|s| !is_cover_art(s))
        .or_else(|| {
            input
                .streams()
                .find(|s| s.parameters().medium() == Medium::Video && !is_cover_art(s))
        })
}

/// The video stream the probe described (see [`main_video_stream`]).
pub(super) fn video_stream(input: &ff::format::context::Input) -> Result<usize, FixError> {
    main_video_stream(input)
        .map(|s| s.index())
        .ok_or_else(|| video_error("no video stream"))
}

/// `path` opened, with its video stream's index and time base.
pub(super) fn open_video(
    path: &Path,
) -> Result<(ff::format::context::Input, usize, ff::Rational), FixError> {
    let input = open_input(path)?;
    let index = video_stream(&input)?;
    let tb = input
        .stream(index)
        .map(|s| s.time_base())
        .ok_or_else(|| video_error("no video stream"))?;
    Ok((input, index, tb))
}

pub(super) fn audio_stream(input: &ff::format::context::Input) -> Option<usize> {
    input.streams().best(Medium::Audio).map(|s| s.index())
}

/// The container's start time in microseconds (0 when unknown).
pub(super) fn start_time_us(input: &ff::format::context::Input) -> i64 {
    // SAFETY: reading a plain field of the open format context.
    let start = unsafe { (*input.as_ptr()).start_time };
    if start == ff::ffi::AV_NOPTS_VALUE {
        0
    } else {
        start
    }
}

/// `ts` in `tb` as microseconds.
pub(super) fn to_us(ts: i64, tb: ff::Rational) -> i64 {
    if tb.denominator() == 0 {
        return 0;
    }
    (i128::from(ts) * i128::from(tb.numerator()) * 1_000_000 / i128::from(tb.denominator())) as i64
}

/// Microseconds as a timestamp in `tb`.
pub(super) fn from_us(us: i64, tb: ff::Rational) -> i64 {
    if tb.numerator() == 0 {
        return 0;
    }
    (i128::from(us) * i128::from(tb.denominator()) / (i128::from(tb.numerator()) * 1_000_000))
        as i64
}

/// Reads the next packet. `Ok(false)` at the end of the file; a read error in
/// the middle of the file is an error, never a silent end.
pub(super) fn read_packet(
    input: &mut ff::format::context::Input,
    packet: &mut ff::Packet,
    last_us: i64,
) -> Result<bool, FixError> {
    // av_read_frame overwrites the packet without releasing what it held: drop
    // the previous packet first, or every packet read leaks its buffer.
    *packet = ff::Packet::empty();
    match packet.read(input) {
        Ok(()) => Ok(true),
        Err(ff::Error::Eof) => Ok(false),
        Err(e) => Err(video_error(format!(
            "the file is damaged after {:.2} s: {e}",
            last_us.max(0) as f64 / 1e6
        ))),
    }
}

/// Whether a decoder error means damaged data (counted) rather than a state
/// the loop handles (`EAGAIN`, end of stream).
pub(super) fn is_damage(e: &ff::Error) -> bool {
    !matches!(e, ff::Error::Eof) && !is_again(e)
}

pub(super) fn is_again(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

/// A video decoder for `stream`, with `threads` threads (0: FFmpeg decides).
/// Refused before it allocates anything when the stream's picture is over the
/// pixel limit.
pub(super) fn video_decoder(
    input: &ff::format::context::Input,
    stream: usize,
    threads: usize,
    limits: &DecodeLimits,
) -> Result<ff::decoder::Video, FixError> {
    let st = input
        .stream(stream)
        .ok_or_else(|| video_error("no video stream"))?;
    // SAFETY: plain fields of the stream's codec parameters, which the open
    // input owns for as long as `st` borrows it.
    let (width, height) = unsafe {
        let par = st.parameters().as_ptr();
        ((*par).width, (*par).height)
    };
    check_picture(width.max(0) as u32, height.max(0) as u32, limits)?;
    let mut ctx = ff::codec::context::Context::from_parameters(st.parameters())
        .map_err(|e| video_error(format!("cannot read the video stream's parameters: {e}")))?;
    ctx.set_threading(ff::codec::threading::Config {
        kind: ff::codec::threading::Type::Frame,
        count: threads,
        ..Default::default()
    });
    ctx.decoder()
        .video()
        .map_err(|e| video_error(format!("no decoder for this video codec: {e}")))
}

/// Refuses a picture over the pixel limit. Checked on the stream's header and
/// again on every decoded frame: the size may change mid-stream.
pub(super) fn check_picture(
    width: u32,
    height: u32,
    limits: &DecodeLimits,
) -> Result<(), FixError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_video_pixels {
        return Err(video_error(format!(
            "the video's pictures are {width}x{height} ({:.1} MP), more than this tool decodes ({:.1} MP)",
            pixels as f64 / 1e6,
            limits.max_video_pixels as f64 / 1e6
        )));
    }
    Ok(())
}

/// Counts the frames one decode pass reads, against the limit.
pub(super) struct FrameBudget {
    decoded: u64,
    limits: DecodeLimits,
}

impl FrameBudget {
    pub fn new(limits: &DecodeLimits) -> Self {
        FrameBudget {
            decoded: 0,
            limits: *limits,
        }
    }

    /// One more decoded frame; `Err` when its picture is over the pixel limit
    /// or the pass is over its frame limit.
    pub fn take(&mut self, frame: &ff::frame::Video) -> Result<(), FixError> {
        check_picture(frame.width(), frame.height(), &self.limits)?;
        self.decoded += 1;
        if self.decoded > self.limits.max_decoded_frames {
            return Err(video_error(format!(
                "decoded more than {} frames without reaching the end of the kept window: \
                 the file's timestamps do not advance, or the video is far longer than it says",
                self.limits.max_decoded_frames
            )));
        }
        Ok(())
    }

    pub fn exhausted(&self) -> bool {
        self.decoded >= self.limits.max_decoded_frames
    }

    pub fn limits(&self) -> &DecodeLimits {
        &self.limits
    }
}
