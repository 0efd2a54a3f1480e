//! Frames at chosen times, as small upright RGB pictures: what the content
//! analysis looks at in a video. One decode from the first time to the last
//! (after a seek to the keyframe before the first); each time takes the first
//! frame at or after it.

use std::path::Path;

use ff::software::scaling::{Context as Scaler, Flags};
use ffmpeg_next as ff;

use super::common::{
    is_damage, open_video, read_packet, start_time_us, to_us, video_decoder, video_error,
    FrameBudget,
};
use super::damage::PictureDamage;
use crate::error::FixError;
use crate::limits::DecodeLimits;

/// One sampled frame, upright (the rotation flag applied), 8-bit RGB.
#[derive(Debug, Clone)]
pub struct SampledFrame {
    /// The frame's time from the start of the file, microseconds.
    pub t_us: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes, rows top to bottom.
    pub rgb: Vec<u8>,
}

/// Frame threads of a sampling decode that runs alone (a video without a
/// keyframe to start a second decode at): the decode is the longest part of
/// a video's analysis (a 30 s 1080p clip: about 2.5 CPU-s against 2 for its
/// model runs), so it sets the time unless it too is shared out. One, two
/// and four threads gave the same time on 2 cores within the noise (medians
/// of 6 interleaved runs each 2.9–3.2 s); four used the most CPU (5.1
/// CPU-s against 4.7 with one: frame threading costs CPU).
pub const DECODE_THREADS: usize = 2;

/// At most this many packets are read after a seek looking for the video's
/// next one (the others are audio, subtitles, data).
const PACKETS_AFTER_SEEK: usize = 1000;

/// Demuxers whose seeks go by the file's index of keyframes (MP4/MOV,
/// Matroska/WebM, AVI), as FFmpeg names them: a decode started from a seek
/// there starts on the keyframe the index names. Elsewhere (MPEG-TS, raw
/// streams) a seek may land between keyframes, and the decode would start
/// on damage.
const INDEXED_DEMUXERS: [&str; 3] = ["mov", "matroska", "avi"];

/// The keyframes of the video at `path` nearest to `t_us` (microseconds from
/// the start of the file): the last at or before it and the first after it,
/// as the container's index gives them to a seek. Where a second decode of
/// the file can start. Nothing for a container without such an index (see
/// [`INDEXED_DEMUXERS`]), nor on a side where the seek lands on a packet
/// not marked as a keyframe.
pub fn keyframes_around(path: &Path, t_us: u64) -> Result<[Option<u64>; 2], FixError> {
    let (mut ictx, v_index, tb) = open_video(path)?;
    let mut around = [None, None];
    let demuxer = ictx.format().name().to_string();
    if !demuxer.split(',').any(|n| INDEXED_DEMUXERS.contains(&n)) {
        return Ok(around);
    }
    let origin_us = start_time_us(&ictx);
    let target = origin_us + t_us as i64;
    if ictx.seek(target, ..target).is_ok() {
        around[0] = next_keyframe_us(&mut ictx, v_index, tb, origin_us)?;
    }
    if ictx.seek(target, target..).is_ok() {
        around[1] = next_keyframe_us(&mut ictx, v_index, tb, origin_us)?;
    }
    Ok(around)
}

/// The time of the next video packet read, when it is a keyframe with a
/// time at or after the start of the file.
fn next_keyframe_us(
    ictx: &mut ff::format::context::Input,
    v_index: usize,
    tb: ff::Rational,
    origin_us: i64,
) -> Result<Option<u64>, FixError> {
    let mut packet = ff::Packet::empty();
    for _ in 0..PACKETS_AFTER_SEEK {
        if !read_packet(ictx, &mut packet, 0)? {
            return Ok(None);
        }
        if packet.stream() != v_index {
            continue;
        }
        let at = packet.pts().map(|t| to_us(t, tb) - origin_us);
        return Ok(at.filter(|&t| packet.is_key() && t >= 0).map(|t| t as u64));
    }
    Ok(None)
}

