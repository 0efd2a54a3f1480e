//! Video facts from the container and stream headers. Reads a bounded sample of
//! packets (demuxing only, no decoding) to see whether frames exist and whether
//! their timing is regular.

use std::ffi::CStr;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use ff::ffi;
use ff::media::Type as Medium;
use ffmpeg_next as ff;

use super::common::{is_cover_art, main_video_stream};
use crate::error::ProbeError;
use crate::facts::{Container, VideoColour, VideoFacts};
use crate::sniff;

/// Demuxers we accept for files whose first bytes we do not know. Anything else
/// that FFmpeg opens (a text file as `tty`, a still picture as `image2`, raw
/// elementary streams) is not a motion video.
const KNOWN_DEMUXERS: &[&str] = &[
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "avi",
    "mpegts",
    "mpeg",
    "flv",
    "asf",
    "ogg",
    "mxf",
];

/// How many video packets to look at for frame timing.
const TIMING_SAMPLE: usize = 120;
/// Frames a decoder may hold back for reordering (H.264/HEVC allow up to 16).
const REORDER_DEPTH: usize = 16;
/// How many packets of any stream to read at most while sampling.
const PACKET_BUDGET: usize = 2000;

pub fn probe_video(
    path: &Path,
    sniffed: Option<Container>,
    bytes: u64,
) -> Result<VideoFacts, ProbeError> {
    super::init();
    let mut moov_first = None;
    if matches!(sniffed, Some(Container::Mp4 | Container::Mov)) {
        let mut reader = BufReader::new(File::open(path)?);
        let layout = sniff::box_layout(&mut reader, bytes)?;
        if let Some(why) = layout.truncated {
            return Err(ProbeError::Damaged(why));
        }
        moov_first = layout.moov_first;
    }

    let mut input = ff::format::input(&path).map_err(|e| match sniffed {
        None => ProbeError::Unrecognised(String::new()),
        Some(_) => ProbeError::Damaged(e.to_string()),
    })?;
    let demuxer = input.format().name().to_string();
    let container = match sniffed {
        Some(c) => c,
        None if KNOWN_DEMUXERS.contains(&demuxer.as_str()) => container_of(&demuxer),
        None => return Err(ProbeError::Unrecognised(String::new())),
    };

    let video_streams = input
        .streams()
        .filter(|s| s.parameters().medium() == Medium::Video && !is_cover_art(s))
        .count() as u32;
    let Some(stream) = main_video_stream(&input) else {
        let audio = input.streams().best(Medium::Audio).is_some();
        return Err(ProbeError::NoVideo(if audio {
            "audio only".into()
        } else {
            "the file has no video stream".into()
        }));
    };
    let stream_index = stream.index();
    let time_base = stream.time_base();
    let sample_aspect = sample_aspect_of(&input, &stream);
    let colour = colour_of(&stream);
    // SAFETY: the parameters belong to `input`, which outlives this borrow.
    let (coded_width, coded_height, raw_format, raw_profile, codec_id) = unsafe {
        let p = &*stream.parameters().as_ptr();
        (p.width, p.height, p.format, p.profile, p.codec_id)
    };
    if coded_width <= 0 || coded_height <= 0 {
        return Err(ProbeError::Damaged(format!(
            "video stream has no picture size ({coded_width}x{coded_height})"
        )));
    }
    let codec = stream.parameters().id().name().to_string();
    let profile = profile_name(codec_id, raw_profile);
    let (pixel_format, bit_depth) = pixel_format(raw_format);
    let rotation = rotation_of(&stream);
    let avg_rate = rate_of(stream.avg_frame_rate());
    let real_rate = rate_of(stream.rate());
    let stream_duration = stream.duration();
    let stream_frames = stream.frames();

    let audio_codec = input
        .streams()
        .best(Medium::Audio)
        .map(|a| a.parameters().id().name().to_string());

    let mut duration_us = input.duration();
    if duration_us <= 0 && stream_duration > 0 {
        duration_us = (stream_duration as f64 * f64::from(time_base) * 1e6) as i64;
    }
    if duration_us <= 0 {
        return Err(ProbeError::Damaged("the duration is unknown".into()));
    }

    let sample = sample_timing(&mut input, stream_index)?;
    if sample.packets == 0 && stream_frames <= 0 {
        return Err(ProbeError::Damaged("the video stream has no frames".into()));
    }
    let frame_rate = if avg_rate > 0.0 { avg_rate } else { real_rate };
    // Either the sampled frame durations differ, or the average rate departs from
    // the base rate FFmpeg guessed: both mean the timing is not constant.
    let rates_differ =
        avg_rate > 0.0 && real_rate > 0.0 && ((avg_rate - real_rate).abs() / real_rate) > 0.02;
    let variable_frame_rate = sample.irregular || rates_differ;

    let (coded_width, coded_height) = (coded_width as u32, coded_height as u32);
    let shown_width = displayed_width(coded_width, sample_aspect);
    let (width, height) = if rotation % 180 == 90 {
        (coded_height, shown_width)
    } else {
        (shown_width, coded_height)
    };
    // SAFETY: a plain field of the open format context.
    let start_us = match unsafe { (*input.as_ptr()).start_time } {
        ffi::AV_NOPTS_VALUE => 0,
        t => t,
    };
    Ok(VideoFacts {
        container,
        codec,
        profile,
        pixel_format,
        bit_depth,
        coded_width,
        coded_height,
        width,
        height,
        sample_aspect,
        colour,
        start_us,
        rotation,
        duration_us: duration_us as u64,
        frame_rate,
        variable_frame_rate,
        bytes,
        audio_codec,
        video_streams,
        moov_first,
    })
}

