//! Following a lone person from one video sample to the next without the
//! detector (MediaPipe's own video mode: the landmarks of one frame say where
//! to look in the next). Pure: when a sample may be followed, the person the
//! landmark model's findings make, and whether that is still the same person.
//!
//! A sample is followed from only when it holds one person, large enough
//! that the zoomed pass would not run, found by the landmark model; the
//! executor starts every few samples with the detector again, so people who
//! come into view are still counted, and following never starts from a
//! sample with two people in it.

use super::geometry::{BoxN, Detection, Point};
use super::video::SAME_PERSON_IOU;
use super::{Landmark, Person, Pose};

/// A followed person counts when the landmark model's pose flag is at least
/// this. MediaPipe's own tracking threshold is 0.5, but the landmark model
/// alone gave a coffee cup 0.51 (issue 17): a following that is not sure
/// hands the sample back to the detector.
pub const FOLLOW_PRESENCE: f32 = 0.9;

/// Who to follow into the next sample and where to look: `pose`'s person and
/// their alignment points (hip centre, body circle) when `pose` holds
/// exactly one person with them, whose body square covers at least
/// `min_area` of the frame.
pub fn worth_following(pose: &Pose, min_area: f32) -> Option<(&Person, [Point; 2])> {
    let [person] = pose.people.as_slice() else {
        return None;
    };
    let alignment = person.alignment?;
    (person.detection.body_box(pose.aspect()).area() >= min_area).then_some((person, alignment))
}

/// The person the landmark model found at `alignment` (its own hip centre and
/// body-circle point) with `landmarks`, scored `presence`, followed from
/// `before` in a frame of aspect `aspect`: a detection made from the
/// landmarks (the face box around the head's points), so that the rest of
/// the analysis treats them as any other person.
///
/// The landmark model's body circle is about a quarter larger than the
/// detector's (the 30 s benchmark clip: 1.2–1.4 times), so the detection's
/// circle keeps the detector's scale, as `before` measured it: the masks,
/// the order of people and the motion in body heights stay the same whether
/// a sample was followed or detected.
pub fn followed_person(
    landmarks: Vec<Landmark>,
    alignment: [Point; 2],
    presence: f32,
    (before, aspect): (&Person, f32),
) -> Person {
    let [hip, circle] = alignment;
    let scale = detector_scale(before, aspect);
    let body_circle = Point {
        x: hip.x + (circle.x - hip.x) * scale,
        y: hip.y + (circle.y - hip.y) * scale,
    };
    let head = &landmarks[..landmarks.len().min(11)];
    let face = BoxN::around(head.iter().map(|l| Point { x: l.x, y: l.y })).unwrap_or_default();
    let shoulders = match (landmarks.get(11), landmarks.get(12)) {
        (Some(a), Some(b)) => Point {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        },
        _ => hip,
    };
    Person {
        detection: Detection {
            score: presence,
            face,
            keypoints: [hip, body_circle, shoulders, body_circle],
        },
        landmarks,
        roi: None,
        alignment: Some(alignment),
    }
}

/// The detector's body radius over the landmark model's for `p` (1 without
/// the landmark model's points or with a degenerate circle).
fn detector_scale(p: &Person, aspect: f32) -> f32 {
    let radius = |[hip, circle]: [Point; 2]| ((circle.x - hip.x) * aspect).hypot(circle.y - hip.y);
    let [hip, circle, ..] = p.detection.keypoints;
    match p.alignment.map(radius) {
        Some(aux) if aux > 1e-6 => (radius([hip, circle]) / aux).clamp(0.25, 4.0),
        _ => 1.0,
    }
}