/// Decodes the video at `path` and hands `each` the frames at `times_us`
/// (sorted, microseconds from the start of the file) as soon as they are
/// decoded, scaled to at most `max_side` on their long side and turned by
/// `rotation` (clockwise degrees, as the probe reports it). `threads`: the
/// decoder's frame threads.
pub fn sample_frames(
    path: &Path,
    times_us: &[u64],
    (rotation, max_side): (u16, u32),
    limits: &DecodeLimits,
    threads: usize,
    each: &mut dyn FnMut(SampledFrame),
) -> Result<(), FixError> {
    let Some(&first) = times_us.first() else {
        return Ok(());
    };
    let (mut ictx, v_index, tb) = open_video(path)?;
    let origin_us = start_time_us(&ictx);
    if first > 1_000_000 {
        // To the keyframe before the first time; decoding runs forward from it.
        let target = origin_us + first as i64;
        ictx.seek(target, ..target)
            .map_err(|e| video_error(format!("cannot seek to {:.2} s: {e}", first as f64 / 1e6)))?;
    }
    let mut decoder = video_decoder(&ictx, v_index, threads.max(1), limits)?;
    // No deblocking: a quarter of a one-thread H.264 decode (the ffmpeg CLI
    // on the 30 s 1080p benchmark clip: 2.85 -> 2.05 CPU-s). The frames are
    // only looked at, shrunk to at most 640 px, and shrunk so they differ
    // from the deblocked ones by 45 dB PSNR or more in every frame (OpenCV's
    // vtest.avi and Megamind.avi as x264 with 250-frame groups: the error
    // does not pile up within a group).
    decoder.skip_loop_filter(ff::codec::discard::Discard::All);
    let mut picker = FramePicker::new(times_us, origin_us, tb, rotation, max_side);
    let mut budget = FrameBudget::new(limits);
    // Packets the decoder refuses fail the file, as in every other decode:
    // the analysis would look at smeared frames.
    let mut damage = PictureDamage::default();
    let mut packet = ff::Packet::empty();
    let mut frame = ff::frame::Video::empty();
    let mut last_us = 0;
    let mut drain = |decoder: &mut ff::decoder::Video,
                     picker: &mut FramePicker,
                     damage: &mut PictureDamage,
                     at_us: i64|
     -> Result<(), FixError> {
        loop {
            match decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    budget.take(&frame)?;
                    damage.frame(&frame, at_us);
                    picker.offer(&frame)?;
                }
                Err(e) if is_damage(&e) => {
                    damage.reject(at_us);
                    return Ok(());
                }
                Err(_) => return Ok(()),
            }
        }
    };
    while !picker.done() && read_packet(&mut ictx, &mut packet, last_us)? {
        if packet.stream() != v_index {
            continue;
        }
        if let Some(t) = packet.pts().or(packet.dts()) {
            last_us = to_us(t, tb) - origin_us;
        }
        damage.packet(last_us, packet.is_key());
        // A frame no other frame refers to, shown before the next wanted
        // time, can never be picked: the decoder may skip it (about a
        // quarter of a 1080p H.264 decode). Only with a real pts: a dts is
        // earlier than the frame's time.
        let useless = packet.pts().is_some() && !picker.could_pick(last_us);
        decoder.skip_frame(if useless {
            ff::codec::discard::Discard::NonReference
        } else {
            ff::codec::discard::Discard::Default
        });
        if let Err(e) = decoder.send_packet(&packet) {
            if is_damage(&e) {
                damage.reject(last_us);
                continue;
            }
        }
        drain(&mut decoder, &mut picker, &mut damage, last_us)?;
        picker.frames.drain(..).for_each(&mut *each);
    }
    if !picker.done() {
        let _ = decoder.send_eof();
        drain(&mut decoder, &mut picker, &mut damage, last_us)?;
    }
    damage.check()?;
    picker.frames.drain(..).for_each(each);
    Ok(())
}

/// Keeps, of the frames offered in time order, the first at or after each
/// wanted time, as a small upright RGB picture. The cut scan carries one when
/// `check --deep --content` needs both from one decode.
pub struct FramePicker {
    times: Vec<u64>,
    next: usize,
    origin_us: i64,
    tb: ff::Rational,
    rotation: u16,
    max_side: u32,
    scaler: Option<(Scaler, ff::format::Pixel, u32, u32)>,
    /// The frames kept so far.
    pub frames: Vec<SampledFrame>,
}

