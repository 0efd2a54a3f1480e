//! One picture: who is in it, and the largest person's 33 landmarks.
//!
//! 1. The detector looks at the whole picture, letterboxed to 224 px.
//! 2. When it finds nobody, or only people smaller than [`ZOOM_BELOW`], it
//!    looks again at overlapping tiles, each [`TILE_SHARE`] of the long side
//!    (2× closer): a full-body person under about 5–6 % of a square
//!    frame is lost at 224 px. Tiles also "find" people in photos with none,
//!    so each find is scored again on a close crop around it and kept only
//!    from [`CONFIRM_SCORE`] on.
//!    Whole-frame finds scoring 0.3–0.5 (near misses: two people side by
//!    side are each seen at half the size) get the same closer look, and so
//!    do the tiles' [`TILE_NEAR_MISSES`] best near misses of someone not
//!    found yet, after their sure finds.
//! 3. The landmark model looks at the largest people's rotated squares; a
//!    find in which it sees no body is dropped. When that leaves nobody and
//!    the tiles have not run (the whole frame's finds were large), they run.
//!
//! The near misses' looks and the tiles after the landmarks found 12 more of
//! 90 small people pasted on photos (70 instead of 58) and 7 more of 200 on
//! others (166 instead of 159), with every earlier finding the same to the
//! last digit; of 39 photos nobody was pasted into, one more gives a person,
//! a man holding a chessboard over his face.
//!
//! In a video, [`follow`] looks for a lone person of the previous sample with
//! the landmark model alone, where their own landmarks say they were.

use rayon::prelude::*;

use super::models::PoseModels;
use super::pixels::{Rgb, Square};
use crate::content::geometry::{BoxN, Detection};
use crate::content::{
    follow, order_people, too_small_to_judge, Person, Pose, CONFIRM_SCORE, MIN_SCORE,
};
use crate::error::ContentError;

/// The zoomed pass runs when the largest person found covers less than this
/// share of the frame (their body square): twice the 5 % of
/// `content.person.small`, so that people near it are found by both passes.
pub const ZOOM_BELOW: f32 = 0.1;
/// Whole-frame finds from this score up to [`MIN_SCORE`] are near misses,
/// scored again on a close crop like the tiles' finds.
pub const NEAR_MISS: f32 = 0.3;
/// At most this many near misses get the closer look.
const MAX_NEAR_MISSES: usize = 3;
/// At most this many of the tiles' near misses get the closer look, best
/// first: of 90 small people pasted on photos, one found 66, two 70, three
/// 70 and a coffee cup as a second person.
const TILE_NEAR_MISSES: usize = 2;
/// A tile's side, as a share of the picture's long side.
pub const TILE_SHARE: f32 = 0.5;
/// Tiles overlap by at least this share of their side.
const TILE_OVERLAP: f32 = 0.4;
/// The confirming crop's side, in body-circle diameters (the landmark
/// model's own square is 1.25).
const CONFIRM_SIDE: f32 = 1.5;
/// The landmark model's pose flag (a logistic output) under which it sees no
/// body in the detector's square (MediaPipe's own threshold).
const MIN_PRESENCE: f32 = 0.5;
/// People are counted up to this many, largest first, each checked by the
/// landmark model (at most one more look than that): two decide
/// `content.person.many`, a third says "a crowd".
pub const VERIFIED: usize = 3;

