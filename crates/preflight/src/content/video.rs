//! A video's content from evenly spaced samples of the window that would be
//! sent: which samples to take, and what the samples say together.

use std::ops::Range;

use super::judge::{body_extent, head_visible, image_facts, second_person_large};
use super::*;

/// Samples per second of the window (Kling asks for stable, not overly fast
/// motion; two samples a second see a limb's path at 0.5 s steps).
pub const SAMPLES_PER_S: f64 = 2.0;
/// At most this many samples per video: a 30 s window is sampled at 1 1/3 per
/// second so that the whole check stays within 3 s on 2 cores (issue 17).
pub const MAX_SAMPLES: u32 = 40;
/// At least this many, so that a 3 s clip still gives pairs to compare.
pub const MIN_SAMPLES: u32 = 6;
/// `content.person.missing` for a video: someone in fewer than this share of
/// the samples ("none or almost none", issue 17).
pub const MISSING_SHARE: f64 = 0.1;
/// `content.person.lost`: nobody in more than this share of the samples while
/// someone is in others (issue 17; Kling: "the character always visible").
pub const LOST_SHARE: f64 = 0.2;
/// `content.motion.fast` above this speed of the limbs (elbows, wrists, knees,
/// ankles: the median of those visible in two consecutive samples), in body
/// heights per second. Kling gives no number ("avoid overly fast actions");
/// brisk walking moves the wrists and ankles about 1 body height per second,
/// a fast dance 2–4: 2.5 is where the motion starts to be "overly fast".
pub const MAX_MOTION_BH_PER_S: f64 = 2.5;
/// A background shift between two samples counts as camera motion from this
/// share of the frame width on (block matching on the picture outside the
/// person's box, so the person's own motion does not count).
pub const CAMERA_SHIFT: f64 = 0.015;
/// `content.camera.moving` when at least this share of sample pairs moved
/// (Kling: "avoid cuts or camera movements").
pub const CAMERA_SHARE: f64 = 1.0 / 3.0;

/// Elbows, wrists, knees, ankles.
const LIMBS: [usize; 8] = [13, 14, 15, 16, 25, 26, 27, 28];

/// One sampled frame: when, what the models found, and how far the
/// background moved since the previous sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameSample {
    /// Time from the start of the file, microseconds.
    pub t_us: u64,
    /// What the models found.
    pub pose: Pose,
    /// The background's shift since the previous sample, as a share of the
    /// frame width; `None` for the first sample or when too little background
    /// was visible.
    pub background_shift: Option<f64>,
    /// The person was followed from the previous sample by the landmark
    /// model alone, without the detector (see [`super::follow`]).
    pub followed: bool,
}

/// When to sample a window of `duration_us` starting at `start_us`: evenly,
/// [`SAMPLES_PER_S`] a second within [`MIN_SAMPLES`]–[`MAX_SAMPLES`], each in
/// the middle of its slice.
pub fn sample_times(start_us: u64, duration_us: u64) -> Vec<u64> {
    if duration_us == 0 {
        return vec![start_us];
    }
    let wanted = (duration_us as f64 / 1e6 * SAMPLES_PER_S).round() as u32;
    let n = wanted.clamp(MIN_SAMPLES, MAX_SAMPLES) as u64;
    (0..n)
        .map(|i| start_us + (2 * i + 1) * duration_us / (2 * n))
        .collect()
}

/// Where to cut the sampling of `times` (sorted) so that `parts` decodes
/// share it out: at even shares of the span from the first time to the last.
pub fn ideal_cuts(times: &[u64], parts: usize) -> Vec<u64> {
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return Vec::new();
    };
    let parts = parts.max(1) as u64;
    (1..parts)
        .map(|i| first + ((last - first) as u128 * u128::from(i) / u128::from(parts)) as u64)
        .collect()
}

