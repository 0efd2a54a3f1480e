//! A video's content: evenly spaced frames of the window that would be sent,
//! each analysed as a picture, and the background's motion between them.

use std::path::Path;
use std::sync::mpsc::Sender;

use rayon::prelude::*;

use super::analyze::{analyze, follow};
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
/// on. With more than one thread, the window is also decoded in parts side
/// by side, each from its own keyframe (see [`decode_parts`]).
pub fn analyze_video(
    path: &Path,
    models: &PoseModels,
    (start_us, duration_us): (u64, u64),
    rotation: u16,
    limits: &DecodeLimits,
    threads: usize,
) -> Result<VideoContent, ContentError> {
    let threads = threads.max(1);
    let times = sample_times(start_us, duration_us);
    let parts = decode_parts(path, &times, threads);
    // One decode alone shares its frames out over threads; decodes side by
    // side take one thread each.
    let frame_threads = match parts.len() {
        1 => crate::av::DECODE_THREADS,
        _ => 1,
    };
    let mut posed = analyze_while_decoding(models, threads, &parts, |part, each| {
        let wanted = &times[part];
        let size = (rotation, VIDEO_WORK_SIDE);
        crate::av::sample_frames(path, wanted, size, limits, frame_threads, each)
    })?;
    follow_into_empty_samples(models, &mut posed)?;
    Ok(summarize(posed))
}

/// The sample times cut into up to `threads` parts, each decoded on its own
/// thread from its own keyframe. The decode is the larger half of a video's
/// analysis, and a lone decode's frame threads cost CPU of their own: the
/// 30 s 1080p benchmark clip (keyframes every 8.3 s) on 2 cores took 2.77 s
/// instead of 3.03 (medians of 8 interleaved runs). A video whose keyframes
/// are too far from the cuts (one group of pictures) is decoded in one part.
pub fn decode_parts(path: &Path, times: &[u64], threads: usize) -> Vec<std::ops::Range<usize>> {
    let around: Vec<(u64, [Option<u64>; 2])> = content::video::ideal_cuts(times, threads)
        .into_iter()
        .filter_map(|cut| Some((cut, crate::av::keyframes_around(path, cut).ok()?)))
        .collect();
    content::video::decode_parts(times, &around, GROUP)
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
    let mut posed = analyze_all(models, frames, threads.max(1))?;
    follow_into_empty_samples(models, &mut posed)?;
    Ok(summarize(posed))
}

/// One sampled frame, analysed: its time, the frame, the models' findings,
/// the grey thumbnail its background is compared by and the boxes left out
/// of that comparison.
struct Analysed {
    t_us: u64,
    frame: Rgb,
    pose: content::Pose,
    thumb: Grey,
    masks: Vec<BoxN>,
    followed: bool,
    /// The first sample of its group (analysed without the one before it).
    first_in_group: bool,
    /// The background's shift since the previous sample, once worked out
    /// (`None` until then).
    shift: Option<Option<f64>>,
}

impl Analysed {
    /// How far the background moved from `before` to this sample.
    fn shift_since(&self, before: &Analysed) -> Option<f64> {
        let all: Vec<BoxN> = self.masks.iter().chain(&before.masks).copied().collect();
        self.thumb.background_shift(&before.thumb, &all)
    }
}

/// Samples are analysed in groups of this many consecutive ones, a group a
/// job: the first by the detector and the landmark model, each next one,
/// while the one before holds one large person, by the landmark model alone
/// where that person was (MediaPipe's video mode; the detector takes about
/// 45 % of a sample's model time). So the detector sees at least every
/// third sample, and someone coming into view is counted within three.
const GROUP: usize = 3;

