//! A video's content: evenly spaced frames of the window that would be sent,
//! each analysed as a picture, and the background's motion between them.

use std::path::Path;

use super::analyze::analyze;
use super::models::PoseModels;
use super::pixels::{Grey, Rgb};
use crate::check::Warning;
use crate::content::video::{sample_times, video_facts, FrameSample};
use crate::content::{self, BoxN, ContentFacts};
use crate::error::ContentError;
use crate::facts::MediaKind;
use crate::limits::DecodeLimits;

/// Video frames are looked at no larger than this on their long side: the
/// detector and the landmark model see 224 and 256 px of them.
pub const VIDEO_WORK_SIDE: u32 = 640;
/// The grey thumbnails compared for camera motion are this wide.
const THUMB_WIDTH: u32 = 96;

/// What the analysis of a video found.
#[derive(Debug, Clone)]
pub struct VideoContent {
    /// The facts (`content` in `check --json`).
    pub facts: ContentFacts,
    /// The `content.*` advisories.
    pub warnings: Vec<Warning>,
    /// Each sampled frame's findings, in time order.
    pub samples: Vec<FrameSample>,
    /// The frames themselves, for drawing (`check --show`).
    pub frames: Vec<Rgb>,
}

/// Analyses the window `start_us` + `duration_us` of the video at `path`
/// (`rotation`: the clockwise degrees its flag asks for). Each frame is
/// analysed on one of `threads` threads (at least 1) while the decode goes
/// on: the two took about the same time one after the other.
pub fn analyze_video(
    path: &Path,
    models: &PoseModels,
    (start_us, duration_us): (u64, u64),
    rotation: u16,
    limits: &DecodeLimits,
    threads: usize,
) -> Result<VideoContent, ContentError> {
    let times = sample_times(start_us, duration_us);
    let posed = analyze_while_decoding(models, threads.max(1), |each| {
        crate::av::sample_frames(path, &times, (rotation, VIDEO_WORK_SIDE), limits, each)
    })?;
    Ok(summarize(posed))
}

/// `check --deep --content`: the cut scan and the content analysis of the
/// window `start_us` + `duration_us` from one decode of the video.
pub fn scenes_and_content(
    path: &Path,
    models: &PoseModels,
    (start_us, duration_us): (u64, u64),
    rotation: u16,
    limits: &DecodeLimits,
    threads: usize,
) -> Result<(crate::facts::Scenes, VideoContent), ContentError> {
    let times = sample_times(start_us, duration_us);
    let (scenes, frames) =
        crate::av::detect_scenes_and_sample(path, limits, &times, rotation, VIDEO_WORK_SIDE)?;
    Ok((scenes, analyze_frames(models, frames, threads)?))
}

/// A sampled frame as the models take it, with its time.
fn timed_rgb(f: crate::av::SampledFrame) -> (u64, Rgb) {
    let rgb = Rgb {
        width: f.width,
        height: f.height,
        data: f.rgb,
    };
    (f.t_us, rgb)
}

fn analyze_frames(
    models: &PoseModels,
    sampled: Vec<crate::av::SampledFrame>,
    threads: usize,
) -> Result<VideoContent, ContentError> {
    let frames: Vec<(u64, Rgb)> = sampled.into_iter().map(timed_rgb).collect();
    let poses = analyze_all(models, &frames, threads.max(1))?;
    let posed = frames
        .into_iter()
        .zip(poses)
        .map(|((t_us, frame), pose)| (t_us, frame, pose))
        .collect();
    Ok(summarize(posed))
}

/// Frames in time order with their poses: the facts, the background's
/// motion between frames and the advisories.
fn summarize(posed: Vec<(u64, Rgb, content::Pose)>) -> VideoContent {
    let mut samples = Vec::with_capacity(posed.len());
    let mut frames = Vec::with_capacity(posed.len());
    let mut previous: Option<(Grey, Vec<BoxN>)> = None;
    for (t_us, frame, pose) in posed {
        let aspect = pose.aspect();
        let masks: Vec<BoxN> = pose
            .people
            .iter()
            .map(|p| grow(&p.detection.body_box(aspect)))
            .collect();
        let thumb = frame.grey_thumbnail(THUMB_WIDTH);
        let background_shift = previous.as_ref().and_then(|(prev, prev_masks)| {
            let all: Vec<BoxN> = masks.iter().chain(prev_masks).copied().collect();
            thumb.background_shift(prev, &all)
        });
        previous = Some((thumb, masks));
        samples.push(FrameSample {
            t_us,
            pose,
            background_shift,
        });
        frames.push(frame);
    }
    let (facts, many) = video_facts(&samples);
    let warnings = content::warnings(&facts, MediaKind::Video, many);
    VideoContent {
        facts,
        warnings,
        samples,
        frames,
    }
}