/// Whether `now` (followed in a frame of aspect `aspect`) is still
/// `before`: their body squares overlap as much as two samples of one person
/// do in [`super::video::limb_speed`]'s terms.
pub fn still_the_same(before: &Person, now: &Person, aspect: f32) -> bool {
    let (a, b) = (
        before.detection.body_box(aspect),
        now.detection.body_box(aspect),
    );
    a.area() > 0.0 && b.area() > 0.0 && a.iou(&b) >= SAME_PERSON_IOU
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn landmarks(x: f32, y: f32) -> Vec<Landmark> {
        (0..33)
            .map(|i| Landmark {
                x: x + (i % 3) as f32 * 0.01,
                y: y + i as f32 * 0.01,
                visibility: 0.9,
            })
            .collect()
    }

    fn pose_of(people: Vec<Person>) -> Pose {
        Pose {
            width: 640,
            height: 360,
            people,
        }
    }

    /// Someone the detector saw with their hips at (`x`, `y`) and a body
    /// radius `r`, whose landmark run put the circle `aux` times farther.
    fn detected(x: f32, y: f32, r: f32, aux: f32) -> Person {
        let hip = Point { x, y };
        let circle = Point { x, y: y - r };
        Person {
            detection: Detection {
                score: 0.9,
                face: BoxN::default(),
                keypoints: [hip, circle, hip, circle],
            },
            landmarks: landmarks(x, y - r),
            roi: None,
            alignment: Some([hip, Point { x, y: y - r * aux }]),
        }
    }

    const ASPECT: f32 = 16.0 / 9.0;

    #[test]
    fn only_a_lone_person_with_alignment_points_is_followed() {
        let hip = Point { x: 0.5, y: 0.6 };
        let circle = Point { x: 0.5, y: 0.2 };
        let before = detected(0.5, 0.6, 0.4, 1.0);
        let alone = followed_person(landmarks(0.5, 0.2), [hip, circle], 0.99, (&before, ASPECT));
        assert_eq!(
            worth_following(&pose_of(vec![alone.clone()]), 0.1),
            Some((&alone, [hip, circle]))
        );
        // Too small for the threshold asked.
        assert_eq!(worth_following(&pose_of(vec![alone.clone()]), 0.9), None);
        // Two people, nobody, or a person without the landmark model's points.
        assert_eq!(
            worth_following(&pose_of(vec![alone.clone(), alone.clone()]), 0.1),
            None
        );
        assert_eq!(worth_following(&pose_of(vec![]), 0.1), None);
        let mut unchecked = alone;
        unchecked.alignment = None;
        assert_eq!(worth_following(&pose_of(vec![unchecked]), 0.1), None);
    }

    #[test]
    fn the_followed_face_box_holds_the_head_points() {
        let lm = landmarks(0.4, 0.1);
        let before = detected(0.4, 0.6, 0.4, 1.0);
        let p = followed_person(
            lm.clone(),
            [Point { x: 0.4, y: 0.6 }, Point { x: 0.4, y: 0.2 }],
            0.95,
            (&before, ASPECT),
        );
        for l in &lm[..11] {
            let f = p.detection.face;
            assert!(l.x >= f.x0 && l.x <= f.x1 && l.y >= f.y0 && l.y <= f.y1);
        }
        assert_eq!(p.detection.score, 0.95);
    }

    proptest! {
        /// A followed person's body square is the detector's: the landmark
        /// model's circle, however much larger, scaled back by what the
        /// sample the following started from measured; so a person followed
        /// where they stood is still themselves, with the same square, and
        /// one followed to the far side of the frame is not.
        #[test]
        fn a_followed_body_keeps_the_detectors_scale(
            x in 0.2f32..0.8, y in 0.35f32..0.65, r in 0.05f32..0.3, aux in 0.8f32..1.5,
        ) {
            let before = detected(x, y, r, aux);
            let at = |x: f32| followed_person(
                landmarks(x, y - r),
                [Point { x, y }, Point { x, y: y - r * aux }],
                0.99,
                (&before, ASPECT),
            );
            let (b, d) = (at(x).detection.body_box(ASPECT), before.detection.body_box(ASPECT));
            prop_assert!((b.height() - 2.0 * r).abs() < 1e-4, "{b:?}");
            prop_assert!((b.width() - d.width()).abs() < 1e-4, "{b:?} {d:?}");
            prop_assert!(still_the_same(&before, &at(x), ASPECT));
            // Followed again from a followed sample: the scale carries on.
            let again = followed_person(
                landmarks(x, y - r),
                [Point { x, y }, Point { x, y: y - r * aux }],
                0.99,
                (&at(x), ASPECT),
            );
            prop_assert!((again.detection.body_box(ASPECT).height() - 2.0 * r).abs() < 1e-4);
            let far = if x < 0.5 { x + 0.5 } else { x - 0.5 };
            // Half a frame away, with squares at most 0.6 tall (0.34 wide).
            prop_assert!(!still_the_same(&before, &at(far), ASPECT));
        }
    }
}