/// `times` (sorted) cut into consecutive parts that are decoded side by
/// side, each from its own keyframe. `around` holds, for each ideal cut, the
/// keyframes before and after it (as a seek finds them): the cut goes at the
/// nearer one, and the part after it starts at the first sample at or after
/// that keyframe that also starts a group of `group` samples. The groups are
/// then the same however the window is cut, and so are the findings; the
/// part before decodes at most `group - 1` samples' worth past the keyframe.
/// Cuts that would leave a part empty are dropped; with none left, one part
/// holds every time.
pub fn decode_parts(
    times: &[u64],
    around: &[(u64, [Option<u64>; 2])],
    group: usize,
) -> Vec<Range<usize>> {
    let group = group.max(1);
    let mut starts: Vec<usize> = around
        .iter()
        .filter_map(|&(ideal, [before, after])| {
            [before, after]
                .into_iter()
                .flatten()
                .min_by_key(|&k| k.abs_diff(ideal))
        })
        .map(|k| times.partition_point(|&t| t < k).next_multiple_of(group))
        .filter(|&i| i > 0 && i < times.len())
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let ends = starts.iter().copied().chain([times.len()]);
    std::iter::once(0)
        .chain(starts.iter().copied())
        .zip(ends)
        .map(|(a, b)| a..b)
        .collect()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// The most frequent value (the first seen among equals).
fn mode<T: PartialEq + Copy>(v: &[T]) -> Option<T> {
    v.iter()
        .copied()
        .max_by_key(|x| v.iter().filter(|y| *y == x).count())
}

/// The fastest limb motion held over two consecutive sample intervals (the
/// slower of the two), in body heights per second (see
/// [`MAX_MOTION_BH_PER_S`]); `None` without two consecutive intervals with the
/// same person in all three samples. One fast interval alone is more often
/// the largest person changing in a crowd (vtest.avi, a street: 4.2 body
/// heights per second from two passers-by) than a motion that fast.
pub fn limb_speed(samples: &[FrameSample]) -> Option<f64> {
    let speeds: Vec<Option<f64>> = samples
        .windows(2)
        .map(|pair| interval_speed(&pair[0], &pair[1]))
        .collect();
    speeds
        .windows(2)
        .filter_map(|two| Some(two[0]?.min(two[1]?)))
        .reduce(f64::max)
}

/// The limbs' speed from sample `a` to sample `b` of `a`'s largest person,
/// when `b` holds them too.
fn interval_speed(a: &FrameSample, b: &FrameSample) -> Option<f64> {
    let aspect = a.pose.aspect();
    let (pa, pb) = largest_followed(&a.pose, &b.pose)?;
    let dt = (b.t_us.saturating_sub(a.t_us)) as f64 / 1e6;
    let (size_a, size_b) = (
        f64::from(pa.detection.body_size(aspect)),
        f64::from(pb.detection.body_size(b.pose.aspect())),
    );
    // A body that halves or doubles between samples is another person.
    if dt <= 0.0 || size_a <= 0.0 || size_b <= 0.0 || size_a / size_b > 2.0 || size_b / size_a > 2.0
    {
        return None;
    }
    let height = (size_a + size_b) / 2.0;
    let speeds: Vec<f64> = LIMBS
        .iter()
        .filter_map(|&i| {
            let (la, lb) = (pa.landmarks.get(i)?, pb.landmarks.get(i)?);
            (la.visible() && lb.visible()).then(|| {
                let dx = f64::from(lb.x - la.x) * f64::from(aspect);
                let dy = f64::from(lb.y - la.y);
                dx.hypot(dy) / height / dt
            })
        })
        .collect();
    median(speeds)
}

/// Two samples' boxes of one person overlap at least this much (intersection
/// over union of their body squares): a body moving by up to about 2/3 of its
/// size between samples is still itself.
pub const SAME_PERSON_IOU: f32 = 0.2;

/// The largest person of the earlier pose `a`, and who they are in `b`: the
/// person whose body box overlaps theirs most, from [`SAME_PERSON_IOU`] on;
/// failing that, when each pose holds one person only, that person (someone
/// alone who moved far). In a crowd the largest person changes from sample to
/// sample: two people's limbs compared would read as fast motion.
fn largest_followed<'p>(a: &'p Pose, b: &'p Pose) -> Option<(&'p Person, &'p Person)> {
    let person = a.people.first()?;
    let body = person.detection.body_box(a.aspect());
    let overlapping = b
        .people
        .iter()
        .map(|p| (body.iou(&p.detection.body_box(b.aspect())), p))
        .filter(|(iou, _)| *iou >= SAME_PERSON_IOU)
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, p)| p);
    let followed = overlapping.or(match (a.people.as_slice(), b.people.as_slice()) {
        ([_], [alone]) => Some(alone),
        _ => None,
    })?;
    Some((person, followed))
}