/// A group of consecutive samples (the last may be shorter), in order, on
/// the calling thread (a worker's), with the background's shifts within it.
fn analyse_group(
    models: &PoseModels,
    group: Vec<(u64, Rgb)>,
) -> Result<Vec<Analysed>, ContentError> {
    // One core a run: the workers and the decode share the cores out.
    let models = &models.on_threads(1);
    let mut done: Vec<Analysed> = Vec::with_capacity(group.len());
    for (t_us, frame) in group {
        let followed = match done.last() {
            Some(before) => follow(models, &frame, &before.pose)?,
            None => None,
        };
        let (pose, followed) = match followed {
            Some(pose) => (pose, true),
            None => (analyze(models, &frame, 1)?, false),
        };
        let mut sample = Analysed {
            t_us,
            thumb: frame.grey_thumbnail(THUMB_WIDTH),
            frame,
            masks: masks(&pose),
            pose,
            followed,
            first_in_group: done.is_empty(),
            shift: None,
        };
        if let Some(before) = done.last() {
            sample.shift = Some(sample.shift_since(before));
        }
        done.push(sample);
    }
    Ok(done)
}

/// The boxes left out of a sample's background comparison: its people's,
/// grown.
fn masks(pose: &content::Pose) -> Vec<BoxN> {
    let aspect = pose.aspect();
    pose.people
        .iter()
        .map(|p| grow(&p.detection.body_box(aspect)))
        .collect()
}

/// Samples in which the detector found nobody, right after a sample with a
/// lone large person, looked at again with the landmark model alone where
/// that person was (see [`follow`]). The detector keys on the face: a dancer
/// who turns their back is lost to it, not to the landmark model, which
/// MediaPipe's video mode keeps following through the turn. Groups are
/// analysed side by side, each starting with the detector, so this runs once
/// they are all done, in time order (a sample followed here is followed from
/// in turn). It costs a landmark run where someone leaves the picture, none
/// where they stay.
fn follow_into_empty_samples(
    models: &PoseModels,
    analysed: &mut [Analysed],
) -> Result<(), ContentError> {
    // The groups' one-thread sessions are idle now; a wider one would have
    // to be built (0.06-0.1 s) for the few runs this pass makes.
    let models = &models.on_threads(1);
    let mut before_followed_here = false;
    for i in 1..analysed.len() {
        let (done, rest) = analysed.split_at_mut(i);
        let (before, sample) = (&done[i - 1], &mut rest[0]);
        // Inside a group, this very look (the same sample before) already
        // found nothing.
        let looked = !sample.first_in_group && !before_followed_here;
        before_followed_here = false;
        if looked || !sample.pose.people.is_empty() {
            continue;
        }
        let Some(pose) = follow(models, &sample.frame, &before.pose)? else {
            continue;
        };
        before_followed_here = true;
        sample.masks = masks(&pose);
        sample.pose = pose;
        sample.followed = true;
        // Its shifts were measured with no person masked: measured again.
        sample.shift = None;
        if let Some(next) = rest.get_mut(1) {
            next.shift = None;
        }
    }
    Ok(())
}

