//! Damage in one stream, made on purpose (issue 19): clips written by the
//! ffmpeg CLI, then damaged by byte edits at the audio or video packets
//! `ffprobe -show_packets` locates. Damaged sound must not sink a good
//! picture: the repair keeps the sound, as long as the picture and in sync,
//! with silence where it was damaged, and says so (`audio.damaged`); a
//! damaged picture still fails, and the message says it is the picture.
//!
//! Every output is read back with ffprobe and the ffmpeg CLI, and set beside
//! what `ffmpeg -i damaged -c:v libx264 -c:a aac out.mp4` makes of the same
//! file: each stream's duration, and the sync of a beep the sound carries
//! with a white flash the picture shows at the same instant, every second.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::util::{bin, ffmpeg, ffprobe, files_below, json_lines, preflight};
use serde_json::Value;

/// A 440 Hz tone with a louder 1 kHz beep for the first 100 ms of every
/// second: the tone makes every audio frame carry sound (a lost one is a
/// hole), the beeps are the sound's clock.
const SOUND: &str = "aevalsrc='0.1*sin(2*PI*440*t)+if(lt(mod(t\\,1)\\,0.1)\\,0.6*sin(2*PI*1000*t)\\,0)':s=48000:c=stereo";

/// The test picture, white for the first 100 ms of every second: the
/// picture's clock, in step with the beeps.
fn picture(size: &str) -> String {
    format!(
        "testsrc2=size={size}:rate=25,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,0.1)'"
    )
}

/// `seconds` of `pic` and the beeping sound, encoded with `codecs` (then
/// the muxer's options) into `dir/name`.
fn clip(dir: &Path, name: &str, seconds: u32, pic: &str, codecs: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let secs = seconds.to_string();
    let mut args = vec!["-f", "lavfi", "-i", &pic, "-f", "lavfi", "-i", SOUND];
    args.extend_from_slice(&["-t", &secs]);
    args.extend_from_slice(codecs);
    let out = path.to_str().unwrap().to_string();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// MPEG-4 Part 2 video and AC-3 sound in AVI, a keyframe every second.
fn avi(dir: &Path, name: &str, seconds: u32) -> PathBuf {
    avi_of(dir, name, seconds, &picture("480x360"))
}

/// As [`avi`], with the picture `pic`.
fn avi_of(dir: &Path, name: &str, seconds: u32, pic: &str) -> PathBuf {
    clip(
        dir,
        name,
        seconds,
        pic,
        &[
            "-c:v", "mpeg4", "-q:v", "5", "-g", "25", "-c:a", "ac3", "-b:a", "128k",
        ],
    )
}

/// H.264 and AAC, a keyframe every second; `format` picks the container
/// (an MP4 from the ffmpeg CLI has its `moov` last: a remux).
fn h264_aac(dir: &Path, name: &str, format: &str) -> PathBuf {
    clip(
        dir,
        name,
        5,
        &picture("480x360"),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-c:a",
            "aac",
            "-f",
            format,
        ],
    )
}

/// One packet as `ffprobe -show_packets` lists it.
#[derive(Debug, Clone)]
struct Packet {
    pts: f64,
    /// Byte offset of its data (MPEG-TS: of the transport packet its PES
    /// starts in; absent for frames that share a PES).
    pos: Option<usize>,
    size: usize,
}

