//! The picture side of a pass: the filter graph (set up from the first
//! decoded frame), the frames sent to x264 up to the plan's count, and the
//! lengthening of a clip under the minimum.

use ff::format::Pixel;
use ffmpeg_next as ff;

use super::super::common::{video_error, FrameBudget};
use super::filter_graph;
use super::filters::{video_buffer_args, video_filters};
use super::packets::{add_encoder, PacketOut};
use crate::error::FixError;
use crate::plan::video::{Geometry, RateControl, Target, X264_PRESET};
use crate::plan::{ExtendMode, PadFill};

/// The picture side of a pass: the filter graph and what has been sent to
/// the encoder.
pub(super) struct VideoOut {
    pub graph: Option<ff::filter::Graph>,
    pub frames: u64,
    /// The last frame sent to the encoder (for `freeze`, and as a fallback).
    pub last: Option<ff::frame::Video>,
    /// The first frames, kept while a clip may still need lengthening.
    pub kept: Option<Vec<ff::frame::Video>>,
    /// Bytes of picture data in `kept`.
    pub held_bytes: u64,
    /// `kept` was given up at the memory limit.
    pub held_over: bool,
    pub filtered: ff::frame::Video,
    pub done: bool,
    /// End of the last frame fed to the graph (its time plus its duration), in
    /// the stream's time base: where the graph's input is closed.
    pub fed_end: Option<(i64, i64)>,
    /// Frames decoded in this pass, against the limit.
    pub budget: FrameBudget,
}

pub(super) fn source(graph: &mut ff::filter::Graph) -> Result<ff::filter::Context, FixError> {
    graph
        .get("in")
        .ok_or_else(|| video_error("filter graph has no input"))
}

fn sink(graph: &mut ff::filter::Graph) -> Result<ff::filter::Context, FixError> {
    graph
        .get("out")
        .ok_or_else(|| video_error("filter graph has no output"))
}

impl VideoOut {
    /// Nothing decoded yet; `hold`: keep the first frames for lengthening.
    pub fn new(hold: bool, t: &Target) -> VideoOut {
        VideoOut {
            graph: None,
            frames: 0,
            last: None,
            kept: if hold { Some(Vec::new()) } else { None },
            held_bytes: 0,
            held_over: false,
            filtered: ff::frame::Video::empty(),
            done: false,
            fed_end: None,
            budget: FrameBudget::new(&t.limits),
        }
    }