/// The models' findings for one picture. `threads`: the cores the picture
/// has to itself (1 where other pictures are analysed beside it): a run
/// that goes alone (the whole frame, the landmarks, a lone confirmation)
/// takes them all; runs side by side (the tiles, several confirmations) take
/// one each. A frame too small to judge gets no runs and nobody in it.
pub fn analyze(models: &PoseModels, frame: &Rgb, threads: usize) -> Result<Pose, ContentError> {
    let (w, h) = (frame.width, frame.height);
    if too_small_to_judge(w, h) {
        return Ok(Pose {
            width: w,
            height: h,
            people: Vec::new(),
        });
    }
    let runs = Runs {
        alone: models.on_threads(threads),
        side_by_side: models.on_threads(1),
        cores: threads,
    };
    let aspect = frame.aspect();
    let mut found = whole_frame_pass(&runs, frame)?;
    let largest = found
        .iter()
        .map(|d| d.body_box(aspect).area())
        .fold(0.0, f32::max);
    let zoomed = largest < ZOOM_BELOW;
    if zoomed {
        found = zoomed_pass(&runs, frame, found)?;
    }
    let mut people = verify(&runs.alone, frame, found)?;
    if people.is_empty() && !zoomed {
        // The whole frame's finds were large, and the landmark model saw no
        // body in any: often a loose box around someone smaller, whom the
        // tiles see well (an astronaut pasted on fruit: 0.82 on the whole
        // frame, a body flag of 0.01 there, 0.96 in a tile).
        people = verify(&runs.alone, frame, zoomed_pass(&runs, frame, Vec::new())?)?;
    }
    Ok(Pose {
        width: w,
        height: h,
        people,
    })
}

/// The detector on the whole picture; its near misses (two people side by
/// side are each seen at half the size) get a closer look, as a find from
/// the tiles does.
fn whole_frame_pass(runs: &Runs, frame: &Rgb) -> Result<Vec<Detection>, ContentError> {
    let whole = Square::whole(frame.width, frame.height);
    let (found, near) = runs
        .alone
        .detect_with_near_misses(frame, &whole, MIN_SCORE, NEAR_MISS)?;
    let near: Vec<Detection> = near
        .into_iter()
        .filter(|d| !found.iter().any(|f| same_person(f, d)))
        .take(MAX_NEAR_MISSES)
        .collect();
    confirm_in_order(runs, frame, found, &near)
}

/// `found` with the people the tiles find added, each confirmed on a close
/// crop. The tiles' runs are independent: side by side on the picture's
/// cores (a lone picture's whole pass took 6 runs one after the other); what
/// they found is then merged in tile order.
fn zoomed_pass(
    runs: &Runs,
    frame: &Rgb,
    found: Vec<Detection>,
) -> Result<Vec<Detection>, ContentError> {
    let aspect = frame.aspect();
    let per_tile = runs.each(&tiles(frame.width, frame.height), |tile| {
        runs.side_by_side
            .detect_with_near_misses(frame, tile, MIN_SCORE, NEAR_MISS)
    })?;
    let (finds, near): (Vec<_>, Vec<_>) = per_tile.into_iter().unzip();
    let finds: Vec<Detection> = finds.into_iter().flatten().collect();
    let mut found = confirm_in_order(runs, frame, found, &finds)?;
    // Then the tiles' best near misses of someone not seen yet. After the
    // sure finds, not among them: in tile order, a weak find of a person
    // found surely elsewhere would be confirmed first, on a worse crop.
    // A near miss with its face on a find's body is a weak look at that
    // find (the small person's tiles hold seven such), not someone else.
    let seen = |d: &Detection, found: &[Detection]| {
        let on_body = |f: &Detection| d.face.iou(&f.body_box(aspect)) > 0.0;
        found
            .iter()
            .chain(&finds)
            .any(|f| on_body(f) || same_person(f, d))
    };
    let mut near: Vec<Detection> = near.into_iter().flatten().collect();
    near.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut looked: Vec<Detection> = Vec::new();
    for d in near {
        if looked.len() >= TILE_NEAR_MISSES {
            break;
        }
        if seen(&d, &found) || looked.iter().any(|l| same_person(l, &d)) {
            continue;
        }
        found = confirm_in_order(runs, frame, found, &[d])?;
        looked.push(d);
    }
    Ok(found)
}