fn packets(path: &Path, stream: &str) -> Vec<Packet> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream])
        .args(["-show_entries", "packet=pts_time,pos,size", "-of", "json"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe JSON");
    let field = |p: &Value, k: &str| p[k].as_str().and_then(|s| s.parse::<f64>().ok());
    v["packets"]
        .as_array()
        .expect("packets")
        .iter()
        .map(|p| Packet {
            pts: field(p, "pts_time").unwrap_or(f64::NAN),
            pos: field(p, "pos").map(|x| x as usize),
            size: field(p, "size").unwrap_or(0.0) as usize,
        })
        .collect()
}

/// A copy of `input` named `name`, with `edit` applied to its bytes.
fn damaged(input: &Path, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(input).unwrap();
    edit(&mut bytes);
    let path = input.with_file_name(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Overwrites `bytes[from..to]` with a pattern no codec reads as valid.
fn overwrite(bytes: &mut [u8], from: usize, to: usize) {
    bytes[from..to].fill(0xA5);
}

/// Halves an AVI chunk: the size in its header (the 4 bytes before the data)
/// says half, and the rest of it is left behind as junk, as a cut-out clip's
/// first or last frame often is.
fn truncate_avi_chunk(bytes: &mut [u8], p: &Packet) {
    let at = p.pos.unwrap() - 4;
    let half = (p.size / 2) as u32;
    bytes[at..at + 4].copy_from_slice(&half.to_le_bytes());
}

/// Overwrites the AAC frame at the start of the MPEG-TS packet at `pos`,
/// after its ADTS header (kept, so the frame is found and its decoder
/// rejects it), to the end of that 188-byte transport packet.
fn overwrite_ts_frame(bytes: &mut [u8], pos: usize) {
    let ts = &bytes[pos..pos + 188];
    let adts = ts
        .windows(2)
        .position(|w| w[0] == 0xFF && w[1] & 0xF6 == 0xF0)
        .expect("an ADTS header in the transport packet");
    overwrite(bytes, pos + adts + 7, pos + 188);
}

/// Truncates audio sample `k` of an MP4 to half its size in the sample size
/// table (`stsz`) of the track whose sizes are `sizes`: the demuxer then
/// reads half a frame. Pick a sample that ends its chunk, so that the next
/// one is still read from where it is.
fn truncate_mp4_sample(bytes: &mut [u8], sizes: &[usize], k: usize) {
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(4).position(|w| w == b"stsz") {
        let table = at + found + 4 + 12; // version+flags, sample size, count
        let count = u32::from_be_bytes(bytes[table - 4..table].try_into().unwrap()) as usize;
        let entry = |i: usize| table + 4 * i;
        let matches = count == sizes.len()
            && (0..count).all(|i| {
                u32::from_be_bytes(bytes[entry(i)..entry(i) + 4].try_into().unwrap()) as usize
                    == sizes[i]
            });
        if matches {
            let half = (sizes[k] / 2) as u32;
            bytes[entry(k)..entry(k) + 4].copy_from_slice(&half.to_be_bytes());
            return;
        }
        at += found + 4;
    }
    panic!("no stsz table with the audio track's sizes");
}

/// What the ffmpeg CLI makes of `input`: the yardstick. (`ultrafast` only
/// saves CI time: it changes neither durations nor sync.)
fn ffmpeg_cli(input: &Path) -> PathBuf {
    let out = input.with_extension("ffmpeg.mp4");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    ffmpeg(&[
        "-i",
        i,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        o,
    ]);
    out
}

/// `preflight fix --json --out OUT ARGS INPUT`: its line, and how long it took.
fn fix(input: &Path, out: &Path, args: &[&str]) -> (Value, f64) {
    let started = Instant::now();
    let output = Command::new(bin())
        .args(["fix", "--json", "--out"])
        .arg(out)
        .args(args)
        .arg(input)
        .output()
        .expect("run preflight");
    let seconds = started.elapsed().as_secs_f64();
    let lines = json_lines(&output);
    assert_eq!(
        lines.len(),
        1,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (lines[0].clone(), seconds)
}

fn output_of(line: &Value) -> PathBuf {
    assert_ne!(line["action"], "failed", "{line}");
    PathBuf::from(line["output"].as_str().unwrap())
}

/// The advisories of a `fix --json` or `check --json` line with this rule.
fn warnings<'a>(line: &'a Value, rule: &str) -> Vec<&'a str> {
    line["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["rule"] == rule)
        .map(|w| w["message"].as_str().unwrap())
        .collect()
}

/// Duration of the video and of the audio stream, as ffprobe reads them
/// (`None`: no such stream).
fn durations(path: &Path) -> (Option<f64>, Option<f64>) {
    let p = ffprobe(path);
    let of = |kind: &str| {
        p["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["codec_type"] == kind)
            .map(|s| s["duration"].as_str().unwrap().parse::<f64>().unwrap())
    };
    (of("video"), of("audio"))
}

fn codec(path: &Path, kind: &str) -> Option<String> {
    ffprobe(path)["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .map(|s| s["codec_name"].as_str().unwrap().to_string())
}

/// The sound as the ffmpeg CLI decodes it: mono, 48 kHz, placed on the
/// file's own timeline from 0 (`-copyts`; a gap in its timestamps becomes
/// silence), so that sample `n` is at `n / 48000` s as `flash_onsets` reads
/// the picture's times.
fn samples(path: &Path) -> Vec<i16> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-copyts", "-i"])
        .arg(path)
        .args([
            "-map",
            "0:a",
            "-af",
            "aresample=async=1:min_hard_comp=0.001:first_pts=0",
        ])
        .args(["-ac", "1", "-ar", "48000", "-f", "s16le", "-"])
        .output()
        .expect("run ffmpeg");
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// When each beep starts (seconds): the first loud sample after at least
/// half a second without one.
fn beep_onsets(pcm: &[i16]) -> Vec<f64> {
    let mut onsets = Vec::new();
    let mut quiet = 0usize;
    for (i, &s) in pcm.iter().enumerate() {
        if s.unsigned_abs() > 10_000 {
            if quiet > 24_000 {
                onsets.push(i as f64 / 48_000.0);
            }
            quiet = 0;
        } else {
            quiet += 1;
        }
    }
    onsets
}

/// When each flash starts (seconds): the first white frame after one that
/// is not, by the frames' mean luma as FFmpeg's `signalstats` measures it.
fn flash_onsets(path: &Path) -> Vec<f64> {
    let graph = format!("movie={},signalstats", path.display());
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-i", &graph])
        .args([
            "-show_entries",
            "frame=pts_time:frame_tags=lavfi.signalstats.YAVG",
        ])
        .args(["-of", "csv=p=0"])
        .output()
        .expect("run ffprobe");
    let mut onsets = Vec::new();
    let mut was_white = true;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.split(',').map(|x| x.trim().parse::<f64>());
        let (Some(Ok(t)), Some(Ok(luma))) = (f.next(), f.next()) else {
            continue;
        };
        let white = luma > 200.0;
        if white && !was_white {
            onsets.push(t);
        }
        was_white = white;
    }
    onsets
}

/// The sound's lead over the picture at each flash (ms; positive: the beep
/// comes late), the beep matched to the flash within 300 ms.
fn sync_ms(path: &Path) -> Vec<f64> {
    let beeps = beep_onsets(&samples(path));
    flash_onsets(path)
        .iter()
        .filter_map(|&f| {
            beeps
                .iter()
                .find(|&&b| (b - f).abs() < 0.3)
                .map(|&b| (b - f) * 1000.0)
        })
        .collect()
}

/// Stretches of near-silence of 5 ms or more (start in seconds, length in
/// ms): the tone fills everything else.
fn holes(pcm: &[i16]) -> Vec<(f64, f64)> {
    let mut holes = Vec::new();
    let mut run = 0usize;
    for (i, &s) in pcm.iter().enumerate() {
        if s.unsigned_abs() < 300 {
            run += 1;
            continue;
        }
        if run >= 240 {
            holes.push(((i - run) as f64 / 48_000.0, run as f64 / 48.0));
        }
        run = 0;
    }
    holes
}

/// Our output and the ffmpeg CLI's, side by side with the source's sync:
/// printed for the record, and checked. The sound is AAC, as long as the
/// picture within a frame (25 fps), at least as long as the ffmpeg CLI's
/// less a frame; the picture as long as the ffmpeg CLI's within two frames;
/// and the sound is as in step with the picture as in the source (within
/// 3 ms: a lost AAC frame is 21 ms, AC-3 32 ms) at every flash.
fn compare_with_ffmpeg(name: &str, source: &Path, ours: &Path, seconds: f64) {
    let theirs = ffmpeg_cli(source);
    let (ov, oa) = durations(ours);
    let (tv, ta) = durations(&theirs);
    let (ov, oa) = (ov.unwrap(), oa.expect("our output keeps its sound"));
    let (tv, ta) = (tv.unwrap(), ta.unwrap_or(0.0));
    let (s_src, s_ours, s_theirs) = (sync_ms(source), sync_ms(ours), sync_ms(&theirs));
    eprintln!(
        "{name}: preflight {seconds:.2} s, video {ov:.3} s, audio {oa:.3} s, sync {s_ours:.1?} ms | \
         ffmpeg CLI video {tv:.3} s, audio {ta:.3} s, sync {s_theirs:.1?} ms | source sync {s_src:.1?} ms"
    );
    assert_eq!(codec(ours, "audio").as_deref(), Some("aac"), "{name}");
    assert!(
        (oa - ov).abs() <= 0.04,
        "{name}: audio {oa} s, video {ov} s"
    );
    assert!(
        oa >= ta - 0.04,
        "{name}: audio {oa} s, the ffmpeg CLI's {ta} s"
    );
    assert!(
        (ov - tv).abs() <= 0.08,
        "{name}: video {ov} s, the ffmpeg CLI's {tv} s"
    );
    assert!(s_src.len() >= 3, "{name}: source sync {s_src:?}");
    assert_eq!(s_ours.len(), s_src.len(), "{name}: {s_ours:?} vs {s_src:?}");
    for (o, s) in s_ours.iter().zip(&s_src) {
        assert!(
            (o - s).abs() <= 3.0,
            "{name}: sync {s_ours:?} ms, source {s_src:?} ms"
        );
    }
}

/// `preflight check --json` on a repaired file: compliant.
fn compliant(path: &Path, provider: &str) {
    let out = preflight([
        "check",
        "--json",
        "--provider",
        provider,
        path.to_str().unwrap(),
    ]);
    let line = &json_lines(&out)[0];
    assert_eq!(line["ok"], true, "{line}");
}

/// `preflight check --deep --json` on one file: its line.
fn check_deep(path: &Path) -> Value {
    let out = preflight(["check", "--deep", "--json", path.to_str().unwrap()]);
    json_lines(&out).remove(0)
}

#[test]
fn avi_with_a_truncated_first_ac3_frame_keeps_its_sound() {
    // The case: an incomplete AC-3 frame at the very start of the
    // sound of an MPEG-4 AVI, fixed for novita.
    let dir = tempfile::tempdir().unwrap();
    let clean = avi(dir.path(), "clean.avi", 5);
    let first = packets(&clean, "a")[0].clone();
    let input = damaged(&clean, "first_cut.avi", |b| truncate_avi_chunk(b, &first));

    let deep = check_deep(&input);
    assert_eq!(
        warnings(&deep, "audio.damaged"),
        ["the sound is damaged at 0.00 s (1 frame; fix replaces it with silence)"],
        "{deep}"
    );

    let out = dir.path().join("out");
    let (line, seconds) = fix(&input, &out, &["--provider", "novita"]);
    assert_eq!(line["action"], "reencoded", "{line}");
    assert_eq!(
        warnings(&line, "audio.damaged"),
        ["the sound is damaged at 0.00 s (1 frame, replaced with silence)"],
        "{line}"
    );
    let o = output_of(&line);
    compliant(&o, "novita");
    compare_with_ffmpeg("avi, first AC-3 frame truncated", &input, &o, seconds);
}

#[test]
fn avi_with_an_overwritten_last_ac3_frame_keeps_its_sound() {
    let dir = tempfile::tempdir().unwrap();
    let clean = avi(dir.path(), "clean.avi", 5);
    let last = packets(&clean, "a").last().unwrap().clone();
    let at = last.pos.unwrap();
    let input = damaged(&clean, "last_bad.avi", |b| {
        overwrite(b, at + 8, at + last.size)
    });
    let out = dir.path().join("out");
    let (line, seconds) = fix(&input, &out, &["--provider", "novita"]);
    assert_eq!(line["action"], "reencoded", "{line}");
    let said = warnings(&line, "audio.damaged");
    assert!(
        said.len() == 1
            && said[0].starts_with(&format!(
                "the sound is damaged at {:.2} s (1 frame,",
                last.pts
            )),
        "{line}"
    );
    let o = output_of(&line);
    compliant(&o, "novita");
    compare_with_ffmpeg("avi, last AC-3 frame overwritten", &input, &o, seconds);
}

#[test]
fn mpeg_ts_with_an_overwritten_middle_aac_frame_is_remuxed_with_its_sound() {
    let dir = tempfile::tempdir().unwrap();
    let clean = h264_aac(dir.path(), "clean.ts", "mpegts");
    // The middle frame among those that start a PES (only those have a
    // position), away from a beep's start.
    let audio = packets(&clean, "a");
    let origin = audio[0].pts;
    let frame = audio
        .iter()
        .filter(|p| p.pos.is_some() && p.pts - origin > 2.3)
        .find(|p| (p.pts - origin).fract() > 0.3)
        .unwrap()
        .clone();
    let input = damaged(&clean, "mid_bad.ts", |b| {
        overwrite_ts_frame(b, frame.pos.unwrap())
    });

    let out = dir.path().join("out");
    let (line, seconds) = fix(&input, &out, &[]);
    // The picture is copied; only the sound is encoded again.
    assert_eq!(line["action"], "remuxed", "{line}");
    // The output starts at the first video frame.
    let at = frame.pts - packets(&input, "v")[0].pts;
    let said = warnings(&line, "audio.damaged");
    assert!(
        said.len() == 1 && said[0].contains("(1 frame, replaced with silence)"),
        "{line}"
    );
    let o = output_of(&line);
    assert_eq!(codec(&o, "video").as_deref(), Some("h264"));
    compliant(&o, "kling");
    compare_with_ffmpeg("mpeg-ts, middle AAC frame overwritten", &input, &o, seconds);
    // Where the frame was, the tone stops for about one AAC frame (21 ms).
    let hole = holes(&samples(&o));
    assert!(
        hole.iter()
            .any(|&(t, ms)| (t - at).abs() < 0.06 && (10.0..=45.0).contains(&ms)),
        "no hole of one frame near {at:.3} s: {hole:?}"
    );
}

#[test]
fn mp4_with_a_truncated_last_aac_frame_is_remuxed_with_its_sound() {
    let dir = tempfile::tempdir().unwrap();
    let clean = h264_aac(dir.path(), "clean.mp4", "mp4");
    let audio = packets(&clean, "a");
    let sizes: Vec<usize> = audio.iter().map(|p| p.size).collect();
    // The last full frame that ends its chunk (the very last packet is the
    // few bytes of the encoder's tail).
    let k = (0..audio.len() - 1)
        .rev()
        .find(|&i| {
            audio[i].size > 100
                && audio[i].pos.unwrap() + audio[i].size != audio[i + 1].pos.unwrap()
        })
        .unwrap();
    let input = damaged(&clean, "last_cut.mp4", |b| {
        truncate_mp4_sample(b, &sizes, k)
    });

    let out = dir.path().join("out");
    let (line, seconds) = fix(&input, &out, &[]);
    assert_eq!(line["action"], "remuxed", "{line}");
    let said = warnings(&line, "audio.damaged");
    assert!(
        said.len() == 1
            && said[0].starts_with(&format!(
                "the sound is damaged at {:.2} s (1 frame,",
                audio[k].pts
            )),
        "{line}"
    );
    let o = output_of(&line);
    compliant(&o, "kling");
    compare_with_ffmpeg("mp4, last AAC frame truncated", &input, &o, seconds);
}

#[test]
fn mp4_whose_sound_is_mostly_unreadable_keeps_its_picture_without_sound() {
    let dir = tempfile::tempdir().unwrap();
    let clean = h264_aac(dir.path(), "clean.mp4", "mp4");
    let audio = packets(&clean, "a");
    // Two frames in three, from the first, overwritten after their first two bytes.
    let input = damaged(&clean, "mostly_bad.mp4", |b| {
        for p in audio.iter().skip(1).filter(|p| p.size > 4).step_by(3) {
            let at = p.pos.unwrap();
            overwrite(b, at + 2, at + p.size);
        }
        for p in audio.iter().skip(2).filter(|p| p.size > 4).step_by(3) {
            let at = p.pos.unwrap();
            overwrite(b, at + 2, at + p.size);
        }
    });
    let out = dir.path().join("out");
    let (line, _) = fix(&input, &out, &[]);
    assert_eq!(line["action"], "remuxed", "{line}");
    let said = warnings(&line, "audio.damaged");
    assert!(
        said.len() == 1 && said[0].ends_with("cannot be decoded): left out"),
        "{line}"
    );
    let o = output_of(&line);
    let (v, a) = durations(&o);
    assert!(a.is_none(), "{}: the sound should be left out", o.display());
    assert!((v.unwrap() - 5.0).abs() <= 0.04, "{v:?}");
    compliant(&o, "kling");
}

#[test]
fn avi_whose_sound_is_mostly_unreadable_is_reencoded_without_sound() {
    // The re-encode writes the sound as it goes; once it is found mostly
    // damaged, the sound is taken out of the output.
    let dir = tempfile::tempdir().unwrap();
    let clean = avi(dir.path(), "clean.avi", 5);
    let audio = packets(&clean, "a");
    let input = damaged(&clean, "mostly_bad.avi", |b| {
        for p in audio.iter().filter(|p| p.pts < 4.0) {
            let at = p.pos.unwrap();
            overwrite(b, at + 8, at + p.size);
        }
    });
    let out = dir.path().join("out");
    let (line, _) = fix(&input, &out, &["--provider", "novita"]);
    assert_eq!(line["action"], "reencoded", "{line}");
    let said = warnings(&line, "audio.damaged");
    assert!(
        said.len() == 1
            && said[0].starts_with("the sound is damaged from 0.00 s to ")
            && said[0].ends_with("cannot be decoded): left out"),
        "{line}"
    );
    let o = output_of(&line);
    let (v, a) = durations(&o);
    assert!(a.is_none(), "{}: the sound should be left out", o.display());
    assert!((v.unwrap() - 5.0).abs() <= 0.04, "{v:?}");
    compliant(&o, "novita");
    assert_eq!(files_below(&out), [o], "nothing else is left behind");
}

#[test]
fn a_picture_overwritten_over_a_second_fails_naming_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let clean = avi(dir.path(), "clean.avi", 5);
    let video = packets(&clean, "v");
    // Every video packet shown from 2.80 s to 3.76 s: 25 of them.
    let spoilt: Vec<Packet> = video
        .iter()
        .filter(|p| p.pts >= 2.79 && p.pts < 3.79)
        .cloned()
        .collect();
    assert_eq!(spoilt.len(), 25);
    let input = damaged(&clean, "picture_bad.avi", |b| {
        for p in &spoilt {
            let at = p.pos.unwrap();
            overwrite(b, at, at + p.size);
        }
    });
    let want = "video: the picture is damaged at 2.80 s (25 packets): ";

    let deep = check_deep(&input);
    assert!(deep["error"].as_str().unwrap().starts_with(want), "{deep}");

    let out = dir.path().join("out");
    let (line, _) = fix(&input, &out, &["--provider", "novita"]);
    assert_eq!(line["action"], "failed", "{line}");
    assert!(line["error"].as_str().unwrap().starts_with(want), "{line}");
    assert!(files_below(&out).is_empty(), "{:?}", files_below(&out));
}

/// A 64×64 grey thumbnail of the frame at `t` seconds, as the ffmpeg CLI
/// decodes it.
fn thumb(path: &Path, t: f64) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &t.to_string(), "-i"])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=64:64,format=gray",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert_eq!(out.stdout.len(), 64 * 64, "{}", path.display());
    out.stdout
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum();
    sum / a.len() as f64
}