/// The content facts of a video from its samples, and whether a second person
/// is large in most of the samples with someone.
pub fn video_facts(samples: &[FrameSample]) -> (ContentFacts, bool) {
    let with: Vec<&FrameSample> = samples
        .iter()
        .filter(|s| !s.pose.people.is_empty())
        .collect();
    let mut facts = ContentFacts::nobody();
    facts.frames_sampled = Some(samples.len() as u32);
    facts.frames_with_person = Some(with.len() as u32);
    let pairs: Vec<f64> = samples.iter().filter_map(|s| s.background_shift).collect();
    if !pairs.is_empty() {
        let moved = pairs.iter().filter(|&&s| s >= CAMERA_SHIFT).count();
        facts.camera_moving_share = Some(moved as f64 / pairs.len() as f64);
    }
    if person_missing(samples.len() as u32, with.len() as u32) {
        return (facts, false);
    }
    let per_frame: Vec<ContentFacts> = with.iter().map(|s| image_facts(&s.pose)).collect();
    let counts: Vec<u32> = per_frame.iter().map(|f| f.people).collect();
    let bodies: Vec<BodyExtent> = with
        .iter()
        .filter_map(|s| s.pose.people.first().map(body_extent))
        .collect();
    let heads = with
        .iter()
        .filter(|s| s.pose.people.first().is_some_and(head_visible))
        .count();
    facts.people = mode(&counts).unwrap_or(0);
    facts.person_area = median(per_frame.iter().map(|f| f.person_area).collect()).unwrap_or(0.0);
    facts.head_visible = 2 * heads >= with.len();
    facts.body = mode(&bodies).unwrap_or(BodyExtent::Partial);
    facts.roll_deg = median(per_frame.iter().filter_map(|f| f.roll_deg).collect());
    facts.person_box = per_frame.first().and_then(|f| f.person_box);
    facts.motion_bh_per_s = limb_speed(samples);
    let many = with.iter().filter(|s| second_person_large(&s.pose)).count();
    (facts, 2 * many > with.len())
}

/// The video-only advisories; `sampled` and `with` are the sample counts.
pub(super) fn video_warnings(facts: &ContentFacts, sampled: u32, with: u32) -> Vec<Warning> {
    let mut out = Vec::new();
    let share = |n: u32| f64::from(n) / f64::from(sampled.max(1));
    if with > 0 && share(with) >= MISSING_SHARE && share(sampled - with) > LOST_SHARE {
        out.push(warning(
            Rule::ContentPersonLost,
            format!(
                "nobody visible in {} of {sampled} sampled frames: the character should stay in view",
                sampled - with
            ),
        ));
    }
    if let Some(speed) = facts.motion_bh_per_s.filter(|&s| s > MAX_MOTION_BH_PER_S) {
        out.push(warning(
            Rule::ContentMotionFast,
            format!("limbs move {speed:.1} body heights per second (over {MAX_MOTION_BH_PER_S}): fast motion may be cut short and is not refunded"),
        ));
    }
    if let Some(share) = facts.camera_moving_share.filter(|&s| s >= CAMERA_SHARE) {
        out.push(warning(
            Rule::ContentCameraMoving,
            format!("the background moves in {:.0} % of the sampled intervals: the camera should stay still", share * 100.0),
        ));
    }
    out
}