/// The landmark model on the largest of `found` (MediaPipe's own check: its
/// pose flag): a find it sees no body in is dropped. The first kept is the
/// person the facts are about.
fn verify(
    models: &PoseModels,
    frame: &Rgb,
    found: Vec<Detection>,
) -> Result<Vec<Person>, ContentError> {
    let (w, h) = (frame.width, frame.height);
    let mut people: Vec<Person> = found
        .into_iter()
        .map(|detection| Person {
            detection,
            landmarks: Vec::new(),
            roi: None,
            alignment: None,
        })
        .collect();
    order_people(&mut people, frame.aspect());
    let mut checked = Vec::new();
    for (runs, mut person) in people.into_iter().enumerate() {
        if checked.len() >= VERIFIED || runs > VERIFIED {
            break;
        }
        let [hip, circle, ..] = person.detection.keypoints;
        let roi = crate::content::geometry::roi_from_alignment(hip, circle, w, h);
        let run = models.landmarks(frame, &roi)?;
        if run.presence >= MIN_PRESENCE {
            person.landmarks = run.landmarks;
            person.roi = Some(roi);
            person.alignment = Some(run.alignment);
            checked.push(person);
        }
    }
    Ok(checked)
}

/// The models as one picture's runs take them.
struct Runs {
    /// For a run nothing else of this picture runs beside.
    alone: PoseModels,
    /// For runs side by side, one core each.
    side_by_side: PoseModels,
    /// The cores the picture has to itself.
    cores: usize,
}

impl Runs {
    /// `run` on each of `items`, in order: side by side on rayon's pool when
    /// the picture has more than one core, else one after the other on this
    /// thread. With one core there is nothing to gain, and a video's workers
    /// are plain threads that a pool thread waits for: a job they handed to
    /// the pool could find every pool thread waiting on such workers
    /// (`check --content` on a folder of videos hung).
    fn each<T: Sync, R: Send>(
        &self,
        items: &[T],
        run: impl Fn(&T) -> Result<R, ContentError> + Sync + Send,
    ) -> Result<Vec<R>, ContentError> {
        if self.cores > 1 {
            items.par_iter().map(run).collect()
        } else {
            items.iter().map(run).collect()
        }
    }
}

/// `frame`, the next video sample after `previous`, without the detector:
/// the landmark model looks where `previous`'s lone person's own alignment
/// points say (MediaPipe's video mode). `None` when `previous` is not worth
/// following (see [`follow::worth_following`]) or the person is not found
/// there, sure and in the same place: then the frame needs [`analyze`].
pub fn follow(
    models: &PoseModels,
    frame: &Rgb,
    previous: &Pose,
) -> Result<Option<Pose>, ContentError> {
    let (w, h) = (frame.width, frame.height);
    if (w, h) != (previous.width, previous.height) {
        return Ok(None);
    }
    let Some((before, [hip, circle])) = follow::worth_following(previous, ZOOM_BELOW) else {
        return Ok(None);
    };
    let roi = crate::content::geometry::roi_from_alignment(hip, circle, w, h);
    let run = models.landmarks(frame, &roi)?;
    if run.presence < follow::FOLLOW_PRESENCE {
        return Ok(None);
    }
    let aspect = frame.aspect();
    let mut person =
        follow::followed_person(run.landmarks, run.alignment, run.presence, (before, aspect));
    person.roi = Some(roi);
    // Still the lone person, and still large: the zoomed pass would not run.
    let same = follow::still_the_same(before, &person, aspect);
    if !same || person.detection.body_box(aspect).area() < ZOOM_BELOW {
        return Ok(None);
    }
    Ok(Some(Pose {
        width: w,
        height: h,
        people: vec![person],
    }))
}

/// Overlapping squares covering the picture, each [`TILE_SHARE`] of its long
/// side.
pub fn tiles(width: u32, height: u32) -> Vec<Square> {
    let side = TILE_SHARE * width.max(height) as f32;
    let centres = |extent: f32| -> Vec<f32> {
        if extent <= side {
            return vec![extent / 2.0];
        }
        let stride = side * (1.0 - TILE_OVERLAP);
        let n = ((extent - side) / stride).ceil() as usize + 1;
        let step = (extent - side) / (n - 1) as f32;
        (0..n).map(|i| side / 2.0 + i as f32 * step).collect()
    };
    let mut out = Vec::new();
    for cy in centres(height as f32) {
        for cx in centres(width as f32) {
            out.push(Square {
                cx,
                cy,
                side,
                rotation: 0.0,
            });
        }
    }
    out
}

