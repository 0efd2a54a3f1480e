//! Stream copy into a new MP4 (`moov` first), optionally cut at a keyframe.
//! Packets are copied, never decoded: the cost is reading and writing the file.

use std::path::Path;

use ffmpeg_next as ff;

use super::common::{
    audio_stream, from_us, open_input, read_packet, to_us, video_error, video_stream,
};
use crate::error::FixError;

pub(super) enum RemuxError {
    /// No keyframe gives a length within the limits: the caller re-encodes.
    NoKeyframe,
    Failed(FixError),
}

impl From<FixError> for RemuxError {
    fn from(e: FixError) -> Self {
        RemuxError::Failed(e)
    }
}

/// Copies the first video stream (and the best audio stream when `keep_audio`)
/// of `input` into `output`. With `cut = Some((min_us, max_us))` the video stops
/// before the last keyframe whose time since the start lies in that range.
pub(super) fn remux(
    input: &Path,
    keep_audio: bool,
    cut: Option<(u64, u64)>,
    output: &Path,
) -> Result<(), RemuxError> {
    let mut ictx = open_input(input)?;
    let v_index = video_stream(&ictx)?;
    let a_index = if keep_audio {
        audio_stream(&ictx)
    } else {
        None
    };
    let v_tb = ictx
        .stream(v_index)
        .map(|s| s.time_base())
        .ok_or_else(|| video_error("no video stream"))?;

    // The cut, in the video stream's time base.
    let cut_pts = match cut {
        None => None,
        Some((lo, hi)) => Some(find_keyframe_cut(&mut ictx, v_index, v_tb, lo, hi)?),
    };
    if cut_pts.is_some() {
        // Back to the beginning for the copy.
        drop(ictx);
        ictx = open_input(input)?;
    }

    let mut octx = ff::format::output_as(&output, "mp4")
        .map_err(|e| video_error(format!("cannot create the output: {e}")))?;
    let mut mapping: Vec<Option<usize>> = vec![None; ictx.nb_streams() as usize];
    let mut in_tbs = vec![ff::Rational(0, 1); ictx.nb_streams() as usize];
    let mut next = 0;
    for index in std::iter::once(Some(v_index))
        .chain(std::iter::once(a_index))
        .flatten()
    {
        let ist = ictx
            .stream(index)
            .ok_or_else(|| video_error("stream vanished"))?;
        let mut ost = octx
            .add_stream(ff::encoder::find(ff::codec::Id::None))
            .map_err(|e| video_error(format!("cannot add a stream: {e}")))?;
        ost.set_parameters(ist.parameters());
        ost.set_time_base(ist.time_base());
        // SAFETY: the output stream's parameters are owned by `octx`. A codec tag
        // from another container (Matroska) is not valid in MP4: let the muxer
        // choose.
        unsafe {
            (*ost.parameters().as_mut_ptr()).codec_tag = 0;
        }
        mapping[index] = Some(next);
        in_tbs[index] = ist.time_base();
        next += 1;
    }
    let mut opts = ff::Dictionary::new();
    opts.set("movflags", "+faststart");
    octx.write_header_with(opts)
        .map_err(|e| video_error(format!("cannot write the MP4 header: {e}")))?;
    let out_tbs: Vec<ff::Rational> = (0..next)
        .map(|i| {
            octx.stream(i)
                .map_or(ff::Rational(1, 90_000), |s| s.time_base())
        })
        .collect();

    let cut_us = cut_pts.map(|p| to_us(p, v_tb));
    let mut video_done = false;
    let mut audio_done = a_index.is_none();
    let mut packet = ff::Packet::empty();
    let mut last_us = 0i64;
    let mut video_packets = 0u64;
    while read_packet(&mut ictx, &mut packet, last_us)? {
        let index = packet.stream();
        let Some(Some(out_index)) = mapping.get(index).copied() else {
            continue;
        };
        let tb = in_tbs[index];
        if let Some(t) = packet.pts().or(packet.dts()) {
            last_us = to_us(t, tb);
        }
        if index == v_index {
            if video_done {
                continue;
            }
            if let (Some(cut), Some(pts)) = (cut_pts, packet.pts()) {
                if packet.is_key() && pts >= cut {
                    video_done = true;
                    if audio_done {
                        break;
                    }
                    continue;
                }
            }
            video_packets += 1;
        } else {
            if audio_done {
                continue;
            }
            if let (Some(cut), Some(pts)) = (cut_us, packet.pts()) {
                let end = to_us(pts + packet.duration().max(0), tb);
                if end > cut {
                    audio_done = true;
                    if video_done {
                        break;
                    }
                    continue;
                }
            }
        }
        packet.rescale_ts(tb, out_tbs[out_index]);
        packet.set_position(-1);
        packet.set_stream(out_index);
        packet
            .write_interleaved(&mut octx)
            .map_err(|e| video_error(format!("cannot write a packet: {e}")))?;
    }
    if video_packets == 0 {
        return Err(video_error("the video stream has no frames").into());
    }
    octx.write_trailer()
        .map_err(|e| video_error(format!("cannot finish the MP4: {e}")))?;
    Ok(())
}

/// The presentation time (stream time base) of the last keyframe whose distance
/// from the first frame lies in `[lo_us, hi_us]`. Reads packets only.
fn find_keyframe_cut(
    ictx: &mut ff::format::context::Input,
    v_index: usize,
    tb: ff::Rational,
    lo_us: u64,
    hi_us: u64,
) -> Result<i64, RemuxError> {
    let mut packet = ff::Packet::empty();
    let mut first: Option<i64> = None;
    let mut best = None;
    let mut last_us = 0;
    let (lo, hi) = (from_us(lo_us as i64, tb), from_us(hi_us as i64, tb));
    while read_packet(ictx, &mut packet, last_us)? {
        if packet.stream() != v_index {
            continue;
        }
        let Some(pts) = packet.pts() else { continue };
        last_us = to_us(pts, tb);
        let start = *first.get_or_insert(pts);
        let since = pts - start;
        if since > hi {
            if packet.is_key() {
                break;
            }
            continue;
        }
        if packet.is_key() && since >= lo {
            best = Some(pts);
        }
    }
    best.ok_or(RemuxError::NoKeyframe)
}