/// A video with someone in fewer than [`MISSING_SHARE`] of its samples counts
/// as having nobody.
pub fn person_missing(sampled: u32, with: u32) -> bool {
    sampled == 0 || f64::from(with) / f64::from(sampled) < MISSING_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the keyframes, the parts cover every sample once, in
        /// order, and each later part starts a group: the first group that
        /// starts at or after a keyframe (its decode starts there).
        #[test]
        fn decode_parts_share_the_samples_out_from_keyframes(
            start in 0u64..60_000_000,
            duration in 0u64..120_000_000,
            parts in 1usize..5,
            group in 1usize..5,
            keyframes in proptest::collection::vec(
                (proptest::option::of(0u64..200_000_000), proptest::option::of(0u64..200_000_000)),
                0..4,
            ),
        ) {
            let times = sample_times(start, duration);
            let cuts = ideal_cuts(&times, parts);
            prop_assert_eq!(cuts.len(), parts - 1);
            prop_assert!(cuts.windows(2).all(|w| w[0] <= w[1]));
            let around: Vec<(u64, [Option<u64>; 2])> = cuts
                .iter()
                .zip(keyframes.iter().chain(std::iter::repeat(&(None, None))))
                .map(|(&c, &(b, a))| (c, [b, a]))
                .collect();
            let split = decode_parts(&times, &around, group);
            prop_assert!(!split.is_empty() && split.len() <= parts);
            prop_assert_eq!(split[0].start, 0);
            prop_assert_eq!(split.last().unwrap().end, times.len());
            for w in split.windows(2) {
                prop_assert_eq!(w[0].end, w[1].start);
            }
            let keys: Vec<u64> = around.iter().flat_map(|(_, k)| k.iter().flatten().copied()).collect();
            for part in &split[1..] {
                prop_assert!(!part.is_empty());
                let i = part.start;
                prop_assert_eq!(i % group, 0);
                prop_assert!(keys.iter().any(|&k| times[i] >= k && (i < group || times[i - group] < k)));
            }
        }
    }

    #[test]
    fn a_cut_goes_at_the_nearer_keyframe() {
        // The benchmark clip: keyframes every 8.33 s, 40 samples over 30 s.
        let times = sample_times(0, 30_000_000);
        let cuts = ideal_cuts(&times, 2);
        let split = decode_parts(&times, &[(cuts[0], [Some(8_333_333), Some(16_666_667)])], 3);
        // Samples every 0.75 s from 0.375 s: the first at or after 16.67 s
        // is number 22 (16.875 s), the first group start from there 24.
        assert_eq!(split, vec![0..24, 24..40]);
        assert!(times[22] >= 16_666_667 && times[21] < 16_666_667);
        // No keyframe near the middle (one group of pictures): one part.
        assert_eq!(
            decode_parts(&times, &[(cuts[0], [Some(0), None])], 3),
            vec![0..40]
        );
    }

    /// A person standing with their hips at (`x`, 0.6) of a square frame,
    /// 0.5 of its height tall, wrists and ankles `spread` out from the hips.
    fn person(x: f32, spread: f32) -> Person {
        let detection = Detection {
            score: 0.9,
            face: BoxN {
                x0: x - 0.03,
                y0: 0.3,
                x1: x + 0.03,
                y1: 0.36,
            },
            keypoints: [
                Point { x, y: 0.6 },
                Point { x, y: 0.35 },
                Point { x, y: 0.45 },
                Point { x, y: 0.4 },
            ],
        };
        let landmarks = (0..geometry::BODY_LANDMARKS)
            .map(|i| Landmark {
                x: x + if i % 2 == 0 { spread } else { -spread },
                y: 0.6,
                visibility: 1.0,
            })
            .collect();
        Person {
            detection,
            landmarks,
            roi: None,
            alignment: None,
        }
    }

    fn sample(t_s: f64, people: Vec<Person>) -> FrameSample {
        FrameSample {
            t_us: (t_s * 1e6) as u64,
            pose: Pose {
                width: 640,
                height: 640,
                people,
            },
            background_shift: None,
            followed: false,
        }
    }

    #[test]
    fn limbs_moving_fast_in_two_intervals_give_their_speed() {
        let samples = [
            sample(0.0, vec![person(0.5, 0.05)]),
            sample(0.5, vec![person(0.5, 0.25)]),
            sample(1.0, vec![person(0.5, 0.05)]),
        ];
        // Each limb moved 0.2 of the frame in 0.5 s, twice; the body is 0.5
        // tall.
        let speed = limb_speed(&samples).expect("a speed");
        assert!((speed - 0.8).abs() < 0.01, "{speed}");
        // One interval alone says nothing.
        assert_eq!(limb_speed(&samples[..2]), None);
    }

    #[test]
    fn someone_alone_moving_far_is_compared() {
        // Swinging from one side to the other every half second.
        let samples = [
            sample(0.0, vec![person(0.15, 0.05)]),
            sample(0.5, vec![person(0.85, 0.05)]),
            sample(1.0, vec![person(0.15, 0.05)]),
        ];
        let speed = limb_speed(&samples).expect("a speed");
        assert!(speed > MAX_MOTION_BH_PER_S, "{speed}");
    }

    #[test]
    fn passers_by_never_seen_twice_give_no_speed() {
        // Two people on the left, then someone else alone on the right, and
        // so on: nobody is in two samples in a row.
        let pair = || vec![person(0.15, 0.05), person(0.45, 0.05)];
        let samples = [
            sample(0.0, pair()),
            sample(0.75, vec![person(0.85, 0.05)]),
            sample(1.5, pair()),
            sample(2.25, vec![person(0.85, 0.05)]),
        ];
        assert_eq!(limb_speed(&samples), None);
    }

    #[test]
    fn in_a_crowd_the_largest_person_changing_is_not_motion() {
        // A street: someone on the left, then a passer-by on the right as the
        // largest find, then both.
        let samples = [
            sample(0.0, vec![person(0.2, 0.05)]),
            sample(0.75, vec![person(0.8, 0.05)]),
            sample(1.5, vec![person(0.78, 0.05), person(0.2, 0.05)]),
            sample(2.25, vec![person(0.78, 0.06), person(0.22, 0.05)]),
        ];
        let speed = limb_speed(&samples).expect("a speed");
        assert!(speed < 0.1, "{speed}");
    }
}