/// `found` with `finds` (near misses, or the tiles' finds) merged in, in
/// order: a find that is not someone already found, nor someone an earlier
/// find was confirmed as, is confirmed on its crop, and what the crop
/// confirms is added unless it is someone already found (a person found in
/// two tiles costs one confirmation). The confirmations run side by
/// side, in rounds: each round runs every find whose turn may come before the
/// results still missing decide otherwise (one per person), and the merge is
/// then walked again; the result is the one-by-one loop's, with at most a few
/// runs more.
fn confirm_in_order(
    runs: &Runs,
    frame: &Rgb,
    found: Vec<Detection>,
    finds: &[Detection],
) -> Result<Vec<Detection>, ContentError> {
    let mut results: Vec<Option<Option<Detection>>> = vec![None; finds.len()];
    loop {
        let mut merged = found.clone();
        // The finds confirmed so far: the tiles overlap, so one person is
        // often found in two or three, and the crop confirms them as found
        // there (its own face box), not as the tile saw them.
        let mut confirmed_finds: Vec<&Detection> = Vec::new();
        let mut wanted: Vec<usize> = Vec::new();
        for (i, d) in finds.iter().enumerate() {
            let mut known = merged.iter().chain(confirmed_finds.iter().copied());
            if known.any(|f| same_person(f, d)) {
                continue;
            }
            match &results[i] {
                // Past a find still waiting, `merged` is not yet what the
                // one-by-one loop would hold: wait for the next walk.
                Some(_) if !wanted.is_empty() => {}
                Some(confirmed) => {
                    if let Some(c) = confirmed {
                        confirmed_finds.push(d);
                        if !merged.iter().any(|f| same_person(f, c)) {
                            merged.push(*c);
                        }
                    }
                }
                None => {
                    if !wanted.iter().any(|&j| same_person(&finds[j], d)) {
                        wanted.push(i);
                    }
                }
            }
        }
        if wanted.is_empty() {
            return Ok(merged);
        }
        let models = match wanted.len() {
            1 => &runs.alone,
            _ => &runs.side_by_side,
        };
        let confirmed = runs.each(&wanted, |&i| confirm(models, frame, &finds[i]))?;
        for (i, run) in wanted.into_iter().zip(confirmed) {
            results[i] = Some(run);
        }
    }
}

/// Two detections of one person: their face boxes overlap.
fn same_person(a: &Detection, b: &Detection) -> bool {
    a.face.iou(&b.face) > 0.3
}

/// `d` scored again on a close crop around its body; the crop's own best
/// detection of the same person when it scores at least [`CONFIRM_SCORE`].
fn confirm(
    models: &PoseModels,
    frame: &Rgb,
    d: &Detection,
) -> Result<Option<Detection>, ContentError> {
    let (w, h) = (frame.width as f32, frame.height as f32);
    let hip = d.keypoints[0];
    let diameter = d.body_size(w / h) * h;
    let square = Square {
        cx: hip.x * w,
        cy: hip.y * h,
        side: (CONFIRM_SIDE * diameter).max(8.0),
        rotation: 0.0,
    };
    let near = |c: &Detection| {
        let grown = BoxN {
            x0: d.face.x0 - d.face.width(),
            y0: d.face.y0 - d.face.height(),
            x1: d.face.x1 + d.face.width(),
            y1: d.face.y1 + d.face.height(),
        };
        let (cx, cy) = ((c.face.x0 + c.face.x1) / 2.0, (c.face.y0 + c.face.y1) / 2.0);
        cx >= grown.x0 && cx <= grown.x1 && cy >= grown.y0 && cy <= grown.y1
    };
    let best = models
        .detect(frame, &square, CONFIRM_SCORE)?
        .into_iter()
        .find(near);
    Ok(best)
}
