//! The re-encode: one pass of demux → decode → filter graph → x264 / AAC → MP4,
//! streaming frame by frame on the calling thread. The filter graph applies the
//! plan's geometry (rotation, scale, crop, padding), the constant frame rate and
//! 8-bit yuv420p; the kept window is cut on decoded timestamps.
//!
//! Memory stays flat with the video's length. The one exception is lengthening a
//! clip shorter than the minimum by `loop` or `pingpong`: its frames (at most the
//! minimum length, about 3 s) are kept to be played again.

use std::collections::VecDeque;
use std::path::Path;

use ff::format::Pixel;
use ffmpeg_next as ff;

use super::common::{
    audio_stream, from_us, is_damage, open_input, read_packet, start_time_us, to_us, video_decoder,
    video_error, video_stream, DamageCount, FrameBudget,
};
use crate::error::FixError;
use crate::plan::video::{AudioPlan, Geometry, PadTo, RateControl, Target, X264_PRESET};
use crate::plan::{ExtendMode, PadFill};

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
}

pub(super) fn encode(input: &Path, pass: &Pass, output: &Path) -> Result<(), FixError> {
    let t = pass.target;
    let mut ictx = open_input(input)?;
    let v_index = video_stream(&ictx)?;
    let v_tb = ictx
        .stream(v_index)
        .map(|s| s.time_base())
        .ok_or_else(|| video_error("no video stream"))?;
    let a_index = match t.audio {
        AudioPlan::Aac { .. } => audio_stream(&ictx),
        _ => None,
    };
    let origin_us = start_time_us(&ictx);
    let start_us = pass.start_us as i64;
    let end_us = pass.duration_us.map(|d| start_us + d as i64);
    if start_us > 0 {
        let ts = origin_us + start_us;
        // Lands on the keyframe at or before the window; earlier frames are
        // decoded and dropped.
        ictx.seek(ts, ..ts).map_err(|e| {
            video_error(format!(
                "cannot seek to {:.2} s: {e}",
                start_us as f64 / 1e6
            ))
        })?;
    }

    let mut decoder = video_decoder(&ictx, v_index, t.threads, &t.limits)?;
    let mut audio_in = match a_index {
        Some(i) => Some(AudioInput::new(&ictx, i)?),
        None => None,
    };

    // ------------------------------------------------------------ output
    let mut octx = ff::format::output_as(&output, "mp4")
        .map_err(|e| video_error(format!("cannot create the output: {e}")))?;
    let global = octx
        .format()
        .flags()
        .contains(ff::format::flag::Flags::GLOBAL_HEADER);
    let mut venc = open_x264(&mut octx, t, pass.rate, global)?;
    let mut aenc = match (&audio_in, t.audio) {
        (
            Some(a),
            AudioPlan::Aac {
                bitrate,
                sample_rate,
            },
        ) => Some(open_aac(
            &mut octx,
            a.channels,
            bitrate,
            sample_rate,
            global,
        )?),
        _ => None,
    };
    let mut opts = ff::Dictionary::new();
    opts.set("movflags", "+faststart");
    octx.write_header_with(opts)
        .map_err(|e| video_error(format!("cannot write the MP4 header: {e}")))?;
    // The muxer may change the time bases it was given: read them now.
    venc.out_tb = octx.stream(0).map_or(venc.tb, |s| s.time_base());
    if let Some(a) = aenc.as_mut() {
        a.out_tb = octx.stream(1).map_or(a.tb, |s| s.time_base());
    }

    let hold = pass.may_extend && !video_reaches_minimum(&ictx, v_index, start_us, t);
    let mut video = VideoOut {
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
    };
    let mut damage = DamageCount::new();
    let mut packet = ff::Packet::empty();
    let mut decoded = ff::frame::Video::empty();
    let mut last_us = 0i64;
    let mut audio_fed_to_end = audio_in.is_none();

    // ------------------------------------------------------------ main loop
    while read_packet(&mut ictx, &mut packet, last_us)? {
        let index = packet.stream();
        if index == v_index {
            if video.done {
                if audio_fed_to_end {
                    break;
                }
                continue;
            }
            if let Some(ts) = packet.pts().or(packet.dts()) {
                last_us = to_us(ts, v_tb) - origin_us;
            }
            if let Err(e) = decoder.send_packet(&packet) {
                if is_damage(&e) {
                    damage.note(last_us);
                    continue;
                }
            }
            drain_video(
                &mut decoder,
                &mut decoded,
                &mut video,
                &mut venc,
                &mut octx,
                t,
                &mut damage,
                (origin_us, start_us, end_us, v_tb, last_us),
            )?;
            if video.done {
                video.finish_graph(&mut venc, &mut octx, t)?;
            }
        } else if Some(index) == a_index {
            let Some(a) = audio_in.as_mut() else { continue };
            if audio_fed_to_end {
                continue;
            }
            let reached_end = a.feed(&packet, origin_us, start_us, end_us, &mut damage)?;
            if reached_end {
                audio_fed_to_end = true;
            }
            if let Some(enc) = aenc.as_mut() {
                a.pull()?;
                let video_samples = samples_for(video.frames, t.fps, enc.rate);
                enc.release(a, video_samples, &mut octx)?;
            }
            if audio_fed_to_end && video.done {
                break;
            }
        }
    }

    // ------------------------------------------------------------ flush, in order
    if !video.done {
        let _ = decoder.send_eof();
        drain_video(
            &mut decoder,
            &mut decoded,
            &mut video,
            &mut venc,
            &mut octx,
            t,
            &mut damage,
            (origin_us, start_us, end_us, v_tb, last_us),
        )?;
        video.finish_graph(&mut venc, &mut octx, t)?;
    }
    damage.check()?;
    if video.frames == 0 {
        return Err(video_error(
            "the video stream has no decodable frames in the kept window",
        ));
    }
    video.extend(&mut venc, &mut octx, t)?;
    venc.flush(&mut octx)?;

    if let (Some(a), Some(enc)) = (audio_in.as_mut(), aenc.as_mut()) {
        a.finish(&mut damage)?;
        damage.check()?;
        let total = samples_for(video.frames, t.fps, enc.rate);
        enc.finish(total, a, &mut octx)?;
    }
    octx.write_trailer()
        .map_err(|e| video_error(format!("cannot finish the MP4: {e}")))?;
    Ok(())
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

fn samples_for(frames: u64, fps: u32, rate: u32) -> u64 {
    frames * u64::from(rate) / u64::from(fps.max(1))
}

// ---------------------------------------------------------------- video

struct VideoOut {
    graph: Option<ff::filter::Graph>,
    frames: u64,
    /// The last frame sent to the encoder (for `freeze`, and as a fallback).
    last: Option<ff::frame::Video>,
    /// The first frames, kept while a clip may still need lengthening.
    kept: Option<Vec<ff::frame::Video>>,
    /// Bytes of picture data in `kept`.
    held_bytes: u64,
    /// `kept` was given up at the memory limit.
    held_over: bool,
    filtered: ff::frame::Video,
    done: bool,
    /// End of the last frame fed to the graph (its time plus its duration), in
    /// the stream's time base: where the graph's input is closed.
    fed_end: Option<(i64, i64)>,
    /// Frames decoded in this pass, against the limit.
    budget: FrameBudget,
}

#[allow(clippy::too_many_arguments)]
fn drain_video(
    decoder: &mut ff::decoder::Video,
    decoded: &mut ff::frame::Video,
    video: &mut VideoOut,
    venc: &mut VideoEncoder,
    octx: &mut ff::format::context::Output,
    t: &Target,
    damage: &mut DamageCount,
    (origin_us, start_us, end_us, tb, at_us): (i64, i64, Option<i64>, ff::Rational, i64),
) -> Result<(), FixError> {
    loop {
        match decoder.receive_frame(decoded) {
            Ok(()) => {}
            Err(e) if is_damage(&e) => {
                // Noted, and the loop ends: a decoder that keeps failing must
                // not spin. The file fails once the decode is over.
                damage.note(at_us);
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
        if decoded.is_corrupt() {
            damage.note(t_us);
        }
        if end_us.is_some_and(|end| t_us >= end) {
            video.done = true;
            continue;
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
        video.pull(venc, octx, t)?;
    }
}

fn source(graph: &mut ff::filter::Graph) -> Result<ff::filter::Context, FixError> {
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
    /// Sends every frame the graph has ready to the encoder, up to the plan's
    /// maximum frame count.
    fn pull(
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

    fn finish_graph(
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
    fn extend(
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

/// The filter chain for the plan's geometry, frame rate and pixel format.
pub(super) fn video_filters(t: &Target, fill_rgb: [u8; 3]) -> String {
    let g = &t.geometry;
    let mut chain = vec![format!("fps=fps={}:start_time=0", t.fps)];
    match g.rotate {
        90 => chain.push("transpose=clock".into()),
        180 => chain.push("hflip,vflip".into()),
        270 => chain.push("transpose=cclock".into()),
        _ => {}
    }
    if let Some((w, h)) = g.scale {
        chain.push(format!("scale={w}:{h}:flags=bicubic"));
    }
    if let Some((w, h)) = g.crop {
        chain.push(format!("crop={w}:{h}:0:0"));
    }
    chain.push("format=yuv420p".into());
    let mut spec = chain.join(",");
    if let Some(pad) = g.pad {
        let (pw, ph) = g.scale.or(g.crop).unwrap_or(g.source);
        spec.push_str(&pad_filter(pad, pw, ph, fill_rgb));
    }
    spec.push_str(",setsar=1");
    spec
}

fn pad_filter(pad: PadTo, pw: u32, ph: u32, rgb: [u8; 3]) -> String {
    let PadTo {
        width: w,
        height: h,
        x,
        y,
        fill,
    } = pad;
    let colour = format!("0x{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
    match fill {
        PadFill::Border | PadFill::Color(_) => format!(",pad={w}:{h}:{x}:{y}:color={colour}"),
        PadFill::Blur => format!(
            ",split[fg][bg];[bg]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},boxblur=10:2[blur];[blur][fg]overlay={x}:{y},format=yuv420p"
        ),
        PadFill::Mirror => {
            // Bars filled with the picture's edges flipped, one axis after the
            // other; a bar wider than the picture keeps the rest in `colour`.
            let mut s = String::new();
            let (top, bottom) = (y, h.saturating_sub(y + ph));
            if top > 0 || bottom > 0 {
                let (t, b) = (top.min(ph), bottom.min(ph));
                s.push_str(&format!(",pad={pw}:{h}:0:{y}:color={colour}"));
                if t > 0 {
                    s.push_str(&format!(
                        ",split[mt][tsrc];[tsrc]crop={pw}:{t}:0:{y},vflip[tf];[mt][tf]overlay=0:{}",
                        y - t
                    ));
                }
                if b > 0 {
                    s.push_str(&format!(
                        ",split[mb][bsrc];[bsrc]crop={pw}:{b}:0:{},vflip[bf];[mb][bf]overlay=0:{}",
                        y + ph - b,
                        y + ph
                    ));
                }
            }
            let (left, right) = (x, w.saturating_sub(x + pw));
            if left > 0 || right > 0 {
                let (l, r) = (left.min(pw), right.min(pw));
                s.push_str(&format!(",pad={w}:{h}:{x}:0:color={colour}"));
                if l > 0 {
                    s.push_str(&format!(
                        ",split[ml][lsrc];[lsrc]crop={l}:{h}:{x}:0,hflip[lf];[ml][lf]overlay={}:0",
                        x - l
                    ));
                }
                if r > 0 {
                    s.push_str(&format!(
                        ",split[mr][rsrc];[rsrc]crop={r}:{h}:{}:0,hflip[rf];[mr][rf]overlay={}:0",
                        x + pw - r,
                        x + pw
                    ));
                }
            }
            s.push_str(",format=yuv420p");
            s
        }
    }
}

fn video_graph(
    frame: &ff::frame::Video,
    tb: ff::Rational,
    t: &Target,
    fill: [u8; 3],
) -> Result<ff::filter::Graph, FixError> {
    let mut graph = ff::filter::Graph::new();
    let sar = frame.aspect_ratio();
    let sar = if sar.numerator() > 0 && sar.denominator() > 0 {
        sar
    } else {
        ff::Rational(1, 1)
    };
    let fmt: ff::ffi::AVPixelFormat = frame.format().into();
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        frame.width(),
        frame.height(),
        fmt as i32,
        tb.numerator(),
        tb.denominator(),
        sar.numerator(),
        sar.denominator()
    );
    let err = |e: ff::Error| video_error(format!("cannot build the filter graph: {e}"));
    let buffer = ff::filter::find("buffer").ok_or_else(|| video_error("no buffer filter"))?;
    let buffersink =
        ff::filter::find("buffersink").ok_or_else(|| video_error("no buffersink filter"))?;
    graph.add(&buffer, "in", &args).map_err(err)?;
    graph.add(&buffersink, "out", "").map_err(err)?;
    let spec = video_filters(t, fill);
    graph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(&spec))
        .map_err(err)?;
    graph.validate().map_err(err)?;
    Ok(graph)
}

/// The pad colour: the plan's colour, or for `border` the mean colour of the
/// first frame's edges on the sides that get bars.
fn border_colour(frame: &ff::frame::Video, g: &Geometry) -> Result<[u8; 3], FixError> {
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

struct VideoEncoder {
    encoder: ff::encoder::Video,
    tb: ff::Rational,
    out_tb: ff::Rational,
    packet: ff::Packet,
}

fn open_x264(
    octx: &mut ff::format::context::Output,
    t: &Target,
    rate: RateControl,
    global: bool,
) -> Result<VideoEncoder, FixError> {
    let codec = ff::encoder::find_by_name("libx264")
        .ok_or_else(|| video_error("FFmpeg was built without libx264"))?;
    let mut ost = octx
        .add_stream(codec)
        .map_err(|e| video_error(format!("cannot add the video stream: {e}")))?;
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| video_error(format!("cannot set up x264: {e}")))?;
    let tb = ff::Rational(1, t.fps as i32);
    enc.set_width(t.geometry.width);
    enc.set_height(t.geometry.height);
    enc.set_format(Pixel::YUV420P);
    enc.set_time_base(tb);
    enc.set_frame_rate(Some(ff::Rational(t.fps as i32, 1)));
    enc.set_aspect_ratio(ff::Rational(1, 1));
    if global {
        enc.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    }
    let opts = x264_options(t, rate);
    let encoder = enc
        .open_with(opts)
        .map_err(|e| video_error(format!("cannot open x264: {e}")))?;
    ost.set_parameters(&encoder);
    ost.set_time_base(tb);
    Ok(VideoEncoder {
        encoder,
        tb,
        out_tb: tb,
        packet: ff::Packet::empty(),
    })
}

/// The x264 options of a pass (the benchmark gives the ffmpeg CLI the same).
pub(super) fn x264_options(t: &Target, rate: RateControl) -> ff::Dictionary<'static> {
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
    fn send(
        &mut self,
        frame: &ff::frame::Video,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), FixError> {
        self.encoder
            .send_frame(frame)
            .map_err(|e| video_error(format!("x264 refused a frame: {e}")))?;
        self.drain(octx)
    }

    fn drain(&mut self, octx: &mut ff::format::context::Output) -> Result<(), FixError> {
        loop {
            match self.encoder.receive_packet(&mut self.packet) {
                Ok(()) => {
                    // One frame per packet at a constant rate: without it the
                    // muxer gives the last frame no duration.
                    self.packet.set_duration(1);
                    self.packet.set_stream(0);
                    self.packet.rescale_ts(self.tb, self.out_tb);
                    self.packet
                        .write_interleaved(octx)
                        .map_err(|e| video_error(format!("cannot write a packet: {e}")))?;
                }
                Err(e) if is_damage(&e) => {
                    return Err(video_error(format!("x264 failed: {e}")));
                }
                Err(_) => return Ok(()),
            }
        }
    }

    fn flush(&mut self, octx: &mut ff::format::context::Output) -> Result<(), FixError> {
        self.encoder
            .send_eof()
            .map_err(|e| video_error(format!("cannot flush x264: {e}")))?;
        self.drain(octx)
    }
}

// ---------------------------------------------------------------- audio

struct AudioInput {
    decoder: ff::decoder::Audio,
    tb: ff::Rational,
    graph: Option<ff::filter::Graph>,
    channels: u16,
    frame: ff::frame::Audio,
    /// Filtered frames waiting for the video to catch up.
    queue: VecDeque<ff::frame::Audio>,
    origin_us: i64,
    start_us: i64,
    last_us: i64,
}

impl AudioInput {
    fn new(ictx: &ff::format::context::Input, index: usize) -> Result<AudioInput, FixError> {
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
    fn feed(
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

    fn finish(&mut self, damage: &mut DamageCount) -> Result<(), FixError> {
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
        let mut graph = ff::filter::Graph::new();
        let layout = if f.channel_layout().bits() != 0 {
            format!("channel_layout=0x{:x}", f.channel_layout().bits())
        } else {
            format!("channels={}", f.channels())
        };
        let args = format!(
            "time_base={}/{}:sample_rate={}:sample_fmt={}:{layout}",
            self.tb.numerator(),
            self.tb.denominator(),
            f.rate(),
            f.format().name(),
        );
        let err = |e: ff::Error| video_error(format!("cannot build the audio filter graph: {e}"));
        let abuffer = ff::filter::find("abuffer").ok_or_else(|| video_error("no abuffer"))?;
        let abuffersink =
            ff::filter::find("abuffersink").ok_or_else(|| video_error("no abuffersink"))?;
        graph.add(&abuffer, "in", &args).map_err(err)?;
        graph.add(&abuffersink, "out", "").map_err(err)?;
        let layout = if self.channels == 1 { "mono" } else { "stereo" };
        // Cut at the window's start, resample with gaps filled so that time
        // stays continuous from 0, and pad with silence after the end (the
        // encoder stops at the video's length).
        let spec = format!(
            "atrim=start=0,aresample={}:async=1:first_pts=0,aformat=sample_fmts=fltp:channel_layouts={layout},apad",
            crate::plan::video::AUDIO_RATE
        );
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&spec))
            .map_err(err)?;
        graph.validate().map_err(err)?;
        if let Some(mut out) = graph.get("out") {
            out.sink().set_frame_size(1024);
        }
        Ok(graph)
    }

    /// Moves the frames the graph has ready to the queue. Not called after the
    /// input has ended: `apad` would then produce silence without end, and
    /// `next_tail` pulls exactly what is needed instead.
    fn pull(&mut self) -> Result<(), FixError> {
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

struct AudioEncoder {
    encoder: ff::encoder::Audio,
    tb: ff::Rational,
    out_tb: ff::Rational,
    rate: u32,
    emitted: u64,
    layout: ff::ChannelLayout,
    packet: ff::Packet,
}

fn open_aac(
    octx: &mut ff::format::context::Output,
    channels: u16,
    bitrate: u64,
    rate: u32,
    global: bool,
) -> Result<AudioEncoder, FixError> {
    let codec = ff::encoder::find(ff::codec::Id::AAC)
        .ok_or_else(|| video_error("FFmpeg was built without an AAC encoder"))?;
    let mut ost = octx
        .add_stream(codec)
        .map_err(|e| video_error(format!("cannot add the audio stream: {e}")))?;
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .audio()
        .map_err(|e| video_error(format!("cannot set up AAC: {e}")))?;
    let layout = if channels == 1 {
        ff::ChannelLayout::MONO
    } else {
        ff::ChannelLayout::STEREO
    };
    let tb = ff::Rational(1, rate as i32);
    enc.set_rate(rate as i32);
    enc.set_channel_layout(layout);
    enc.set_channels(layout.channels());
    enc.set_format(ff::format::Sample::F32(ff::format::sample::Type::Planar));
    enc.set_bit_rate(bitrate as usize);
    enc.set_time_base(tb);
    if global {
        enc.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    }
    let encoder = enc
        .open_as(codec)
        .map_err(|e| video_error(format!("cannot open the AAC encoder: {e}")))?;
    ost.set_parameters(&encoder);
    ost.set_time_base(tb);
    Ok(AudioEncoder {
        encoder,
        tb,
        out_tb: tb,
        rate,
        emitted: 0,
        layout,
        packet: ff::Packet::empty(),
    })
}

impl AudioEncoder {
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
        self.drain(octx)
    }

    fn drain(&mut self, octx: &mut ff::format::context::Output) -> Result<(), FixError> {
        loop {
            match self.encoder.receive_packet(&mut self.packet) {
                Ok(()) => {
                    self.packet.set_stream(1);
                    self.packet.rescale_ts(self.tb, self.out_tb);
                    self.packet
                        .write_interleaved(octx)
                        .map_err(|e| video_error(format!("cannot write a packet: {e}")))?;
                }
                Err(e) if is_damage(&e) => {
                    return Err(video_error(format!("AAC encoder failed: {e}")));
                }
                Err(_) => return Ok(()),
            }
        }
    }

    /// Encodes the queued frames that end within the video's current length, so
    /// that the sound can be cut at the video's final length without having
    /// been encoded past it.
    fn release(
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
    fn finish(
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
        self.encoder
            .send_eof()
            .map_err(|e| video_error(format!("cannot flush the AAC encoder: {e}")))?;
        self.drain(octx)
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
