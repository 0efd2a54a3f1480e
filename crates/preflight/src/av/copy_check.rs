//! Proof that a stream-copy cut decodes. The cut keeps video packets in decode
//! order up to a frame no kept frame depends on; this decodes what the cut can
//! have harmed, the output's last GOP (every earlier GOP is whole), and fails
//! unless each of its packets yields a frame with no decode error. The caller
//! then encodes the window instead of delivering the copy.

use std::path::Path;

use ffmpeg_next as ff;

use super::common::{
    is_damage, open_video, read_packet, to_us, video_decoder, video_error, FrameBudget,
};
use super::damage::{frame_is_damaged, PictureDamage};
use crate::error::FixError;
use crate::limits::DecodeLimits;

/// Decodes the video of `path` from its last keyframe to the end (decoder
/// flushed) and requires one clean frame per packet. Leading pictures of an
/// open GOP (shown before that keyframe) are left out of the count: they refer
/// to the GOP before, which a decoder starting at the keyframe drops.
pub(super) fn check_tail_decodes(path: &Path, limits: &DecodeLimits) -> Result<(), FixError> {
    let (mut ictx, v_index, tb) = open_video(path)?;
    let tail = last_gop(&mut ictx, v_index, tb)?;
    let Some(key_pts) = tail.first().and_then(|p| p.pts()) else {
        return Err(video_error("the copied video has no keyframe"));
    };
    let shown = |pts: Option<i64>| pts.is_none_or(|p| p >= key_pts);
    let expected = tail.iter().filter(|p| shown(p.pts())).count() as u64;

    // One thread: FFmpeg's frame-threaded decoder does not report a missing
    // reference found by one of its workers.
    let mut decoder = video_decoder(&ictx, v_index, 1, limits)?;
    // SAFETY: a field of the open decoder's own context, set before its first
    // packet. With it a missing reference is an error, not concealed.
    unsafe {
        (*decoder.as_mut_ptr()).err_recognition |= ff::ffi::AV_EF_EXPLODE;
    }
    let mut tally = TailTally {
        budget: FrameBudget::new(limits),
        damage: PictureDamage::default(),
        frames: 0,
        key_pts,
        tb,
    };
    let mut at_us = 0;
    for packet in &tail {
        if let Some(t) = packet.pts().or(packet.dts()) {
            at_us = to_us(t, tb);
        }
        if let Err(e) = decoder.send_packet(packet) {
            if is_damage(&e) {
                tally.damage.reject(at_us);
            }
        }
        tally.drain(&mut decoder, at_us)?;
    }
    // Flush: the decoder holds reordered frames until end of stream.
    let _ = decoder.send_eof();
    tally.drain(&mut decoder, at_us)?;
    tally.damage.check()?;
    if tally.frames < expected {
        return Err(video_error(format!(
            "the copied video's last {expected} frames gave only {} pictures: frames lack their references",
            tally.frames
        )));
    }
    Ok(())
}

/// The video packets from the last keyframe to the end, in decode order.
/// Bounded by the file: one GOP of compressed packets of an output just written.
fn last_gop(
    ictx: &mut ff::format::context::Input,
    v_index: usize,
    tb: ff::Rational,
) -> Result<Vec<ff::Packet>, FixError> {
    let mut tail = Vec::new();
    let mut packet = ff::Packet::empty();
    let mut last_us = 0;
    while read_packet(ictx, &mut packet, last_us)? {
        if packet.stream() != v_index {
            continue;
        }
        if let Some(t) = packet.pts().or(packet.dts()) {
            last_us = to_us(t, tb);
        }
        if packet.is_key() {
            tail.clear();
        }
        if !tail.is_empty() || packet.is_key() {
            tail.push(std::mem::replace(&mut packet, ff::Packet::empty()));
        }
    }
    Ok(tail)
}

struct TailTally {
    budget: FrameBudget,
    /// Packets rejected and frames flagged, all counted as rejected: any of
    /// them means the cut harmed the copy.
    damage: PictureDamage,
    /// Clean frames shown from the keyframe on.
    frames: u64,
    key_pts: i64,
    tb: ff::Rational,
}

impl TailTally {
    fn drain(&mut self, decoder: &mut ff::decoder::Video, at_us: i64) -> Result<(), FixError> {
        let mut frame = ff::frame::Video::empty();
        loop {
            match decoder.receive_frame(&mut frame) {
                Ok(()) => {}
                Err(e) if is_damage(&e) => {
                    // Noted; a decoder that keeps failing must not spin.
                    self.damage.reject(at_us);
                    return Ok(());
                }
                Err(_) => return Ok(()),
            }
            self.budget.take(&frame)?;
            let ts = frame.timestamp();
            if ts.is_some_and(|t| t < self.key_pts) {
                continue;
            }
            if frame_is_damaged(&frame) {
                self.damage.reject(ts.map_or(at_us, |t| to_us(t, self.tb)));
            } else {
                self.frames += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::check_tail_decodes;
    use crate::av::remux::{remux, RemuxAudio};
    use crate::limits::DecodeLimits;

    fn ffmpeg(args: &[&str]) {
        let out = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .output()
            .expect("ffmpeg runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// 4 s of H.264 in one GOP, decode order I P B B P B B ...: every P frame
    /// is referenced by the two B frames after it and by the next P frame.
    fn one_gop_clip(dir: &Path) -> PathBuf {
        let path = dir.join("gop.mp4");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=480x360:rate=25",
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-x264-params",
            "bframes=2:b-adapt=0:scenecut=0:keyint=250",
            "-pix_fmt",
            "yuv420p",
            path.to_str().unwrap(),
        ]);
        path
    }

    /// A copy of `clip` made with FFmpeg's `noise` filter, which drops or
    /// damages packets by their decode-order index `n`.
    fn spoiled(clip: &Path, name: &str, filter: &str) -> PathBuf {
        let path = clip.with_file_name(name);
        ffmpeg(&[
            "-i",
            clip.to_str().unwrap(),
            "-c",
            "copy",
            "-bsf:v",
            filter,
            path.to_str().unwrap(),
        ]);
        path
    }

    #[test]
    fn a_cut_that_keeps_every_reference_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let clip = one_gop_clip(dir.path());
        let limits = DecodeLimits::default();
        check_tail_decodes(&clip, &limits).expect("the whole clip decodes");
        let cut = dir.path().join("cut.mp4");
        assert!(remux(&clip, RemuxAudio::None, Some((2_000_000, 3_000_000)), &cut).is_ok());
        check_tail_decodes(&cut, &limits).expect("our own cut decodes");
    }

    #[test]
    fn frames_whose_reference_was_dropped_fail() {
        let dir = tempfile::tempdir().unwrap();
        let clip = one_gop_clip(dir.path());
        // Packet 91 is the P frame shown at 93: the B frames shown at 91 and
        // 92 and every later P frame refer to it.
        let cut = spoiled(&clip, "dropped.mp4", "noise=drop=eq(n\\,91)");
        let err = check_tail_decodes(&cut, &DecodeLimits::default())
            .expect_err("frames without their reference must not pass");
        assert!(err.to_string().contains("the picture is damaged"), "{err}");
    }

    #[test]
    fn damaged_last_packets_fail() {
        let dir = tempfile::tempdir().unwrap();
        let clip = one_gop_clip(dir.path());
        let cut = spoiled(&clip, "damaged.mp4", "noise=amount=if(gte(n\\,95)\\,3\\,0)");
        assert!(check_tail_decodes(&cut, &DecodeLimits::default()).is_err());
    }
}