    /// Sends every frame the graph has ready to the encoder, up to the plan's
    /// maximum frame count.
    pub fn pull(
        &mut self,
        venc: &mut VideoEncoder,
        octx: &mut ff::format::context::Output,
        t: &Target,
    ) -> Result<(), FixError> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        loop {
            let got = sink(graph)?.sink().frame(&mut self.filtered);
            match got {
                Ok(()) => {}
                Err(_) => return Ok(()),
            }
            if self.frames >= t.max_frames {
                self.done = true;
                continue;
            }
            let mut frame = std::mem::replace(&mut self.filtered, ff::frame::Video::empty());
            frame.set_pts(Some(self.frames as i64));
            frame.set_kind(ff::picture::Type::None);
            venc.send(&frame, octx)?;
            self.frames += 1;
            if self.frames >= t.min_frames {
                // Long enough: nothing will be lengthened.
                self.kept = None;
            }
            if let Some(kept) = self.kept.as_mut() {
                if (kept.len() as u64) < t.min_frames {
                    let bytes: usize = (0..frame.planes()).map(|i| frame.data(i).len()).sum();
                    self.held_bytes += bytes as u64;
                    if self.held_bytes > t.limits.max_held_bytes {
                        // Given up, not failed: the clip may turn out long
                        // enough to need no lengthening.
                        self.kept = None;
                        self.held_over = true;
                    } else {
                        kept.push(frame.clone());
                    }
                }
            }
            self.last = Some(frame);
        }
    }

    /// Closes the graph's input and sends what it still holds.
    pub fn finish_graph(
        &mut self,
        venc: &mut VideoEncoder,
        octx: &mut ff::format::context::Output,
        t: &Target,
    ) -> Result<(), FixError> {
        if let Some(graph) = self.graph.as_mut() {
            // End of stream into the graph at the end of the last frame (not at
            // its start, or `fps` drops it), then everything it still holds.
            let mut src = source(graph)?;
            match self.fed_end {
                Some((pts, duration)) => {
                    let _ = src.source().close(pts + duration);
                }
                None => {
                    let _ = src.source().flush();
                }
            }
            self.pull(venc, octx, t)?;
            self.graph = None;
        }
        self.done = true;
        Ok(())
    }

    /// Lengthens a clip shorter than the minimum.
    pub fn extend(
        &mut self,
        venc: &mut VideoEncoder,
        octx: &mut ff::format::context::Output,
        t: &Target,
    ) -> Result<(), FixError> {
        if self.frames >= t.min_frames {
            return Ok(());
        }
        if self.held_over && t.extend != ExtendMode::Freeze {
            return Err(video_error(format!(
                "lengthening this {}x{} clip to {} frames would hold more than {} MB of frames; \
                 use --extend freeze, which holds one",
                t.geometry.width,
                t.geometry.height,
                t.min_frames,
                t.limits.max_held_bytes / 1_000_000
            )));
        }
        let kept = self.kept.take().unwrap_or_default();
        let n = kept.len();
        let mode = if n >= 2 { t.extend } else { ExtendMode::Freeze };
        // Index sequence after the last frame played.
        let mut step: i64 = -1;
        let mut i: i64 = n as i64 - 1;
        while self.frames < t.min_frames {
            let mut frame = match mode {
                ExtendMode::Freeze => match self.last.as_ref() {
                    Some(f) => f.clone(),
                    None => return Err(video_error("nothing to lengthen")),
                },
                ExtendMode::Loop => {
                    let idx = (self.frames as usize) % n;
                    kept[idx].clone()
                }
                ExtendMode::Pingpong => {
                    // Bounce at either end without showing the end frame twice.
                    if i + step < 0 || i + step >= n as i64 {
                        step = -step;
                    }
                    i += step;
                    kept[i as usize].clone()
                }
            };
            frame.set_pts(Some(self.frames as i64));
            frame.set_kind(ff::picture::Type::None);
            venc.send(&frame, octx)?;
            self.frames += 1;
        }
        Ok(())
    }
}

/// The video filter graph, set up from the first decoded frame.
pub(super) fn video_graph(
    frame: &ff::frame::Video,
    tb: ff::Rational,
    t: &Target,
    fill: [u8; 3],
) -> Result<ff::filter::Graph, FixError> {
    let sar = frame.aspect_ratio();
    let fmt: ff::ffi::AVPixelFormat = frame.format().into();
    let args = video_buffer_args(
        (frame.width(), frame.height()),
        fmt as i32,
        (tb.numerator(), tb.denominator()),
        (sar.numerator(), sar.denominator()),
    );
    let chain = video_filters(&t.geometry, &t.colour, t.fps, fill);
    filter_graph(["buffer", "buffersink"], &args, &chain, "filter graph")
}

/// The pad colour: the plan's colour, or for `border` the mean colour of the
/// first frame's edges on the sides that get bars.
pub(super) fn border_colour(frame: &ff::frame::Video, g: &Geometry) -> Result<[u8; 3], FixError> {
    let Some(pad) = g.pad else {
        return Ok([0, 0, 0]);
    };
    match pad.fill {
        PadFill::Color(c) => return Ok(c),
        PadFill::Border => {}
        // Fallback colour where a mirrored or blurred bar cannot cover.
        PadFill::Blur | PadFill::Mirror => return Ok([0, 0, 0]),
    }
    const N: u32 = 32;
    let mut scaler = ff::software::scaling::Context::get(
        frame.format(),
        frame.width(),
        frame.height(),
        Pixel::RGB24,
        N,
        N,
        ff::software::scaling::Flags::AREA,
    )
    .map_err(|e| video_error(format!("cannot sample the border colour: {e}")))?;
    let mut rgb = ff::frame::Video::empty();
    scaler
        .run(frame, &mut rgb)
        .map_err(|e| video_error(format!("cannot sample the border colour: {e}")))?;
    let stride = rgb.stride(0);
    let data = rgb.data(0);
    // Bars above and below the displayed picture touch its top and bottom rows,
    // which are stored as columns when the picture is turned a quarter.
    let bars_vertical = pad.height > g.scale.or(g.crop).unwrap_or(g.source).1;
    let rows = bars_vertical == g.rotate.is_multiple_of(180);
    let mut sum = [0u64; 3];
    let mut count = 0u64;
    let mut add = |x: u32, y: u32| {
        let i = y as usize * stride + x as usize * 3;
        if let Some(px) = data.get(i..i + 3) {
            for c in 0..3 {
                sum[c] += u64::from(px[c]);
            }
            count += 1;
        }
    };
    for k in 0..N {
        if rows {
            add(k, 0);
            add(k, N - 1);
        } else {
            add(0, k);
            add(N - 1, k);
        }
    }
    let count = count.max(1);
    Ok([
        (sum[0] / count) as u8,
        (sum[1] / count) as u8,
        (sum[2] / count) as u8,
    ])
}