/// A person's box with room for arms and hair: the mask left out of the
/// background comparison.
fn grow(b: &BoxN) -> BoxN {
    let (mx, my) = (b.width() * 0.15, b.height() * 0.15);
    BoxN {
        x0: b.x0 - mx,
        y0: b.y0 - my,
        x1: b.x1 + mx,
        y1: b.y1 + my,
    }
    .clipped()
}

/// Runs `decode`, which hands over frames one by one, and analyses each on
/// one of `threads` workers as it arrives. Returns the frames in time order
/// with their poses.
fn analyze_while_decoding(
    models: &PoseModels,
    threads: usize,
    decode: impl FnOnce(&mut dyn FnMut(crate::av::SampledFrame)) -> Result<(), crate::error::FixError>,
) -> Result<Vec<(u64, Rgb, content::Pose)>, ContentError> {
    let (to_workers, queue) = std::sync::mpsc::channel::<(usize, crate::av::SampledFrame)>();
    let queue = std::sync::Mutex::new(queue);
    std::thread::scope(|scope| {
        let worker = || {
            let mut done = Vec::new();
            // The lock is held only to take the next frame; a poisoned lock
            // (a worker that panicked) still hands out frames.
            while let Ok((i, f)) = queue.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                let (t_us, frame) = timed_rgb(f);
                let pose = analyze(models, &frame)?;
                done.push((i, t_us, frame, pose));
            }
            Ok::<_, ContentError>(done)
        };
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        let mut next = 0;
        let decoded = decode(&mut |f| {
            // The workers outlive the decode: a send cannot fail.
            let _ = to_workers.send((next, f));
            next += 1;
        });
        drop(to_workers);
        let mut all = Vec::with_capacity(next);
        for w in workers {
            let part = w
                .join()
                .map_err(|p| ContentError::Inference(crate::error::panic_message(p.as_ref())))??;
            all.extend(part);
        }
        decoded?;
        all.sort_by_key(|(i, ..)| *i);
        Ok(all.into_iter().map(|(_, t, f, p)| (t, f, p)).collect())
    })
}

/// Each frame's pose, `threads` frames at a time (the models are shared).
fn analyze_all(
    models: &PoseModels,
    frames: &[(u64, Rgb)],
    threads: usize,
) -> Result<Vec<content::Pose>, ContentError> {
    let chunk = frames.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = frames
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(_, f)| analyze(models, f))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(frames.len());
        for h in handles {
            let part = h
                .join()
                .map_err(|p| ContentError::Inference(crate::error::panic_message(p.as_ref())))??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// The window of the video that `fix` would send, in source time, when the
/// plan alone decides it: the whole video or the fixed window of a trim;
/// `None` for `--segment auto` on a video over the maximum, which needs the
/// cut scan.
pub fn planned_window(
    facts: &crate::facts::VideoFacts,
    spec: &crate::spec::Spec,
    options: &crate::plan::FixOptions,
) -> Option<(u64, u64)> {
    use crate::plan::video::Window;
    let plan = crate::plan::video::plan_video(facts, spec, options);
    match plan.target.map_or(Window::Whole, |t| t.window) {
        Window::Whole => Some((0, facts.duration_us)),
        Window::Fixed {
            start_us,
            duration_us,
        } => Some((start_us, duration_us)),
        Window::Auto { .. } => None,
    }
}

/// The window of the video that `fix` would send, in source time: the whole
/// video, the fixed window of a trim, or (`--segment auto` on a video over
/// the maximum) the longest cut-free stretch, found by the same scan.
pub fn sent_window(
    path: &Path,
    facts: &crate::facts::VideoFacts,
    spec: &crate::spec::Spec,
    options: &crate::plan::FixOptions,
) -> Result<(u64, u64), ContentError> {
    if let Some(window) = planned_window(facts, spec, options) {
        return Ok(window);
    }
    let max_us = crate::plan::video::plan_video(facts, spec, options)
        .target
        .map(|t| match t.window {
            crate::plan::video::Window::Auto { max_us } => max_us,
            _ => facts.duration_us,
        })
        .unwrap_or(facts.duration_us);
    let scenes = crate::av::scan_window(path, &options.limits, max_us)?;
    Ok(crate::plan::video::choose_window(
        scenes.duration_us,
        &scenes.cuts_us,
        scenes.content_start_us,
        max_us,
    ))
}