#[test]
fn segment_auto_keeps_a_window_clear_of_a_damaged_picture() {
    // 14 s with 2.80-3.76 s spoilt; kling's orientation `image` keeps 10 s:
    // the window after the damage (from the keyframe at 4 s) fits. No
    // flashes here: to the cut scan they are hard cuts.
    let dir = tempfile::tempdir().unwrap();
    let clean = avi_of(dir.path(), "clean.avi", 14, "testsrc2=size=480x360:rate=25");
    let video = packets(&clean, "v");
    let input = damaged(&clean, "picture_bad.avi", |b| {
        for p in video.iter().filter(|p| p.pts >= 2.79 && p.pts < 3.79) {
            let at = p.pos.unwrap();
            overwrite(b, at, at + p.size);
        }
    });
    let out = dir.path().join("out");
    let (line, seconds) = fix(&input, &out, &["--orientation", "image"]);
    assert_eq!(line["action"], "reencoded", "{line}");
    let o = output_of(&line);
    let (v, a) = durations(&o);
    eprintln!("segment auto around damage: preflight {seconds:.2} s, video {v:?} s, audio {a:?} s");
    assert!(v.unwrap() > 9.5 && v.unwrap() < 10.0, "{v:?}");
    compliant(&o, "kling");
    // It starts with the source's frame at 4 s.
    let first = thumb(&o, 0.0);
    let (at4, at0) = (thumb(&input, 4.0), thumb(&input, 0.0));
    let (d4, d0) = (mean_abs_diff(&first, &at4), mean_abs_diff(&first, &at0));
    assert!(
        d4 < 4.0 && d4 < d0 / 2.0,
        "differs from 4 s by {d4}, from 0 s by {d0}"
    );
}

#[test]
fn a_concealed_mpeg4_frame_is_delivered_with_an_advisory() {
    // A P-frame whose texture is overwritten (its header kept): the decoder
    // conceals the loss and flags the frame.
    let dir = tempfile::tempdir().unwrap();
    let clean = avi(dir.path(), "clean.avi", 5);
    let p = packets(&clean, "v")
        .into_iter()
        .find(|p| (p.pts - 2.8).abs() < 0.01)
        .unwrap();
    let at = p.pos.unwrap();
    let input = damaged(&clean, "concealed.avi", |b| {
        overwrite(b, at + 16, at + p.size)
    });
    let want = "the picture is damaged at 2.80 s (1 frame concealed by the decoder";

    let deep = check_deep(&input);
    let said = warnings(&deep, "video.damaged");
    assert!(said.len() == 1 && said[0].starts_with(want), "{deep}");

    let out = dir.path().join("out");
    let (line, _) = fix(&input, &out, &["--provider", "novita"]);
    assert_eq!(line["action"], "reencoded", "{line}");
    let said = warnings(&line, "video.damaged");
    assert!(said.len() == 1 && said[0].starts_with(want), "{line}");
    compliant(&output_of(&line), "novita");
}