/// x264 and its output stream (the first).
pub(super) struct VideoEncoder {
    encoder: ff::encoder::Video,
    pub packets: PacketOut,
}

/// Adds the H.264 stream to `octx` and opens x264 for the plan's geometry,
/// frame rate and this pass's rate control.
pub(super) fn open_x264(
    octx: &mut ff::format::context::Output,
    t: &Target,
    rate: RateControl,
) -> Result<VideoEncoder, FixError> {
    let codec = ff::encoder::find_by_name("libx264")
        .ok_or_else(|| video_error("FFmpeg was built without libx264"))?;
    let tb = ff::Rational(1, t.fps as i32);
    let encoder = add_encoder(octx, codec, tb, "video", |context| {
        let mut enc = context
            .video()
            .map_err(|e| video_error(format!("cannot set up x264: {e}")))?;
        enc.set_width(t.geometry.width);
        enc.set_height(t.geometry.height);
        enc.set_format(Pixel::YUV420P);
        enc.set_frame_rate(Some(ff::Rational(t.fps as i32, 1)));
        enc.set_aspect_ratio(ff::Rational(1, 1));
        tag_bt709(&mut enc);
        enc.open_with(x264_options(t, rate))
            .map_err(|e| video_error(format!("cannot open x264: {e}")))
    })?;
    // One frame per packet at a constant rate: without a duration the muxer
    // gives the last frame none.
    Ok(VideoEncoder {
        encoder,
        packets: PacketOut::new(0, tb, Some(1), "x264"),
    })
}

/// The x264 options of a pass (the benchmark gives the ffmpeg CLI the same).
fn x264_options(t: &Target, rate: RateControl) -> ff::Dictionary<'static> {
    let mut d = ff::Dictionary::new();
    d.set("preset", X264_PRESET);
    d.set("profile", "high");
    // libavcodec's default is one thread; "auto" is what the ffmpeg CLI sets.
    if t.threads > 0 {
        d.set("threads", &t.threads.to_string());
    } else {
        d.set("threads", "auto");
    }
    match rate {
        RateControl::Quality { crf } => d.set("crf", &crf.to_string()),
        RateControl::Budget {
            crf, video_bitrate, ..
        } => {
            d.set("crf", &crf.to_string());
            d.set("maxrate", &video_bitrate.to_string());
            d.set("bufsize", &video_bitrate.to_string());
        }
    }
    d
}

impl VideoEncoder {
    pub fn send(
        &mut self,
        frame: &ff::frame::Video,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), FixError> {
        self.encoder
            .send_frame(frame)
            .map_err(|e| video_error(format!("x264 refused a frame: {e}")))?;
        self.packets.drain(&mut self.encoder, octx)
    }

    pub fn flush(&mut self, octx: &mut ff::format::context::Output) -> Result<(), FixError> {
        self.packets.flush(&mut self.encoder, octx, "x264")
    }
}

/// Tags the encoder's output BT.709, limited range (x264 writes them into the
/// stream's VUI; the MP4 muxer copies them).
fn tag_bt709(encoder: &mut ff::encoder::video::Video) {
    // SAFETY: plain fields of the encoder's context, set before it is opened.
    unsafe {
        let ctx = encoder.as_mut_ptr();
        (*ctx).color_primaries = ff::ffi::AVColorPrimaries::AVCOL_PRI_BT709;
        (*ctx).color_trc = ff::ffi::AVColorTransferCharacteristic::AVCOL_TRC_BT709;
        (*ctx).colorspace = ff::ffi::AVColorSpace::AVCOL_SPC_BT709;
        (*ctx).color_range = ff::ffi::AVColorRange::AVCOL_RANGE_MPEG;
    }
}