impl FramePicker {
    /// A picker for `times` (sorted, microseconds from the start of the file)
    /// in a stream whose timestamps are in `tb` and start at `origin_us`.
    pub fn new(
        times: &[u64],
        origin_us: i64,
        tb: ff::Rational,
        rotation: u16,
        max_side: u32,
    ) -> Self {
        FramePicker {
            times: times.to_vec(),
            next: 0,
            origin_us,
            tb,
            rotation,
            max_side,
            scaler: None,
            frames: Vec::new(),
        }
    }

    /// Every wanted time has its frame.
    pub fn done(&self) -> bool {
        self.next >= self.times.len()
    }

    /// Whether a frame shown at `t_us` (from the start of the file) could be
    /// picked: some wanted time is at or before it.
    pub fn could_pick(&self, t_us: i64) -> bool {
        self.times
            .get(self.next)
            .is_some_and(|&want| t_us >= 0 && t_us as u64 >= want)
    }

    /// The next decoded frame.
    pub fn offer(&mut self, frame: &ff::frame::Video) -> Result<(), FixError> {
        let Some(ts) = frame.timestamp() else {
            return Ok(());
        };
        let t_us = (to_us(ts, self.tb) - self.origin_us).max(0) as u64;
        if self.done() || t_us < self.times[self.next] || frame.width() == 0 || frame.height() == 0
        {
            return Ok(());
        }
        // One frame may serve several times (a clip with gaps): it is the
        // picture shown at each, and is handed over once for each, so that
        // every time has its sample and the samples (and the groups they are
        // analysed in) are the same however the window is cut into parts.
        let mut served = 0;
        while !self.done() && t_us >= self.times[self.next] {
            self.next += 1;
            served += 1;
        }
        let picture = self.picture(frame, t_us)?;
        for _ in 1..served {
            self.frames.push(picture.clone());
        }
        self.frames.push(picture);
        Ok(())
    }

    fn picture(&mut self, frame: &ff::frame::Video, t_us: u64) -> Result<SampledFrame, FixError> {
        let (fmt, w, h) = (frame.format(), frame.width(), frame.height());
        let long = w.max(h).max(1);
        let k = (f64::from(self.max_side) / f64::from(long)).min(1.0);
        let ow = ((f64::from(w) * k).round() as u32).max(2);
        let oh = ((f64::from(h) * k).round() as u32).max(2);
        let stale =
            !matches!(&self.scaler, Some((_, f, sw, sh)) if *f == fmt && *sw == w && *sh == h);
        if stale {
            let scaler = Scaler::get(fmt, w, h, ff::format::Pixel::RGB24, ow, oh, Flags::AREA)
                .map_err(|e| video_error(format!("cannot scale the picture: {e}")))?;
            self.scaler = Some((scaler, fmt, w, h));
        }
        let mut rgb = ff::frame::Video::empty();
        if let Some((scaler, ..)) = self.scaler.as_mut() {
            scaler
                .run(frame, &mut rgb)
                .map_err(|e| video_error(format!("cannot scale the picture: {e}")))?;
        }
        let (ow, oh) = (rgb.width(), rgb.height());
        let stride = rgb.stride(0);
        let row = ow as usize * 3;
        let mut data = Vec::with_capacity(row * oh as usize);
        for y in 0..oh as usize {
            let line = rgb
                .data(0)
                .get(y * stride..y * stride + row)
                .ok_or_else(|| video_error("the scaled picture is shorter than its size"))?;
            data.extend_from_slice(line);
        }
        let (width, height, rgb) = rotate(ow, oh, data, self.rotation);
        Ok(SampledFrame {
            t_us,
            width,
            height,
            rgb,
        })
    }
}

/// RGB pixels turned clockwise by `rotation` degrees (0, 90, 180, 270).
fn rotate(w: u32, h: u32, data: Vec<u8>, rotation: u16) -> (u32, u32, Vec<u8>) {
    let (w, h) = (w as usize, h as usize);
    let (ow, oh) = match rotation {
        90 | 270 => (h, w),
        180 => (w, h),
        _ => return (w as u32, h as u32, data),
    };
    let mut out = vec![0u8; data.len()];
    for y in 0..oh {
        for x in 0..ow {
            // Source pixel of output pixel (x, y).
            let (sx, sy) = match rotation {
                90 => (y, h - 1 - x),
                180 => (w - 1 - x, h - 1 - y),
                _ => (w - 1 - y, x),
            };
            let (o, s) = ((y * ow + x) * 3, (sy * w + sx) * 3);
            out[o..o + 3].copy_from_slice(&data[s..s + 3]);
        }
    }
    (ow as u32, oh as u32, out)
}