/// Frames in time order with their poses: the facts, the background's
/// motion between frames and the advisories.
fn summarize(mut analysed: Vec<Analysed>) -> VideoContent {
    // The shifts between groups, each on its own (about 2 ms each): side by
    // side, not one after the other once the models are done.
    let between: Vec<(usize, Option<f64>)> = (1..analysed.len())
        .into_par_iter()
        .filter(|&i| analysed[i].shift.is_none())
        .map(|i| (i, analysed[i].shift_since(&analysed[i - 1])))
        .collect();
    for (i, shift) in between {
        analysed[i].shift = Some(shift);
    }
    let mut samples = Vec::with_capacity(analysed.len());
    let mut frames = Vec::with_capacity(analysed.len());
    for a in analysed {
        samples.push(FrameSample {
            t_us: a.t_us,
            pose: a.pose,
            background_shift: a.shift.flatten(),
            followed: a.followed,
        });
        frames.push(a.frame);
    }
    let (facts, many) = video_facts(&samples);
    let seen = frames.first().map(|f| (f.width, f.height));
    let size = seen.unwrap_or_default();
    let warnings = content::advise(&facts, MediaKind::Video, many, seen, size);
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

/// Runs `decode` on each of `parts` (ranges of the sample times), side by
/// side, each handing over its frames one by one, and analyses them in
/// groups on `threads` workers as they arrive. Returns the frames analysed,
/// in time order.
fn analyze_while_decoding(
    models: &PoseModels,
    threads: usize,
    parts: &[std::ops::Range<usize>],
    decode: impl Fn(
            std::ops::Range<usize>,
            &mut dyn FnMut(crate::av::SampledFrame),
        ) -> Result<(), crate::error::FixError>
        + Sync,
) -> Result<Vec<Analysed>, ContentError> {
    // A group's key: the index of its first sample, so that groups from
    // different parts sort into time order.
    type Job = (usize, Vec<(u64, Rgb)>);
    let (to_workers, queue) = std::sync::mpsc::channel::<Job>();
    let queue = std::sync::Mutex::new(queue);
    std::thread::scope(|scope| {
        let worker = || {
            let mut done = Vec::new();
            loop {
                // The lock is held only to take the next group, in a
                // statement of its own: in a `while let` head the guard would
                // live through the body, and the workers would take turns. A
                // poisoned lock (a worker that panicked) still hands out groups.
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((i, group)) = next else { break };
                done.push((i, analyse_group(models, group)?));
            }
            Ok::<_, ContentError>(done)
        };
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        let decode_part = |part: std::ops::Range<usize>, to_workers: Sender<Job>| {
            let mut next = part.start;
            let mut group = Vec::with_capacity(GROUP);
            let decoded = decode(part, &mut |f| {
                group.push(timed_rgb(f));
                if group.len() == GROUP {
                    // The workers outlive the decodes: a send cannot fail.
                    let _ = to_workers.send((next, std::mem::take(&mut group)));
                    next += GROUP;
                }
            });
            if !group.is_empty() {
                let _ = to_workers.send((next, group));
            }
            decoded
        };
        let (first, rest) = parts
            .split_first()
            .map_or((0..0, &[][..]), |(f, r)| (f.clone(), r));
        let others: Vec<_> = rest
            .iter()
            .map(|part| {
                let to_workers = to_workers.clone();
                scope.spawn(move || decode_part(part.clone(), to_workers))
            })
            .collect();
        let mut decoded = decode_part(first, to_workers);
        for other in others {
            let result = other.join().map_err(|p| {
                crate::error::FixError::Video(crate::error::panic_message(p.as_ref()))
            })?;
            decoded = decoded.and(result);
        }
        let mut all = Vec::new();
        for w in workers {
            let part = w
                .join()
                .map_err(|p| ContentError::Inference(crate::error::panic_message(p.as_ref())))??;
            all.extend(part);
        }
        decoded?;
        all.sort_by_key(|(i, _)| *i);
        Ok(all.into_iter().flat_map(|(_, a)| a).collect())
    })
}

/// Each frame analysed, in groups as [`analyze_while_decoding`] does,
/// `threads` runs of groups at a time (the models are shared).
fn analyze_all(
    models: &PoseModels,
    frames: Vec<(u64, Rgb)>,
    threads: usize,
) -> Result<Vec<Analysed>, ContentError> {
    let groups = chunked(frames, GROUP);
    let per_thread = groups.len().div_ceil(threads).max(1);
    let parts = chunked(groups, per_thread);
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for group in part {
                        out.extend(analyse_group(models, group)?);
                    }
                    Ok::<_, ContentError>(out)
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            let part = h
                .join()
                .map_err(|p| ContentError::Inference(crate::error::panic_message(p.as_ref())))??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// `items` in runs of `n` (the last may be shorter), in order.
fn chunked<T>(items: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut rest = items.into_iter().peekable();
    while rest.peek().is_some() {
        out.push(rest.by_ref().take(n.max(1)).collect());
    }
    out
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