/// The stored width stretched by the sample aspect ratio, rounded, as players
/// show it (the height stays).
pub(crate) fn displayed_width(width: u32, (num, den): (u32, u32)) -> u32 {
    if num == 0 || den == 0 {
        return width;
    }
    let w = (u64::from(width) * u64::from(num) + u64::from(den) / 2) / u64::from(den);
    w.clamp(1, u64::from(u32::MAX)) as u32
}

/// The sample aspect ratio a player uses: the container's, else the stream's
/// (FFmpeg's own guess), reduced; `1:1` when unknown or implausible.
fn sample_aspect_of(
    input: &ff::format::context::Input,
    stream: &ff::format::stream::Stream,
) -> (u32, u32) {
    // SAFETY: both pointers belong to the open input; a null frame is allowed.
    let r = unsafe {
        ffi::av_guess_sample_aspect_ratio(
            input.as_ptr() as *mut _,
            stream.as_ptr() as *mut _,
            std::ptr::null_mut(),
        )
    };
    let (num, den) = (r.num, r.den);
    // Anything beyond 1:8..8:1 is a damaged header, not a picture shape.
    if num <= 0 || den <= 0 || num > den * 8 || den > num * 8 {
        return (1, 1);
    }
    let g = gcd(num as u32, den as u32);
    (num as u32 / g, den as u32 / g)
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// The stream's colour tags by FFmpeg's names; unspecified ones are `None`.
fn colour_of(stream: &ff::format::stream::Stream) -> VideoColour {
    fn name(p: *const std::os::raw::c_char) -> Option<String> {
        // SAFETY: FFmpeg's colour-name functions return static strings or null.
        let name = (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy())?;
        // FFmpeg names the unset values too ("unspecified", range "unknown").
        (!matches!(&*name, "unspecified" | "unknown" | "reserved")).then(|| name.into_owned())
    }
    // SAFETY: plain fields of the stream's codec parameters, owned by the
    // input; the name functions take any value.
    unsafe {
        let p = &*stream.parameters().as_ptr();
        VideoColour {
            primaries: name(ffi::av_color_primaries_name(p.color_primaries)),
            transfer: name(ffi::av_color_transfer_name(p.color_trc)),
            matrix: name(ffi::av_color_space_name(p.color_space)),
            range: name(ffi::av_color_range_name(p.color_range)),
        }
    }
}

fn container_of(demuxer: &str) -> Container {
    match demuxer {
        "mov,mp4,m4a,3gp,3g2,mj2" => Container::Mp4,
        "matroska,webm" => Container::Matroska,
        "avi" => Container::Avi,
        other => Container::Other(other.to_string()),
    }
}

/// Cover art (an attached picture) is a "video stream" of one frame, not motion.
fn rate_of(r: ff::Rational) -> f64 {
    if r.numerator() > 0 && r.denominator() > 0 {
        f64::from(r)
    } else {
        0.0
    }
}

/// Clockwise rotation from the display matrix, in quarter turns. The matrix may
/// sit anywhere among the side data, so all of it is scanned.
fn rotation_of(stream: &ff::format::stream::Stream) -> u16 {
    for side in stream.side_data() {
        if side.kind() != ff::codec::packet::side_data::Type::DisplayMatrix {
            continue;
        }
        let data = side.data();
        if data.len() < 36 {
            continue;
        }
        let m = |i: usize| {
            let b = &data[i * 4..i * 4 + 4];
            i32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as f64 / 65536.0
        };
        // FFmpeg's av_display_rotation_get() is -atan2(m1, m0), counter-clockwise;
        // players turn the picture by the opposite, clockwise.
        let degrees = m(1).atan2(m(0)).to_degrees();
        let quarter = ((degrees / 90.0).round() as i64).rem_euclid(4);
        return (quarter * 90) as u16;
    }
    0
}

fn profile_name(codec_id: ffi::AVCodecID, profile: i32) -> Option<String> {
    // SAFETY: avcodec_profile_name returns a static string or null.
    unsafe {
        let name = ffi::avcodec_profile_name(codec_id, profile);
        (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned())
    }
}

/// Name and bit depth of a pixel format given as the raw integer of the codec
/// parameters. The descriptor table is walked rather than the integer cast to an
/// enum, so an unexpected value cannot produce an invalid enum.
fn pixel_format(raw: i32) -> (Option<String>, Option<u8>) {
    // SAFETY: av_pix_fmt_desc_next walks FFmpeg's static descriptor table.
    unsafe {
        let mut desc = ffi::av_pix_fmt_desc_next(std::ptr::null());
        while !desc.is_null() {
            if ffi::av_pix_fmt_desc_get_id(desc) as i32 == raw {
                let d = &*desc;
                let name = CStr::from_ptr(d.name).to_string_lossy().into_owned();
                let depth = (d.nb_components > 0).then_some(d.comp[0].depth as u8);
                return (Some(name), depth);
            }
            desc = ffi::av_pix_fmt_desc_next(desc);
        }
    }
    (None, None)
}

struct TimingSample {
    packets: usize,
    irregular: bool,
}

/// Reads up to `TIMING_SAMPLE` packets of the video stream (no decoding) and
/// looks at the spacing of their presentation times.
fn sample_timing(
    input: &mut ff::format::context::Input,
    stream_index: usize,
) -> Result<TimingSample, ProbeError> {
    let mut pts = Vec::with_capacity(TIMING_SAMPLE);
    let mut packets = 0;
    for _ in 0..PACKET_BUDGET {
        // A fresh packet each time: av_read_frame does not release the old one.
        let mut packet = ff::Packet::empty();
        match packet.read(input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => {
                if packets == 0 {
                    return Err(ProbeError::Damaged(format!("cannot read packets: {e}")));
                }
                break;
            }
        }
        if packet.stream() != stream_index {
            continue;
        }
        packets += 1;
        if let Some(p) = packet.pts() {
            pts.push(p);
        }
        if packets >= TIMING_SAMPLE {
            break;
        }
    }
    pts.sort_unstable();
    // Packets arrive in decode order: with B-frames, the last few presentation
    // times of the sample may still be missing, so the top of the sorted list
    // has gaps that are not in the stream. Drop it before measuring.
    if pts.len() == TIMING_SAMPLE {
        pts.truncate(TIMING_SAMPLE - REORDER_DEPTH);
    }
    let deltas: Vec<i64> = pts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .collect();
    let irregular = match (deltas.iter().min(), deltas.iter().max()) {
        // Allow one tick of rounding (30 fps in a 1/1000 time base is 33 or 34).
        (Some(&lo), Some(&hi)) => hi > lo + 1 && hi as f64 / lo as f64 > 1.1,
        _ => false,
    };
    Ok(TimingSample { packets, irregular })
}