#[cfg(test)]
mod tests {
    use super::{keyframes_around, rotate, sample_frames, DECODE_THREADS};
    use crate::limits::DecodeLimits;

    /// A fixture video's path.
    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/videos")
            .join(name)
    }

    /// ffprobe's `entries` of the first video stream, one CSV line each.
    fn ffprobe_lines(path: &std::path::Path, entries: &str) -> Vec<String> {
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .args([entries, "-of", "csv=p=0"])
            .arg(path)
            .output()
            .expect("ffprobe");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The decoder skips frames nothing refers to before each wanted time;
    /// the frames picked must stay the first shown at or after each time,
    /// as ffprobe lists them (a clip with B-frames, times that land on them).
    #[test]
    fn skipping_unreferenced_frames_picks_the_same_frames() {
        let path = fixture("medium_12s_480x854.mp4");
        let mut shown: Vec<u64> = ffprobe_lines(&path, "frame=best_effort_timestamp_time")
            .iter()
            .filter_map(|l| l.trim().trim_end_matches(',').parse::<f64>().ok())
            .map(|s| (s * 1e6).round() as u64)
            .collect();
        shown.sort_unstable();
        assert!(shown.len() > 200, "ffprobe listed {} frames", shown.len());
        let times: Vec<u64> = (0..32).map(|i| 90_000 + i * 370_000).collect();
        let mut want: Vec<u64> = times
            .iter()
            .filter_map(|&t| shown.iter().copied().find(|&f| f + 1 >= t))
            .collect();
        want.dedup();
        let mut got = Vec::new();
        let limits = DecodeLimits::default();
        sample_frames(&path, &times, (0, 64), &limits, DECODE_THREADS, &mut |f| {
            got.push(f.t_us)
        })
        .expect("sampled");
        assert_eq!(got.len(), want.len(), "got {got:?}\nwant {want:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(g.abs_diff(*w) <= 1_000, "got {got:?}\nwant {want:?}");
        }
    }

    /// The keyframes a seek finds around a time are the ones ffprobe lists:
    /// the last at or before it and the first at or after it.
    #[test]
    fn keyframes_around_a_time_are_the_ones_ffprobe_lists() {
        for name in ["long_45s_360x640.mp4", "cuts_3_shots_9s.mp4"] {
            let path = fixture(name);
            let mut keys: Vec<u64> = ffprobe_lines(&path, "packet=pts_time,flags")
                .iter()
                .filter_map(|l| l.split_once(','))
                .filter(|(_, flags)| flags.starts_with('K'))
                .filter_map(|(t, _)| t.parse::<f64>().ok())
                .map(|s| (s * 1e6).round() as u64)
                .collect();
            keys.sort_unstable();
            assert!(keys.len() >= 3, "{name}: keyframes {keys:?}");
            let last = *keys.last().unwrap();
            let probes = [
                keys[1] - 300_000,
                keys[1],
                keys[1] + 300_000,
                last + 500_000,
            ];
            for t in probes {
                let [before, after] = keyframes_around(&path, t).expect("seek");
                let near = |got: Option<u64>, want: Option<u64>| match (got, want) {
                    (Some(g), Some(w)) => g.abs_diff(w) <= 1_000,
                    (g, w) => g == w,
                };
                let want_before = keys.iter().rev().copied().find(|&k| k <= t);
                let want_after = keys.iter().copied().find(|&k| k >= t);
                assert!(
                    near(before, want_before) && near(after, want_after),
                    "{name} at {t}: got {before:?} {after:?}, ffprobe's {want_before:?} {want_after:?}"
                );
            }
        }
    }

    #[test]
    fn a_quarter_turn_clockwise_moves_the_top_left_to_the_top_right() {
        // 2×1: red, green.
        let data = vec![255, 0, 0, 0, 255, 0];
        let (w, h, out) = rotate(2, 1, data, 90);
        assert_eq!((w, h), (1, 2));
        // Red (was left) is on top after turning clockwise.
        assert_eq!(&out[..3], &[255, 0, 0]);
        let (_, _, back) = rotate(2, 1, vec![255, 0, 0, 0, 255, 0], 180);
        assert_eq!(&back[..3], &[0, 255, 0]);
    }
}
